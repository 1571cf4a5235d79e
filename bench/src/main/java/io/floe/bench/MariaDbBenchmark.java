package io.floe.bench;

import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.MariaDbSourceConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.SourceType;
import io.floe.core.config.TargetConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.ingest.ChangeSource;
import io.floe.ingest.ChangeSources;
import io.floe.ingest.Pipeline;
import io.floe.ingest.SourceContext;
import io.floe.ingest.SourceTable;
import io.floe.ingest.http.HttpStreams;
import io.floe.ingest.mariadb.MariaDbEngineProperties;
import io.floe.testing.MariaDbServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * The MariaDB source against a no-op consumer of the same Debezium connector, configured the same
 * way, in the same run: a full load of a table of N rows × 6 columns, and the streaming apply of
 * one transaction that updates M of its rows. The no-op consumer counts the table's events and
 * marks them processed; Floe's figure ends when an Iceberg commit holds every row (full load) or
 * change (streaming). Runs alternate (consumer, then Floe) after a warm-up run that is not counted;
 * the rates are medians, and the ratio is the median of the runs' ratios (target: Floe at 0.8 or
 * more of the consumer's rate).
 *
 * <p>A private MariaDB of Debian's {@code mariadb-server} package serves the table.
 *
 * <p>{@code bench/run.sh mariadb [rows=1000000] [updates=200000] [runs=3]}
 */
public final class MariaDbBenchmark {
  private static final double TARGET_RATIO = 0.8;
  private static final Duration COMMIT_INTERVAL = Duration.ofSeconds(1);
  private static final String DATABASE = "bench";

  private MariaDbBenchmark() {}

  public static void main(String[] args) throws Exception {
    long rows = Bench.argument(args, 0, 1_000_000);
    long updates = Bench.argument(args, 1, 200_000);
    int runs = (int) Bench.argument(args, 2, 3);
    if (updates > rows) {
      throw new IllegalArgumentException("updates (" + updates + ") must not exceed rows");
    }
    Path scratch = Files.createTempDirectory("floe-bench-mariadb-");
    try (MariaDbServer server = MariaDbServer.start(scratch.resolve("mariadb"))) {
      server.createDatabase(DATABASE);
      long started = System.nanoTime();
      try (Connection connection = server.connect(DATABASE);
          Statement statement = connection.createStatement()) {
        statement.execute(
            "CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(40), qty INT,"
                + " price DECIMAL(10,2), created DATETIME(6), note VARCHAR(100))");
        statement.execute(
            "INSERT INTO items SELECT seq, CONCAT('item ', seq), seq % 1000,"
                + " (seq % 100000) / 100, TIMESTAMP'2026-01-01 00:00:00' + INTERVAL seq SECOND,"
                + " REPEAT('x', 20 + seq % 30) FROM seq_1_to_"
                + rows);
        statement.execute("ANALYZE TABLE items");
      }
      Bench.info(
          "mariadb: %d rows x 6 columns inserted in %.1f s; %d cores, load average %s",
          rows,
          Bench.seconds(System.nanoTime() - started),
          Runtime.getRuntime().availableProcessors(),
          MachineLoad.loadAverage());
      double[] consumerLoad = new double[runs];
      double[] floeLoad = new double[runs];
      double[] consumerApply = new double[runs];
      double[] floeApply = new double[runs];
      double[] loadRatios = new double[runs];
      double[] applyRatios = new double[runs];
      // Run 0 warms the JIT up and is not counted.
      for (int run = 0; run <= runs; run++) {
        PipelineConfig config = config(server, "load" + run);
        double consumerLoadRate = rows / Bench.seconds(consume(config, scratch, rows, true, null));
        double floeLoadRate = rows / Bench.seconds(loadWithFloe(config, scratch, rows));
        PipelineConfig streaming = config(server, "apply" + run);
        double consumerApplyRate =
            updates / Bench.seconds(consume(streaming, scratch, updates, false, server));
        double floeApplyRate =
            updates / Bench.seconds(applyWithFloe(streaming, scratch, rows, updates, server));
        Bench.info(
            "%s: full load %.0f rows/s (consumer %.0f), streaming apply %.0f rows/s"
                + " (consumer %.0f)",
            run == 0 ? "warm-up" : "run " + run,
            floeLoadRate,
            consumerLoadRate,
            floeApplyRate,
            consumerApplyRate);
        if (run > 0) {
          consumerLoad[run - 1] = consumerLoadRate;
          floeLoad[run - 1] = floeLoadRate;
          consumerApply[run - 1] = consumerApplyRate;
          floeApply[run - 1] = floeApplyRate;
          loadRatios[run - 1] = floeLoadRate / consumerLoadRate;
          applyRatios[run - 1] = floeApplyRate / consumerApplyRate;
        }
      }
      report("mariadb-full-load rows=" + rows, runs, floeLoad, consumerLoad, loadRatios);
      report(
          "mariadb-streaming-apply updates=" + updates,
          runs,
          floeApply,
          consumerApply,
          applyRatios);
    } finally {
      if (!Boolean.getBoolean("floe.bench.keep")) {
        BenchEnvironment.deleteRecursively(scratch);
      }
    }
  }

