package io.floe.bench;

import io.floe.core.catalog.FloeCatalog;
import io.floe.ingest.Pipeline;
import io.floe.ingest.PipelineStats;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
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
      try (JdbcCatalog catalog = FloeCatalog.open(warehouse);
          Pipeline pipeline =
              new Pipeline(environment.pipelineConfig(PIPELINE, COMMIT_INTERVAL), catalog)) {
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
    PacedWorkload workload =
        new PacedWorkload(
            rate, connections, new AtomicLong(initialRows + 1), initialRows, sampleEvery);
    long changesBefore = stats.changes();
    List<Connection> opened = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    try (VisibilityObserver observer =
        new VisibilityObserver(
            warehouse,
            TableIdentifier.of(BenchEnvironment.NAMESPACE, ItemsTable.NAME),
            POLL_INTERVAL,
            initialRows + 1)) {
      for (int i = 0; i < connections; i++) {
        opened.add(environment.connect());
      }
      long started = System.nanoTime();
      for (int i = 0; i < connections; i++) {
        Connection connection = opened.get(i);
        int index = i;
        Thread thread =
            new Thread(() -> workload.run(connection, index, started), "bench-client-" + i);
        thread.start();
        threads.add(thread);
      }
      sleep(pipeline, workload, observer, Duration.ofSeconds(warmUpSeconds), null);
      stats.resetFreshness();
      workload.measuring = true;
      MachineLoad load = environment.measureLoad();
      long measureStarted = System.nanoTime();
      sleep(pipeline, workload, observer, Duration.ofSeconds(seconds), measureStarted);
      workload.measuring = false;
      workload.running = false;
      for (Thread thread : threads) {
        thread.join();
      }
      long measureEnded = System.nanoTime();
      String cpu = load.summary();
      workload.checkFailure();
      long measured = workload.measuredTransactions.sum();
      double achievedRate = measured / Bench.seconds(measureEnded - measureStarted);

      long target = changesBefore + workload.committedChanges.sum();
      Bench.Applied caughtUp =
          Bench.awaitCommitted(
              pipeline, target, COMMIT_INTERVAL.plusSeconds(2), Duration.ofMinutes(5));
      long p50 = stats.freshnessPercentile(50);
      long p90 = stats.freshnessPercentile(90);
      long p99 = stats.freshnessPercentile(99);
      long max = stats.freshnessPercentile(100);

      // Give the observer time to see the last commit.
      Map<Long, Long> samples = workload.samples;
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (System.nanoTime() < deadline
          && samples.keySet().stream().anyMatch(id -> observer.firstSeen(id) == null)) {
        observer.checkFailure();
        Thread.sleep(POLL_INTERVAL.toMillis());
      }
      double[] visibleMillis =
          samples.entrySet().stream()
              .filter(sample -> observer.firstSeen(sample.getKey()) != null)
              .mapToDouble(
                  sample -> Bench.millis(observer.firstSeen(sample.getKey()) - sample.getValue()))
              .toArray();

      boolean pass = p50 >= 0 && p50 <= TARGET_P50_MILLIS && p99 <= TARGET_P99_MILLIS;
      Bench.result(
          "freshness rate_target=%.0f/s rate_achieved=%.0f/s seconds=%.1f transactions=%d"
              + " connections=%d commit_interval_ms=%d p50_ms=%d p99_ms=%d target: p50<=%d"
              + " p99<=%d %s",
          rate,
          achievedRate,
          Bench.seconds(measureEnded - measureStarted),
          measured,
          connections,
          COMMIT_INTERVAL.toMillis(),
          p50,
          p99,
          TARGET_P50_MILLIS,
          TARGET_P99_MILLIS,
          Bench.verdict(pass));
      Bench.result(
          "freshness-detail p90_ms=%d max_ms=%d late_transactions=%d catch_up_after_stop_s=%.2f",
          p90, max, workload.late.sum(), Bench.seconds(caughtUp.committedNanos() - measureEnded));
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
    } finally {
      workload.running = false;
      for (Thread thread : threads) {
        thread.join();
      }
      for (Connection connection : opened) {
        connection.close();
      }
    }
  }

  /** Sleeps while checking the parts; with {@code reportFrom}, prints progress every 10 s. */
  private static void sleep(
      Pipeline pipeline,
      PacedWorkload workload,
      VisibilityObserver observer,
      Duration duration,
      Long reportFrom)
      throws InterruptedException {
    long started = System.nanoTime();
    long nextReport = started + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() - started < duration.toNanos()) {
      Thread.sleep(50);
      Bench.checkRunning(pipeline);
      workload.checkFailure();
      observer.checkFailure();
      if (reportFrom != null && System.nanoTime() >= nextReport) {
        nextReport += Duration.ofSeconds(10).toNanos();
        double elapsed = Bench.seconds(System.nanoTime() - reportFrom);
        Bench.info(
            "freshness %3.0f s: %.0f transactions/s, pipeline freshness p50 %d ms p99 %d ms",
            elapsed,
            workload.measuredTransactions.sum() / elapsed,
            pipeline.stats().freshnessPercentile(50),
            pipeline.stats().freshnessPercentile(99));
      }
    }
  }

  /**
   * Single-row transactions at a fixed total rate: each connection runs its share on its own
   * schedule. A connection more than a second behind schedule drops the backlog (counted as late)
   * rather than bursting. While measuring, every {@code sampleEvery}-th transaction is an insert
   * whose id and commit time are recorded.
   */
  private static final class PacedWorkload {
    volatile boolean running = true;
    volatile boolean measuring;
    final LongAdder committedChanges = new LongAdder();
    final LongAdder measuredTransactions = new LongAdder();
    final LongAdder late = new LongAdder();
    final Map<Long, Long> samples = new ConcurrentHashMap<>();
    private final AtomicLong measuredSequence = new AtomicLong();
    private final long periodNanos;
    private final int connections;
    private final AtomicLong nextId;
    private final long initialRows;
    private final long sampleEvery;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    PacedWorkload(
        double rate, int connections, AtomicLong nextId, long initialRows, long sampleEvery) {
      this.periodNanos = Math.round(connections * 1e9 / rate);
      this.connections = connections;
      this.nextId = nextId;
      this.initialRows = initialRows;
      this.sampleEvery = sampleEvery;
    }

    void checkFailure() {
      Throwable error = failure.get();
      if (error != null) {
        throw new IllegalStateException("Cannot run workload: " + error, error);
      }
    }

    void run(Connection connection, int index, long started) {
      ThreadLocalRandom random = ThreadLocalRandom.current();
      try (PreparedStatement update =
              connection.prepareStatement("UPDATE items SET qty = qty + 1 WHERE id = ?");
          PreparedStatement insert =
              connection.prepareStatement(
                  "INSERT INTO items (id, name, price, qty, created, active)"
                      + " VALUES (?, ?, 1.00, ?, now(), true)")) {
        long next = started + index * periodNanos / connections;
        while (running) {
          long wait;
          while ((wait = next - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
          }
          if (!running) {
            break;
          }
          boolean measured = measuring;
          boolean sample = measured && measuredSequence.incrementAndGet() % sampleEvery == 0;
          long id = -1;
          int changed;
          if (sample || random.nextDouble() < INSERT_SHARE) {
            id = nextId.getAndIncrement();
            insert.setLong(1, id);
            insert.setString(2, "item " + id);
            insert.setInt(3, random.nextInt(100));
            changed = insert.executeUpdate();
          } else {
            update.setLong(1, random.nextLong(1, initialRows + 1));
            changed = update.executeUpdate();
          }
          long committed = System.nanoTime();
          if (sample) {
            samples.put(id, committed);
          }
          committedChanges.add(changed);
          if (measured) {
            measuredTransactions.increment();
          }
          next += periodNanos;
          if (committed - next > 1_000_000_000L) {
            late.add((committed - next) / periodNanos);
            next = committed;
          }
        }
      } catch (SQLException | RuntimeException e) {
        failure.compareAndSet(null, e);
        running = false;
      }
    }
  }
}
