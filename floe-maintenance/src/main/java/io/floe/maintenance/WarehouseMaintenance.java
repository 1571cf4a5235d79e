package io.floe.maintenance;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.SchemaHistory;
import io.floe.core.config.EffectiveMaintenancePolicy;
import io.floe.core.config.MaintenanceConfig;
import io.floe.core.config.MaintenancePolicy;
import io.floe.core.writer.TableWriterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.UpdateProperties;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maintenance of the tables of one warehouse, as users run it ({@code floe maintain}, the HTTP API)
 * and as {@link MaintenanceScheduler} runs it: {@link TableMaintenance}'s operations, each measured
 * before and after ({@link TableFigures}) and recorded in the warehouse's {@link
 * MaintenanceHistory}, with the policies of the configuration and of table properties. Dry runs
 * change nothing and are not recorded. One {@link IoThrottle} of {@link
 * MaintenanceConfig#maxIoRate()} bounds every compaction it runs. Safe for use by several threads.
 */
public final class WarehouseMaintenance {
  private static final Logger LOG = LoggerFactory.getLogger(WarehouseMaintenance.class);

  /** What {@link #execute} did: the run, and the result or the failure. */
  record Outcome<T>(MaintenanceRun run, T result, RuntimeException failure) {}

  private final Catalog catalog;
  private final MaintenanceConfig config;
  private final MaintenanceHistory history;
  private final Clock clock;
  private final TableMaintenance maintenance;
  private final IoThrottle throttle;

  /**
   * Maintenance of the warehouse's tables; compactions of the tables {@code writers} stream into go
   * through their writers.
   */
  public WarehouseMaintenance(
      Catalog catalog,
      MaintenanceConfig config,
      MaintenanceHistory history,
      TableWriterRegistry writers) {
    this(catalog, config, history, writers, Clock.systemUTC());
  }

  /** With a clock for the runs' start times and for the orphan files' age window. */
  public WarehouseMaintenance(
      Catalog catalog,
      MaintenanceConfig config,
      MaintenanceHistory history,
      TableWriterRegistry writers,
      Clock clock) {
    this.catalog = requireNonNull(catalog, "catalog is null");
    this.config = requireNonNull(config, "config is null");
    this.history = requireNonNull(history, "history is null");
    this.clock = requireNonNull(clock, "clock is null");
    this.maintenance = new TableMaintenance(catalog, writers, clock);
    this.throttle = new IoThrottle(config.maxIoRate());
  }

  public Catalog catalog() {
    return catalog;
  }

  public MaintenanceConfig config() {
    return config;
  }

  public MaintenanceHistory history() {
    return history;
  }

  /** The bound shared by every compaction this instance runs. */
  public IoThrottle throttle() {
    return throttle;
  }

  Clock clock() {
    return clock;
  }

  TableMaintenance maintenance() {
    return maintenance;
  }

  /**
   * The policy of a table: its configuration with its {@code floe.maintenance.*} properties ({@link
   * MaintenanceConfig#effectivePolicy}).
   *
   * @throws FloeException with {@link ErrorCode#TABLE_NOT_FOUND} when there is no such table, or
   *     {@link ErrorCode#CONFIG_INVALID} when a property is invalid
   */
  public EffectiveMaintenancePolicy policy(TableIdentifier table) {
    return policy(table, load(table, "read the maintenance policy of"));
  }

  EffectiveMaintenancePolicy policy(TableIdentifier identifier, Table table) {
    return config.effectivePolicy(
        identifier.namespace().toString(), identifier.name(), table.properties());
  }

  /**
   * Sets and removes {@code floe.maintenance.*} properties of a table in one commit, after checking
   * that the policy they make is valid.
   *
   * @param set values by key name ({@code retain-last}), written as in the configuration file
   * @param unset key names whose property is removed
   * @return the table's policy after the commit
   * @throws FloeException with {@link ErrorCode#CONFIG_INVALID} for an unknown key or an invalid
   *     value; nothing is committed then
   */
  public EffectiveMaintenancePolicy updatePolicy(
      TableIdentifier identifier, Map<String, String> set, Set<String> unset) {
    requireNonNull(set, "set is null");
    requireNonNull(unset, "unset is null");
    Table table = load(identifier, "set the maintenance policy of");
    Map<String, String> properties = new HashMap<>(table.properties());
    for (String name : unset) {
      properties.remove(key(identifier, name).tableProperty());
    }
    set.forEach(
        (name, value) -> properties.put(key(identifier, name).tableProperty(), value.trim()));
    config.effectivePolicy(identifier.namespace().toString(), identifier.name(), properties);
    UpdateProperties update = table.updateProperties();
    unset.forEach(name -> update.remove(key(identifier, name).tableProperty()));
    set.forEach((name, value) -> update.set(key(identifier, name).tableProperty(), value.trim()));
    TableMaintenance.classified(
        "set the maintenance policy of",
        table,
        () -> {
          update.commit();
          return null;
        });
    LOG.info(
        "Set the maintenance properties of table {}: set {}, removed {}", identifier, set, unset);
    return policy(identifier);
  }

  private static MaintenancePolicy.Key key(TableIdentifier table, String name) {
    return MaintenancePolicy.Key.named(name)
        .orElseThrow(
            () ->
                new FloeException(
                    ErrorCode.CONFIG_INVALID,
                    "Cannot set the maintenance policy of table "
                        + table
                        + ": unknown key '"
                        + name
                        + "'; the keys are "
                        + Arrays.stream(MaintenancePolicy.Key.values())
                            .map(MaintenancePolicy.Key::configName)
                            .collect(Collectors.joining(", "))));
  }

  /** The options of a compaction by {@code policy}, bounded by {@link #throttle()}. */
  public RewriteDataFilesOptions rewriteOptions(MaintenancePolicy policy) {
    return new RewriteDataFilesOptions(
        policy.targetFileSize(),
        policy.compactMinInputFiles(),
        policy.compactDeleteRatio(),
        policy.sortOrder().isEmpty() ? null : policy.sortOrder(),
        throttle);
  }

  /** The latest recorded runs, newest first; of one table, or of every table when it is null. */
  public List<MaintenanceRun> runs(TableIdentifier table, int limit) {
    return history.recent(table, limit);
  }

  /**
   * The table's current schema.
   *
   * @throws FloeException with {@link ErrorCode#TABLE_NOT_FOUND} when there is no such table
   */
  public Schema schema(TableIdentifier table) {
    return load(table, "read the schema of").schema();
  }

  /**
   * The table's schemas and what changed between them, oldest first ({@link SchemaHistory}).
   *
   * @throws FloeException with {@link ErrorCode#TABLE_NOT_FOUND} when there is no such table
   */
  public List<SchemaHistory.Entry> schemaHistory(TableIdentifier table) {
    return SchemaHistory.of(load(table, "list the schema history of"));
  }

  /** {@link TableMaintenance#rewriteDataFiles}, recorded. */
  public RewriteDataFilesResult rewriteDataFiles(
      TableIdentifier table, RewriteDataFilesOptions options, RewriteProgress progress) {
    requireNonNull(options, "options is null");
    requireNonNull(progress, "progress is null");
    return recorded(
        table,
        MaintenanceRun.Operation.REWRITE_DATA_FILES,
        () -> maintenance.rewriteDataFiles(table, options, progress),
        RunDetails::of);
  }

  /** {@link TableMaintenance#rewriteManifests}, recorded. */
  public RewriteManifestsResult rewriteManifests(TableIdentifier table) {
    return recorded(
        table,
        MaintenanceRun.Operation.REWRITE_MANIFESTS,
        () -> maintenance.rewriteManifests(table),
        RunDetails::of);
  }

  /** {@link TableMaintenance#expireSnapshots}, recorded unless a dry run. */
  public ExpireResult expireSnapshots(TableIdentifier table, ExpirePolicy policy) {
    requireNonNull(policy, "policy is null");
    if (policy.dryRun()) {
      return maintenance.expireSnapshots(table, policy);
    }
    return recorded(
        table,
        MaintenanceRun.Operation.EXPIRE_SNAPSHOTS,
        () -> maintenance.expireSnapshots(table, policy),
        RunDetails::of);
  }

  /** {@link TableMaintenance#removeOrphanFiles}, recorded unless a dry run. */
  public OrphanResult removeOrphanFiles(TableIdentifier table, Duration olderThan, boolean dryRun) {
    if (dryRun) {
      return maintenance.removeOrphanFiles(table, olderThan, true);
    }
    return recorded(
        table,
        MaintenanceRun.Operation.REMOVE_ORPHAN_FILES,
        () -> maintenance.removeOrphanFiles(table, olderThan, false),
        RunDetails::of);
  }

  /** {@link TableMaintenance#rollbackToSnapshot}, recorded. */
  public RollbackResult rollbackToSnapshot(TableIdentifier table, long snapshotId) {
    return recorded(
        table,
        MaintenanceRun.Operation.ROLLBACK,
        () -> maintenance.rollbackToSnapshot(table, snapshotId),
        RunDetails::of);
  }

  /** {@link TableMaintenance#rollbackToTimestamp}, recorded. */
  public RollbackResult rollbackToTimestamp(TableIdentifier table, Instant timestamp) {
    return recorded(
        table,
        MaintenanceRun.Operation.ROLLBACK,
        () -> maintenance.rollbackToTimestamp(table, timestamp),
        RunDetails::of);
  }

  /** {@link TableMaintenance#setCurrentSnapshot}, recorded. */
  public RollbackResult setCurrentSnapshot(TableIdentifier table, long snapshotId) {
    return recorded(
        table,
        MaintenanceRun.Operation.ROLLBACK,
        () -> maintenance.setCurrentSnapshot(table, snapshotId),
        RunDetails::of);
  }

  /**
   * Runs, records and returns an operation. A failure is recorded, unless the table does not exist,
   * and thrown as a {@link FloeException}.
   */
  private <T> T recorded(
      TableIdentifier table,
      MaintenanceRun.Operation operation,
      Supplier<T> work,
      Function<T, String> details) {
    requireNonNull(table, "table is null");
    Outcome<T> outcome = execute(table, operation, work, details);
    RuntimeException failure = outcome.failure();
    if (failure == null) {
      history.record(outcome.run());
      return outcome.result();
    }
    if (failure instanceof FloeException floe) {
      if (floe.code() != ErrorCode.TABLE_NOT_FOUND) {
        history.record(outcome.run());
      }
      throw floe;
    }
    history.record(outcome.run());
    throw new FloeException(
        ErrorCode.INTERNAL_ERROR,
        "Cannot " + operation.action() + " table " + table + ": " + failure,
        failure);
  }

  /**
   * Runs an operation and measures the table before and after it; never throws. The run is not
   * recorded: callers decide.
   */
  <T> Outcome<T> execute(
      TableIdentifier table,
      MaintenanceRun.Operation operation,
      Supplier<T> work,
      Function<T, String> details) {
    TableFigures before = measure(table);
    Instant startedAt = clock.instant();
    long started = System.nanoTime();
    T result;
    try {
      result = work.get();
    } catch (RuntimeException | LinkageError thrown) {
      RuntimeException e =
          thrown instanceof LinkageError linkage
              ? incompleteInstallation(table, operation, linkage)
              : (RuntimeException) thrown;
      long duration = SnapshotExpiry.millisSince(started);
      MaintenanceRun run =
          new MaintenanceRun(
              table, operation, startedAt, duration, before, measure(table), "", message(e));
      return new Outcome<>(run, null, e);
    }
    long duration = SnapshotExpiry.millisSince(started);
    MaintenanceRun run =
        new MaintenanceRun(
            table,
            operation,
            startedAt,
            duration,
            before,
            measure(table),
            details.apply(result),
            null);
    return new Outcome<>(run, result, null);
  }

  /**
   * A class Floe needs could not be loaded or linked (a jar missing from the class path, or two
   * versions of one library): recorded as the run's failure, like any other, instead of ending the
   * table's maintenance pass unrecorded.
   */
  private static FloeException incompleteInstallation(
      TableIdentifier table, MaintenanceRun.Operation operation, LinkageError error) {
    return new FloeException(
        ErrorCode.INTERNAL_ERROR,
        "Cannot "
            + operation.action()
            + " table "
            + table
            + ": a class Floe needs could not be loaded ("
            + error
            + "); the installation is incomplete or mixes library versions: reinstall Floe, or"
            + " check the class path of the command that runs it",
        error);
  }

  /** The message a failed run keeps: Floe's own, or the failure's type and message. */
  static String message(RuntimeException failure) {
    if (failure instanceof FloeException) {
      return failure.getMessage();
    }
    return failure.getMessage() == null ? failure.getClass().getName() : failure.toString();
  }

  /** The table as it is now, or null when it cannot be loaded. */
  private TableFigures measure(TableIdentifier identifier) {
    try {
      return TableFigures.of(catalog.loadTable(identifier));
    } catch (RuntimeException e) {
      LOG.debug("Cannot measure table {}: {}", identifier, e.toString());
      return null;
    }
  }

  private Table load(TableIdentifier identifier, String action) {
    requireNonNull(identifier, "table is null");
    return maintenance.load(identifier, action);
  }
}
