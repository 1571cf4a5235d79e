package io.floe.bench;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.ingest.Pipeline;
import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * Streaming throughput of a pipeline that has finished its full load.
 *
 * <p>(a) One large transaction: a single source transaction inserts R rows; measured from its
 * commit until the pipeline has applied all R changes and committed them to Iceberg. Repeated; the
 * figure is the median.
 *
 * <p>(b) Sustained mixed load: C connections run transactions as fast as they can for S seconds,
 * each one update of a random row's qty, one insert, and in one of ten a delete of a random row.
 * Source rate counts the rows changed by committed transactions; applied rate counts the changes
 * the pipeline applied over the same interval; the final lag is how long after the workload stopped
 * the pipeline took to apply everything the source had committed. Floe keeps up if the applied rate
 * is at least 95% of the source rate and the final lag at most 5 s.
 *
 * <p>Arguments: {@code [rows=200000] [seconds=60] [connections=4] [initial-rows=100000]
 * [repeats=3]}.
 */
public final class StreamingBenchmark {
  static final double KEEP_UP_RATIO = 0.95;
  static final double MAX_CATCH_UP_SECONDS = 5;
  private static final String PIPELINE = "streaming";
  private static final Duration COMMIT_INTERVAL = Duration.ofSeconds(1);
  private static final Duration GRACE = COMMIT_INTERVAL.plusSeconds(2);
  private static final String TABLE = BenchEnvironment.NAMESPACE + "." + ItemsTable.NAME;

  private StreamingBenchmark() {}

