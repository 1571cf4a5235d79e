package io.floe.maintenance;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.IcebergFailures;
import io.floe.core.writer.TableWriterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NoSuchNamespaceException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Table maintenance run in-process with Iceberg's Java library: snapshot expiry, orphan file
 * removal, manifest rewrite, rollback. Each call loads the table afresh, does one operation, and
 * logs one line. Safe to run while Floe's CDC writer commits to the same table; see the package
 * documentation for why. Holds no state but the catalog and the process's writers: one instance may
 * serve several threads.
 */
public final class TableMaintenance {
  private static final Logger LOG = LoggerFactory.getLogger(TableMaintenance.class);

  private final Catalog catalog;
  private final TableWriterRegistry writers;
  private final Clock clock;

  /**
   * Maintenance in a process where no pipeline streams into the tables: compactions commit
   * directly.
   */
  public TableMaintenance(Catalog catalog) {
    this(catalog, new TableWriterRegistry());
  }

  /**
   * Maintenance that hands compactions of the tables {@code writers} stream into to their writers.
   */
  public TableMaintenance(Catalog catalog, TableWriterRegistry writers) {
    this(catalog, writers, Clock.systemUTC());
  }

  /** With a clock for the orphan files' age window. */
  TableMaintenance(Catalog catalog, TableWriterRegistry writers, Clock clock) {
    this.catalog = requireNonNull(catalog, "catalog is null");
    this.writers = requireNonNull(writers, "writers is null");
    this.clock = requireNonNull(clock, "clock is null");
  }

  /** Expires the snapshots the policy selects and deletes the files only they referenced. */
  public ExpireResult expireSnapshots(TableIdentifier table, ExpirePolicy policy) {
    requireNonNull(policy, "policy is null");
    ExpireResult result =
        run(table, "expire snapshots of", loaded -> SnapshotExpiry.run(loaded, policy));
    LOG.info(
        "{} {} snapshots of table {} (older than {}, retain last {}, milestones {}): {} data"
            + " files, {} delete files, {} manifests, {} manifest lists, {} bytes in {} ms",
        result.dryRun() ? "Dry run: would expire" : "Expired",
        result.expiredSnapshotIds().size(),
        table,
        policy.olderThan(),
        policy.retainLast(),
        policy.milestones(),
        result.deletedDataFiles(),
        result.deletedDeleteFiles(),
        result.deletedManifests(),
        result.deletedManifestLists(),
        result.deletedBytes(),
        result.durationMillis());
    return result;
  }

  /**
   * Deletes the files under the table's location that its metadata does not reference and that were
   * last modified more than {@code olderThan} ago (at least a minute, unless a dry run).
   */
  public OrphanResult removeOrphanFiles(TableIdentifier table, Duration olderThan, boolean dryRun) {
    requireNonNull(olderThan, "olderThan is null");
    OrphanResult result =
        run(
            table,
            "remove orphan files of",
            loaded -> OrphanFiles.run(loaded, olderThan, dryRun, clock));
    LOG.info(
        "{} {} orphan files of table {} older than {}: {} bytes in {} ms",
        result.dryRun() ? "Dry run: would remove" : "Removed",
        result.orphanFiles().size(),
        table,
        olderThan,
        result.orphanBytes(),
        result.durationMillis());
    return result;
  }

  /** Rewrites the current snapshot's data manifests, clustered by partition. */
  public RewriteManifestsResult rewriteManifests(TableIdentifier table) {
    RewriteManifestsResult result = run(table, "rewrite manifests of", ManifestRewrite::run);
    LOG.info(
        "Rewrote manifests of table {}: {} manifests before, {} after, in {} ms",
        table,
        result.manifestsBefore(),
        result.manifestsAfter(),
        result.durationMillis());
    return result;
  }

  /**
   * Compacts the table's data files: bin-packs small files toward the target size and folds deletes
   * into the rewritten files, optionally sorting them. When a pipeline of this process streams into
   * the table (a writer of its registry), its writer commits the rewrite (see the package
   * documentation); otherwise the rewrite is committed directly, and fails if another commit
   * deleted rows of the files it rewrote in the meantime.
   */
  public RewriteDataFilesResult rewriteDataFiles(
      TableIdentifier table, RewriteDataFilesOptions options, RewriteProgress progress) {
    requireNonNull(options, "options is null");
    requireNonNull(progress, "progress is null");
    RewriteDataFilesResult result =
        run(
            table,
            "rewrite data files of",
            loaded -> DataCompaction.run(loaded, writers, options, progress));
    if (result.snapshotId() < 0) {
      LOG.debug("No data files of table {} need rewriting", table);
      return result;
    }
    LOG.info(
        "Rewrote {} data files ({} bytes) of table {} into {} ({} bytes), folding {} deleted rows"
            + " and dropping {} delete files, in {} ms",
        result.rewrittenDataFiles(),
        result.rewrittenBytes(),
        table,
        result.addedDataFiles(),
        result.addedBytes(),
        result.foldedDeletes(),
        result.removedDeleteFiles(),
        result.durationMillis());
    return result;
  }

