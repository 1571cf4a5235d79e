package io.floe.maintenance;

import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.iceberg.DataOperations;
import org.apache.iceberg.ExpireSnapshots;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotRef;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.util.SnapshotUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Expires the snapshots an {@link ExpirePolicy} selects with Iceberg's {@link ExpireSnapshots}, and
 * deletes the files only they referenced.
 *
 * <p>Iceberg decides which files to delete (the files of expired snapshots that no remaining
 * snapshot references, computed after its commit). Floe deletes them itself, after checking each
 * against the snapshots that remain once the commit has landed, and counts them by kind.
 */
final class SnapshotExpiry {
  private static final Logger LOG = LoggerFactory.getLogger(SnapshotExpiry.class);

  static final Comparator<Snapshot> OLDEST_FIRST =
      Comparator.comparingLong(Snapshot::timestampMillis)
          .thenComparingLong(Snapshot::sequenceNumber)
          .thenComparingLong(Snapshot::snapshotId);

  private SnapshotExpiry() {}

  /** Ids of the snapshots the policy expires, oldest first. */
  static List<Long> select(Table table, ExpirePolicy policy) {
    Set<Long> kept = new HashSet<>();
    for (SnapshotRef ref : table.refs().values()) {
      kept.add(ref.snapshotId());
    }
    List<Snapshot> history = new ArrayList<>(); // the main branch's, newest first
    if (table.currentSnapshot() != null) {
      SnapshotUtil.currentAncestors(table).forEach(history::add);
    }
    for (int i = 0; i < Math.min(policy.retainLast(), history.size()); i++) {
      kept.add(history.get(i).snapshotId());
    }
    kept.addAll(milestones(history, policy.milestones()));
    // Floe's CDC writer bases its next commit on the snapshot of its own last commit, and Iceberg
    // refuses a commit unless that base is found walking back from the current snapshot. Manifest
    // rewrites (operation "replace") commit on top of the base without moving the writer's, so the
    // history down to the newest snapshot that is not a "replace" is kept as well.
    for (Snapshot snapshot : history) {
      kept.add(snapshot.snapshotId());
      if (!DataOperations.REPLACE.equals(snapshot.operation())) {
        break;
      }
    }
    long cutoff = policy.olderThan().toEpochMilli();
    List<Snapshot> expired = new ArrayList<>();
    for (Snapshot snapshot : table.snapshots()) {
      if (snapshot.timestampMillis() < cutoff && !kept.contains(snapshot.snapshotId())) {
        expired.add(snapshot);
      }
    }
    return ids(expired);
  }

  /** The first snapshot, by commit time, of each UTC day or month of the history. */
  private static Set<Long> milestones(List<Snapshot> history, ExpirePolicy.Milestones milestones) {
    if (milestones == ExpirePolicy.Milestones.NONE) {
      return Set.of();
    }
    Map<Object, Snapshot> firstByPeriod = new HashMap<>();
    for (Snapshot snapshot : history) {
      LocalDate day =
          Instant.ofEpochMilli(snapshot.timestampMillis()).atZone(ZoneOffset.UTC).toLocalDate();
      Object period = milestones == ExpirePolicy.Milestones.DAILY ? day : YearMonth.from(day);
      firstByPeriod.merge(
          period,
          snapshot,
          (first, other) -> OLDEST_FIRST.compare(first, other) <= 0 ? first : other);
    }
    Set<Long> ids = new HashSet<>();
    firstByPeriod.values().forEach(snapshot -> ids.add(snapshot.snapshotId()));
    return ids;
  }

