package io.floe.bench;

import static java.util.Objects.requireNonNull;

import io.floe.core.config.MaintenanceConfig;
import io.floe.core.config.MaintenancePolicy;
import io.floe.maintenance.ExpirePolicy;
import io.floe.maintenance.ExpireResult;
import io.floe.maintenance.MaintenanceRun;
import io.floe.maintenance.MaintenanceScheduler;
import io.floe.maintenance.RewriteDataFilesOptions;
import io.floe.maintenance.RewriteDataFilesResult;
import io.floe.maintenance.RewriteProgress;
import io.floe.maintenance.TableMaintenance;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * Table maintenance running in the benchmark's process, on the pipeline's catalog, while the
 * pipeline streams: what {@code floe run} does beside its pipelines.
 *
 * <p>System property {@value #MODE_PROPERTY} chooses it:
 *
 * <ul>
 *   <li>{@code scheduler} (the default): Floe's {@link MaintenanceScheduler} with the default
 *       maintenance configuration ({@link MaintenanceConfig#defaults()}), on every table of the
 *       catalog.
 *   <li>{@code rewrite-data-files}: instead of the scheduler, {@link
 *       TableMaintenance#rewriteDataFiles} with {@link RewriteDataFilesOptions#defaults()}, then
 *       {@link TableMaintenance#expireSnapshots} with the default policy's age and retained count,
 *       on one table every interval. Until the scheduler compacts data files, this is the way to
 *       measure compaction under the default interval.
 * </ul>
 *
 * <p>{@value #INTERVAL_PROPERTY} sets the interval in seconds in both modes; by default it is the
 * default configuration's interval. The first run comes one interval after the start.
 */
abstract class BackgroundMaintenance implements AutoCloseable {
  static final String MODE_PROPERTY = "floe.bench.maintenance";
  static final String INTERVAL_PROPERTY = "floe.bench.maintenanceIntervalSeconds";
  static final String SCHEDULER = "scheduler";
  static final String REWRITE_DATA_FILES = "rewrite-data-files";

  /** One maintenance operation on one table. */
  record Run(
      TableIdentifier table,
      String operation,
      Instant startedAt,
      long durationMillis,
      String details,
      String error) {
    Run {
      requireNonNull(table, "table is null");
      requireNonNull(operation, "operation is null");
      requireNonNull(startedAt, "startedAt is null");
      requireNonNull(details, "details is null");
    }

    boolean failed() {
      return error != null;
    }

    @Override
    public String toString() {
      return startedAt
          + " "
          + table
          + " "
          + operation
          + " "
          + durationMillis
          + " ms: "
          + (failed() ? "FAILED " + error : details);
    }
  }

  /**
   * Starts the maintenance the system properties choose.
   *
   * @param table the table {@code rewrite-data-files} maintains
   */
  static BackgroundMaintenance start(JdbcCatalog catalog, TableIdentifier table) {
    MaintenanceConfig defaults = MaintenanceConfig.defaults();
    Duration interval = defaults.interval();
    String seconds = System.getProperty(INTERVAL_PROPERTY);
    if (seconds != null) {
      try {
        interval = Duration.ofSeconds(Long.parseLong(seconds.trim()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "Cannot read -D" + INTERVAL_PROPERTY + "=" + seconds + ": expected whole seconds", e);
      }
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException(
            "Cannot run maintenance every " + seconds + " s: use 1 or more");
      }
    }
    String mode = System.getProperty(MODE_PROPERTY, SCHEDULER).trim().toLowerCase(Locale.ROOT);
    BackgroundMaintenance maintenance =
        switch (mode) {
          case SCHEDULER ->
              new Scheduled(
                  catalog,
                  new MaintenanceConfig(
                      true, interval, defaults.defaultPolicy(), defaults.tables()));
          case REWRITE_DATA_FILES ->
              new IntervalRewrite(catalog, table, interval, defaults.defaultPolicy());
          default ->
              throw new IllegalArgumentException(
                  "Cannot start maintenance: -D"
                      + MODE_PROPERTY
                      + "="
                      + mode
                      + " is unknown; use "
                      + SCHEDULER
                      + " or "
                      + REWRITE_DATA_FILES);
        };
    maintenance.startRunning();
    return maintenance;
  }

  abstract void startRunning();

  /** The runs so far, oldest first. */
  abstract List<Run> history();

  /** What runs and how often, for the results. */
  abstract String describe();

  /** Stops, waiting for a run in progress. */
  @Override
  public abstract void close();

  /** Floe's scheduler with the default policy. */
  private static final class Scheduled extends BackgroundMaintenance {
    private final MaintenanceScheduler scheduler;
    private final MaintenanceConfig config;

    Scheduled(JdbcCatalog catalog, MaintenanceConfig config) {
      this.config = config;
      this.scheduler = new MaintenanceScheduler(catalog, config, Clock.systemUTC());
    }

    @Override
    void startRunning() {
      scheduler.start();
    }

    @Override
    List<Run> history() {
      List<Run> runs = new ArrayList<>();
      for (MaintenanceRun run : scheduler.history()) {
        runs.add(
            new Run(
                run.table(),
                run.operation().name(),
                run.startedAt(),
                run.durationMillis(),
                run.details(),
                run.error()));
      }
      return runs;
    }

    @Override
    String describe() {
      MaintenancePolicy policy = config.defaultPolicy();
      return Bench.format(
          "mode=%s interval_s=%d (MaintenanceScheduler, default policy: expire older than %s,"
              + " retain last %d, rewrite manifests above %d)",
          SCHEDULER,
          config.interval().toSeconds(),
          policy.expireOlderThan(),
          policy.retainLast(),
          policy.rewriteManifestsAbove());
    }

    @Override
    public void close() {
      scheduler.close();
    }
  }

  /** Compaction with default options, then snapshot expiry, on one table every interval. */
  private static final class IntervalRewrite extends BackgroundMaintenance {
    private final TableMaintenance maintenance;
    private final TableIdentifier table;
    private final Duration interval;
    private final MaintenancePolicy policy;
    private final ScheduledExecutorService executor;
    private final List<Run> history = new ArrayList<>();
    private ScheduledFuture<?> schedule;

    IntervalRewrite(
        JdbcCatalog catalog, TableIdentifier table, Duration interval, MaintenancePolicy policy) {
      this.maintenance = new TableMaintenance(catalog);
      this.table = table;
      this.interval = interval;
      this.policy = policy;
      this.executor =
          Executors.newSingleThreadScheduledExecutor(
              runnable -> {
                Thread thread = new Thread(runnable, "bench-maintenance");
                thread.setDaemon(true);
                return thread;
              });
    }

    @Override
    synchronized void startRunning() {
      schedule =
          executor.scheduleWithFixedDelay(
              this::pass, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void pass() {
      run(
          "REWRITE_DATA_FILES",
          () -> {
            RewriteDataFilesResult result =
                maintenance.rewriteDataFiles(
                    table, RewriteDataFilesOptions.defaults(), RewriteProgress.NONE);
            return Bench.format(
                "rewrote %d data files (%d bytes) into %d (%d bytes), dropped %d delete files,"
                    + " folded %d deletes, %d rows changed meanwhile",
                result.rewrittenDataFiles(),
                result.rewrittenBytes(),
                result.addedDataFiles(),
                result.addedBytes(),
                result.removedDeleteFiles(),
                result.foldedDeletes(),
                result.rowsChangedMeanwhile());
          });
      run(
          "EXPIRE_SNAPSHOTS",
          () -> {
            ExpireResult result =
                maintenance.expireSnapshots(
                    table,
                    new ExpirePolicy(
                        Instant.now().minus(policy.expireOlderThan()),
                        policy.retainLast(),
                        ExpirePolicy.Milestones.valueOf(policy.milestones().name()),
                        false));
            return Bench.format(
                "expired %d snapshots, deleted %d data files, %d delete files, %d bytes",
                result.expiredSnapshotIds().size(),
                result.deletedDataFiles(),
                result.deletedDeleteFiles(),
                result.deletedBytes());
          });
    }

    private void run(String operation, Supplier<String> work) {
      Instant startedAt = Instant.now();
      long started = System.nanoTime();
      String details = "";
      String error = null;
      try {
        details = work.get();
      } catch (RuntimeException e) {
        // Recorded and reported; the next interval runs again, as the scheduler does.
        error = e.getMessage() == null ? e.getClass().getName() : e.getMessage();
      }
      Run run =
          new Run(
              table,
              operation,
              startedAt,
              (System.nanoTime() - started) / 1_000_000,
              details,
              error);
      synchronized (history) {
        history.add(run);
      }
    }

    @Override
    List<Run> history() {
      synchronized (history) {
        return List.copyOf(history);
      }
    }

    @Override
    String describe() {
      return Bench.format(
          "mode=%s interval_s=%d (TableMaintenance.rewriteDataFiles with default options, then"
              + " expireSnapshots older than %s retaining %d, on %s; not the scheduler)",
          REWRITE_DATA_FILES,
          interval.toSeconds(),
          policy.expireOlderThan(),
          policy.retainLast(),
          table);
    }

    @Override
    public void close() {
      synchronized (this) {
        if (schedule != null) {
          schedule.cancel(false);
        }
      }
      executor.shutdown();
      try {
        while (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
          Bench.info("waiting for the maintenance run in progress to finish");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
