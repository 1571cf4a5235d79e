package io.floe.maintenance;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.Scans;
import io.floe.core.catalog.TableFiles;
import io.floe.core.storage.UncommittedFiles;
import io.floe.core.writer.DataFileRewrite;
import io.floe.core.writer.ParquetRows;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.RewriteFiles;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotChanges;
import org.apache.iceberg.Table;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.util.SnapshotUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits a rewrite of data files with Iceberg's {@code RewriteFiles} when no writer of this
 * process streams into the table: a compaction run by {@code floe maintain} or over HTTP beside a
 * pipeline of another process, or of a table no pipeline writes.
 *
 * <p>Other commits may delete rows of the rewritten files while the rewrite runs, and Iceberg
 * refuses a rewrite of files that received deletes after its base snapshot. So before each attempt
 * the commits since the base (or since the last attempt) are read, and their position deletes of
 * rewritten rows are carried over: through the rewrite's map of where each row went, they become
 * position deletes of the new files, committed in the same transaction as the rewrite, just before
 * it. The rewrite is then validated from the snapshot those commits end at, and an attempt that
 * loses a race with another such commit carries over that one too and tries again. Delete files
 * that deleted rows of rewritten files only are dropped with them. The new files keep the base
 * snapshot's data sequence number, so equality deletes committed meanwhile apply to them as they
 * did to the files they replace.
 *
 * <p>If another commit removed one of the rewritten files (the writer compacted it) or the base is
 * no longer an ancestor of the current snapshot (a rollback), the rewrite is stale and is planned
 * again. The writer, at its next commit, notices that the table's data changed and reads the keys
 * of the new files into its index (see {@code CdcTableWriter}).
 */
final class DirectRewriteCommit {
  /**
   * Attempts before giving up on a table whose commits keep deleting rewritten rows between the
   * reading of the commits and the rewrite's commit.
   */
  static final int ATTEMPTS = 10;

  private static final Logger LOG = LoggerFactory.getLogger(DirectRewriteCommit.class);

  private final Table table;
  private final Snapshot base;
  private final DataFileRewrite rewrite;
  private final Map<String, DataFile> sources = new LinkedHashMap<>();

  /** For each output, the positions other commits deleted since the base. */
  private final List<BitSet> deletedSince = new ArrayList<>();

  /** Delete files the commit removes: they delete rows of rewritten files only. */
  private final Map<String, DeleteFile> obsolete = new LinkedHashMap<>();

  private long rowsDeletedSince;

  /** The delete files written for the positions carried over, one per new file. */
  private final List<DeleteFile> carried = new ArrayList<>();

  DirectRewriteCommit(Table table, Snapshot base, DataFileRewrite rewrite) {
    this.table = table;
    this.base = base;
    this.rewrite = rewrite;
    rewrite.sources().forEach(source -> sources.put(source.location(), source));
    rewrite.outputs().forEach(output -> deletedSince.add(new BitSet()));
    rewrite.obsoleteDeletes().forEach(delete -> obsolete.put(delete.location(), delete));
  }