  /** A RESULT line: medians of the rates, and the median of the runs' ratios (each run pairs). */
  private static void report(
      String what, int runs, double[] floe, double[] consumer, double[] ratios) {
    double ratio = Bench.median(ratios);
    List<String> each = new ArrayList<>();
    for (double value : ratios) {
      each.add(Bench.format("%.2f", value));
    }
    Bench.result(
        "%s runs=%d floe_rows_per_s=%.0f consumer_rows_per_s=%.0f ratio=%.2f target>=%.1f %s"
            + " (ratio of each run: %s)",
        what,
        runs,
        Bench.median(floe),
        Bench.median(consumer),
        ratio,
        TARGET_RATIO,
        Bench.verdict(ratio >= TARGET_RATIO),
        String.join(", ", each));
  }

  private static PipelineConfig config(MariaDbServer server, String name) {
    return new PipelineConfig(
        name,
        new MariaDbSourceConfig(
            SourceType.MARIADB,
            server.url(DATABASE),
            "root",
            "",
            List.of(DATABASE + ".items"),
            7000),
        new TargetConfig(BenchEnvironment.NAMESPACE),
        COMMIT_INTERVAL);
  }

  /** Floe's full load: from {@link Pipeline#start} until a commit holds every row. */
  private static long loadWithFloe(PipelineConfig config, Path scratch, long rows)
      throws Exception {
    Path warehouse = scratch.resolve("warehouse-" + config.name());
    try (JdbcCatalog catalog =
            FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
        Pipeline pipeline = pipeline(config, catalog, scratch)) {
      long started = System.nanoTime();
      pipeline.start();
      long done =
          Bench.await(
              pipeline,
              "the full load of " + rows + " rows",
              Duration.ofSeconds(120 + rows / 5_000),
              () ->
                  pipeline.state() == Pipeline.State.STREAMING
                      && pipeline.stats().loadedRows() >= rows);
      return done - started;
    } finally {
      BenchEnvironment.deleteRecursively(warehouse);
    }
  }

  /**
   * Floe's streaming apply: a pipeline loads the table, then one transaction updates {@code
   * updates} rows; from that transaction's commit until an Iceberg commit holds every change.
   */
  private static long applyWithFloe(
      PipelineConfig config, Path scratch, long rows, long updates, MariaDbServer server)
      throws Exception {
    Path warehouse = scratch.resolve("warehouse-" + config.name());
    try (JdbcCatalog catalog =
            FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
        Pipeline pipeline = pipeline(config, catalog, scratch)) {
      pipeline.start();
      Bench.awaitFullLoad(pipeline, rows);
      long before = pipeline.stats().changes();
      long committed = update(server, updates);
      Bench.Applied applied =
          Bench.awaitCommitted(
              pipeline,
              before + updates,
              COMMIT_INTERVAL.plusSeconds(2),
              Duration.ofSeconds(120 + updates / 2_000));
      return applied.committedNanos() - committed;
    } finally {
      BenchEnvironment.deleteRecursively(warehouse);
    }
  }

