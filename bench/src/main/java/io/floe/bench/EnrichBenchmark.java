package io.floe.bench;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.EnrichConfig;
import io.floe.core.config.KafkaSourceConfig;
import io.floe.core.config.KafkaSourceConfig.StartPosition;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.RecordFormat;
import io.floe.core.config.StreamTableConfig;
import io.floe.core.config.StreamTableConfig.UnknownFields;
import io.floe.core.config.StreamTableConfig.WriteMode;
import io.floe.core.config.TargetConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.CdcTableWriter;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.ingest.ChangeSources;
import io.floe.ingest.Pipeline;
import io.floe.ingest.SourceContext;
import io.floe.ingest.http.HttpStreams;
import io.floe.testing.KafkaBroker;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Enrichment against a live reference table: a Kafka stream of clicks consumed by two pipelines in
 * the same run, one writing the records as they are and one enriching each with three columns of a
 * reference table of {@code products} rows (default 1,000,000) that receives 100 updates a second
 * all along, in {@code reference-commits} commits a second (default 1: a CDC pipeline at the
 * default commit interval of 1 s commits a source's changes once a second; 10 is ten commits of ten
 * rows). Prints the enriched pipeline's records/s against the plain one's (median of the runs,
 * target at least 0.7), and the lag from each reference commit to the first commit of enriched rows
 * that used it (p50, p99): the reference snapshot a commit's rows were enriched with is in its
 * snapshot summary.
 *
 * <p>The enriched pipeline's lookup index has {@value #MEMORY_MB} MB, where the reference's rows
 * fit on the heap; a third pipeline, {@code spilled}, enriches with {@value #SPILLED_MEMORY_MB} MB,
 * where most lookups read RocksDB (a reference four times larger than its memory), and its ratio is
 * printed too.
 *
 * <p>{@code bench/run.sh enrich [events=300000] [products=1000000] [repeats=3]
 * [reference-commits=1]}
 */
public final class EnrichBenchmark {
  private static final double TARGET_RATIO = 0.7;
  private static final int UPDATES_PER_SECOND = 100;
  private static final int MEMORY_MB = 256;
  private static final int SPILLED_MEMORY_MB = 64;
  private static final Duration COMMIT_INTERVAL = Duration.ofMillis(500);
  private static final String TOPIC = "clicks";
  private static final Schema PRODUCTS =
      new Schema(
          List.of(
              Types.NestedField.required(1, "id", Types.IntegerType.get()),
              Types.NestedField.optional(2, "name", Types.StringType.get()),
              Types.NestedField.optional(3, "price", Types.DecimalType.of(10, 2)),
              Types.NestedField.optional(4, "category", Types.StringType.get())),
          Set.of(1));
  private static final String SNAPSHOT_SUMMARY = "floe.enrich.shop.products.snapshot";

  private EnrichBenchmark() {}

  public static void main(String[] args) throws Exception {
    long events = Bench.argument(args, 0, 300_000);
    int products = (int) Bench.argument(args, 1, 1_000_000);
    int repeats = (int) Bench.argument(args, 2, 3);
    int referenceCommits = (int) Bench.argument(args, 3, 1);
    if (referenceCommits < 1 || referenceCommits > UPDATES_PER_SECOND) {
      throw new IllegalArgumentException(
          "reference-commits must be between 1 and "
              + UPDATES_PER_SECOND
              + " a second, not "
              + referenceCommits);
    }
    Path scratch = Files.createTempDirectory("floe-bench-enrich-");
    try (KafkaBroker broker = KafkaBroker.start(scratch.resolve("kafka"));
        JdbcCatalog catalog =
            FloeCatalog.open(
                WarehouseConfig.local(scratch.resolve("warehouse")), CatalogConfig.defaults())) {
      Bench.info(
          "enrich: Kafka broker on %s in this JVM; %d cores, load average %s",
          broker.bootstrapServers(),
          Runtime.getRuntime().availableProcessors(),
          MachineLoad.loadAverage());
      catalog.createNamespace(Namespace.of("shop"));
      Table reference = catalog.createTable(TableIdentifier.of("shop", "products"), PRODUCTS);
      CdcTableWriter writer = CdcTableWriter.open(reference);
      long started = System.nanoTime();
      Random random = new Random(1);
      for (int id = 0; id < products; id++) {
        writer.upsert(product(id, 0, random), null);
        if (id % 200_000 == 199_999) {
          writer.commit(Map.of());
        }
      }
      writer.commit(Map.of());
      Bench.info(
          "wrote %d reference rows in %.1f s",
          products, Bench.seconds(System.nanoTime() - started));
      produce(broker, events, products);

      List<Double> plain = new ArrayList<>();
      List<Double> enriched = new ArrayList<>();
      List<Double> spilled = new ArrayList<>();
      List<Double> lags = new ArrayList<>();
      for (int run = 0; run <= repeats; run++) {
        boolean counted = run > 0;
        // The reference changes all along, for both pipelines: the machine is as busy in each.
        ReferenceUpdates updates = ReferenceUpdates.start(writer, products, referenceCommits);
        try {
          double plainRate = consume(catalog, broker, scratch, events, run, "plain", 0);
          double enrichedRate =
              consume(catalog, broker, scratch, events, run, "enriched", MEMORY_MB);
          double spilledRate =
              consume(catalog, broker, scratch, events, run, "spilled", SPILLED_MEMORY_MB);
          if (counted) {
            plain.add(plainRate);
            enriched.add(enrichedRate);
            spilled.add(spilledRate);
            lags.addAll(lags(catalog, reference, run));
          }
          Bench.info(
              "%s: plain %.0f records/s, enriched %.0f records/s, spilled %.0f records/s (%d"
                  + " reference commits so far)",
              counted ? "run " + run : "warm-up",
              plainRate,
              enrichedRate,
              spilledRate,
              updates.commits());
        } finally {
          updates.stop();
        }
      }
      double plainMedian = median(plain);
      double enrichedMedian = median(enriched);
      double ratio = enrichedMedian / plainMedian;
      double[] lagValues = lags.stream().mapToDouble(Double::doubleValue).toArray();
      Bench.result(
          "enrich events=%d reference_rows=%d reference_updates_per_s=%d reference_commits_per_s=%d"
              + " repeats=%d plain:"
              + " records_per_s=%.0f enriched (memory %d MB): records_per_s=%.0f"
              + " enriched/plain=%.3f target>=%.2f %s",
          events,
          products,
          UPDATES_PER_SECOND,
          referenceCommits,
          repeats,
          plainMedian,
          MEMORY_MB,
          enrichedMedian,
          ratio,
          TARGET_RATIO,
          Bench.verdict(ratio >= TARGET_RATIO));
      Bench.result(
          "enrich-spilled memory_mb=%d records_per_s=%.0f spilled/plain=%.3f",
          SPILLED_MEMORY_MB, median(spilled), median(spilled) / plainMedian);
      Bench.result(
          "enrich-lag reference_commits=%d commit_interval_ms=%d p50_ms=%.0f p99_ms=%.0f"
              + " max_ms=%.0f",
          lagValues.length,
          COMMIT_INTERVAL.toMillis(),
          Bench.percentile(lagValues, 50),
          Bench.percentile(lagValues, 99),
          Bench.percentile(lagValues, 100));
      Bench.result(
          "enrich-runs plain_records_per_s=%s enriched_records_per_s=%s spilled_records_per_s=%s",
          plain, enriched, spilled);
    } finally {
      if (Boolean.getBoolean("floe.bench.keep")) {
        System.out.println("Kept the broker's log and the warehouse in " + scratch);
      } else {
        BenchEnvironment.deleteRecursively(scratch);
      }
    }
  }

  /**
   * Consumes the topic from its start into a new table, enriching with a lookup index of {@code
   * memoryMb} (none for 0); returns records/s.
   */
  private static double consume(
      JdbcCatalog catalog,
      KafkaBroker broker,
      Path scratch,
      long events,
      int run,
      String kind,
      int memoryMb)
      throws Exception {
    boolean enrich = memoryMb > 0;
    String name = kind + "_" + run;
    PipelineConfig config =
        new PipelineConfig(
            name,
            new KafkaSourceConfig(
                broker.bootstrapServers(),
                List.of(TOPIC),
                "",
                "floe-" + name,
                StartPosition.EARLIEST,
                Optional.empty(),
                RecordFormat.JSON,
                "",
                1 << 20),
            new TargetConfig(
                "raw",
                Optional.of(
                    new StreamTableConfig(
                        name,
                        WriteMode.APPEND,
                        List.of(),
                        List.of(),
                        List.of(),
                        UnknownFields.ADD,
                        name + "_dead_letter"))),
            COMMIT_INTERVAL,
            enrich
                ? List.of(
                    new EnrichConfig(
                        "shop.products",
                        List.of("id"),
                        List.of("product_id"),
                        List.of(
                            new EnrichConfig.Column("name", "product_name"),
                            new EnrichConfig.Column("price", "price"),
                            new EnrichConfig.Column("category", "category")),
                        EnrichConfig.Missing.NULLS,
                        Duration.ofMinutes(5),
                        Optional.of("products_snapshot"),
                        (long) memoryMb << 20))
                : List.of(),
            Optional.empty(),
            List.of());
    Path state = Files.createDirectories(scratch.resolve("state"));
    try (Pipeline pipeline =
        new Pipeline(
            config,
            catalog,
            ChangeSources.of(config, new SourceContext(state, new HttpStreams())),
            new TableWriterRegistry(),
            state,
            io.floe.ingest.quality.QualityResults.inMemory(1000))) {
      pipeline.start();
      Duration timeout = Duration.ofSeconds(300 + events / 1_000);
      long first =
          Bench.await(pipeline, "the first record", timeout, () -> pipeline.stats().changes() > 0);
      Bench.Applied done =
          Bench.awaitCommitted(pipeline, events, COMMIT_INTERVAL.plusSeconds(2), timeout);
      if (!pipeline.deadLetterCounts().isEmpty()) {
        throw new IllegalStateException(
            "Records went to the dead-letter table: " + pipeline.deadLetterCounts());
      }
      return events / Bench.seconds(done.committedNanos() - first);
    }
  }

  /**
   * For each reference commit during the enriched run: the time from it to the first commit of
   * enriched rows whose summary names it or a later reference snapshot, in milliseconds.
   */
  private static List<Double> lags(JdbcCatalog catalog, Table reference, int run) {
    reference.refresh();
    Table output = catalog.loadTable(TableIdentifier.of("raw", "enriched_" + run));
    TreeMap<Long, Long> outputBySequence = new TreeMap<>(); // output commit time -> sequence used
    List<Snapshot> outputs = new ArrayList<>();
    output.snapshots().forEach(outputs::add);
    outputs.sort((a, b) -> Long.compare(a.timestampMillis(), b.timestampMillis()));
    if (outputs.isEmpty()) {
      return List.of();
    }
    long firstOutput = outputs.get(0).timestampMillis();
    long lastOutput = outputs.get(outputs.size() - 1).timestampMillis();
    for (Snapshot commit : outputs) {
      String used = commit.summary().get(SNAPSHOT_SUMMARY);
      if (used != null && reference.snapshot(Long.parseLong(used)) != null) {
        outputBySequence.put(
            commit.timestampMillis(), reference.snapshot(Long.parseLong(used)).sequenceNumber());
      }
    }
    List<Double> lags = new ArrayList<>();
    for (Snapshot change : reference.snapshots()) {
      long at = change.timestampMillis();
      if (at < firstOutput || at > lastOutput - 2 * COMMIT_INTERVAL.toMillis()) {
        continue; // Before the run's first commit, or too late for a commit to follow.
      }
      for (Map.Entry<Long, Long> commit : outputBySequence.tailMap(at, true).entrySet()) {
        if (commit.getValue() >= change.sequenceNumber()) {
          lags.add((double) (commit.getKey() - at));
          break;
        }
      }
    }
    return lags;
  }

  private static void produce(KafkaBroker broker, long events, int products) throws Exception {
    broker.createTopic(TOPIC, 4);
    Random random = new Random(2);
    long started = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> producer =
        broker.producer(
            Map.of(
                ProducerConfig.LINGER_MS_CONFIG, 20, ProducerConfig.BATCH_SIZE_CONFIG, 1 << 18))) {
      AtomicReference<Exception> failed = new AtomicReference<>();
      for (long id = 1; id <= events; id++) {
        String json =
            "{\"event_id\":%d,\"product_id\":%d,\"user_id\":\"u%d\",\"qty\":%d,\"url\":\"/p/%d\"}"
                .formatted(
                    id,
                    random.nextInt(products),
                    random.nextInt(100_000),
                    1 + random.nextInt(5),
                    id % 1000);
        byte[] value = json.getBytes(StandardCharsets.UTF_8);
        Future<RecordMetadata> unused =
            producer.send(
                new ProducerRecord<>(TOPIC, null, value),
                (metadata, error) -> {
                  if (error != null) {
                    failed.compareAndSet(null, error);
                  }
                });
      }
      producer.flush();
      if (failed.get() != null) {
        throw new IllegalStateException("Cannot produce the events: " + failed.get(), failed.get());
      }
    }
    Bench.info(
        "produced %d clicks into %s in %.1f s",
        events, TOPIC, Bench.seconds(System.nanoTime() - started));
  }

  private static Record product(int id, int version, Random random) {
    GenericRecord row = GenericRecord.create(PRODUCTS);
    row.setField("id", id);
    row.setField("name", "product " + id + " v" + version);
    row.setField("price", BigDecimal.valueOf(random.nextInt(1_000_000), 2));
    row.setField("category", "category " + (id % 97));
    return row;
  }

  private static double median(List<Double> values) {
    return Bench.median(values.stream().mapToDouble(Double::doubleValue).toArray());
  }

  /** 100 updated reference rows a second, in {@code perSecond} commits, in the background. */
  private static final class ReferenceUpdates {
    private final CdcTableWriter writer;
    private final int products;
    private final int perSecond;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;
    private final AtomicReference<RuntimeException> failure = new AtomicReference<>();
    private final java.util.concurrent.atomic.AtomicLong commits =
        new java.util.concurrent.atomic.AtomicLong();

    private ReferenceUpdates(CdcTableWriter writer, int products, int perSecond) {
      this.writer = writer;
      this.products = products;
      this.perSecond = perSecond;
      this.thread = new Thread(this::run, "reference-updates");
      this.thread.setDaemon(true);
    }

    static ReferenceUpdates start(CdcTableWriter writer, int products, int perSecond) {
      ReferenceUpdates updates = new ReferenceUpdates(writer, products, perSecond);
      updates.thread.start();
      return updates;
    }

    long commits() {
      return commits.get();
    }

    private void run() {
      Random random = new Random(3);
      int version = 1;
      try {
        while (running.get()) {
          long next = System.nanoTime() + 1_000_000_000L / perSecond;
          for (int i = 0; i < UPDATES_PER_SECOND / perSecond; i++) {
            writer.upsert(product(random.nextInt(products), version, random), null);
          }
          writer.commit(Map.of());
          commits.incrementAndGet();
          version++;
          long wait = next - System.nanoTime();
          if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        failure.set(e);
      }
    }

    void stop() throws InterruptedException {
      running.set(false);
      thread.join();
      if (failure.get() != null) {
        throw new IllegalStateException("The reference updates failed", failure.get());
      }
    }
  }
}