  /** Makes an ancestor of the current snapshot current again. */
  public RollbackResult rollbackToSnapshot(TableIdentifier table, long snapshotId) {
    return logged(
        "Rolled back",
        table,
        run(table, "roll back", loaded -> SnapshotRollback.toSnapshot(loaded, snapshotId)));
  }

  /**
   * Makes current the latest ancestor of the current snapshot committed strictly before {@code
   * timestamp}, as Iceberg's rollback_to_timestamp does.
   */
  public RollbackResult rollbackToTimestamp(TableIdentifier table, Instant timestamp) {
    requireNonNull(timestamp, "timestamp is null");
    return logged(
        "Rolled back",
        table,
        run(table, "roll back", loaded -> SnapshotRollback.toTimestamp(loaded, timestamp)));
  }

  /** Makes any snapshot of the table current, also one that is not an ancestor. */
  public RollbackResult setCurrentSnapshot(TableIdentifier table, long snapshotId) {
    return logged(
        "Set the current snapshot of",
        table,
        run(
            table,
            "set the current snapshot of",
            loaded -> SnapshotRollback.setCurrent(loaded, snapshotId)));
  }

  private static RollbackResult logged(String verb, TableIdentifier table, RollbackResult result) {
    LOG.info(
        "{} table {} to snapshot {} (was {})",
        verb,
        table,
        result.currentSnapshotId(),
        result.previousSnapshotId());
    return result;
  }

  /**
   * Loads the table and runs the operation, turning Iceberg's failures into Floe's ({@link
   * IcebergFailures} tells them apart). A validation failure counts as a conflict here: the
   * operations validate their commit against the table as it is when it lands, and what they find
   * there is what concurrent commits changed.
   */
  private <T> T run(TableIdentifier identifier, String action, Function<Table, T> operation) {
    requireNonNull(identifier, "table is null");
    Table table = load(identifier, action);
    return classified(action, table, () -> operation.apply(table));
  }

  /**
   * Runs {@code work} on {@code table} for {@code action} ("expire snapshots of"), turning
   * Iceberg's failures into Floe's as {@link #run} does.
   */
  static <T> T classified(String action, Table table, Supplier<T> work) {
    try {
      return work.get();
    } catch (FloeException e) {
      throw e;
    } catch (RuntimeException e) {
      throw switch (IcebergFailures.classify(e)) {
        case UNKNOWN_OUTCOME ->
            failed(
                ErrorCode.TABLE_COMMIT_UNKNOWN,
                action,
                table,
                "the outcome of the commit is unknown ("
                    + e.getMessage()
                    + "); check the table's snapshots before running it again",
                e);
        case CONFLICT, INVALID ->
            failed(
                ErrorCode.TABLE_COMMIT_CONFLICT,
                action,
                table,
                "concurrent commits to the table conflicted with it ("
                    + e.getMessage()
                    + "); run it again",
                e);
        case STORAGE ->
            failed(
                ErrorCode.TABLE_WRITE_FAILED,
                action,
                table,
                "reading or writing its files failed ("
                    + e.getMessage()
                    + "); check that the table's storage is reachable and run it again",
                e);
        case CATALOG ->
            failed(
                ErrorCode.CATALOG_FAILED,
                action,
                table,
                "the catalog failed ("
                    + e.getMessage()
                    + "); check that the catalog database is reachable and run it again",
                e);
        case BUG ->
            failed(
                ErrorCode.INTERNAL_ERROR,
                action,
                table,
                "unexpected "
                    + e
                    + "; check the table's snapshots and history before running it again, and"
                    + " report the failure with the log, which has its stack trace",
                e);
      };
    }
  }

  private static FloeException failed(
      ErrorCode code, String action, Table table, String problem, RuntimeException cause) {
    return new FloeException(
        code, "Cannot " + action + " table " + table.name() + ": " + problem, cause);
  }

  /**
   * Loads a table for {@code action} ("expire snapshots of"), or says there is no such table and
   * which tables its namespace has.
   */
  Table load(TableIdentifier identifier, String action) {
    try {
      return catalog.loadTable(identifier);
    } catch (NoSuchTableException e) {
      throw new FloeException(
          ErrorCode.TABLE_NOT_FOUND,
          "Cannot "
              + action
              + " table "
              + identifier
              + ": no such table; "
              + tablesIn(identifier.namespace()),
          e);
    }
  }

  private String tablesIn(Namespace namespace) {
    List<String> names = new ArrayList<>();
    try {
      for (TableIdentifier table : catalog.listTables(namespace)) {
        names.add(table.name());
      }
    } catch (NoSuchNamespaceException e) {
      return "namespace " + namespace + " does not exist";
    }
    names.sort(null);
    return names.isEmpty()
        ? "namespace " + namespace + " has no tables"
        : "tables in namespace " + namespace + ": " + String.join(", ", names);
  }
}
