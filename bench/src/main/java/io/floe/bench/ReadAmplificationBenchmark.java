package io.floe.bench;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.ingest.Pipeline;
import io.floe.ingest.PipelineStats;
import io.floe.maintenance.MaintenanceRun;
import io.floe.sql.QueryEngine;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * Read amplification under continuous CDC: how much slower a full scan of a table gets while
 * updates stream into it with table maintenance running, compared with the same rows freshly
 * rewritten.
 *
 * <p>A pipeline (commit interval 1 s) loads R rows; then single-row updates of random rows stream
 * at a fixed rate for S seconds ({@link PacedWorkload}, 4 connections) while {@link
 * BackgroundMaintenance} runs in the same process on the same catalog: by default Floe's {@code
 * MaintenanceScheduler} with the default maintenance configuration. Every {@code
 * sample-every-seconds} the current rows of {@code raw.items} are rewritten into a new table
 * ({@link LakeTables#rewriteCopy}), and {@link ReadCostBenchmark#QUERY} runs through {@code floe
 * sql} on both ({@link QueryComparison}: one warm-up each, then {@code runs} runs alternating); the
 * copy is dropped. The stream goes on during the samples.
 *
 * <p>Target: the ratio of the medians, live / copy, at most {@value #TARGET_RATIO} at every sample.
 *
 * <p>Arguments: {@code [seconds=600] [rate=1000] [rows=1000000] [sample-every-seconds=60]
 * [runs=5]}.
 */
public final class ReadAmplificationBenchmark {
  static final double TARGET_RATIO = 1.3;
  private static final String PIPELINE = "readamp";
  private static final Duration COMMIT_INTERVAL = Duration.ofSeconds(1);
  private static final int CONNECTIONS = 4;
  private static final TableIdentifier ITEMS = MergedItemsTable.ITEMS;
  private static final String COPY_NAMESPACE = "bench";

  private ReadAmplificationBenchmark() {}

  public static void main(String[] args) throws Exception {
    long seconds = Bench.argument(args, 0, 600);
    double rate = Bench.argument(args, 1, 1_000);
    long rows = Bench.argument(args, 2, 1_000_000);
    long sampleEverySeconds = Bench.argument(args, 3, 60);
    int runs = (int) Bench.argument(args, 4, 5);
    if (sampleEverySeconds < 1 || sampleEverySeconds > seconds || runs < 1) {
      throw new IllegalArgumentException(
          "Cannot sample every "
              + sampleEverySeconds
              + " s of a "
              + seconds
              + " s run with "
              + runs
              + " runs: sample at least once, every 1 s or more, with 1 run or more");
    }
    try (BenchEnvironment environment = BenchEnvironment.start()) {
      try (Connection connection = environment.connect()) {
        ItemsTable.createFilled(connection, rows);
      }
      Path warehouse = environment.newWarehouse(PIPELINE);
      try (JdbcCatalog catalog =
              FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
          Pipeline pipeline = environment.pipeline(PIPELINE, COMMIT_INTERVAL, catalog)) {
        pipeline.start();
        Bench.awaitFullLoad(pipeline, rows);
        Bench.info("full load of %d rows done; pipeline is streaming", rows);
        run(
            environment,
            pipeline,
            catalog,
            warehouse,
            Duration.ofSeconds(seconds),
            rate,
            rows,
            Duration.ofSeconds(sampleEverySeconds),
            runs);
      }
      environment.dropSlot(PIPELINE);
    }
  }

  /** One sample: the query's medians on the live table and on its fresh copy. */
  private record Sample(
      double elapsedSeconds,
      double liveMillis,
      double copyMillis,
      double livePlanningMillis,
      double copyPlanningMillis,
      int dataFiles,
      int deleteFiles,
      long snapshots,
      long liveBytes,
      long copyBytes,
      double copySeconds,
      long liveRows,
      long copyRows) {
    double ratio() {
      return liveMillis / copyMillis;
    }
  }

  private static void run(
      BenchEnvironment environment,
      Pipeline pipeline,
      JdbcCatalog catalog,
      Path warehouse,
      Duration duration,
      double rate,
      long rows,
      Duration sampleEvery,
      int runs)
      throws Exception {
    PipelineStats stats = pipeline.stats();
    long changesBefore = stats.changes();
    List<Sample> samples = new ArrayList<>();
    String maintenanceDescription;
    List<MaintenanceRun> maintenanceRuns;
    PacedWorkload.Window window;
    String cpu;
    Bench.Applied caughtUp;
    long streamEnded;
    try (QueryEngine engine = Bench.queryEngine(catalog, warehouse);
        BackgroundMaintenance maintenance =
            BackgroundMaintenance.start(catalog, warehouse, environment.writers());
        PacedWorkload workload =
            PacedWorkload.start(environment, rate, CONNECTIONS, 0, rows, rows + 1)) {
      maintenanceDescription = maintenance.describe();
      Bench.info("maintenance: %s", maintenanceDescription);
      stats.resetFreshness();
      window = workload.beginWindow(0);
      // As a dashboard would, query the live table once as the stream starts: the engine holds
      // the large files with deletes of tables queried lately resident from then on.
      long first = System.nanoTime();
      engine.queryAll(ReadCostBenchmark.QUERY + ITEMS);
      Bench.info(
          "first query of the live table: %.1f ms", (System.nanoTime() - first) / 1_000_000.0);
      MachineLoad load = environment.measureLoad();
      long started = window.startedNanos();
      for (int sample = 1; sampleEvery.multipliedBy(sample).compareTo(duration) <= 0; sample++) {
        waitUntil(pipeline, workload, started + sampleEvery.multipliedBy(sample).toNanos());
        samples.add(
            sample(catalog, engine, sample, Bench.seconds(System.nanoTime() - started), runs));
        Sample last = samples.get(samples.size() - 1);
        Bench.info(
            "minute %.1f: live %.1f ms, copy %.1f ms, ratio %.2f; %d data files, %d delete files,"
                + " %d snapshots; %.0f updates/s so far",
            last.elapsedSeconds() / 60,
            last.liveMillis(),
            last.copyMillis(),
            last.ratio(),
            last.dataFiles(),
            last.deleteFiles(),
            last.snapshots(),
            window.rate());
      }
      waitUntil(pipeline, workload, started + duration.toNanos());
      workload.endWindow();
      workload.stop();
      streamEnded = System.nanoTime();
      cpu = load.summary();
      workload.checkFailure();
      caughtUp =
          Bench.awaitCommitted(
              pipeline,
              changesBefore + workload.committedChanges(),
              COMMIT_INTERVAL.plusSeconds(2),
              Duration.ofMinutes(5));
      maintenance.close();
      maintenanceRuns = maintenance.history();
    }
    report(
        samples,
        window,
        rate,
        rows,
        runs,
        stats,
        Bench.seconds(caughtUp.committedNanos() - streamEnded),
        maintenanceDescription,
        maintenanceRuns,
        cpu);
  }

  private static Sample sample(
      JdbcCatalog catalog, QueryEngine engine, int number, double elapsedSeconds, int runs)
      throws Exception {
    // A new name per sample: nothing cached for an earlier copy can apply to this one.
    TableIdentifier copy = TableIdentifier.of(COPY_NAMESPACE, "items_copy_" + number);
    try {
      long started = System.nanoTime();
      LakeTables.rewriteCopy(catalog, catalog.loadTable(ITEMS), copy);
      double copySeconds = Bench.seconds(System.nanoTime() - started);
      Table live = catalog.loadTable(ITEMS);
      LakeTables.FileCounts liveFiles = LakeTables.files(live);
      long snapshots = LakeTables.snapshotCount(live);
      LakeTables.FileCounts copyFiles = LakeTables.files(catalog.loadTable(copy));
      QueryComparison comparison =
          QueryComparison.run(
              engine, ReadCostBenchmark.QUERY + ITEMS, ReadCostBenchmark.QUERY + copy, runs);
      Bench.info(
          "  live runs (ms): %s; copy runs (ms): %s",
          Arrays.toString(comparison.firstMillis()), Arrays.toString(comparison.secondMillis()));
      return new Sample(
          elapsedSeconds,
          comparison.firstMedian(),
          comparison.secondMedian(),
          comparison.firstPlanningMedian(),
          comparison.secondPlanningMedian(),
          liveFiles.data(),
          liveFiles.deletes(),
          snapshots,
          liveFiles.bytes(),
          copyFiles.bytes(),
          copySeconds,
          rowCount(comparison.firstResult()),
          rowCount(comparison.secondResult()));
    } finally {
      if (catalog.tableExists(copy)) {
        LakeTables.drop(catalog, copy);
      }
    }
  }

  private static long rowCount(List<List<Object>> result) {
    return ((Number) result.get(0).get(0)).longValue();
  }

  /** Sleeps until {@code deadline} ({@link System#nanoTime()}), checking the parts. */
  private static void waitUntil(Pipeline pipeline, PacedWorkload workload, long deadline)
      throws InterruptedException {
    while (System.nanoTime() < deadline) {
      Thread.sleep(Math.min(50, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
      Bench.checkRunning(pipeline);
      workload.checkFailure();
    }
  }

  private static void report(
      List<Sample> samples,
      PacedWorkload.Window window,
      double rate,
      long rows,
      int runs,
      PipelineStats stats,
      double catchUpSeconds,
      String maintenanceDescription,
      List<MaintenanceRun> maintenanceRuns,
      String cpu) {
    double maxRatio = 0;
    int met = 0;
    boolean rowsMatch = true;
    for (Sample sample : samples) {
      maxRatio = Math.max(maxRatio, sample.ratio());
      if (sample.ratio() <= TARGET_RATIO) {
        met++;
      }
      rowsMatch &= sample.liveRows() == rows && sample.copyRows() == rows;
      Bench.result(
          "read-amplification-sample minute=%.1f live_ms=%.1f copy_ms=%.1f ratio=%.2f"
              + " live_planning_ms=%.1f copy_planning_ms=%.1f live_data_files=%d live_delete_files=%d snapshots=%d live_bytes=%d"
              + " copy_bytes=%d copy_written_s=%.1f",
          sample.elapsedSeconds() / 60,
          sample.liveMillis(),
          sample.copyMillis(),
          sample.ratio(),
          sample.livePlanningMillis(),
          sample.copyPlanningMillis(),
          sample.dataFiles(),
          sample.deleteFiles(),
          sample.snapshots(),
          sample.liveBytes(),
          sample.copyBytes(),
          sample.copySeconds());
    }
    boolean pass = !samples.isEmpty() && met == samples.size();
    Bench.result(
        "read-amplification seconds=%.0f rate_target=%.0f/s rate_achieved=%.0f/s rows=%d"
            + " samples=%d runs=%d max_ratio=%.2f met=%d/%d target: ratio<=%.1f at every sample"
            + " %s",
        window.seconds(),
        rate,
        window.rate(),
        rows,
        samples.size(),
        runs,
        maxRatio,
        met,
        samples.size(),
        TARGET_RATIO,
        Bench.verdict(pass));
    Bench.result(
        "read-amplification-detail updates=%d late_transactions=%d pipeline_freshness_p50_ms=%d"
            + " p99_ms=%d catch_up_after_stop_s=%.2f",
        window.transactions(),
        window.late(),
        stats.freshnessPercentile(50),
        stats.freshnessPercentile(99),
        catchUpSeconds);
    Map<String, int[]> byOperation = new LinkedHashMap<>();
    for (MaintenanceRun run : maintenanceRuns) {
      Bench.info("maintenance run: %s", run);
      int[] counts =
          byOperation.computeIfAbsent(run.table() + " " + run.operation(), key -> new int[2]);
      counts[0]++;
      if (run.failed()) {
        counts[1]++;
      }
    }
    List<String> summary = new ArrayList<>();
    byOperation.forEach(
        (operation, counts) ->
            summary.add(
                operation
                    + " x"
                    + counts[0]
                    + (counts[1] > 0 ? " (" + counts[1] + " failed)" : "")));
    Bench.result(
        "read-amplification-maintenance %s runs=%d failed=%d [%s]",
        maintenanceDescription,
        maintenanceRuns.size(),
        maintenanceRuns.stream().filter(MaintenanceRun::failed).count(),
        String.join(", ", summary));
    Bench.result(
        "read-amplification-verify live and copy held %d rows at every sample: %s %s",
        rows, rowsMatch, Bench.verdict(rowsMatch));
    Bench.result("read-amplification-cpu %s", cpu);
  }
}