  static ExpireResult run(Table table, ExpirePolicy policy) {
    long started = System.nanoTime();
    GarbageCollection.check(table, "expire snapshots of");
    List<Long> chosen = select(table, policy);
    if (chosen.isEmpty()) {
      return new ExpireResult(List.of(), 0, 0, 0, 0, 0, policy.dryRun(), millisSince(started));
    }
    ExpireSnapshots update =
        table
            .expireSnapshots()
            // Iceberg would also expire by the table's history.expire.* properties (5 days by
            // default); a limit before every snapshot leaves the choice to the policy alone.
            .expireOlderThan(oldestTimestamp(table))
            .cleanupLevel(ExpireSnapshots.CleanupLevel.ALL);
    chosen.forEach(update::expireSnapshotId);
    // What Iceberg will remove: the chosen snapshots (a branch's own retention settings may add
    // more), computed on the table's latest metadata.
    List<Snapshot> planned = update.apply();
    ReachableFiles plannedFiles = ReachableFiles.ofSnapshots(table, planned);
    if (policy.dryRun()) {
      Set<Long> plannedIds = new HashSet<>(ids(planned));
      List<Snapshot> remaining = new ArrayList<>();
      for (Snapshot snapshot : table.snapshots()) {
        if (!plannedIds.contains(snapshot.snapshotId())) {
          remaining.add(snapshot);
        }
      }
      DeletedFiles wouldDelete = new DeletedFiles();
      for (ReachableFiles.Reference reference :
          plannedFiles.without(ReachableFiles.ofSnapshots(table, remaining)).values()) {
        wouldDelete.add(reference.kind(), DeletedFiles.size(table.io(), reference));
      }
      return result(ids(planned), wouldDelete, true, started);
    }

    List<Snapshot> before = ReachableFiles.snapshots(table);
    Queue<String> listed = new ConcurrentLinkedQueue<>();
    update.deleteWith(listed::add).commit();
    table.refresh();
    List<Snapshot> expired = new ArrayList<>();
    for (Snapshot snapshot : before) {
      if (table.snapshot(snapshot.snapshotId()) == null) {
        expired.add(snapshot);
      }
    }
    DeletedFiles deleted = delete(table, listed, plannedFiles);
    return result(ids(expired), deleted, false, started);
  }

  /**
   * Deletes the files Iceberg listed, except any that a snapshot still in the table references: the
   * table may have changed between Iceberg's commit and now.
   */
  private static DeletedFiles delete(
      Table table, Queue<String> listed, ReachableFiles plannedFiles) {
    FileIO io = table.io();
    ReachableFiles retained = ReachableFiles.ofSnapshots(table, ReachableFiles.snapshots(table));
    DeletedFiles deleted = new DeletedFiles();
    int failed = 0;
    for (String location : listed) {
      if (retained.contains(location)) {
        LOG.warn(
            "Kept {} of table {}: Iceberg listed it as unreferenced, but a snapshot of the table"
                + " references it",
            location,
            table.name());
        continue;
      }
      ReachableFiles.Reference reference = plannedFiles.get(location);
      if (reference == null) {
        reference = new ReachableFiles.Reference(location, ReachableFiles.guessKind(location), -1);
      }
      long bytes = DeletedFiles.size(io, reference);
      try {
        io.deleteFile(location);
        deleted.add(reference.kind(), bytes);
      } catch (RuntimeException e) {
        failed++;
        LOG.warn("Cannot delete {} of table {}: {}", location, table.name(), e.toString());
      }
    }
    if (failed > 0) {
      LOG.warn(
          "{} files of expired snapshots of table {} could not be deleted; they are now orphan"
              + " files, which remove_orphan_files deletes",
          failed,
          table.name());
    }
    return deleted;
  }

  private static ExpireResult result(
      List<Long> ids, DeletedFiles files, boolean dryRun, long started) {
    return new ExpireResult(
        ids,
        files.count(ReachableFiles.Kind.DATA),
        files.count(ReachableFiles.Kind.DELETE),
        files.count(ReachableFiles.Kind.MANIFEST),
        files.count(ReachableFiles.Kind.MANIFEST_LIST),
        files.bytes(),
        dryRun,
        millisSince(started));
  }

  private static long oldestTimestamp(Table table) {
    long oldest = Long.MAX_VALUE;
    for (Snapshot snapshot : table.snapshots()) {
      oldest = Math.min(oldest, snapshot.timestampMillis());
    }
    return oldest;
  }

  private static List<Long> ids(List<Snapshot> snapshots) {
    List<Snapshot> sorted = new ArrayList<>(snapshots);
    sorted.sort(OLDEST_FIRST);
    List<Long> ids = new ArrayList<>();
    sorted.forEach(snapshot -> ids.add(snapshot.snapshotId()));
    return ids;
  }

  static long millisSince(long startedNanos) {
    return (System.nanoTime() - startedNanos) / 1_000_000;
  }
}
