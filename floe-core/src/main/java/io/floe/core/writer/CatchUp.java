package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import io.floe.core.catalog.TableFiles;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotChanges;
import org.apache.iceberg.SnapshotSummary;
import org.apache.iceberg.Table;

/**
 * Keeps a writer's {@link TableState} and {@link PendingBatch} in step with commits of others to
 * its table. The writer expects to be the table's only writer of data, but does not rely on it:
 * before each commit it compares the table's current snapshot with the one its index describes.
 *
 * <ul>
 *   <li>Commits in between that changed no files (manifest rewrites, snapshot expiry) cost nothing.
 *   <li>When commits in between changed files (a compaction of another process, another writer),
 *       the index reads only the data files they added or changed deletes of, and forgets the rows
 *       of the files they removed.
 *   <li>When the index's snapshot is not an ancestor of the current one (a rollback, or its commit
 *       expired), or a commit of the writer's that the index has is not (a rollback past it), the
 *       index is read again in full.
 * </ul>
 *
 * Either way the pending batch is then resolved against the index (rows to replace or delete are
 * looked up again). A commit of others that Iceberg took in under the writer's own (they did not
 * conflict) is caught up on before the writer's next commit.
 */
final class CatchUp {
  private final Table table;
  private final RowKeys keys;
  private final TableState state;
  private final PendingBatch batch;

  /**
   * The snapshot the index describes: the writer's last commit, or the snapshot it loaded or caught
   * up to; empty when that was before the table's first snapshot.
   */
  private OptionalLong knownSnapshotId;

  /**
   * The writer's own commit that the index has beyond {@link #knownSnapshotId}: set when Iceberg
   * took other commits in under it, so that catching up starts from the snapshot its batch was
   * planned on and takes in those commits. That is right only while the commit is in the current
   * snapshot's history: after a rollback past it the index has changes the table does not.
   */
  private OptionalLong ownCommitSinceKnown = OptionalLong.empty();

  /**
   * Whether the index describes a commit of the writer that is gone from the table's history
   * (rolled back or expired before the writer looked for its snapshot): the next catch-up reads the
   * whole table.
   */
  private boolean reloadAll;

  /** Starts from the table's current snapshot, which {@code state} was loaded from. */
  CatchUp(Table table, RowKeys keys, TableState state, PendingBatch batch) {
    this.table = requireNonNull(table, "table is null");
    this.keys = requireNonNull(keys, "keys is null");
    this.state = requireNonNull(state, "state is null");
    this.batch = requireNonNull(batch, "batch is null");
    this.knownSnapshotId = snapshotId(table.currentSnapshot());
  }

  /** The id of a snapshot; empty for none (a table without snapshots). */
  static OptionalLong snapshotId(Snapshot snapshot) {
    return snapshot == null ? OptionalLong.empty() : OptionalLong.of(snapshot.snapshotId());
  }

  /**
   * Reads the table's current state and, if another commit changed its data since the snapshot the
   * index describes, moves the index onto it and the pending batch with it.
   *
   * @return whether the index was moved
   */
  boolean catchUp() {
    table.refresh();
    Snapshot current = table.currentSnapshot();
    if (inStep(current)) {
      return false;
    }
    List<Snapshot> changes = new ArrayList<>();
    boolean descends = descendsFromIndex(current, changes);
    if (descends && changes.isEmpty()) {
      moveKnownTo(current);
      return false;
    }
    rebase(descends ? changes : null);
    moveKnownTo(current);
    return true;
  }

  /**
   * Whether another commit changed the table's data since the snapshot the index describes, as
   * {@link #catchUp} would find, without moving the index.
   */
  boolean dataChanged() {
    table.refresh();
    Snapshot current = table.currentSnapshot();
    if (inStep(current)) {
      return false;
    }
    List<Snapshot> changes = new ArrayList<>();
    return !descendsFromIndex(current, changes) || !changes.isEmpty();
  }

  /** Whether the index describes {@code current} exactly. */
  private boolean inStep(Snapshot current) {
    return !reloadAll
        && ownCommitSinceKnown.isEmpty()
        && snapshotId(current).equals(knownSnapshotId);
  }

  /**
   * Whether the index can move onto {@code current} by the changes of the snapshots since its own,
   * which this collects into {@code changes} (those that changed files, newest first): whether its
   * snapshot, and its own commit beyond that if any, are in the current snapshot's history.
   */
  private boolean descendsFromIndex(Snapshot current, List<Snapshot> changes) {
    if (reloadAll || !changesSince(current, knownSnapshotId, changes)) {
      return false;
    }
    if (ownCommitSinceKnown.isEmpty()) {
      return true;
    }
    for (Snapshot snapshot = current;
        snapshot != null && !snapshotId(snapshot).equals(knownSnapshotId);
        snapshot = parent(snapshot)) {
      if (snapshot.snapshotId() == ownCommitSinceKnown.getAsLong()) {
        return true;
      }
    }
    return false;
  }

  private void moveKnownTo(Snapshot current) {
    knownSnapshotId = snapshotId(current);
    ownCommitSinceKnown = OptionalLong.empty();
    reloadAll = false;
  }

