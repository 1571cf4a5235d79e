package io.floe.bench;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.ingest.Pipeline;
import io.floe.ingest.PipelineStats;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.Map;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * Freshness under a steady trickle: single-row transactions (an update of a random row, or an
 * insert) at a fixed rate from a few connections, each connection keeping its own schedule. After a
 * warm-up the pipeline's freshness figures are reset; after the measured interval the pipeline's
 * p50 and p99 (source commit to Iceberg commit) are reported with the commit interval at its
 * default of 1 s.
 *
 * <p>Cross-check from outside the pipeline: about 200 of the measured transactions are inserts
 * whose client-side commit time is noted; a {@link VisibilityObserver} with its own catalog
 * connection polls the table and notes when each of those rows first appears in a snapshot.
 *
 * <p>Arguments: {@code [seconds=60] [rate=1000] [warm-up-seconds=10] [connections=4]
 * [initial-rows=100000]}.
 */
public final class FreshnessBenchmark {
  static final long TARGET_P50_MILLIS = 1_000;
  static final long TARGET_P99_MILLIS = 3_000;
  private static final String PIPELINE = "freshness";
  private static final Duration COMMIT_INTERVAL = Duration.ofSeconds(1);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(10);
  private static final int SAMPLES = 200;
  private static final double INSERT_SHARE = 0.3;

  private FreshnessBenchmark() {}

  public static void main(String[] args) throws Exception {
    long seconds = Bench.argument(args, 0, 60);
    double rate = Bench.argument(args, 1, 1_000);
    long warmUpSeconds = Bench.argument(args, 2, 10);
    int connections = (int) Bench.argument(args, 3, 4);
    long initialRows = Bench.argument(args, 4, 100_000);
    try (BenchEnvironment environment = BenchEnvironment.start()) {
      try (Connection connection = environment.connect()) {
        ItemsTable.createFilled(connection, initialRows);
      }
      Path warehouse = environment.newWarehouse(PIPELINE);
      try (JdbcCatalog catalog =
              FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
          Pipeline pipeline = environment.pipeline(PIPELINE, COMMIT_INTERVAL, catalog)) {
        pipeline.start();
        Bench.awaitFullLoad(pipeline, initialRows);
        Bench.info("full load of %d rows done; pipeline is streaming", initialRows);
        run(
            environment,
            pipeline,
            warehouse,
            seconds,
            rate,
            warmUpSeconds,
            connections,
            initialRows);
      }
      environment.dropSlot(PIPELINE);
    }
  }

  private static void run(
      BenchEnvironment environment,
      Pipeline pipeline,
      Path warehouse,
      long seconds,
      double rate,
      long warmUpSeconds,
      int connections,
      long initialRows)
      throws Exception {
    PipelineStats stats = pipeline.stats();
    long sampleEvery = Math.max(1, Math.round(rate * seconds / SAMPLES));
    long changesBefore = stats.changes();
    try (VisibilityObserver observer =
            new VisibilityObserver(
                warehouse,
                TableIdentifier.of(BenchEnvironment.NAMESPACE, ItemsTable.NAME),
                POLL_INTERVAL,
                initialRows + 1);
        PacedWorkload workload =
            PacedWorkload.start(
                environment, rate, connections, INSERT_SHARE, initialRows, initialRows + 1)) {
      sleep(pipeline, workload, observer, Duration.ofSeconds(warmUpSeconds), null);
      stats.resetFreshness();
      PacedWorkload.Window window = workload.beginWindow(sampleEvery);
      MachineLoad load = environment.measureLoad();
      sleep(pipeline, workload, observer, Duration.ofSeconds(seconds), window);
      workload.endWindow();
      workload.stop();
      long measureEnded = System.nanoTime();
      String cpu = load.summary();
      workload.checkFailure();

      long target = changesBefore + workload.committedChanges();
      Bench.Applied caughtUp =
          Bench.awaitCommitted(
              pipeline, target, COMMIT_INTERVAL.plusSeconds(2), Duration.ofMinutes(5));
      long p50 = stats.freshnessPercentile(50);
      long p90 = stats.freshnessPercentile(90);
      long p99 = stats.freshnessPercentile(99);
      long max = stats.freshnessPercentile(100);

      // Give the observer time to see the last commit.
      Map<Long, Long> samples = window.samples();
      observer.awaitSeen(samples, Duration.ofSeconds(10));
      double[] visibleMillis = observer.visibleMillis(samples);

      boolean pass = p50 >= 0 && p50 <= TARGET_P50_MILLIS && p99 <= TARGET_P99_MILLIS;
      Bench.result(
          "freshness rate_target=%.0f/s rate_achieved=%.0f/s seconds=%.1f transactions=%d"
              + " connections=%d commit_interval_ms=%d p50_ms=%d p99_ms=%d target: p50<=%d"
              + " p99<=%d %s",
          rate,
          window.rate(),
          window.seconds(),
          window.transactions(),
          connections,
          COMMIT_INTERVAL.toMillis(),
          p50,
          p99,
          TARGET_P50_MILLIS,
          TARGET_P99_MILLIS,
          Bench.verdict(pass));
      Bench.result(
          "freshness-detail p90_ms=%d max_ms=%d late_transactions=%d catch_up_after_stop_s=%.2f",
          p90, max, window.late(), Bench.seconds(caughtUp.committedNanos() - measureEnded));
      Bench.result(
          "freshness-external samples=%d seen=%d commit_to_visible_p50_ms=%.0f p99_ms=%.0f"
              + " max_ms=%.0f (client commit -> row in a snapshot seen by a reader polling every"
              + " %d ms, %d polls)",
          samples.size(),
          visibleMillis.length,
          Bench.median(visibleMillis),
          Bench.percentile(visibleMillis, 99),
          Bench.percentile(visibleMillis, 100),
          POLL_INTERVAL.toMillis(),
          observer.polls());
      Bench.result("freshness-cpu %s", cpu);
    }
  }

  /** Sleeps while checking the parts; with a {@code window}, prints progress every 10 s. */
  private static void sleep(
      Pipeline pipeline,
      PacedWorkload workload,
      VisibilityObserver observer,
      Duration duration,
      PacedWorkload.Window window)
      throws InterruptedException {
    long started = System.nanoTime();
    long nextReport = started + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() - started < duration.toNanos()) {
      Thread.sleep(50);
      Bench.checkRunning(pipeline);
      workload.checkFailure();
      observer.checkFailure();
      if (window != null && System.nanoTime() >= nextReport) {
        nextReport += Duration.ofSeconds(10).toNanos();
        Bench.info(
            "freshness %3.0f s: %.0f transactions/s, pipeline freshness p50 %d ms p99 %d ms",
            window.seconds(),
            window.rate(),
            pipeline.stats().freshnessPercentile(50),
            pipeline.stats().freshnessPercentile(99));
      }
    }
  }
}