  public static void main(String[] args) throws Exception {
    long rows = Bench.argument(args, 0, 200_000);
    long seconds = Bench.argument(args, 1, 60);
    int connections = (int) Bench.argument(args, 2, 4);
    long initialRows = Bench.argument(args, 3, 100_000);
    int repeats = (int) Bench.argument(args, 4, 3);
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
        AtomicLong nextId = new AtomicLong(initialRows + 1);

        LargeTransaction large = largeTransaction(environment, pipeline, nextId, rows, repeats);
        Sustained sustained =
            sustained(environment, pipeline, nextId, Duration.ofSeconds(seconds), connections);

        ItemsTable.Checksum source;
        try (Connection connection = environment.connect()) {
          source = ItemsTable.checksum(connection);
        }
        ItemsTable.Checksum lake = Bench.lakeChecksum(Bench.queryEngine(catalog, warehouse), TABLE);

        Bench.result(
            "streaming-large-transaction rows=%d repeats=%d seconds=%.2f rows_per_s=%.0f"
                + " (runs: %s; source insert took %.2f s)",
            rows,
            repeats,
            large.medianSeconds,
            rows / large.medianSeconds,
            large.runs,
            large.medianInsertSeconds);
        Bench.result("streaming-large-transaction-cpu %s", large.cpu);
        double ratio = sustained.appliedPerSecond / sustained.sourcePerSecond;
        boolean keepsUp =
            ratio >= KEEP_UP_RATIO && sustained.catchUpSeconds <= MAX_CATCH_UP_SECONDS;
        Bench.result(
            "streaming-sustained connections=%d seconds=%.1f transactions=%d"
                + " source_changes_per_s=%.0f applied_changes_per_s=%.0f applied/source=%.3f"
                + " catch_up_s=%.2f committed_to_iceberg_s=%.2f target: ratio>=%.2f and"
                + " catch_up<=%.0fs %s",
            connections,
            sustained.seconds,
            sustained.transactions,
            sustained.sourcePerSecond,
            sustained.appliedPerSecond,
            ratio,
            sustained.catchUpSeconds,
            sustained.committedSeconds,
            KEEP_UP_RATIO,
            MAX_CATCH_UP_SECONDS,
            Bench.verdict(keepsUp));
        Bench.result(
            "streaming-sustained-detail source_changes=%d applied_changes=%d retried_deadlocks=%d"
                + " max_lag_changes=%d lag_at_stop_changes=%d catch_up_changes_per_s=%.0f",
            sustained.sourceChanges,
            sustained.appliedChanges,
            sustained.deadlocks,
            sustained.maxLagChanges,
            sustained.sourceChanges - sustained.appliedChanges,
            (sustained.sourceChanges - sustained.appliedChanges) / sustained.catchUpSeconds);
        Bench.result(
            "streaming-sustained-cpu %s (of jvm_cores, the clients used %.2f)",
            sustained.cpu, sustained.clientCores);
        Bench.result(
            "streaming-verify %s: source %s lake %s %s",
            TABLE, source, lake, Bench.verdict(source.equals(lake)));
      }
      environment.dropSlot(PIPELINE);
    }
  }

  private record LargeTransaction(
      double medianSeconds, double medianInsertSeconds, String runs, String cpu) {}

  private static LargeTransaction largeTransaction(
      BenchEnvironment environment, Pipeline pipeline, AtomicLong nextId, long rows, int repeats)
      throws Exception {
    double[] seconds = new double[repeats];
    double[] insertSeconds = new double[repeats];
    List<String> runs = new ArrayList<>();
    MachineLoad load = environment.measureLoad();
    try (Connection connection = environment.connect()) {
      connection.setAutoCommit(false);
      for (int run = 0; run < repeats; run++) {
        long target = pipeline.stats().changes() + rows;
        long first = nextId.getAndAdd(rows);
        long insertStarted = System.nanoTime();
        ItemsTable.fill(connection, first, first + rows - 1);
        long commitStarted = System.nanoTime();
        connection.commit();
        long committed = System.nanoTime();
        long done =
            Bench.awaitCommitted(pipeline, target, GRACE, Duration.ofSeconds(60 + rows / 1_000))
                .committedNanos();
        seconds[run] = Bench.seconds(done - committed);
        insertSeconds[run] = Bench.seconds(committed - insertStarted);
        runs.add(Bench.format("%.2f s", seconds[run]));
        Bench.info(
            "large transaction %d: %d rows inserted in %.2f s (commit %.3f s); applied and"
                + " committed to Iceberg %.2f s after the source commit (%.0f rows/s)",
            run + 1,
            rows,
            insertSeconds[run],
            Bench.seconds(committed - commitStarted),
            seconds[run],
            rows / seconds[run]);
      }
    }
    return new LargeTransaction(
        Bench.median(seconds),
        Bench.median(insertSeconds),
        String.join(", ", runs),
        load.summary());
  }

  private record Sustained(
      double seconds,
      long transactions,
      long sourceChanges,
      long appliedChanges,
      double sourcePerSecond,
      double appliedPerSecond,
      double catchUpSeconds,
      double committedSeconds,
      long deadlocks,
      long maxLagChanges,
      double clientCores,
      String cpu) {}

  private static Sustained sustained(
      BenchEnvironment environment,
      Pipeline pipeline,
      AtomicLong nextId,
      Duration duration,
      int connections)
      throws Exception {
    MixedWorkload workload = new MixedWorkload(nextId);
    List<Connection> opened = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    try {
      for (int i = 0; i < connections; i++) {
        opened.add(environment.connect());
      }
      long appliedBefore = pipeline.stats().changes();
      MachineLoad load = environment.measureLoad();
      long started = System.nanoTime();
      for (int i = 0; i < connections; i++) {
        Connection connection = opened.get(i);
        Thread thread = new Thread(() -> workload.run(connection), "bench-client-" + i);
        thread.start();
        threads.add(thread);
      }
      long maxLag = 0;
      long nextReport = started + Duration.ofSeconds(10).toNanos();
      while (System.nanoTime() - started < duration.toNanos()) {
        Thread.sleep(100);
        Bench.checkRunning(pipeline);
        workload.checkFailure();
        long lag = workload.committedChanges.sum() - (pipeline.stats().changes() - appliedBefore);
        maxLag = Math.max(maxLag, lag);
        if (System.nanoTime() >= nextReport) {
          nextReport += Duration.ofSeconds(10).toNanos();
          Bench.info(
              "sustained %3.0f s: source committed %d changes, pipeline applied %d (lag %d)",
              Bench.seconds(System.nanoTime() - started),
              workload.committedChanges.sum(),
              pipeline.stats().changes() - appliedBefore,
              lag);
        }
      }
      workload.running.set(false);
      for (Thread thread : threads) {
        thread.join();
      }
      long stopped = System.nanoTime();
      long applied = pipeline.stats().changes() - appliedBefore;
      String cpu = load.summary();
      workload.checkFailure();
      long sourceChanges = workload.committedChanges.sum();
      double seconds = Bench.seconds(stopped - started);
      long target = appliedBefore + sourceChanges;
      Bench.Applied caughtUp = Bench.awaitCommitted(pipeline, target, GRACE, Duration.ofMinutes(5));
      return new Sustained(
          seconds,
          workload.transactions.sum(),
          sourceChanges,
          applied,
          sourceChanges / seconds,
          applied / seconds,
          Bench.seconds(caughtUp.appliedNanos() - stopped),
          Bench.seconds(caughtUp.committedNanos() - stopped),
          workload.deadlocks.sum(),
          maxLag,
          Bench.seconds(workload.cpuNanos.sum()) / seconds,
          cpu);
    } finally {
      workload.running.set(false);
      for (Thread thread : threads) {
        thread.join();
      }
      for (Connection connection : opened) {
        connection.close();
      }
    }
  }

  /**
   * pgbench-style transactions: update a random row's qty, insert a row, and in one of ten
   * transactions delete a random row. Counts the rows changed by committed transactions.
   */
  private static final class MixedWorkload {
    final AtomicBoolean running = new AtomicBoolean(true);
    final LongAdder committedChanges = new LongAdder();
    final LongAdder transactions = new LongAdder();
    final LongAdder deadlocks = new LongAdder();
    final LongAdder cpuNanos = new LongAdder();
    private final AtomicLong nextId;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    MixedWorkload(AtomicLong nextId) {
      this.nextId = nextId;
    }

    void checkFailure() {
      Throwable error = failure.get();
      if (error != null) {
        throw new IllegalStateException("Cannot run workload: " + error, error);
      }
    }

    void run(Connection connection) {
      ThreadLocalRandom random = ThreadLocalRandom.current();
      try (PreparedStatement update =
              connection.prepareStatement("UPDATE items SET qty = qty + 1 WHERE id = ?");
          PreparedStatement insert =
              connection.prepareStatement(
                  "INSERT INTO items (id, name, price, qty, created, active)"
                      + " VALUES (?, ?, ?, ?, now(), true)");
          PreparedStatement delete =
              connection.prepareStatement("DELETE FROM items WHERE id = ?")) {
        connection.setAutoCommit(false);
        while (running.get()) {
          try {
            int changed = 0;
            update.setLong(1, random.nextLong(1, nextId.get()));
            changed += update.executeUpdate();
            long id = nextId.getAndIncrement();
            insert.setLong(1, id);
            insert.setString(2, "item " + id);
            insert.setBigDecimal(3, BigDecimal.valueOf(random.nextInt(100_000), 2));
            insert.setInt(4, random.nextInt(100));
            changed += insert.executeUpdate();
            if (random.nextInt(10) == 0) {
              delete.setLong(1, random.nextLong(1, nextId.get()));
              changed += delete.executeUpdate();
            }
            connection.commit();
            committedChanges.add(changed);
            transactions.increment();
          } catch (SQLException e) {
            connection.rollback();
            // 40P01 deadlock_detected: two transactions locked the same two rows in opposite order.
            if (!"40P01".equals(e.getSQLState())) {
              throw e;
            }
            deadlocks.increment();
          }
        }
      } catch (SQLException | RuntimeException e) {
        failure.compareAndSet(null, e);
        running.set(false);
      } finally {
        cpuNanos.add(ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime());
      }
    }
  }
}