  /**
   * Notes the writer's own commit, marked with {@code marker} in its summary, of a batch planned on
   * {@code plannedOn}: the index describes that commit now. If Iceberg applied the batch on top of
   * commits that landed while it was written (they did not conflict with it), whose changes the
   * index does not have, the next catch-up starts from {@code plannedOn} instead, and so takes in
   * those commits and this one again (or reads the whole table, if this one has been rolled back).
   *
   * @return the snapshot of the commit; empty if it had left the table's history already
   */
  OptionalLong committed(String marker, Snapshot plannedOn) {
    Optional<Snapshot> own = ownSnapshot(marker);
    if (own.isEmpty()) {
      knownSnapshotId = OptionalLong.empty();
      ownCommitSinceKnown = OptionalLong.empty();
      reloadAll = true;
      return OptionalLong.empty();
    }
    OptionalLong committed = OptionalLong.of(own.get().snapshotId());
    if (landedBetween(own.get(), snapshotId(plannedOn))) {
      knownSnapshotId = snapshotId(plannedOn);
      ownCommitSinceKnown = committed;
    } else {
      knownSnapshotId = committed;
      ownCommitSinceKnown = OptionalLong.empty();
    }
    return committed;
  }

  /**
   * Collects the snapshots from {@code from} back to the snapshot {@code ancestor} (excluded) that
   * added or removed files, newest first.
   *
   * @param ancestor the snapshot to walk back to; empty walks back to the first snapshot
   * @return whether {@code ancestor} is an ancestor of {@code from}: false when it is empty, after
   *     a rollback, or when it has been expired
   */
  private boolean changesSince(Snapshot from, OptionalLong ancestor, List<Snapshot> changes) {
    Snapshot snapshot = from;
    while (snapshot != null) {
      if (ancestor.isPresent() && snapshot.snapshotId() == ancestor.getAsLong()) {
        return true;
      }
      if (changesFiles(snapshot)) {
        changes.add(snapshot);
      }
      snapshot = parent(snapshot);
    }
    return false;
  }

  /**
   * Whether commits between {@code planned} and the writer's own snapshot {@code own} (taken in by
   * Iceberg under its commit) changed files, or {@code planned} is not an ancestor of it.
   */
  private boolean landedBetween(Snapshot own, OptionalLong planned) {
    List<Snapshot> between = new ArrayList<>();
    boolean descends = changesSince(parent(own), planned, between);
    return !between.isEmpty() || (!descends && planned.isPresent());
  }

  private static boolean changesFiles(Snapshot snapshot) {
    Map<String, String> summary = snapshot.summary();
    for (String property :
        List.of(
            SnapshotSummary.ADDED_FILES_PROP,
            SnapshotSummary.DELETED_FILES_PROP,
            SnapshotSummary.ADDED_DELETE_FILES_PROP,
            SnapshotSummary.REMOVED_DELETE_FILES_PROP)) {
      String value = summary.get(property);
      if (value != null && !"0".equals(value)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The snapshot this writer committed with {@code marker}: the newest with it among the current
   * snapshot's ancestors, or empty if it is not one (any more).
   */
  private Optional<Snapshot> ownSnapshot(String marker) {
    Snapshot snapshot = table.currentSnapshot();
    while (snapshot != null) {
      if (marker.equals(snapshot.summary().get(CdcTableWriter.COMMIT_MARKER))) {
        return Optional.of(snapshot);
      }
      snapshot = parent(snapshot);
    }
    return Optional.empty();
  }

  private Snapshot parent(Snapshot snapshot) {
    return snapshot.parentId() == null ? null : table.snapshot(snapshot.parentId());
  }

  /**
   * Moves the index onto the table's current snapshot and resolves the pending batch against it.
   *
   * <p>When the index's snapshot is an ancestor of the current one ({@code changes} not null: a
   * compaction or other commits of another process), only the data files those commits touched are
   * read again: the files they added, and the current files whose deletes they added or removed.
   * The rows of files they removed are dropped. Otherwise (a rollback) the whole index is read
   * again.
   *
   * @param changes the snapshots since the index's that changed files, or null to read all
   */
  private void rebase(List<Snapshot> changes) {
    TableFiles files = TableFiles.load(table);
    KeyIndex fresh;
    long filesRead;
    if (changes == null) {
      fresh = KeyIndex.load(table, keys, files.deletesByDataFile());
      filesRead = files.dataFiles().size();
    } else {
      Set<String> dropped = new HashSet<>();
      Set<String> reread = new HashSet<>();
      List<DeleteFile> changedDeletes = new ArrayList<>();
      for (Snapshot snapshot : changes) {
        SnapshotChanges changed = SnapshotChanges.builderFor(table).snapshot(snapshot).build();
        changed.removedDataFiles().forEach(file -> dropped.add(file.location()));
        changed.addedDataFiles().forEach(file -> reread.add(file.location()));
        changed.addedDeleteFiles().forEach(changedDeletes::add);
        changed.removedDeleteFiles().forEach(changedDeletes::add);
      }
      for (DataFile file : files.dataFiles().values()) {
        for (DeleteFile delete : changedDeletes) {
          if (TableFiles.applies(table, delete, file)) {
            reread.add(file.location());
            break;
          }
        }
      }
      reread.retainAll(files.dataFiles().keySet());
      fresh = state.index();
      fresh.refresh(table, keys, dropped, reread, files.deletesByDataFile());
      filesRead = reread.size();
    }
    batch.resolve(fresh);
    state.moveTo(fresh, files, filesRead);
  }
}
