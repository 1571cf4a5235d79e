package io.floe.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.testing.KafkaBroker;
import java.io.File;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.util.SnapshotUtil;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code floe run} streaming a real Kafka broker into Iceberg, end to end, in child JVMs as users
 * start it.
 *
 * <p>{@link #survivesRandomKills} proves exactly-once delivery across crashes: while a producer
 * writes a randomized stream of good and poison records (every kind of bad record a JSON stream can
 * have), {@code floe run} is killed with SIGKILL at random moments and started again; at the end
 * the append table holds exactly the good records (no duplicates, none missing), the upsert table
 * exactly the latest good record of each key, and each dead-letter table exactly the poison
 * records, each once, with the error class predicted for it, its bytes and its position.
 *
 * <p>{@link #waitsOutBrokerOutage} proves that an outage of the broker is waited out: the status
 * line reports it, {@code floe run} keeps running, and once the broker is back every record lands
 * exactly once.
 *
 * <p>The seed of the random stream and kill moments is printed; {@code -Dfloe.seed=<seed>} repeats
 * a run. Each test is bounded by its {@link Timeout}, and so the class by their sum.
 */
class KafkaStreamIT {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaStreamIT.class);
  private static final int KILLS = 6;
  private static final int PARTITIONS = 3;
  private static final int USERS = 300;
  private static final String TOPIC = "events";
  private static final String NAMESPACE = "stream";
  private static final String APPEND_TABLE = "appended";
  private static final String UPSERT_TABLE = "latest";
  private static final String OFFSETS = "floe.source.kafka.offsets";
  private static final Pattern COMMA = Pattern.compile(",");
  private static final Pattern COLON = Pattern.compile(":");
  // A block list: in a flow list ([...]) the comma of decimal(12,2) would end the entry.
  private static final String COLUMNS =
      String.join(
          "\n",
          "      columns:",
          "        - event_id string",
          "        - user_id long",
          "        - amount decimal(12,2)",
          "        - at timestamptz",
          "        - qty int",
          "      unknown-fields: reject");

  /**
   * The test's broker log, warehouse and {@code floe run} logs: under the build's target directory
   * (not a temporary one), so that they can be inspected after a failure.
   */
  private Path directory;

  @BeforeEach
  void createDirectory(TestInfo test) throws IOException {
    Path target =
        Path.of(System.getProperty("floe.launcher.classes", "target/classes")).getParent();
    directory =
        target.resolve("kafka-stream-it").resolve(test.getTestMethod().orElseThrow().getName());
    if (Files.exists(directory)) {
      try (Stream<Path> files = Files.walk(directory)) {
        for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(file);
        }
      }
    }
    Files.createDirectories(directory);
  }

  /** What a produced record is, and so where each table must put it. */
  enum Kind {
    GOOD(null, null),
    BAD_JSON("bad_json", "bad_json"),
    WRONG_TYPE("type_mismatch", "type_mismatch"),
    OUT_OF_RANGE("value_out_of_range", "value_out_of_range"),
    OVERSIZED("oversized", "oversized"),
    // An append table has no key: the record is a row there, with a null user_id.
    MISSING_KEY(null, "missing_key"),
    UNKNOWN_FIELD("unknown_field", "unknown_field");

    final String appendError;
    final String upsertError;

    Kind(String appendError, String upsertError) {
      this.appendError = appendError;
      this.upsertError = upsertError;
    }
  }

  /**
   * A record the broker acknowledged.
   *
   * @param row the table row it makes (canonical text), when it makes one
   * @param userId its user_id, the upsert table's key, when it has one
   */
  record Sent(
      Kind kind, byte[] key, byte[] value, int partition, long offset, String row, Long userId) {
    String recordId() {
      return "kafka:" + TOPIC + ":" + partition + ":" + offset;
    }

    /** The dead-letter row it must have, as {@link #deadLetter(Record)} writes one. */
    String deadLetter(String errorClass) {
      return errorClass
          + " "
          + TOPIC
          + "/"
          + partition
          + "@"
          + offset
          + " key="
          + Base64.getEncoder().encodeToString(key)
          + " value="
          + Base64.getEncoder().encodeToString(value);
    }
  }

  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void survivesRandomKills() throws Exception {
    long seed = Long.getLong("floe.seed", System.nanoTime());
    LOG.info("KafkaStreamIT seed {} (repeat with -Dfloe.seed={})", seed, seed);
    Random kills = new Random(seed ^ 0x5DEECE66DL);
    try (KafkaBroker broker = KafkaBroker.start(directory.resolve("kafka"))) {
      broker.createTopic(TOPIC, PARTITIONS);
      Path config =
          writeConfig(
              List.of(
                  "  - name: " + APPEND_TABLE,
                  kafkaSource(broker, TOPIC),
                  "    target:",
                  "      namespace: " + NAMESPACE,
                  "      table: " + APPEND_TABLE,
                  "      mode: append",
                  COLUMNS,
                  "    commit-interval: 300ms",
                  "  - name: " + UPSERT_TABLE,
                  kafkaSource(broker, TOPIC),
                  "    target:",
                  "      namespace: " + NAMESPACE,
                  "      table: " + UPSERT_TABLE,
                  "      mode: upsert",
                  "      key: [user_id]",
                  COLUMNS,
                  "    commit-interval: 300ms"));

      ConcurrentLinkedQueue<Sent> sent = new ConcurrentLinkedQueue<>();
      AtomicBoolean producing = new AtomicBoolean(true);
      AtomicReference<Throwable> producerFailure = new AtomicReference<>();
      Thread producer =
          new Thread(
              () -> {
                try (KafkaProducer<byte[], byte[]> kafka = broker.producer()) {
                  produce(kafka, new Random(seed), producing, sent);
                } catch (Throwable e) {
                  producerFailure.set(e);
                }
              },
              "kafka-stream-producer");
      producer.start();

      try (JdbcCatalog catalog =
          FloeCatalog.open(
              WarehouseConfig.local(FloeRunProcess.warehouse(directory)),
              CatalogConfig.defaults())) {
        Map<String, Map<Integer, Long>> committed = new HashMap<>();
        for (int kill = 0; kill < KILLS; kill++) {
          long before = offsetSum(catalog, APPEND_TABLE);
          Process process = FloeRunProcess.start(config, log(kill));
          long started = System.nanoTime();
          String moment;
          if (kill % 3 == 0) {
            // Any moment of start-up: the JVM, the catalog, creating or resuming the tables, the
            // first records.
            moment = "starting up";
            Thread.sleep(kills.nextInt(9000));
          } else {
            moment = "streaming";
            await(
                "floe run " + kill + " commits to " + APPEND_TABLE,
                process,
                kill,
                Duration.ofSeconds(60),
                () -> offsetSum(catalog, APPEND_TABLE) > before);
            Thread.sleep(kills.nextInt(3000));
          }
          long delay = (System.nanoTime() - started) / 1_000_000;
          assertAlive(process, kill);
          process.destroyForcibly(); // SIGKILL
          assertThat(process.waitFor(30, TimeUnit.SECONDS))
              .as("floe run %s ends after SIGKILL", kill)
              .isTrue();
          LOG.info(
              "Kill {}: SIGKILL floe run {} ms after its start, while {} ({}); {} records"
                  + " produced; offsets committed: {} {}, {} {}",
              kill,
              delay,
              moment,
              lastPipelineLines(kill),
              sent.size(),
              APPEND_TABLE,
              offsets(catalog, APPEND_TABLE),
              UPSERT_TABLE,
              offsets(catalog, UPSERT_TABLE));
          assertThat(producerFailure.get()).as("the producer's failure").isNull();
          assertOffsetsGrow(catalog, committed, kill);
        }
        producing.set(false);
        producer.join(30_000);
        assertThat(producer.isAlive()).as("the producer stopped").isFalse();
        assertThat(producerFailure.get()).as("the producer's failure").isNull();

        List<Sent> records = new ArrayList<>(sent);
        Expected appended = expectedAppend(records);
        Expected latest = expectedUpsert(records);
        Map<Integer, Long> end = endOffsets(records);
        LOG.info(
            "Produced {} records ({} poison), end offsets {}; expecting {} rows and {} dead"
                + " letters in {}, {} rows and {} dead letters in {}",
            records.size(),
            records.stream().filter(record -> record.kind != Kind.GOOD).count(),
            end,
            appended.rows.size(),
            appended.deadLetters.size(),
            APPEND_TABLE,
            latest.rows.size(),
            latest.deadLetters.size(),
            UPSERT_TABLE);

        Process last = FloeRunProcess.start(config, log(KILLS));
        long catchUp = System.nanoTime();
        try {
          await(
              "the tables' commits reach the topic's end offsets " + end,
              last,
              KILLS,
              Duration.ofSeconds(90),
              () ->
                  reachedEnd(catalog, APPEND_TABLE, end) && reachedEnd(catalog, UPSERT_TABLE, end));
          // Then the counts, which a wrong result never reaches: the assertions below tell how.
          long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
          while (!(counted(catalog, APPEND_TABLE, appended)
                  && counted(catalog, UPSERT_TABLE, latest))
              && System.nanoTime() < deadline) {
            assertAlive(last, KILLS);
            Thread.sleep(200);
          }
        } finally {
          last.destroy(); // SIGTERM: a clean stop
          assertThat(last.waitFor(60, TimeUnit.SECONDS)).as("floe run stops on SIGTERM").isTrue();
        }
        LOG.info("The last floe run caught up in {} ms", (System.nanoTime() - catchUp) / 1_000_000);
        assertOffsetsGrow(catalog, committed, KILLS);

        assertSameRows(
            APPEND_TABLE + ", which must hold the good records (and those without a key)",
            rows(catalog, APPEND_TABLE),
            appended.rows);
        assertSameRows(
            UPSERT_TABLE + ", which must hold the latest good record of each user_id",
            rows(catalog, UPSERT_TABLE),
            latest.rows);
        assertDeadLetters(catalog, APPEND_TABLE, appended);
        assertDeadLetters(catalog, UPSERT_TABLE, latest);
        LOG.info(
            "After {} kills: {} holds {} rows and {} dead letters {}, {} holds {} rows and {} dead"
                + " letters {}",
            KILLS,
            APPEND_TABLE,
            appended.rows.size(),
            appended.deadLetters.size(),
            byClass(appended),
            UPSERT_TABLE,
            latest.rows.size(),
            latest.deadLetters.size(),
            byClass(latest));
      }
    }
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void waitsOutBrokerOutage() throws Exception {
    String topic = "outage";
    try (KafkaBroker broker = KafkaBroker.start(directory.resolve("kafka"))) {
      broker.createTopic(topic, 2);
      Path config =
          writeConfig(
              List.of(
                  "  - name: outage",
                  kafkaSource(broker, topic),
                  "    target:",
                  "      namespace: " + NAMESPACE,
                  "      table: outage",
                  "      columns: [id long, note string]",
                  "    commit-interval: 300ms"));
      produceNumbered(broker, 0, 300);
      Process process = FloeRunProcess.start(config, log(0));
      try (JdbcCatalog catalog =
          FloeCatalog.open(
              WarehouseConfig.local(FloeRunProcess.warehouse(directory)),
              CatalogConfig.defaults())) {
        await(
            "floe run writes the first 300 records",
            process,
            0,
            Duration.ofSeconds(60),
            () -> rows(catalog, "outage").size() >= 300);

        broker.stop();
        long stopped = System.nanoTime();
        String problem = "waiting: Kafka brokers " + broker.bootstrapServers() + " unreachable";
        await(
            "the status line reports the outage ('" + problem + "')",
            process,
            0,
            Duration.ofSeconds(45),
            () -> Files.readString(log(0).toPath()).contains(problem));
        LOG.info(
            "The status line reported the outage {} ms after the broker stopped",
            (System.nanoTime() - stopped) / 1_000_000);

        broker.restart();
        produceNumbered(broker, 300, 600);
        await(
            "floe run writes the records produced after the outage",
            process,
            0,
            Duration.ofSeconds(60),
            () -> rows(catalog, "outage").size() >= 600);
        assertAlive(process, 0);
        List<String> ids = rows(catalog, "outage");
        List<String> expected = new ArrayList<>();
        for (int id = 0; id < 600; id++) {
          expected.add(id + "|note " + id);
        }
        assertSameRows("outage, which must hold every record produced", ids, expected);
      } finally {
        process.destroy();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("floe run stops on SIGTERM").isTrue();
      }
    }
  }

  /**
   * Waits until the broker leads every partition of a new topic (it answers their end offsets), so
   * that the first records produced do not meet NOT_LEADER_OR_FOLLOWER (an idempotent producer can
   * then retry a batch for long).
   */
  /** Produces records {@code from} to {@code to} (exclusive) of the outage test, synchronously. */
  private static void produceNumbered(KafkaBroker broker, int from, int to) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
      List<Future<RecordMetadata>> acks = new ArrayList<>();
      for (int id = from; id < to; id++) {
        String value = "{\"id\": " + id + ", \"note\": \"note " + id + "\"}";
        acks.add(
            producer.send(
                new ProducerRecord<>(
                    "outage", String.valueOf(id).getBytes(UTF_8), value.getBytes(UTF_8))));
      }
      for (Future<RecordMetadata> ack : acks) {
        ack.get(30, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * Sends batches of random records until {@code producing} turns false, adding each record the
   * broker acknowledged to {@code sent}.
   */
  private static void produce(
      KafkaProducer<byte[], byte[]> producer,
      Random random,
      AtomicBoolean producing,
      ConcurrentLinkedQueue<Sent> sent)
      throws Exception {
    Kind[] poison = {
      Kind.BAD_JSON,
      Kind.WRONG_TYPE,
      Kind.OUT_OF_RANGE,
      Kind.OVERSIZED,
      Kind.MISSING_KEY,
      Kind.UNKNOWN_FIELD
    };
    long sequence = 0;
    while (producing.get()) {
      List<Future<RecordMetadata>> acks = new ArrayList<>();
      List<Sent> batch = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        Kind kind = random.nextInt(100) < 95 ? Kind.GOOD : poison[random.nextInt(poison.length)];
        String eventId = "e-" + sequence++;
        long userId = 1L + random.nextInt(USERS);
        String amount = BigDecimal.valueOf(random.nextInt(10_000_000), 2).toPlainString();
        String at = Instant.ofEpochMilli(1_780_000_000_000L + random.nextInt(1 << 30)).toString();
        int qty = random.nextInt(1000);
        String fields = "\"amount\": " + amount + ", \"at\": \"" + at + "\", \"qty\": " + qty + "}";
        String value;
        String row = null;
        Long key = userId;
        switch (kind) {
          case GOOD:
            value = "{\"event_id\": \"" + eventId + "\", \"user_id\": " + userId + ", " + fields;
            row = eventId + "|" + userId + "|" + amount + "|" + at + "|" + qty;
            break;
          case BAD_JSON:
            value = "{\"event_id\": \"" + eventId + "\", \"user_id\": ";
            break;
          case WRONG_TYPE:
            value = "{\"event_id\": \"" + eventId + "\", \"user_id\": \"abc\", " + fields;
            break;
          case OUT_OF_RANGE:
            value =
                "{\"event_id\": \""
                    + eventId
                    + "\", \"user_id\": "
                    + userId
                    + ", \"qty\": "
                    + (1L << 40)
                    + "}";
            break;
          case OVERSIZED:
            value =
                "{\"event_id\": \""
                    + eventId
                    + "-"
                    + "x".repeat(2100)
                    + "\", \"user_id\": "
                    + userId
                    + ", "
                    + fields;
            break;
          case MISSING_KEY:
            value = "{\"event_id\": \"" + eventId + "\", " + fields;
            row = eventId + "|null|" + amount + "|" + at + "|" + qty;
            key = null;
            break;
          case UNKNOWN_FIELD:
            value =
                "{\"event_id\": \""
                    + eventId
                    + "\", \"user_id\": "
                    + userId
                    + ", \"color\": \"red\", "
                    + fields;
            break;
          default:
            throw new AssertionError(kind);
        }
        // The user as the Kafka key: all records of a user go to one partition, in order.
        byte[] keyBytes = String.valueOf(userId).getBytes(UTF_8);
        byte[] valueBytes = value.getBytes(UTF_8);
        acks.add(producer.send(new ProducerRecord<>(TOPIC, keyBytes, valueBytes)));
        batch.add(new Sent(kind, keyBytes, valueBytes, -1, -1, row, key));
      }
      for (int i = 0; i < acks.size(); i++) {
        RecordMetadata ack = acks.get(i).get(30, TimeUnit.SECONDS);
        Sent record = batch.get(i);
        sent.add(
            new Sent(
                record.kind,
                record.key,
                record.value,
                ack.partition(),
                ack.offset(),
                record.row,
                record.userId));
      }
      Thread.sleep(50);
    }
  }

  /** What a table and its dead-letter table must hold at the end. */
  record Expected(List<String> rows, Map<String, String> deadLetters) {}

  private static Expected expectedAppend(List<Sent> records) {
    List<String> rows = new ArrayList<>();
    Map<String, String> deadLetters = new HashMap<>();
    for (Sent record : records) {
      if (record.kind.appendError == null) {
        rows.add(record.row);
      } else {
        deadLetters.put(record.recordId(), record.deadLetter(record.kind.appendError));
      }
    }
    return new Expected(rows, deadLetters);
  }

  /** The latest good record of each user, in offset order of its partition. */
  private static Expected expectedUpsert(List<Sent> records) {
    List<Sent> ordered = new ArrayList<>(records);
    ordered.sort(
        (a, b) ->
            a.partition != b.partition
                ? Integer.compare(a.partition, b.partition)
                : Long.compare(a.offset, b.offset));
    Map<Long, String> latest = new HashMap<>();
    Map<Long, Integer> partitionOf = new HashMap<>();
    Map<String, String> deadLetters = new HashMap<>();
    for (Sent record : ordered) {
      if (record.kind.upsertError == null) {
        latest.put(record.userId, record.row);
        Integer previous = partitionOf.put(record.userId, record.partition);
        assertThat(previous == null || previous == record.partition)
            .as("all records of user %s are in one partition", record.userId)
            .isTrue();
      } else {
        deadLetters.put(record.recordId(), record.deadLetter(record.kind.upsertError));
      }
    }
    return new Expected(new ArrayList<>(latest.values()), deadLetters);
  }

  private static Map<Integer, Long> endOffsets(List<Sent> records) {
    Map<Integer, Long> end = new TreeMap<>();
    for (Sent record : records) {
      end.merge(record.partition, record.offset + 1, Math::max);
    }
    return end;
  }

  /**
   * Whether the table and its dead-letter table hold the stream to its end: between them they
   * recorded every partition's end offset.
   */
  private static boolean reachedEnd(JdbcCatalog catalog, String table, Map<Integer, Long> end) {
    Map<Integer, Long> rows = offsets(catalog, table);
    Map<Integer, Long> deadLetters = offsets(catalog, table + "_dead_letter");
    for (Map.Entry<Integer, Long> partition : end.entrySet()) {
      long held =
          Math.max(
              rows.getOrDefault(partition.getKey(), 0L),
              deadLetters.getOrDefault(partition.getKey(), 0L));
      if (held < partition.getValue()) {
        return false;
      }
    }
    return true;
  }

  /** Whether the table and its dead-letter table hold as many rows as they must. */
  private static boolean counted(JdbcCatalog catalog, String table, Expected expected)
      throws IOException {
    return rows(catalog, table).size() == expected.rows.size()
        && deadLetterRows(catalog, table).size() == expected.deadLetters.size();
  }

  private static void assertDeadLetters(JdbcCatalog catalog, String table, Expected expected)
      throws IOException {
    List<Record> rows = deadLetterRows(catalog, table);
    Map<String, String> actual = new HashMap<>();
    List<String> repeated = new ArrayList<>();
    for (Record row : rows) {
      String id = (String) row.getField("record_id");
      if (actual.put(id, deadLetter(row)) != null) {
        repeated.add(id);
      }
    }
    assertThat(repeated).as("record ids that %s_dead_letter holds more than once", table).isEmpty();
    Map<String, String> missing = new TreeMap<>(expected.deadLetters);
    missing.keySet().removeAll(actual.keySet());
    Map<String, String> unexpected = new TreeMap<>(actual);
    unexpected.keySet().removeAll(expected.deadLetters.keySet());
    assertThat(missing).as("poison records missing from %s_dead_letter", table).isEmpty();
    assertThat(unexpected).as("records in %s_dead_letter that are not poison", table).isEmpty();
    for (Map.Entry<String, String> entry : expected.deadLetters.entrySet()) {
      assertThat(actual.get(entry.getKey()))
          .as(
              "dead letter %s of %s (error class, source position, raw key, raw value)",
              entry.getKey(), table)
          .isEqualTo(entry.getValue());
    }
  }

  /** A dead-letter row as {@link Sent#deadLetter} describes one. */
  private static String deadLetter(Record row) {
    return row.getField("error_class")
        + " "
        + row.getField("source_position")
        + " key="
        + base64((ByteBuffer) row.getField("raw_key"))
        + " value="
        + base64((ByteBuffer) row.getField("raw_value"));
  }

  private static String base64(ByteBuffer buffer) {
    if (buffer == null) {
      return "null";
    }
    ByteBuffer copy = buffer.duplicate();
    byte[] bytes = new byte[copy.remaining()];
    copy.get(bytes);
    return Base64.getEncoder().encodeToString(bytes);
  }

  private static Map<String, Long> byClass(Expected expected) {
    Map<String, Long> counts = new TreeMap<>();
    for (String deadLetter : expected.deadLetters.values()) {
      counts.merge(deadLetter.substring(0, deadLetter.indexOf(' ')), 1L, Long::sum);
    }
    return counts;
  }

  /** The rows of a stream table as canonical text: its columns' values joined by |. */
  private static List<String> rows(JdbcCatalog catalog, String name) throws IOException {
    Table table = table(catalog, name);
    List<String> rows = new ArrayList<>();
    if (table == null || table.currentSnapshot() == null) {
      return rows;
    }
    boolean events = table.schema().findField("event_id") != null;
    try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
      for (Record record : records) {
        if (events) {
          Object at = record.getField("at");
          rows.add(
              record.getField("event_id")
                  + "|"
                  + record.getField("user_id")
                  + "|"
                  + (record.getField("amount") == null
                      ? null
                      : ((BigDecimal) record.getField("amount")).toPlainString())
                  + "|"
                  + (at == null ? null : ((OffsetDateTime) at).toInstant().toString())
                  + "|"
                  + record.getField("qty"));
        } else {
          rows.add(record.getField("id") + "|" + record.getField("note"));
        }
      }
    }
    return rows;
  }

  private static List<Record> deadLetterRows(JdbcCatalog catalog, String name) throws IOException {
    Table table = table(catalog, name + "_dead_letter");
    List<Record> rows = new ArrayList<>();
    if (table == null || table.currentSnapshot() == null) {
      return rows;
    }
    try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
      records.forEach(rows::add);
    }
    return rows;
  }

  /** The table, or null before {@code floe run} created it. */
  private static Table table(JdbcCatalog catalog, String name) {
    try {
      return catalog.loadTable(TableIdentifier.of(NAMESPACE, name));
    } catch (NoSuchTableException e) {
      return null;
    }
  }

  /**
   * The next offset of each partition the table's newest pipeline commit records in its snapshot
   * summary; empty before the first.
   */
  private static Map<Integer, Long> offsets(JdbcCatalog catalog, String name) {
    Table table = table(catalog, name);
    Map<Integer, Long> offsets = new TreeMap<>();
    if (table == null || table.currentSnapshot() == null) {
      return offsets;
    }
    for (Snapshot snapshot :
        SnapshotUtil.ancestorsOf(table.currentSnapshot().snapshotId(), table::snapshot)) {
      String value = snapshot.summary().get(OFFSETS);
      if (value != null) {
        // topic:partition:next, comma-separated.
        for (String entry : COMMA.split(value, -1)) {
          String[] parts = COLON.split(entry, -1);
          offsets.put(Integer.parseInt(parts[1]), Long.parseLong(parts[2]));
        }
        return offsets;
      }
    }
    return offsets;
  }

  /**
   * Asserts that no table's committed offset of any partition went back since the last kill: a
   * table records what it holds, and a later resume re-reads (and writes again) what lies beyond.
   */
  private static void assertOffsetsGrow(
      JdbcCatalog catalog, Map<String, Map<Integer, Long>> committed, int kill) {
    for (String table :
        List.of(
            APPEND_TABLE,
            APPEND_TABLE + "_dead_letter",
            UPSERT_TABLE,
            UPSERT_TABLE + "_dead_letter")) {
      Map<Integer, Long> now = offsets(catalog, table);
      Map<Integer, Long> before = committed.getOrDefault(table, Map.of());
      for (Map.Entry<Integer, Long> partition : before.entrySet()) {
        assertThat(now.getOrDefault(partition.getKey(), 0L))
            .as(
                "next offset of partition %s that %s committed after kill %s (before: %s, now: %s)",
                partition.getKey(), table, kill, before, now)
            .isGreaterThanOrEqualTo(partition.getValue());
      }
      committed.put(table, now);
    }
  }

  private static long offsetSum(JdbcCatalog catalog, String name) {
    return offsets(catalog, name).values().stream().mapToLong(Long::longValue).sum();
  }

  /**
   * Asserts that {@code actual} and {@code expected} hold the same rows as many times each, naming
   * the first rows missing, repeated or unexpected otherwise.
   */
  private static void assertSameRows(String table, List<String> actual, List<String> expected) {
    Map<String, Integer> want = multiset(expected);
    Map<String, Integer> have = multiset(actual);
    List<String> missing = new ArrayList<>();
    List<String> extra = new ArrayList<>();
    for (Map.Entry<String, Integer> row : want.entrySet()) {
      int held = have.getOrDefault(row.getKey(), 0);
      if (held < row.getValue()) {
        missing.add(
            row.getKey() + (row.getValue() - held > 1 ? " x" + (row.getValue() - held) : ""));
      }
    }
    for (Map.Entry<String, Integer> row : have.entrySet()) {
      int wanted = want.getOrDefault(row.getKey(), 0);
      if (row.getValue() > wanted) {
        extra.add(row.getKey() + " x" + (row.getValue() - wanted));
      }
    }
    assertThat(missing.size() + extra.size())
        .as(
            "rows of %s: %s held, %s expected; %s missing (first: %s); %s too many (first: %s)",
            table,
            actual.size(),
            expected.size(),
            missing.size(),
            missing.subList(0, Math.min(10, missing.size())),
            extra.size(),
            extra.subList(0, Math.min(10, extra.size())))
        .isZero();
  }

  private static Map<String, Integer> multiset(List<String> values) {
    Map<String, Integer> counts = new TreeMap<>();
    for (String value : values) {
      counts.merge(value, 1, Integer::sum);
    }
    return counts;
  }

  private static String kafkaSource(KafkaBroker broker, String topic) {
    return String.join(
        "\n",
        "    source:",
        "      type: kafka",
        "      bootstrap-servers: " + broker.bootstrapServers(),
        "      topics: [" + topic + "]",
        "      max-record-bytes: 2KB");
  }

  private Path writeConfig(List<String> pipelines) throws IOException {
    List<String> lines = new ArrayList<>();
    lines.add("warehouse: " + FloeRunProcess.warehouse(directory));
    lines.add("pipelines:");
    lines.addAll(pipelines);
    // Free ports, so that runs do not collide.
    lines.addAll(
        List.of("sql:", "  postgres-port: 0", "  http-port: 0", "catalog:", "  port: 0", ""));
    Path config = directory.resolve("floe.yaml");
    Files.writeString(config, String.join("\n", lines), UTF_8);
    return config;
  }

  /** A condition that may read tables. */
  private interface Condition {
    boolean holds() throws Exception;
  }

  /**
   * Waits until {@code condition} holds, failing when {@code timeout} passes first or {@code floe
   * run} exits meanwhile.
   */
  private void await(String what, Process process, int run, Duration timeout, Condition condition)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.holds()) {
      assertAlive(process, run);
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "Timed out after " + timeout + " waiting until " + what + "; log:\n" + tail(run));
      }
      Thread.sleep(200);
    }
  }

  private void assertAlive(Process process, int run) throws IOException {
    if (!process.isAlive()) {
      throw new AssertionError(
          "floe run " + run + " exited (" + process.exitValue() + "):\n" + tail(run));
    }
  }

  /** The pipelines' last state changes and status lines in the log of a run: what was running. */
  private String lastPipelineLines(int run) throws IOException {
    Map<String, String> last = new TreeMap<>();
    for (String line : Files.readAllLines(log(run).toPath(), UTF_8)) {
      int start = line.indexOf("Pipeline ");
      if (start >= 0 && (line.contains(" -> ") || line.contains(" changes applied"))) {
        String text = line.substring(start);
        int end = text.indexOf(' ', "Pipeline ".length());
        last.put(end < 0 ? text : text.substring(0, end), line.substring(0, 12) + text);
      }
    }
    return last.isEmpty() ? "no pipeline started yet" : String.join("; ", last.values());
  }

  private String tail(int run) throws IOException {
    List<String> lines = Files.readAllLines(log(run).toPath(), UTF_8);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 80), lines.size()));
  }

  private File log(int run) {
    return directory.resolve("floe-run-" + run + ".log").toFile();
  }
}
