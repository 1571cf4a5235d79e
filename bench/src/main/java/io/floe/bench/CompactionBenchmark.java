package io.floe.bench;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.catalog.TableFiles;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.CdcTableWriter;
import io.floe.ingest.Pipeline;
import io.floe.ingest.PipelineStats;
import io.floe.maintenance.RewriteDataFilesOptions;
import io.floe.maintenance.RewriteDataFilesResult;
import io.floe.maintenance.RewriteProgress;
import io.floe.maintenance.TableMaintenance;
import io.floe.sql.QueryEngine;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * Compaction throughput, and what compaction does to ingestion freshness.
 *
 * <p>A pipeline loads R rows; then, for each repeat, the table is made merge-heavy with U update
 * commits of K random rows each ({@link MergedItemsTable#updateCommits}: 100 ms commit interval,
 * one Iceberg commit per source transaction, each a small data file and a position-delete file; the
 * writer tidies small files as it always does), and a pipeline with the default 1 s commit interval
 * resumes while single-row updates of random rows stream at a fixed rate ({@link PacedWorkload}, 4
 * connections). After a 10 s warm-up, freshness is measured for a window without compaction, then
 * for a window that lasts as long as one {@link TableMaintenance#rewriteDataFiles} with default
 * options. The pipeline runs in this process, so the rewrite is handed to its writer, which commits
 * it in its next commit: the path {@code floe run} takes.
 *
 * <p>Freshness is the pipeline's (source commit to Iceberg commit of each change, over the commits
 * of the window, including the first commit after it ends, which for the compaction window is the
 * one that carries the rewrite or a later one), cross-checked by a {@link VisibilityObserver}
 * watching sampled inserts (about 200 per baseline window). Throughput is the rewritten (input)
 * bytes over the rewrite's duration, which includes planning, reading with deletes applied,
 * writing, and waiting for the writer's commit; rows per second counts the rows of the input files
 * (deleted ones included).
 *
 * <p>Arguments: {@code [rows=1000000] [update-commits=300] [rate=1000] [window-seconds=30]
 * [repeats=3] [updates-per-commit=1000]}.
 */
public final class CompactionBenchmark {
  private static final String PIPELINE = "compaction";
  private static final Duration COMMIT_INTERVAL = Duration.ofSeconds(1);
  private static final Duration WARM_UP = Duration.ofSeconds(10);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(10);
  private static final int CONNECTIONS = 4;
  private static final int SAMPLES_PER_WINDOW = 200;
  private static final double MEGABYTE = 1e6;
  private static final TableIdentifier ITEMS = MergedItemsTable.ITEMS;

  private CompactionBenchmark() {}

  public static void main(String[] args) throws Exception {
    long rows = Bench.argument(args, 0, 1_000_000);
    int updateCommits = (int) Bench.argument(args, 1, 300);
    double rate = Bench.argument(args, 2, 1_000);
    long windowSeconds = Bench.argument(args, 3, 30);
    int repeats = (int) Bench.argument(args, 4, 3);
    int updatesPerCommit = (int) Bench.argument(args, 5, 1_000);
    if (repeats < 1 || windowSeconds < 1) {
      throw new IllegalArgumentException("Cannot measure less than one repeat of a 1 s window");
    }
    try (BenchEnvironment environment = BenchEnvironment.start()) {
      try (Connection connection = environment.connect()) {
        ItemsTable.createFilled(connection, rows);
      }
      Path warehouse = environment.newWarehouse(PIPELINE);
      List<Repeat> results = new ArrayList<>();
      try (JdbcCatalog catalog =
          FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults())) {
        MergedItemsTable.load(environment, catalog, PIPELINE, rows);
        long nextId = rows + 1;
        for (int repeat = 1; repeat <= repeats; repeat++) {
          MergedItemsTable.updateCommits(
              environment, catalog, PIPELINE, updateCommits, rows, updatesPerCommit);
          Repeat result =
              measure(
                  environment,
                  catalog,
                  warehouse,
                  repeat,
                  rate,
                  Duration.ofSeconds(windowSeconds),
                  rows,
                  nextId);
          nextId = result.nextId();
          results.add(result);
          report(result);
        }
        environment.dropSlot(PIPELINE);

        ItemsTable.Checksum source;
        try (Connection connection = environment.connect()) {
          source = ItemsTable.checksum(connection);
        }
        ItemsTable.Checksum lake;
        try (QueryEngine engine = Bench.queryEngine(catalog, warehouse)) {
          lake = Bench.lakeChecksum(engine, ITEMS.toString());
        }
        summarize(results, rows, updateCommits, updatesPerCommit, rate);
        boolean equal = source.equals(lake);
        Bench.result(
            "compaction-verify source=[%s] lake=[%s] equal=%s %s",
            source, lake, equal, Bench.verdict(equal));
      }
    }
  }

  /** Freshness over one window. */
  private record WindowFigures(
      double seconds,
      double rate,
      long late,
      long p50,
      long p99,
      long max,
      Map<Long, Long> samples,
      String cpu) {}

  /** What one repeat measured. */
  private record Repeat(
      int number,
      RewriteDataFilesResult rewrite,
      long handoffWaitNanos,
      long inputRows,
      int inputFilesCounted,
      LakeTables.FileCounts before,
      LakeTables.FileCounts after,
      WindowFigures without,
      WindowFigures during,
      Visibility visibleWithout,
      Visibility visibleDuring,
      long nextId) {
    double megabytesPerSecond() {
      return rewrite.rewrittenBytes() / MEGABYTE / (rewrite.durationMillis() / 1e3);
    }

    double rowsPerSecond() {
      return inputRows / (rewrite.durationMillis() / 1e3);
    }

    /** Seconds of the rewrite outside the wait for the writer's commit. */
    double ownSeconds() {
      return rewrite.durationMillis() / 1e3 - Bench.seconds(handoffWaitNanos);
    }

    /** Throughput leaving out the wait for the writer's next commit. */
    double ownMegabytesPerSecond() {
      return rewrite.rewrittenBytes() / MEGABYTE / ownSeconds();
    }

    double p99Ratio() {
      return (double) during.p99() / without.p99();
    }
  }

  /** Client commit to visible, of the sampled inserts of one window. */
  private record Visibility(int samples, int seen, double p50, double p99, double max) {
    static Visibility of(Map<Long, Long> samples, VisibilityObserver observer) {
      double[] millis = observer.visibleMillis(samples);
      return new Visibility(
          samples.size(),
          millis.length,
          Bench.median(millis),
          Bench.percentile(millis, 99),
          Bench.percentile(millis, 100));
    }

    @Override
    public String toString() {
      return Bench.format(
          "samples=%d seen=%d p50_ms=%.0f p99_ms=%.0f max_ms=%.0f", samples, seen, p50, p99, max);
    }
  }

  /**
   * Measures how long rewrites wait, written and submitted, for the writer to take them into its
   * next commit (at most a commit interval): polls the writer every millisecond from its own
   * thread.
   */
  private static final class HandoffWatch {
    private static final long POLL_NANOS = 1_000_000;
    private final CdcTableWriter writer;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long waitedNanos;

    HandoffWatch(CdcTableWriter writer) {
      this.writer = writer;
      this.thread = new Thread(this::run, "bench-handoff-watch");
      thread.setDaemon(true);
      thread.start();
    }

    private void run() {
      long submittedSince = -1;
      long waited = 0;
      while (running) {
        long now = System.nanoTime();
        boolean submitted = writer.rewriteSubmitted();
        if (submitted && submittedSince < 0) {
          submittedSince = now;
        } else if (!submitted && submittedSince >= 0) {
          waited += now - submittedSince;
          waitedNanos = waited;
          submittedSince = -1;
        }
        LockSupport.parkNanos(POLL_NANOS);
      }
    }

    /** Total time rewrites spent submitted but not yet taken, as seen so far. */
    long waitedNanos() {
      return waitedNanos;
    }

    /** Stops watching; {@link #waitedNanos} is final afterwards. */
    void close() throws InterruptedException {
      running = false;
      thread.join();
    }
  }

  /** A step of a window: sleeping, or running the compaction. */
  @FunctionalInterface
  private interface WindowBody {
    void run() throws Exception;
  }

  private static Repeat measure(
      BenchEnvironment environment,
      JdbcCatalog catalog,
      Path warehouse,
      int number,
      double rate,
      Duration window,
      long rows,
      long firstNewId)
      throws Exception {
    long sampleEvery = Math.max(1, Math.round(rate * window.toSeconds() / SAMPLES_PER_WINDOW));
    try (Pipeline pipeline = environment.pipeline(PIPELINE, COMMIT_INTERVAL, catalog)) {
      pipeline.start();
      PipelineStats stats = pipeline.stats();
      long changesBefore = stats.changes();
      try (VisibilityObserver observer =
              new VisibilityObserver(warehouse, ITEMS, POLL_INTERVAL, firstNewId);
          PacedWorkload workload =
              PacedWorkload.start(environment, rate, CONNECTIONS, 0, rows, firstNewId)) {
        sleep(pipeline, workload, observer, WARM_UP);
        // The resumed pipeline streams: it has caught up with what the clients committed so far.
        Bench.awaitCommitted(
            pipeline,
            changesBefore + workload.committedChanges(),
            COMMIT_INTERVAL.plusSeconds(2),
            Duration.ofMinutes(2));
        WindowFigures without =
            window(
                environment,
                pipeline,
                workload,
                sampleEvery,
                () -> sleep(pipeline, workload, observer, window));

        Table table = catalog.loadTable(ITEMS);
        Map<String, DataFile> dataBefore = TableFiles.load(table).dataFiles();
        LakeTables.FileCounts before = LakeTables.files(table);
        Bench.info(
            "repeat %d: compacting %d data files and %d delete files (%d bytes) while %.0f"
                + " updates/s stream",
            number, before.data(), before.deletes(), before.bytes(), rate);
        RewriteDataFilesResult[] rewrite = new RewriteDataFilesResult[1];
        CdcTableWriter writer =
            environment
                .writers()
                .forTable(table.uuid())
                .orElseThrow(
                    () ->
                        new IllegalStateException(
                            "Cannot measure compaction through the pipeline: no writer of "
                                + ITEMS
                                + " is registered"));
        long[] handoffWaitNanos = new long[1];
        WindowFigures during =
            window(
                environment,
                pipeline,
                workload,
                sampleEvery,
                () -> {
                  HandoffWatch watch = new HandoffWatch(writer);
                  try {
                    rewrite[0] =
                        new TableMaintenance(catalog, environment.writers())
                            .rewriteDataFiles(
                                ITEMS, RewriteDataFilesOptions.defaults(), RewriteProgress.NONE);
                  } finally {
                    watch.close();
                  }
                  handoffWaitNanos[0] = watch.waitedNanos();
                });
        table = catalog.loadTable(ITEMS);
        LakeTables.FileCounts after = LakeTables.files(table);
        Map<String, DataFile> dataAfter = TableFiles.load(table).dataFiles();
        long inputRows = 0;
        int inputFiles = 0;
        for (Map.Entry<String, DataFile> file : dataBefore.entrySet()) {
          if (!dataAfter.containsKey(file.getKey())) {
            inputRows += file.getValue().recordCount();
            inputFiles++;
          }
        }

        workload.stop();
        workload.checkFailure();
        Bench.awaitCommitted(
            pipeline,
            changesBefore + workload.committedChanges(),
            COMMIT_INTERVAL.plusSeconds(2),
            Duration.ofMinutes(5));
        observer.awaitSeen(without.samples(), Duration.ofSeconds(10));
        observer.awaitSeen(during.samples(), Duration.ofSeconds(10));
        return new Repeat(
            number,
            rewrite[0],
            handoffWaitNanos[0],
            inputRows,
            inputFiles,
            before,
            after,
            without,
            during,
            Visibility.of(without.samples(), observer),
            Visibility.of(during.samples(), observer),
            workload.nextId());
      }
    }
  }

  /**
   * Measures the pipeline's freshness while {@code body} runs: from a reset of its figures until
   * the first commit that completes after {@code body} returned, so that the commit in progress
   * (for the compaction: the one carrying the rewrite) is counted.
   */
  private static WindowFigures window(
      BenchEnvironment environment,
      Pipeline pipeline,
      PacedWorkload workload,
      long sampleEvery,
      WindowBody body)
      throws Exception {
    PipelineStats stats = pipeline.stats();
    stats.resetFreshness();
    MachineLoad load = environment.measureLoad();
    PacedWorkload.Window window = workload.beginWindow(sampleEvery);
    body.run();
    workload.endWindow();
    long commits = stats.commits();
    Bench.await(
        pipeline,
        "a commit after the measured window",
        Duration.ofMinutes(1),
        () -> stats.commits() > commits);
    return new WindowFigures(
        window.seconds(),
        window.rate(),
        window.late(),
        stats.freshnessPercentile(50),
        stats.freshnessPercentile(99),
        stats.freshnessPercentile(100),
        window.samples(),
        load.summary());
  }

  /** Sleeps while checking the parts. */
  private static void sleep(
      Pipeline pipeline, PacedWorkload workload, VisibilityObserver observer, Duration duration)
      throws InterruptedException {
    long started = System.nanoTime();
    while (System.nanoTime() - started < duration.toNanos()) {
      Thread.sleep(50);
      Bench.checkRunning(pipeline);
      workload.checkFailure();
      observer.checkFailure();
    }
  }

  private static void report(Repeat repeat) {
    RewriteDataFilesResult rewrite = repeat.rewrite();
    Bench.result(
        "compaction-run repeat=%d seconds=%.2f rewritten_bytes=%d mb_per_s=%.1f input_rows=%d"
            + " rows_per_s=%.0f handoff_wait_s=%.2f mb_per_s_without_wait=%.1f data_files=%d->%d delete_files=%d->%d rewritten_files=%d"
            + " added_files=%d added_bytes=%d removed_delete_files=%d folded_deletes=%d"
            + " rows_changed_meanwhile=%d",
        repeat.number(),
        rewrite.durationMillis() / 1e3,
        rewrite.rewrittenBytes(),
        repeat.megabytesPerSecond(),
        repeat.inputRows(),
        repeat.rowsPerSecond(),
        Bench.seconds(repeat.handoffWaitNanos()),
        repeat.ownMegabytesPerSecond(),
        repeat.before().data(),
        repeat.after().data(),
        repeat.before().deletes(),
        repeat.after().deletes(),
        rewrite.rewrittenDataFiles(),
        rewrite.addedDataFiles(),
        rewrite.addedBytes(),
        rewrite.removedDeleteFiles(),
        rewrite.foldedDeletes(),
        rewrite.rowsChangedMeanwhile());
    if (repeat.inputFilesCounted() != rewrite.rewrittenDataFiles()) {
      Bench.info(
          "note: %d data files live before the rewrite were gone after it, the rewrite reports %d;"
              + " input_rows counts the former (the writer may have tidied small files meanwhile)",
          repeat.inputFilesCounted(), rewrite.rewrittenDataFiles());
    }
    WindowFigures without = repeat.without();
    WindowFigures during = repeat.during();
    Bench.result(
        "compaction-run-freshness repeat=%d without: p50_ms=%d p99_ms=%d max_ms=%d (%.1f s at %.0f/s,"
            + " %d late) during: p50_ms=%d p99_ms=%d max_ms=%d (%.1f s at %.0f/s, %d late)"
            + " p99_ratio=%.2f",
        repeat.number(),
        without.p50(),
        without.p99(),
        without.max(),
        without.seconds(),
        without.rate(),
        without.late(),
        during.p50(),
        during.p99(),
        during.max(),
        during.seconds(),
        during.rate(),
        during.late(),
        repeat.p99Ratio());
    Bench.result(
        "compaction-run-external repeat=%d without: %s during: %s (client commit -> row in a"
            + " snapshot seen by a reader polling every %d ms)",
        repeat.number(), repeat.visibleWithout(), repeat.visibleDuring(), POLL_INTERVAL.toMillis());
    Bench.result(
        "compaction-run-cpu repeat=%d without: %s; during: %s",
        repeat.number(), without.cpu(), during.cpu());
  }

  private static void summarize(
      List<Repeat> results, long rows, int updateCommits, int updatesPerCommit, double rate) {
    double[] megabytesPerSecond =
        results.stream().mapToDouble(Repeat::megabytesPerSecond).toArray();
    double[] rowsPerSecond = results.stream().mapToDouble(Repeat::rowsPerSecond).toArray();
    double[] ownMegabytesPerSecond =
        results.stream().mapToDouble(Repeat::ownMegabytesPerSecond).toArray();
    double[] p99Without = results.stream().mapToDouble(repeat -> repeat.without().p99()).toArray();
    double[] p99During = results.stream().mapToDouble(repeat -> repeat.during().p99()).toArray();
    double[] p99Ratio = results.stream().mapToDouble(Repeat::p99Ratio).toArray();
    Bench.result(
        "compaction rows=%d update_commits=%d updates_per_commit=%d repeats=%d mb_per_s=%.1f"
            + " rows_per_s=%.0f mb_per_s_without_wait=%.1f (runs: %s MB/s; without the wait for"
            + " the writer's commit: %s MB/s)",
        rows,
        updateCommits,
        updatesPerCommit,
        results.size(),
        Bench.median(megabytesPerSecond),
        Bench.median(rowsPerSecond),
        Bench.median(ownMegabytesPerSecond),
        joined(megabytesPerSecond),
        joined(ownMegabytesPerSecond));
    Bench.result(
        "compaction-freshness rate=%.0f/s commit_interval_ms=%d p99_without_ms=%.0f"
            + " p99_during_ms=%.0f p99_ratio=%.2f (medians over repeats; ratios: %s)",
        rate,
        COMMIT_INTERVAL.toMillis(),
        Bench.median(p99Without),
        Bench.median(p99During),
        Bench.median(p99Ratio),
        joined(p99Ratio));
  }

  private static String joined(double[] values) {
    return Arrays.stream(values)
        .mapToObj(value -> Bench.format("%.2f", value))
        .reduce((left, right) -> left + " " + right)
        .orElse("");
  }
}