  /**
   * Commits the rewrite.
   *
   * @return the snapshot that committed it, or empty if it is stale and must be planned again
   * @throws FloeException if other commits kept conflicting with it for {@link #ATTEMPTS} attempts,
   *     or deleted rewritten rows in a way Floe cannot carry over (deletion vectors)
   */
  OptionalLong commit() {
    boolean committed = false;
    try {
      Snapshot from = base;
      RuntimeException rejected = null;
      for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
        table.refresh();
        Snapshot current = table.currentSnapshot();
        if (current == null
            || !SnapshotUtil.isAncestorOf(table, current.snapshotId(), from.snapshotId())) {
          return OptionalLong.empty();
        }
        if (!carryOver(from, current)) {
          return OptionalLong.empty();
        }
        try {
          commit(current);
        } catch (ValidationException | CommitFailedException e) {
          // A commit landed in between: carry over what it deleted too.
          LOG.info(
              "The rewrite of data files of table {} met a commit that changed its files (attempt"
                  + " {} of {}, {}); carrying it over",
              table.name(),
              attempt,
              ATTEMPTS,
              e.getClass().getSimpleName());
          LOG.debug("The commit of the rewrite of table {} was rejected", table.name(), e);
          rejected = e;
          from = current;
          continue;
        }
        committed = true;
        return OptionalLong.of(table.currentSnapshot().snapshotId());
      }
      throw new FloeException(
          ErrorCode.TABLE_COMMIT_CONFLICT,
          "Cannot commit the rewrite of data files of table "
              + table.name()
              + ": "
              + ATTEMPTS
              + " times in a row, another commit changed its files while it committed (a pipeline"
              + " committing more often than a rewrite commits); run it again, or run it where"
              + " the pipeline runs (floe run's maintenance schedule or its HTTP API), which"
              + " hands it to the pipeline's writer",
          rejected);
    } catch (CommitStateUnknownException e) {
      committed = true; // its files may be referenced: keep them
      throw e;
    } finally {
      if (!committed) {
        UncommittedFiles.delete(table, carried.stream().map(DeleteFile::location).toList());
      }
    }
  }

  /**
   * Commits the rewrite on top of {@code current}, in one transaction: first the carried deletes,
   * whose data files do not exist yet, so that this snapshot reads as its parent does; then the
   * rewrite itself. (Iceberg's rewrite adds delete files only when it also replaces some.)
   */
  private void commit(Snapshot current) {
    Transaction transaction = table.newTransaction();
    if (!carried.isEmpty()) {
      RowDelta deletes = transaction.newRowDelta().scanManifestsWith(Scans.callerThread());
      carried.forEach(deletes::addDeletes);
      deletes.commit();
    }
    RewriteFiles update =
        transaction
            .newRewrite()
            .scanManifestsWith(Scans.callerThread())
            .validateFromSnapshot(current.snapshotId())
            .dataSequenceNumber(base.sequenceNumber());
    rewrite.sources().forEach(update::deleteFile);
    obsolete.values().forEach(update::deleteFile);
    rewrite.outputs().forEach(update::addFile);
    update.commit();
    transaction.commitTransaction();
  }

  /** Rows of the rewritten files that other commits deleted since the base. */
  long rowsDeletedSince() {
    return rowsDeletedSince;
  }

  /** Delete files the commit removed. */
  int removedDeleteFiles() {
    return obsolete.size();
  }

  /**
   * Carries over the deletes of rewritten rows that the snapshots after {@code from} up to {@code
   * current} committed, oldest first.
   *
   * @return false if one of them removed a rewritten file
   */
  private boolean carryOver(Snapshot from, Snapshot current) {
    List<Snapshot> snapshots = new ArrayList<>();
    SnapshotUtil.ancestorsBetween(table, current.snapshotId(), from.snapshotId())
        .forEach(snapshots::add);
    boolean deleted = false;
    for (int i = snapshots.size() - 1; i >= 0; i--) {
      SnapshotChanges changes =
          SnapshotChanges.builderFor(table).snapshot(snapshots.get(i)).build();
      for (DataFile removed : changes.removedDataFiles()) {
        if (sources.containsKey(removed.location())) {
          return false;
        }
      }
      for (DeleteFile removed : changes.removedDeleteFiles()) {
        obsolete.remove(removed.location());
      }
      for (DeleteFile added : changes.addedDeleteFiles()) {
        deleted |= carry(added);
      }
    }
    if (deleted) {
      writeCarried();
    }
    return true;
  }

  /**
   * Notes the rewritten rows a delete file committed after the base deletes.
   *
   * @return whether it deleted a row that was live in the base
   */
  private boolean carry(DeleteFile delete) {
    if (delete.content() != FileContent.POSITION_DELETES
        || sources.values().stream()
            .noneMatch(source -> TableFiles.applies(table, delete, source))) {
      // Equality deletes apply to the new files too: they keep the base's sequence number.
      return false;
    }
    if (delete.format() != FileFormat.PARQUET) {
      // Running it again plans the new delete file in, and folds it.
      throw new FloeException(
          ErrorCode.TABLE_COMMIT_CONFLICT,
          "Cannot commit the rewrite of data files of table "
              + table.name()
              + ": "
              + delete.location()
              + ", committed while it ran, deletes rows of its files, and Floe carries over only"
              + " Parquet position deletes, not "
              + delete.format()
              + " files; run it again");
    }
    boolean deleted = false;
    boolean onlySources = true;
    for (Map.Entry<String, Set<Long>> entry :
        ParquetRows.readPositionDeletes(table.io(), delete.location()).entrySet()) {
      long[] targets = rewrite.newLocations().get(entry.getKey());
      if (targets == null) {
        onlySources = false;
        continue;
      }
      for (long position : entry.getValue()) {
        long target = position < targets.length ? targets[(int) position] : -1;
        if (target < 0) {
          continue; // deleted in the base already: not in the new files
        }
        BitSet positions = deletedSince.get(DataFileRewrite.output(target));
        int newPosition = (int) DataFileRewrite.position(target);
        if (!positions.get(newPosition)) {
          positions.set(newPosition);
          rowsDeletedSince++;
          deleted = true;
        }
      }
    }
    if (onlySources) {
      obsolete.put(delete.location(), delete);
    }
    return deleted;
  }

  /**
   * Writes the positions carried over so far into delete files, one per new file (so that each
   * names the one data file it applies to), replacing those written before.
   */
  private void writeCarried() {
    UncommittedFiles.delete(table, carried.stream().map(DeleteFile::location).toList());
    carried.clear();
    DataFile first = rewrite.outputs().get(0);
    PartitionSpec spec = table.specs().get(first.specId());
    OutputFileFactory files = DataCompaction.outputFiles(table, first.specId(), "rewrite-deletes");
    for (int output = 0; output < deletedSince.size(); output++) {
      BitSet deleted = deletedSince.get(output);
      if (deleted.isEmpty()) {
        continue;
      }
      List<Long> positions = new ArrayList<>();
      deleted.stream().forEach(position -> positions.add((long) position));
      DataFile file = rewrite.outputs().get(output);
      carried.add(
          ParquetRows.writePositionDeletes(
              table,
              ParquetRows.newOutputFile(files, spec, file.partition()),
              spec,
              file.partition(),
              new TreeMap<>(Map.of(file.location(), positions))));
    }
  }
}
