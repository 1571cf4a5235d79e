package io.floe.maintenance;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * One operation that {@link MaintenanceScheduler} ran on one table.
 *
 * @param details what the operation did, such as {@code expired 12 snapshots, deleted 30 files (4.1
 *     MiB)}; empty when it failed
 * @param error the failure's message, or null when the operation succeeded
 */
public record MaintenanceRun(
    TableIdentifier table,
    Operation operation,
    Instant startedAt,
    long durationMillis,
    String details,
    String error) {

  /** The maintenance operations the scheduler runs, in the order it runs them on a table. */
  public enum Operation {
    REWRITE_MANIFESTS,
    EXPIRE_SNAPSHOTS,
    REMOVE_ORPHAN_FILES
  }

  public MaintenanceRun {
    requireNonNull(table, "table is null");
    requireNonNull(operation, "operation is null");
    requireNonNull(startedAt, "startedAt is null");
    requireNonNull(details, "details is null");
  }

  /** Whether the operation failed. */
  public boolean failed() {
    return error != null;
  }
}