  private static Pipeline pipeline(PipelineConfig config, JdbcCatalog catalog, Path scratch) {
    return new Pipeline(
        config,
        catalog,
        ChangeSources.of(config, new SourceContext(scratch.resolve("state"), new HttpStreams())),
        new TableWriterRegistry());
  }

  /** Updates the first {@code updates} rows in one transaction; returns when it committed. */
  private static long update(MariaDbServer server, long updates) throws Exception {
    try (Connection connection = server.connect(DATABASE);
        Statement statement = connection.createStatement()) {
      statement.executeUpdate("UPDATE items SET qty = qty + 1 WHERE id <= " + updates);
      return System.nanoTime();
    }
  }

  /**
   * The no-op consumer: Debezium's engine with the pipeline's connector properties, counting the
   * table's events. With {@code load}, a full load (from start to the last row); else it streams
   * from the binlog's end and {@code server} runs the update once it streams (from the update's
   * commit to its last change).
   */
  private static long consume(
      PipelineConfig config, Path scratch, long expected, boolean load, MariaDbServer server)
      throws Exception {
    ChangeSource source =
        ChangeSources.of(config, new SourceContext(scratch.resolve("state"), new HttpStreams()));
    List<SourceTable> tables = source.inspect();
    source.close();
    Path history = scratch.resolve("consumer-history-" + config.name() + ".dat");
    Properties properties = MariaDbEngineProperties.build(config, tables, null, history, false);
    properties.setProperty("name", "noop-" + config.name());
    if (!load) {
      properties.setProperty("snapshot.mode", "no_data");
    }
    String topic = "floe_" + config.name() + "." + DATABASE + ".items";
    AtomicLong seen = new AtomicLong();
    long[] last = new long[1];
    DebeziumEngine<RecordChangeEvent<SourceRecord>> engine =
        DebeziumEngine.create(ChangeEventFormat.of(io.debezium.embedded.Connect.class))
            .using(properties)
            .notifying(
                (records, committer) -> {
                  for (RecordChangeEvent<SourceRecord> record : records) {
                    if (record.record().topic().equals(topic)) {
                      if (seen.incrementAndGet() == expected) {
                        last[0] = System.nanoTime();
                      }
                    }
                    committer.markProcessed(record);
                  }
                  committer.markBatchFinished();
                })
            .build();
    ExecutorService executor = Executors.newSingleThreadExecutor();
    try {
      long started = System.nanoTime();
      executor.execute(engine);
      if (!load) {
        awaitStreaming(server, config);
        started = update(server, expected);
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(120 + expected / 2_000).toNanos();
      while (seen.get() < expected) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "The no-op consumer saw " + seen.get() + " of " + expected + " events");
        }
        Thread.sleep(2);
      }
      return last[0] - started;
    } finally {
      engine.close();
      executor.shutdown();
      executor.awaitTermination(60, TimeUnit.SECONDS);
      Files.deleteIfExists(history);
    }
  }

  /** Waits until the consumer's binlog client is connected to the server (a replica thread). */
  private static void awaitStreaming(MariaDbServer server, PipelineConfig config) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    try (Connection connection = server.connect(DATABASE);
        Statement statement = connection.createStatement()) {
      while (true) {
        try (ResultSet result =
            statement.executeQuery(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST"
                    + " WHERE COMMAND LIKE 'Binlog Dump%'")) {
          result.next();
          if (result.getLong(1) > 0) {
            // The dump thread exists; give the connector a moment to start reading.
            Thread.sleep(500);
            return;
          }
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "The no-op consumer of " + config.name() + " never connected to the binlog");
        }
        Thread.sleep(20);
      }
    }
  }
}
