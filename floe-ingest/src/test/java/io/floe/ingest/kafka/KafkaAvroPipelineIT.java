package io.floe.ingest.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.KafkaSourceConfig;
import io.floe.core.config.KafkaSourceConfig.StartPosition;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.RecordFormat;
import io.floe.core.config.StreamTableConfig;
import io.floe.core.config.StreamTableConfig.Column;
import io.floe.core.config.TargetConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.ingest.ChangeSources;
import io.floe.ingest.Pipeline;
import io.floe.ingest.SourceContext;
import io.floe.ingest.http.HttpStreams;
import io.floe.ingest.stream.DeadLetters;
import io.floe.testing.KafkaBroker;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Avro records of a real Kafka broker (3 partitions) into an upsert table, with about 5% poison
 * (bytes that are not Avro, truncated datums, values out of range for their column, oversized
 * records, missing keys), while the pipeline is stopped and started again at random moments without
 * committing what it holds: at the end the table holds the latest good value per key and the
 * dead-letter table exactly the poison records, each with its error class.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class KafkaAvroPipelineIT {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaAvroPipelineIT.class);
  private static final String TOPIC = "devices";
  private static final int RECORDS = 3000;
  private static final int RESTARTS = 5;
  private static final TableIdentifier TABLE = TableIdentifier.of("raw", "devices");
  private static final TableIdentifier DEAD = TableIdentifier.of("raw", "devices_dead_letter");
  private static final Schema SCHEMA =
      new Schema.Parser()
          .parse(
              "{\"type\":\"record\",\"name\":\"Reading\",\"fields\":["
                  + "{\"name\":\"device\",\"type\":[\"null\",\"string\"]},"
                  + "{\"name\":\"reading\",\"type\":\"long\"},"
                  + "{\"name\":\"level\",\"type\":\"long\"},"
                  + "{\"name\":\"note\",\"type\":\"string\"}]}");

  @TempDir Path directory;

  @Test
  void avroRecordsLandExactlyOnceAcrossRestarts() throws Exception {
    long seed = Long.getLong("floe.seed", System.nanoTime());
    LOG.info("KafkaAvroPipelineIT seed {} (repeat with -Dfloe.seed={})", seed, seed);
    Random random = new Random(seed);
    Map<String, String> latest = new TreeMap<>();
    Map<String, String> poison = new TreeMap<>();
    try (KafkaBroker broker = KafkaBroker.start(directory.resolve("broker"))) {
      broker.createTopic(TOPIC, 3);
      PipelineConfig config = config(broker.bootstrapServers());
      try (JdbcCatalog catalog =
          FloeCatalog.open(
              WarehouseConfig.local(directory.resolve("warehouse")), CatalogConfig.defaults())) {
        Thread producer =
            new Thread(() -> produce(broker, random.nextLong(), latest, poison), "avro-producer");
        producer.start();
        SourceContext context = new SourceContext(directory.resolve("state"), new HttpStreams());
        for (int restart = 0; restart <= RESTARTS; restart++) {
          Pipeline pipeline =
              new Pipeline(
                  config, catalog, ChangeSources.of(config, context), new TableWriterRegistry());
          pipeline.start();
          if (restart < RESTARTS) {
            Thread.sleep(500 + random.nextInt(2500));
            pipeline.close(); // what is not committed yet is delivered again
            assertThat(pipeline.awaitTermination(Duration.ofSeconds(30))).isTrue();
            assertThat(pipeline.state()).isEqualTo(Pipeline.State.STOPPED);
            continue;
          }
          producer.join(TimeUnit.MINUTES.toMillis(2));
          long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
          while (System.nanoTime() < deadline
              && (!contents(catalog).equals(latest)
                  || deadLetters(catalog).size() < poison.size())) {
            Thread.sleep(200);
          }
          pipeline.close();
        }
        assertThat(contents(catalog)).as("latest good reading per device").isEqualTo(latest);
        assertThat(deadLetters(catalog)).as("poison records and their classes").isEqualTo(poison);
        Map<String, Integer> byClass = new TreeMap<>();
        poison.values().forEach(type -> byClass.merge(type, 1, Integer::sum));
        LOG.info(
            "After {} restarts: {} devices, {} dead letters {}",
            RESTARTS,
            latest.size(),
            poison.size(),
            byClass);
        assertThat(byClass)
            .containsOnlyKeys("bad_avro", "value_out_of_range", "oversized", "missing_key");
      }
    }
  }

  /** Produces the records; keeps the expected table and dead letters (by record id). */
  private static void produce(
      KafkaBroker broker, long seed, Map<String, String> latest, Map<String, String> poison) {
    Random random = new Random(seed);
    Map<String, String> expected = new HashMap<>();
    Map<String, String> dead = new HashMap<>();
    try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
      for (int i = 0; i < RECORDS; i++) {
        String device = "d" + random.nextInt(200);
        int kind = random.nextInt(100);
        byte[] value;
        String error = null;
        long reading = random.nextInt(1_000_000);
        if (kind == 0) {
          value = "not avro at all".getBytes(StandardCharsets.UTF_8);
          error = "bad_avro";
        } else if (kind == 1) {
          byte[] full = datum(device, reading, 1, "ok");
          value = java.util.Arrays.copyOf(full, full.length - 3);
          error = "bad_avro";
        } else if (kind == 2) {
          value = datum(device, reading, 1L << 40, "ok");
          error = "value_out_of_range";
        } else if (kind == 3) {
          value = datum(device, reading, 1, "x".repeat(3000));
          error = "oversized";
        } else if (kind == 4) {
          value = datum(null, reading, 1, "ok");
          error = "missing_key";
        } else {
          value = datum(device, reading, random.nextInt(10), "ok");
        }
        var sent =
            producer
                .send(new ProducerRecord<>(TOPIC, device.getBytes(StandardCharsets.UTF_8), value))
                .get();
        String id = "kafka:" + TOPIC + ":" + sent.partition() + ":" + sent.offset();
        if (error == null) {
          // One device's records share its key's partition: offset order is their order.
          expected.put(device, Long.toString(reading));
        } else {
          dead.put(id, error);
        }
        if (i % 100 == 0) {
          Thread.sleep(20);
        }
      }
    } catch (Exception e) {
      throw new IllegalStateException("The producer failed", e);
    }
    synchronized (latest) {
      latest.putAll(expected);
      poison.putAll(dead);
    }
  }

  private static byte[] datum(String device, long reading, long level, String note) {
    GenericRecord record = new GenericData.Record(SCHEMA);
    record.put("device", device);
    record.put("reading", reading);
    record.put("level", level);
    record.put("note", note);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
    try {
      new GenericDatumWriter<GenericRecord>(SCHEMA).write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static PipelineConfig config(String servers) {
    return new PipelineConfig(
        "devices",
        new KafkaSourceConfig(
            servers,
            List.of(TOPIC),
            "",
            "floe-devices",
            StartPosition.EARLIEST,
            Optional.empty(),
            RecordFormat.AVRO,
            SCHEMA.toString(),
            2048),
        new TargetConfig(
            "raw",
            Optional.of(
                new StreamTableConfig(
                    "devices",
                    StreamTableConfig.WriteMode.UPSERT,
                    List.of("device"),
                    List.of(
                        new Column("device", Types.StringType.get(), false),
                        new Column("reading", Types.LongType.get(), false),
                        new Column("level", Types.IntegerType.get(), false),
                        new Column("note", Types.StringType.get(), false)),
                    List.of(),
                    StreamTableConfig.UnknownFields.REJECT,
                    "devices_dead_letter"))),
        Duration.ofMillis(200));
  }

  private static Map<String, String> contents(JdbcCatalog catalog) {
    Map<String, String> rows = new TreeMap<>();
    if (!catalog.tableExists(TABLE)) {
      return rows;
    }
    for (Record record : read(catalog, TABLE)) {
      String previous =
          rows.put((String) record.getField("device"), String.valueOf(record.getField("reading")));
      assertThat(previous).as("one row per device").isNull();
    }
    return rows;
  }

  private static Map<String, String> deadLetters(JdbcCatalog catalog) {
    Map<String, String> rows = new TreeMap<>();
    if (!catalog.tableExists(DEAD)) {
      return rows;
    }
    for (Record record : read(catalog, DEAD)) {
      rows.put(
          (String) record.getField(DeadLetters.RECORD_ID),
          (String) record.getField(DeadLetters.ERROR_CLASS));
    }
    return rows;
  }

  private static List<Record> read(JdbcCatalog catalog, TableIdentifier table) {
    List<Record> rows = new ArrayList<>();
    try (CloseableIterable<Record> records =
        IcebergGenerics.read(catalog.loadTable(table)).build()) {
      records.forEach(record -> rows.add(record.copy()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }
}
