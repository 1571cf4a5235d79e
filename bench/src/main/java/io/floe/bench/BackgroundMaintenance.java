package io.floe.bench;

import io.floe.core.catalog.CatalogDatabase;
import io.floe.core.config.MaintenanceConfig;
import io.floe.core.config.MaintenancePolicy;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.maintenance.MaintenanceHistory;
import io.floe.maintenance.MaintenanceRun;
import io.floe.maintenance.MaintenanceScheduler;
import io.floe.maintenance.WarehouseMaintenance;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * Floe's {@link MaintenanceScheduler} with the default maintenance configuration ({@link
 * MaintenanceConfig#defaults()}), running in the benchmark's process on the pipeline's catalog
 * while the pipeline streams: what {@code floe run} does beside its pipelines.
 *
 * <p>{@value #INTERVAL_PROPERTY} sets the interval in seconds; by default it is the default
 * configuration's. The first pass comes one interval after the start.
 */
final class BackgroundMaintenance implements AutoCloseable {
  static final String INTERVAL_PROPERTY = "floe.bench.maintenanceIntervalSeconds";

  private final MaintenanceConfig config;
  private final MaintenanceScheduler scheduler;

  private BackgroundMaintenance(
      JdbcCatalog catalog, Path warehouse, MaintenanceConfig config, TableWriterRegistry writers) {
    this.config = config;
    this.scheduler =
        new MaintenanceScheduler(
            new WarehouseMaintenance(
                catalog,
                config,
                MaintenanceHistory.of(CatalogDatabase.embedded(warehouse)),
                writers));
  }

  /**
   * Starts the scheduler on every table of the catalog; compactions of the tables {@code writers}
   * stream into go through them.
   */
  static BackgroundMaintenance start(
      JdbcCatalog catalog, Path warehouse, TableWriterRegistry writers) {
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
    BackgroundMaintenance maintenance =
        new BackgroundMaintenance(
            catalog,
            warehouse,
            new MaintenanceConfig(
                true,
                interval,
                defaults.maxConcurrentTables(),
                defaults.maxIoRate(),
                defaults.policyValues(),
                defaults.tables()),
            writers);
    maintenance.scheduler.start();
    return maintenance;
  }

  /** The runs so far, oldest first. */
  List<MaintenanceRun> history() {
    return scheduler.history();
  }

  /** What runs and how often, for the results. */
  String describe() {
    MaintenancePolicy policy = config.defaultPolicy();
    return Bench.format(
        "interval_s=%d (MaintenanceScheduler, default policy: compact %s to %d MiB files at %d"
            + " small files or %.0f%% deleted rows, expire older than %s, retain last %d,"
            + " rewrite manifests above %d, I/O limit %d bytes/s)",
        config.interval().toSeconds(),
        policy.compact() ? "on" : "off",
        policy.targetFileSize() >> 20,
        policy.compactMinInputFiles(),
        policy.compactDeleteRatio() * 100,
        policy.expireOlderThan(),
        policy.retainLast(),
        policy.rewriteManifestsAbove(),
        config.maxIoRate());
  }

  /** Stops, waiting for a pass in progress. */
  @Override
  public void close() {
    scheduler.close();
  }
}
