package io.floe.maintenance;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Optional;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * One operation run on one table, by {@link MaintenanceScheduler} or by a user ({@link
 * WarehouseMaintenance}), as {@link MaintenanceHistory} keeps it.
 *
 * @param startedAt when the operation started, to the millisecond
 * @param before the table just before the operation, or null when it could not be loaded
 * @param after the table just after the operation, also when it failed, or null when it could not
 *     be loaded
 * @param details what the operation did, such as {@code expired 12 snapshots, deleted 30 files (4.1
 *     MiB)}; empty when it failed
 * @param error the failure's message, or null when the operation succeeded
 */
public record MaintenanceRun(
    TableIdentifier table,
    Operation operation,
    Instant startedAt,
    long durationMillis,
    TableFigures before,
    TableFigures after,
    String details,
    String error) {

  /**
   * What a run did: the operations the scheduler runs, in the order it runs them on a table, then
   * {@link #ROLLBACK}, which only users run.
   */
  public enum Operation {
    /**
     * Reading the table's policy, before anything else. Recorded only when it fails (a {@code
     * floe.maintenance.*} property is invalid); nothing else then runs on the table.
     */
    READ_POLICY("read-policy", "read the maintenance policy of"),
    REWRITE_DATA_FILES("rewrite-data-files", "rewrite data files of"),
    REWRITE_MANIFESTS("rewrite-manifests", "rewrite manifests of"),
    EXPIRE_SNAPSHOTS("expire-snapshots", "expire snapshots of"),
    REMOVE_ORPHAN_FILES("remove-orphan-files", "remove orphan files of"),
    ROLLBACK("rollback", "roll back");

    private final String label;
    private final String action;

    Operation(String label, String action) {
      this.label = label;
      this.action = action;
    }

    /** The name users write, as in {@code floe maintain expire-snapshots}. */
    public String label() {
      return label;
    }

    /** What it does, for messages: "Cannot {@code <action>} table x". */
    public String action() {
      return action;
    }

    /** The operation users write as {@code label}, such as {@code expire-snapshots}. */
    public static Optional<Operation> forLabel(String label) {
      return Arrays.stream(values()).filter(value -> value.label.equals(label)).findFirst();
    }
  }

  public MaintenanceRun {
    requireNonNull(table, "table is null");
    requireNonNull(operation, "operation is null");
    startedAt = requireNonNull(startedAt, "startedAt is null").truncatedTo(ChronoUnit.MILLIS);
    requireNonNull(details, "details is null");
  }

  /** Whether the operation failed. */
  public boolean failed() {
    return error != null;
  }
}
