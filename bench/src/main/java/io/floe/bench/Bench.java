package io.floe.bench;

import io.floe.core.catalog.CatalogDatabase;
import io.floe.core.config.MaintenanceConfig;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.ingest.Pipeline;
import io.floe.maintenance.MaintenanceHistory;
import io.floe.maintenance.WarehouseMaintenance;
import io.floe.sql.Procedures;
import io.floe.sql.QueryEngine;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.apache.iceberg.catalog.Catalog;

/** Small helpers shared by the benchmarks: arguments, waiting on a pipeline, statistics, output. */
final class Bench {
  private static final long POLL_NANOS = Duration.ofMillis(2).toNanos();

  private Bench() {}

  /** The positional argument at {@code index} as a number (underscores allowed), or a default. */
  static long argument(String[] args, int index, long defaultValue) {
    if (args.length <= index) {
      return defaultValue;
    }
    try {
      return Long.parseLong(args[index].replace("_", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "Cannot read argument " + (index + 1) + " '" + args[index] + "': expected a number", e);
    }
  }

  /** Waits until the pipeline has committed a full load of {@code rows} rows and is streaming. */
  static void awaitFullLoad(Pipeline pipeline, long rows) throws InterruptedException {
    await(
        pipeline,
        "the full load",
        Duration.ofMinutes(10),
        () ->
            pipeline.state() == Pipeline.State.STREAMING && pipeline.stats().loadedRows() >= rows);
  }

  /**
   * Polls {@code condition} every 2 ms until it holds; fails if the pipeline failed or the timeout
   * passed. Returns {@link System#nanoTime()} when the condition was first seen to hold.
   */
  static long await(Pipeline pipeline, String what, Duration timeout, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (condition.getAsBoolean()) {
        return System.nanoTime();
      }
      checkRunning(pipeline);
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "Cannot finish benchmark: timed out after "
                + timeout.toSeconds()
                + " s waiting for "
                + what
                + " (pipeline "
                + pipeline.state()
                + ", loaded "
                + pipeline.stats().loadedRows()
                + ", changes "
                + pipeline.stats().changes()
                + ", commits "
                + pipeline.stats().commits()
                + ")");
      }
      LockSupport.parkNanos(POLL_NANOS);
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
    }
  }

  static void checkRunning(Pipeline pipeline) {
    if (pipeline.state() == Pipeline.State.FAILED) {
      throw new IllegalStateException(
          "Cannot finish benchmark: pipeline failed: " + pipeline.failure(), pipeline.failure());
    }
  }

  /** When the pipeline applied a given number of changes, and when it committed them to Iceberg. */
  record Applied(long appliedNanos, long committedNanos) {}

  /**
   * Waits until the pipeline has applied {@code changes} changes in total and committed them to
   * Iceberg.
   *
   * <p>The pipeline applies and commits on one thread: the commit holding a change is the first one
   * to complete after the change was applied. If no commit completed between the last poll that saw
   * fewer changes and the poll that saw them all, it is a later commit. Otherwise (or when the
   * first poll already sees them all) it is unclear whether the commit just completed holds them;
   * then a later commit is awaited for at most {@code grace} (longer than the commit interval plus
   * one heartbeat, after which a pipeline with applied changes always commits), and if none comes,
   * the changes were committed by the time they were seen applied.
   */
  static Applied awaitCommitted(Pipeline pipeline, long changes, Duration grace, Duration timeout)
      throws InterruptedException {
    long[] previousCommits = {-1};
    long[] commitsWhenApplied = new long[1];
    boolean[] unclear = new boolean[1];
    long applied =
        await(
            pipeline,
            changes + " changes applied",
            timeout,
            () -> {
              // Commits first: a commit that ends between the two reads then counts as later.
              long commits = pipeline.stats().commits();
              if (pipeline.stats().changes() >= changes) {
                commitsWhenApplied[0] = commits;
                unclear[0] = previousCommits[0] != commits;
                return true;
              }
              previousCommits[0] = commits;
              return false;
            });
    BooleanSupplier committed = () -> pipeline.stats().commits() > commitsWhenApplied[0];
    if (!unclear[0]) {
      return new Applied(
          applied, await(pipeline, "the commit of change " + changes, timeout, committed));
    }
    long deadline = applied + grace.toNanos();
    long done =
        await(
            pipeline,
            "the commit of change " + changes,
            timeout,
            () -> committed.getAsBoolean() || System.nanoTime() > deadline);
    return new Applied(applied, committed.getAsBoolean() && done <= deadline ? done : applied);
  }

  /**
   * The query engine of {@code floe sql} with its default settings, its procedures run with the
   * default maintenance policy (committing directly: the benchmarks call none while a pipeline
   * streams).
   */
  static QueryEngine queryEngine(Catalog catalog, Path warehouse) {
    return new QueryEngine(
        catalog,
        warehouse,
        new Procedures(
            new WarehouseMaintenance(
                catalog,
                MaintenanceConfig.defaults(),
                MaintenanceHistory.of(CatalogDatabase.embedded(warehouse)),
                new TableWriterRegistry()),
            Clock.systemUTC()));
  }

  /** Row count and sum of qty of an Iceberg table, read through {@code floe sql}. */
  static ItemsTable.Checksum lakeChecksum(QueryEngine engine, String table) {
    List<Object> row = engine.queryAll(ItemsTable.CHECKSUM_SQL + table).get(0);
    return new ItemsTable.Checksum(
        ((Number) row.get(0)).longValue(),
        row.get(1) == null ? 0 : ((Number) row.get(1)).longValue());
  }

  static double median(double[] values) {
    return percentile(values, 50);
  }

  /** Nearest-rank percentile (0-100) of the values; NaN if there are none. */
  static double percentile(double[] values, double percentile) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(percentile / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  static double seconds(long nanos) {
    return nanos / 1e9;
  }

  static double millis(long nanos) {
    return nanos / 1e6;
  }

  static String format(String pattern, Object... values) {
    return String.format(Locale.ROOT, pattern, values);
  }

  static String verdict(boolean pass) {
    return pass ? "PASS" : "FAIL";
  }

  /**
   * Prints a line of the final block; these lines go to standard output, logs to standard error.
   */
  static void result(String pattern, Object... values) {
    System.out.println("RESULT " + format(pattern, values));
  }

  static void info(String pattern, Object... values) {
    System.out.println(format(pattern, values));
  }
}
