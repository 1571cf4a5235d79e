package io.floe.maintenance;

/**
 * The table's current snapshot before and after a rollback; {@link #NO_SNAPSHOT} when the table had
 * no current snapshot.
 */
public record RollbackResult(long previousSnapshotId, long currentSnapshotId) {
  /** Stands for "no current snapshot"; Iceberg generates non-negative snapshot ids. */
  public static final long NO_SNAPSHOT = -1;
}
