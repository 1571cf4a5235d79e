package io.floe.maintenance;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.util.SnapshotUtil;

/** Moves a table's main branch to another snapshot through Iceberg's ManageSnapshots. */
final class SnapshotRollback {
  /** Ancestors listed in messages, newest first. */
  private static final int ANCESTORS_LISTED = 10;

  private SnapshotRollback() {}

  /** Rolls back to an ancestor of the current snapshot. */
  static RollbackResult toSnapshot(Table table, long snapshotId) {
    requireSnapshot(table, snapshotId, "roll back");
    long previous = currentId(table);
    if (previous == snapshotId) {
      return new RollbackResult(previous, previous);
    }
    if (!SnapshotUtil.isAncestorOf(table, snapshotId)) {
      throw notAncestor(table, snapshotId, null);
    }
    try {
      table.manageSnapshots().rollbackTo(snapshotId).commit();
    } catch (ValidationException e) {
      // The current snapshot moved on a branch without it between the check and the commit.
      table.refresh();
      throw notAncestor(table, snapshotId, e);
    }
    table.refresh();
    return new RollbackResult(previous, currentId(table));
  }

  /** Rolls back to the latest ancestor of the current snapshot committed before the instant. */
  static RollbackResult toTimestamp(Table table, Instant timestamp) {
    long millis = timestamp.toEpochMilli();
    Snapshot target = null;
    Snapshot oldest = null;
    if (table.currentSnapshot() != null) {
      for (Snapshot ancestor : SnapshotUtil.currentAncestors(table)) {
        oldest = ancestor;
        if (ancestor.timestampMillis() < millis) {
          target = ancestor;
          break;
        }
      }
    }
    if (target == null) {
      throw new FloeException(
          ErrorCode.TABLE_VERSION_NOT_FOUND,
          "Cannot roll back table "
              + table.name()
              + " to "
              + timestamp
              + ": "
              + (oldest == null
                  ? "it has no snapshots"
                  : "its oldest snapshot in the current history was committed at "
                      + Instant.ofEpochMilli(oldest.timestampMillis())
                      + "; pick a later time"));
    }
    return toSnapshot(table, target.snapshotId());
  }

  /** Makes any snapshot of the table current, ancestor or not. */
  static RollbackResult setCurrent(Table table, long snapshotId) {
    requireSnapshot(table, snapshotId, "set the current snapshot of");
    long previous = currentId(table);
    if (previous == snapshotId) {
      return new RollbackResult(previous, previous);
    }
    table.manageSnapshots().setCurrentSnapshot(snapshotId).commit();
    table.refresh();
    return new RollbackResult(previous, currentId(table));
  }

  private static void requireSnapshot(Table table, long snapshotId, String action) {
    if (table.snapshot(snapshotId) == null) {
      throw new FloeException(
          ErrorCode.TABLE_VERSION_NOT_FOUND,
          "Cannot "
              + action
              + " table "
              + table.name()
              + " to snapshot "
              + snapshotId
              + ": the table has no such snapshot (it may have expired); recent snapshots of its"
              + " history: "
              + recentAncestors(table)
              + " (see "
              + table.name()
              + ".snapshots)");
    }
  }

  private static FloeException notAncestor(Table table, long snapshotId, Exception cause) {
    String message =
        "Cannot roll back table "
            + table.name()
            + " to snapshot "
            + snapshotId
            + ": it is not an ancestor of the current snapshot "
            + currentId(table)
            + "; recent ancestors: "
            + recentAncestors(table)
            + "; to make a snapshot of another history current, use set_current_snapshot";
    return cause == null
        ? new FloeException(ErrorCode.TABLE_VERSION_NOT_FOUND, message)
        : new FloeException(ErrorCode.TABLE_VERSION_NOT_FOUND, message, cause);
  }

  /** The current snapshot and its nearest ancestors, newest first, with commit times. */
  private static String recentAncestors(Table table) {
    if (table.currentSnapshot() == null) {
      return "none (the table has no current snapshot)";
    }
    List<String> listed = new ArrayList<>();
    for (Snapshot ancestor : SnapshotUtil.currentAncestors(table)) {
      if (listed.size() == ANCESTORS_LISTED) {
        listed.add("...");
        break;
      }
      listed.add(
          ancestor.snapshotId() + " (" + Instant.ofEpochMilli(ancestor.timestampMillis()) + ")");
    }
    return String.join(", ", listed);
  }

  private static long currentId(Table table) {
    Snapshot current = table.currentSnapshot();
    return current == null ? RollbackResult.NO_SNAPSHOT : current.snapshotId();
  }
}
