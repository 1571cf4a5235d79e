package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.Scans;
import io.floe.core.catalog.TableFiles;
import io.floe.core.storage.UncommittedFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotChanges;
import org.apache.iceberg.SnapshotSummary;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.types.Types;

/**
 * Applies a stream of row changes to one Iceberg format-v2 table whose identifier fields are the
 * source's primary key, and commits them in batches.
 *
 * <p>Changes accumulate in memory until {@link #commit}: several changes to one row collapse to its
 * last state, so each commit writes at most one data file (the new row versions, in arrival order)
 * and one position-delete file (earlier versions that were updated or deleted, found through the
 * {@link KeyIndex}). The writer never writes equality deletes.
 *
 * <p>A value the source left out of an update (PostgreSQL's unchanged TOAST columns) is marked
 * unchanged by the caller and filled at commit from the row's previous version: from this batch, or
 * by reading the earlier data file at the indexed position.
 *
 * <p>Records passed in are owned by the writer from then on (it fills unchanged values into them):
 * pass a fresh record per change.
 *
 * <p>The writer expects to be the table's only writer of data, but does not rely on it. Before each
 * commit it reads the table's current snapshot: when another commit changed the table's data since
 * its own last commit (a rollback, a compaction committed by another process), it moves its index
 * onto the table's current files (reading only the files those commits changed, or after a rollback
 * all of them) and applies the pending batch on top of what the table holds now. A commit rejected
 * because such a change landed while it was being written is retried the same way; one that Iceberg
 * committed on top of such a change (they did not conflict) is caught up on before the next commit.
 * Commits that change no data (manifest rewrites, snapshot expiry) cost nothing.
 *
 * <p>Compaction of the data files it writes goes through the writer: table maintenance prepares the
 * new files on its own thread ({@link #beginRewrite}), and the writer commits them in its next
 * commit, with position deletes on the new files for the rows it changed meanwhile, and moves its
 * index to the new files. See {@code io.floe.maintenance} for the design and why it is exact.
 *
 * <p>Not thread-safe: one writer per table, used by one pipeline thread; only {@link #beginRewrite}
 * and {@link RewriteHandoff} may be used from other threads. After a failed commit the writer
 * refuses further use; open a new one (which reloads the index from the table).
 */
public final class CdcTableWriter {
  /**
   * Data files below this size count as small: the files of single CDC commits. Larger files (a
   * full load's, or earlier merges') are left to table maintenance, so that the writer's tidying
   * costs about as much as the changes it commits.
   */
  static final long SMALL_FILE_BYTES = 1L << 20;

  /** Small data files a table may gather before a commit compacts them. */
  static final int SMALL_FILES_TO_COMPACT = 4;

  /** Most bytes of small files one commit rewrites. */
  static final long COMPACTION_BYTES = 16L << 20;

  /** Snapshot summary property marking each writer commit, so the writer can find its own. */
  public static final String COMMIT_MARKER = "floe.writer.commit";

  /** Attempts at one commit when other commits to the table keep changing its data. */
  static final int COMMIT_ATTEMPTS = 3;

  /** Position-delete files below this size are merged by the writer; larger ones are left. */
  static final long SMALL_DELETE_FILE_BYTES = 256L << 10;

  /** Small position-delete files a table may gather before a commit merges them. */
  static final int DELETE_FILES_TO_MERGE = 2;

  private final Table table;
  private final Schema schema;
  private final RowKeys keys;
  private KeyIndex index;

  /** Live files of the table, as of the writer's last commit (the writer is the only writer). */
  private final Map<String, DataFile> dataFiles;

  private final Map<String, DeleteFile> deleteFiles;
  private final OutputFileFactory fileFactory;
  private boolean compactionEnabled = true;

  /** The snapshot {@link #index} describes: the writer's last commit, or the snapshot it loaded. */
  private long knownSnapshotId;

  private final String writerId = UUID.randomUUID().toString();
  private long commits;
  private final AtomicReference<RewriteHandoff> handoff = new AtomicReference<>();

  private final LinkedHashMap<Object, Pending> inserts = new LinkedHashMap<>();
  private final Map<Object, Long> deleted = new HashMap<>();

  /**
   * Keys this batch deleted that the index did not hold: a rebase looks them up again, in case the
   * table holds them now.
   */
  private final Set<Object> removedAbsent = new HashSet<>();

  /**
   * Earlier versions of rows deleted in this batch, for a key change reported as delete + insert.
   */
  private final Map<Object, Prior> removedPriors = new HashMap<>();

  private boolean truncate;
  private long changesInBatch;
  private long unchangedValuesFilled;
  private long indexFilesRead;
  private boolean broken;

  private CdcTableWriter(Table table) {
    this.table = requireNonNull(table, "table is null");
    this.schema = table.schema();
    this.keys = new RowKeys(schema);
    TableFiles files = TableFiles.load(table);
    this.dataFiles = new LinkedHashMap<>(files.dataFiles());
    this.deleteFiles = new LinkedHashMap<>(files.deleteFiles());
    this.index = KeyIndex.load(table, keys, files.deletesByDataFile());
    this.indexFilesRead = files.dataFiles().size();
    this.knownSnapshotId = snapshotId(table.currentSnapshot());
    this.fileFactory =
        OutputFileFactory.builderFor(table, 1, System.currentTimeMillis())
            .format(FileFormat.PARQUET)
            .operationId(UUID.randomUUID().toString())
            .build();
  }

  /** Opens a writer, loading the key index from the table's current snapshot. */
  public static CdcTableWriter open(Table table) {
    return new CdcTableWriter(table);
  }

  public Table table() {
    return table;
  }

  /**
   * Turns the tidying of small files in the writer's commits on or off (on by default). A full load
   * turns it off: its files are written once and are not worth rewriting while it runs.
   */
  public void setCompactionEnabled(boolean enabled) {
    this.compactionEnabled = enabled;
  }

  /** Live data files of the table, as of the writer's last commit. */
  public int dataFileCount() {
    return dataFiles.size();
  }

  /** Live position-delete files of the table, as of the writer's last commit. */
  public int deleteFileCount() {
    return deleteFiles.size();
  }

  public Schema schema() {
    return schema;
  }

  /** Rows in the table once the pending batch is committed. */
  public long liveRows() {
    long removed = deleted.keySet().stream().filter(key -> !inserts.containsKey(key)).count();
    long added = inserts.keySet().stream().filter(key -> !isCommitted(key)).count();
    return (truncate ? 0 : index.size()) - removed + added;
  }

  /** Values the source left out of updates that were taken from earlier row versions. */
  public long unchangedValuesFilled() {
    return unchangedValuesFilled;
  }

  /**
   * Data files whose keys the writer has read into its index: all of them when it opened and after
   * a rollback, then those other processes' commits added or changed.
   */
  long indexFilesRead() {
    return indexFilesRead;
  }

  /** Changes applied since the last commit. */
  public long pendingChanges() {
    return changesInBatch;
  }

  /**
   * Inserts a row, or replaces the row with the same key (a snapshot read or a replayed insert).
   *
   * @param unchanged positions of top-level fields whose value must be taken from the row's
   *     previous version, or null
   */
  public void upsert(Record row, BitSet unchanged) {
    checkUsable();
    Object key = keys.keyOf(row);
    Prior prior = lookup(key);
    put(key, row, unchanged, prior);
  }

  /**
   * Applies an update whose before image has key {@code oldKeyRow}'s key; a changed key is a delete
   * of the old row plus an insert of the new one.
   */
  public void update(Record oldKeyRow, Record row, BitSet unchanged) {
    checkUsable();
    Object newKey = keys.keyOf(row);
    Object oldKey = oldKeyRow == null ? newKey : keys.keyOf(oldKeyRow);
    Prior prior = lookup(oldKey);
    if (prior == Prior.NONE && oldKeyRow != null) {
      prior = removedPriors.getOrDefault(oldKey, Prior.NONE);
    }
    if (!oldKey.equals(newKey)) {
      removeKey(oldKey);
    }
    put(newKey, row, unchanged, prior);
  }

  /** Deletes the row with the key of {@code keyRow} (only key fields need be set). */
  public void delete(Record keyRow) {
    checkUsable();
    removeKey(keys.keyOf(keyRow));
    changesInBatch++;
  }

  /**
   * Removes every row, committed and pending; later changes in this batch apply to an empty table.
   */
  public void truncate() {
    checkUsable();
    inserts.clear();
    deleted.clear();
    removedAbsent.clear();
    removedPriors.clear();
    truncate = true;
    changesInBatch++;
  }

  /**
   * Writes the pending batch and commits it as one snapshot carrying {@code summary}, together with
   * a submitted rewrite if there is one. With no pending changes, no submitted rewrite and {@code
   * stampOnly} false, nothing is committed.
   *
   * @return the committed snapshot, or null if nothing was committed
   */
  public CommitResult commit(Map<String, String> summary, boolean stampOnly) {
    checkUsable();
    boolean empty = !truncate && inserts.isEmpty() && deleted.isEmpty();
    RewriteHandoff offered = handoff.get();
    if (empty && !stampOnly && (offered == null || !offered.submitted())) {
      changesInBatch = 0;
      return null;
    }
    long started = System.nanoTime();
    boolean rebased = false;
    try {
      RuntimeException rejected = null;
      for (int attempt = 1; ; attempt++) {
        if (catchUp()) {
          rebased = true;
          abandonRewrite("the table's data changed under it (rolled back, or written elsewhere)");
        } else if (rejected != null) {
          // Rejected, but no commit changed the table's data: trying again would not help.
          throw rejected;
        }
        RewriteHandoff taken = handoff.get();
        DataFileRewrite rewrite = taken == null ? null : taken.take();
        if (rewrite == null) {
          taken = null;
        }
        try {
          return attempt(summary, taken, rewrite, rebased, started);
        } catch (RuntimeException e) {
          if (taken != null) {
            taken.fail(e);
          }
          // Rejected because another commit landed while this one was written: try again on top
          // of it, if it changed the table's data.
          boolean rejection =
              e instanceof CommitFailedException || e instanceof ValidationException;
          if (!rejection || attempt == COMMIT_ATTEMPTS) {
            throw e;
          }
          rejected = e;
        } finally {
          if (taken != null) {
            handoff.compareAndSet(taken, null);
          }
        }
      }
    } catch (RuntimeException e) {
      broken = true;
      if (e instanceof FloeException) {
        throw e;
      }
      throw new FloeException(
          ErrorCode.TABLE_WRITE_FAILED,
          "Cannot commit changes to table " + table.name() + ": " + e.getMessage(),
          e);
    }
  }

  /** One attempt at committing the batch (and a rewrite); throws if it is rejected. */
  private CommitResult attempt(
      Map<String, String> summary,
      RewriteHandoff handoff,
      DataFileRewrite rewrite,
      boolean rebased,
      long started) {
    List<String> written = new ArrayList<>();
    List<String> rewriteOutputs = new ArrayList<>();
    if (rewrite != null) {
      rewrite.outputs().forEach(file -> rewriteOutputs.add(file.location()));
    }
    boolean attempted = false;
    try {
      fillUnchangedValues();
      Snapshot base = table.currentSnapshot();
      RowDelta delta = table.newRowDelta().scanManifestsWith(Scans.callerThread());
      if (truncate && base != null) {
        dataFiles.values().forEach(delta::removeRows);
        deleteFiles.values().forEach(delta::removeDeletes);
      }
      Tidy tidy = planTidy();
      AppliedRewrite applied = null;
      if (rewrite != null) {
        String rejection = null;
        if (truncate) {
          rejection = "the table is truncated in the same commit";
        } else {
          applied = applyRewrite(rewrite, tidy);
          rejection = applied.rejection;
        }
        if (rejection != null || applied.stale) {
          // The batch commits without it; the rewrite's files are not referenced anywhere.
          UncommittedFiles.delete(table, rewriteOutputs);
          rewriteOutputs.clear();
          if (rejection != null) {
            handoff.fail(rewriteRejected(rejection));
          } else {
            handoff.complete(RewriteHandoff.Outcome.STALE);
          }
          applied = null;
        }
      }
      NewData data = writeDataFile(tidy.compacted);
      if (data.file != null) {
        written.add(data.file.location());
        delta.addRows(data.file);
      }
      tidy.compacted.forEach(delta::removeRows);
      DeleteFile deleteFile = writeDeleteFile(tidy, applied);
      if (deleteFile != null) {
        written.add(deleteFile.location());
        delta.addDeletes(deleteFile);
      }
      tidy.mergedDeletes.forEach(delta::removeDeletes);
      Set<String> removed = new HashSet<>();
      tidy.compacted.forEach(file -> removed.add(file.location()));
      if (applied != null) {
        applied.sources.forEach(delta::removeRows);
        applied.sources.forEach(file -> removed.add(file.location()));
        applied.outputs.forEach(delta::addRows);
        applied.obsoleteDeletes.forEach(delta::removeDeletes);
      }
      // The data files the new deletes point at must still exist when the commit lands.
      Set<String> referenced = new HashSet<>();
      for (long location : deleted.values()) {
        referenced.add(index.path(location));
      }
      referenced.removeAll(removed);
      if (!referenced.isEmpty()) {
        delta.validateDataFilesExist(referenced);
      }
      if (base != null) {
        delta.validateFromSnapshot(base.snapshotId());
      }
      delta.validateDeletedFiles();
      summary.forEach(delta::set);
      commits++;
      String marker = writerId + ":" + commits;
      delta.set(COMMIT_MARKER, marker);
      attempted = true;
      delta.commit();

      int rows = inserts.size();
      int deletes = deleted.size();
      applyToIndex(data, tidy, deleteFile, applied);
      long committed = ownSnapshot(marker);
      knownSnapshotId = committed;
      if (landedBetween(table.snapshot(committed), snapshotId(base))) {
        // Iceberg applied the batch on top of commits that landed while it was written (they did
        // not conflict with it), whose changes the index does not have: the next commit catches
        // up on them, and on this one again, from the snapshot the batch was planned on.
        knownSnapshotId = snapshotId(base);
      }
      clearBatch();
      if (applied != null) {
        UncommittedFiles.delete(table, applied.unused);
        handoff.complete(
            new RewriteHandoff.Outcome(
                committed, applied.sources.size(), applied.rowsDeletedSince));
      }
      return new CommitResult(
          committed,
          rows,
          deletes,
          tidy.compacted.size(),
          tidy.mergedDeletes.size(),
          applied == null ? 0 : applied.sources.size(),
          rebased,
          System.nanoTime() - started);
    } catch (RuntimeException e) {
      // Files of a commit whose outcome is unknown may be referenced by the table: keep them.
      boolean rejected =
          !attempted || e instanceof CommitFailedException || e instanceof ValidationException;
      if (rejected) {
        written.addAll(rewriteOutputs);
        for (String location : written) {
          try {
            table.io().deleteFile(location);
          } catch (RuntimeException cleanup) {
            e.addSuppressed(cleanup);
          }
        }
      }
      throw e;
    }
  }

  private void clearBatch() {
    inserts.clear();
    deleted.clear();
    removedAbsent.clear();
    removedPriors.clear();
    truncate = false;
    changesInBatch = 0;
  }

  /**
   * Reserves data files for a rewrite prepared on another thread: the writer leaves them out of its
   * own tidying until the rewrite is committed or withdrawn. Thread-safe.
   *
   * @throws FloeException if another rewrite of the table is in progress
   */
  public RewriteHandoff beginRewrite(Set<String> dataFileLocations) {
    RewriteHandoff next = new RewriteHandoff(dataFileLocations);
    while (true) {
      RewriteHandoff current = handoff.get();
      if (current != null && !current.finished()) {
        throw new FloeException(
            ErrorCode.TABLE_STATE_INVALID,
            "Cannot rewrite data files of table "
                + table.name()
                + ": another rewrite of it is in progress; run it again once that one is done");
      }
      if (handoff.compareAndSet(current, next)) {
        return next;
      }
    }
  }

  /** Whether a rewrite waits for the writer's next commit. */
  public boolean rewriteSubmitted() {
    RewriteHandoff current = handoff.get();
    return current != null && current.submitted();
  }

  /** Withdraws a rewrite that the writer has not taken yet, failing it with {@code reason}. */
  void abandonRewrite(String reason) {
    RewriteHandoff current = handoff.get();
    if (current != null && current.withdraw("Cannot commit the rewrite: " + reason)) {
      handoff.compareAndSet(current, null);
    }
  }

  private static long snapshotId(Snapshot snapshot) {
    return snapshot == null ? -1 : snapshot.snapshotId();
  }

  /**
   * Reads the table's current state and, if another commit changed its data since the snapshot the
   * index describes, moves the index onto it and the pending batch with it.
   *
   * @return whether the index was moved
   */
  private boolean catchUp() {
    table.refresh();
    Snapshot current = table.currentSnapshot();
    if (snapshotId(current) == knownSnapshotId) {
      return false;
    }
    List<Snapshot> changes = new ArrayList<>();
    boolean descends = changesSince(current, knownSnapshotId, changes);
    if (descends && changes.isEmpty()) {
      knownSnapshotId = snapshotId(current);
      return false;
    }
    rebase(descends ? changes : null);
    knownSnapshotId = snapshotId(current);
    return true;
  }

  /**
   * Collects the snapshots from {@code from} back to the snapshot {@code ancestor} (excluded) that
   * added or removed files, newest first.
   *
   * @return whether {@code ancestor} is an ancestor of {@code from}: false after a rollback, or
   *     when it has been expired
   */
  private boolean changesSince(Snapshot from, long ancestor, List<Snapshot> changes) {
    Snapshot snapshot = from;
    while (snapshot != null) {
      if (snapshot.snapshotId() == ancestor) {
        return true;
      }
      if (changesFiles(snapshot)) {
        changes.add(snapshot);
      }
      snapshot = snapshot.parentId() == null ? null : table.snapshot(snapshot.parentId());
    }
    return false;
  }

  /**
   * Whether commits between {@code planned} and the writer's own snapshot {@code own} (taken in by
   * Iceberg under its commit) changed files, or {@code planned} is not an ancestor of it.
   */
  private boolean landedBetween(Snapshot own, long planned) {
    if (own == null) {
      return false;
    }
    Snapshot parent = own.parentId() == null ? null : table.snapshot(own.parentId());
    List<Snapshot> between = new ArrayList<>();
    boolean descends = changesSince(parent, planned, between);
    return !between.isEmpty() || (!descends && planned != -1);
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

  /** The snapshot this writer committed with {@code marker}: the newest with it, or -2 if gone. */
  private long ownSnapshot(String marker) {
    Snapshot snapshot = table.currentSnapshot();
    while (snapshot != null) {
      if (marker.equals(snapshot.summary().get(COMMIT_MARKER))) {
        return snapshot.snapshotId();
      }
      snapshot = snapshot.parentId() == null ? null : table.snapshot(snapshot.parentId());
    }
    return -2;
  }

  /**
   * Moves the index onto the table's current snapshot and resolves the pending batch against it:
   * rows the batch deletes or replaces are looked up again, and so are the rows whose values fill
   * the columns an update left unchanged.
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
    if (changes == null) {
      fresh = KeyIndex.load(table, keys, files.deletesByDataFile());
      indexFilesRead += files.dataFiles().size();
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
      fresh = index;
      fresh.refresh(table, keys, dropped, reread, files.deletesByDataFile());
      indexFilesRead += reread.size();
    }
    Map<Object, Long> toDelete = new HashMap<>();
    if (!truncate) {
      for (Object key : deleted.keySet()) {
        Long location = fresh.get(key);
        if (location != null) {
          toDelete.put(key, location);
        }
      }
      for (Object key : inserts.keySet()) {
        Long location = fresh.get(key);
        if (location != null) {
          toDelete.put(key, location);
        }
      }
      for (Object key : removedAbsent) {
        Long location = fresh.get(key);
        if (location != null && !inserts.containsKey(key)) {
          toDelete.put(key, location);
        }
      }
    }
    for (Pending pending : inserts.values()) {
      if (pending.unresolved != null) {
        Long location = fresh.get(pending.fillKey);
        if (location == null) {
          throw new FloeException(
              ErrorCode.TABLE_STATE_INVALID,
              "Cannot apply update to table "
                  + table.name()
                  + ": the source left some columns unchanged (not sent), and the row with key "
                  + pending.fillKey
                  + " that holds their values is no longer in the table, which another commit"
                  + " changed (a rollback?); reload the table (drop it and restart the pipeline)");
        }
        pending.fillFrom = location;
      }
    }
    removedPriors.replaceAll(
        (key, prior) -> {
          if (prior.pending != null) {
            return prior;
          }
          Long location = fresh.get(key);
          return location == null ? Prior.NONE : new Prior(null, location, key);
        });
    removedPriors.values().removeIf(prior -> prior == Prior.NONE);
    deleted.clear();
    deleted.putAll(toDelete);
    dataFiles.clear();
    dataFiles.putAll(files.dataFiles());
    deleteFiles.clear();
    deleteFiles.putAll(files.deleteFiles());
    index = fresh;
  }

  private void checkUsable() {
    if (broken) {
      throw new FloeException(
          ErrorCode.TABLE_STATE_INVALID,
          "Cannot use the writer of table "
              + table.name()
              + " after a failed commit; open a new writer");
    }
  }

  private boolean isCommitted(Object key) {
    return !truncate && index.get(key) != null;
  }

  private Prior lookup(Object key) {
    Pending pending = inserts.get(key);
    if (pending != null) {
      return new Prior(pending, -1, key);
    }
    if (truncate || deleted.containsKey(key)) {
      return Prior.NONE;
    }
    Long location = index.get(key);
    return location == null ? Prior.NONE : new Prior(null, location, key);
  }

  private void removeKey(Object key) {
    Prior prior = lookup(key);
    if (prior != Prior.NONE) {
      removedPriors.put(key, prior);
    }
    inserts.remove(key);
    if (truncate || deleted.containsKey(key)) {
      return;
    }
    Long location = index.get(key);
    if (location != null) {
      deleted.put(key, location);
    } else {
      removedAbsent.add(key);
    }
  }

  private void put(Object key, Record row, BitSet unchanged, Prior prior) {
    if (!inserts.containsKey(key) && !truncate && !deleted.containsKey(key)) {
      Long location = index.get(key);
      if (location != null) {
        deleted.put(key, location);
      }
    }
    Pending pending = new Pending(row);
    if (unchanged != null && !unchanged.isEmpty()) {
      if (prior.pending != null) {
        for (int field = unchanged.nextSetBit(0);
            field >= 0;
            field = unchanged.nextSetBit(field + 1)) {
          if (prior.pending.unresolved != null && prior.pending.unresolved.get(field)) {
            pending.markUnresolved(field, prior.pending.fillFrom, prior.pending.fillKey);
          } else {
            pending.row.set(field, prior.pending.row.get(field));
            unchangedValuesFilled++;
          }
        }
      } else if (prior.location >= 0) {
        for (int field = unchanged.nextSetBit(0);
            field >= 0;
            field = unchanged.nextSetBit(field + 1)) {
          pending.markUnresolved(field, prior.location, prior.key);
        }
      } else {
        throw new FloeException(
            ErrorCode.TABLE_STATE_INVALID,
            "Cannot apply update to table "
                + table.name()
                + ": the source left column "
                + schema.columns().get(unchanged.nextSetBit(0)).name()
                + " unchanged (not sent), but no earlier version of the row with key "
                + key
                + " exists in the table; reload the table (drop it and restart the pipeline)");
      }
    }
    inserts.remove(key);
    inserts.put(key, pending);
    changesInBatch++;
  }

  /** Reads values of unchanged columns from earlier data files, one read per file. */
  private void fillUnchangedValues() {
    Map<String, Map<Long, List<Pending>>> byFile = new HashMap<>();
    BitSet fields = new BitSet();
    for (Pending pending : inserts.values()) {
      if (pending.unresolved != null) {
        byFile
            .computeIfAbsent(index.path(pending.fillFrom), path -> new HashMap<>())
            .computeIfAbsent(KeyIndex.position(pending.fillFrom), position -> new ArrayList<>())
            .add(pending);
        fields.or(pending.unresolved);
      }
    }
    if (byFile.isEmpty()) {
      return;
    }
    Set<Integer> fieldIds = new HashSet<>();
    List<Integer> positions = new ArrayList<>();
    for (int field = fields.nextSetBit(0); field >= 0; field = fields.nextSetBit(field + 1)) {
      fieldIds.add(schema.columns().get(field).fieldId());
    }
    Schema projection = TypeUtil.select(schema, fieldIds);
    for (Types.NestedField column : projection.columns()) {
      positions.add(schema.columns().indexOf(schema.findField(column.fieldId())));
    }
    Schema projectionWithPosition = ParquetRows.withPosition(projection);
    for (Map.Entry<String, Map<Long, List<Pending>>> file : byFile.entrySet()) {
      Map<Long, List<Pending>> wanted = file.getValue();
      int found = 0;
      try (CloseableIterable<Record> rows =
          ParquetRows.read(table.io(), file.getKey(), projectionWithPosition)) {
        for (Record row : rows) {
          List<Pending> targets = wanted.get(ParquetRows.position(row));
          if (targets == null) {
            continue;
          }
          found++;
          for (Pending pending : targets) {
            for (int i = 0; i < positions.size(); i++) {
              int field = positions.get(i);
              if (pending.unresolved.get(field)) {
                pending.row.set(field, row.get(i));
                unchangedValuesFilled++;
              }
            }
            pending.unresolved = null;
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      if (found != wanted.size()) {
        throw new FloeException(
            ErrorCode.TABLE_STATE_INVALID,
            "Cannot fill unchanged values for table "
                + table.name()
                + ": "
                + (wanted.size() - found)
                + " indexed rows are missing from "
                + file.getKey());
      }
    }
  }

  /**
   * Decides what this commit tidies. CDC commits are small, so a table gathers many small data
   * files and one position-delete file per commit, and every read pays for opening them. The writer
   * folds them as part of its own commits: it knows every live row's location, and it is the
   * table's only writer, so tidying never conflicts with ingestion.
   *
   * <ul>
   *   <li>When more than {@link #SMALL_FILES_TO_COMPACT} data files are smaller than {@link
   *       #SMALL_FILE_BYTES}, the live rows of the smallest of them (up to {@link
   *       #COMPACTION_BYTES}) are rewritten into this commit's data file.
   *   <li>When more than {@link #DELETE_FILES_TO_MERGE} position-delete files are smaller than
   *       {@link #SMALL_DELETE_FILE_BYTES}, they are merged with this commit's deletes into one
   *       file, leaving out positions of data files that are gone.
   * </ul>
   */
  private Tidy planTidy() {
    Tidy tidy = new Tidy();
    if (truncate || !compactionEnabled) {
      return tidy;
    }
    // Files reserved by a rewrite in progress are left to it.
    RewriteHandoff rewrite = handoff.get();
    if (rewrite != null && rewrite.finished() && handoff.compareAndSet(rewrite, null)) {
      rewrite = null; // withdrawn by the compaction, which failed or gave up
    }
    Set<String> reserved = rewrite == null ? Set.of() : rewrite.reserved();
    List<DataFile> small = new ArrayList<>();
    for (DataFile file : dataFiles.values()) {
      if (file.fileSizeInBytes() < SMALL_FILE_BYTES && !reserved.contains(file.location())) {
        small.add(file);
      }
    }
    if (small.size() > SMALL_FILES_TO_COMPACT) {
      small.sort((left, right) -> Long.compare(left.fileSizeInBytes(), right.fileSizeInBytes()));
      long bytes = 0;
      for (DataFile file : small) {
        if (bytes + file.fileSizeInBytes() > COMPACTION_BYTES && tidy.compacted.size() > 1) {
          break;
        }
        bytes += file.fileSizeInBytes();
        tidy.compacted.add(file);
      }
    }
    List<DeleteFile> smallDeletes = new ArrayList<>();
    for (DeleteFile file : deleteFiles.values()) {
      if (file.fileSizeInBytes() < SMALL_DELETE_FILE_BYTES) {
        smallDeletes.add(file);
      }
    }
    if (smallDeletes.size() + 1 > DELETE_FILES_TO_MERGE) {
      tidy.mergedDeletes.addAll(smallDeletes);
    }
    return tidy;
  }

  /** Writes the batch's rows, then the live rows of the files being compacted. */
  private NewData writeDataFile(List<DataFile> compacted) {
    NewData data = new NewData();
    if (inserts.isEmpty() && compacted.isEmpty()) {
      return data;
    }
    DataWriter<Record> writer =
        ParquetRows.dataWriter(table, fileFactory.newOutputFile(), table.spec(), null);
    try (writer) {
      for (Pending pending : inserts.values()) {
        writer.write(pending.row);
      }
      Schema withPosition = ParquetRows.withPosition(schema);
      for (DataFile file : compacted) {
        int fileNumber = index.fileNumber(file.location());
        try (CloseableIterable<Record> rows =
            ParquetRows.read(table.io(), file.location(), withPosition)) {
          for (Record row : rows) {
            Object key = keys.keyOf(row);
            Long location = index.get(key);
            if (location == null
                || location != KeyIndex.location(fileNumber, ParquetRows.position(row))
                || deleted.containsKey(key)) {
              continue; // deleted earlier, or in this batch
            }
            GenericRecord copy = GenericRecord.create(schema);
            for (int field = 0; field < schema.columns().size(); field++) {
              copy.set(field, row.get(field));
            }
            writer.write(copy);
            data.carriedKeys.add(key);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    data.file = writer.toDataFile();
    return data;
  }

  private DeleteFile writeDeleteFile(Tidy tidy, AppliedRewrite applied) {
    Set<String> removed = new HashSet<>();
    tidy.compacted.forEach(file -> removed.add(file.location()));
    if (applied != null) {
      applied.sources.forEach(file -> removed.add(file.location()));
    }
    // Position deletes must be sorted by file path, then position.
    TreeMap<String, List<Long>> byPath = new TreeMap<>();
    for (long location : deleted.values()) {
      String path = index.path(location);
      if (!removed.contains(path)) {
        byPath.computeIfAbsent(path, p -> new ArrayList<>()).add(KeyIndex.position(location));
      }
    }
    if (applied != null) {
      applied.outputDeletes.forEach(
          (path, positions) ->
              byPath.computeIfAbsent(path, p -> new ArrayList<>()).addAll(positions));
    }
    for (DeleteFile merged : tidy.mergedDeletes) {
      ParquetRows.readPositionDeletes(table.io(), merged.location())
          .forEach(
              (path, positions) -> {
                if (dataFiles.containsKey(path) && !removed.contains(path)) {
                  byPath.computeIfAbsent(path, p -> new ArrayList<>()).addAll(positions);
                }
              });
    }
    if (byPath.isEmpty()) {
      return null;
    }
    return ParquetRows.writePositionDeletes(
        table, fileFactory.newOutputFile(), table.spec(), null, byPath);
  }

  private void applyToIndex(
      NewData data, Tidy tidy, DeleteFile deleteFile, AppliedRewrite applied) {
    if (truncate) {
      index.clear();
      dataFiles.clear();
      deleteFiles.clear();
    }
    for (Object key : deleted.keySet()) {
      index.remove(key);
    }
    if (data.file != null) {
      int fileNumber = index.fileNumber(data.file.location());
      long position = 0;
      for (Object key : inserts.keySet()) {
        index.put(key, KeyIndex.location(fileNumber, position++));
      }
      for (Object key : data.carriedKeys) {
        index.put(key, KeyIndex.location(fileNumber, position++));
      }
      dataFiles.put(data.file.location(), data.file);
    }
    tidy.compacted.forEach(file -> dataFiles.remove(file.location()));
    tidy.mergedDeletes.forEach(file -> deleteFiles.remove(file.location()));
    if (applied != null) {
      int[] fileNumbers = new int[applied.rewrite.outputs().size()];
      for (int output = 0; output < fileNumbers.length; output++) {
        fileNumbers[output] = index.fileNumber(applied.rewrite.outputs().get(output).location());
      }
      for (int i = 0; i < applied.movedKeys.size(); i++) {
        long target = applied.movedTo[i];
        index.put(
            applied.movedKeys.get(i),
            KeyIndex.location(fileNumbers[KeyIndex.fileNumber(target)], KeyIndex.position(target)));
      }
      applied.sources.forEach(file -> dataFiles.remove(file.location()));
      applied.outputs.forEach(file -> dataFiles.put(file.location(), file));
      applied.obsoleteDeletes.forEach(file -> deleteFiles.remove(file.location()));
    }
    if (!tidy.compacted.isEmpty() || applied != null) {
      // Iceberg drops delete files that only pointed at removed data files: forget them too.
      SnapshotChanges changes =
          SnapshotChanges.builderFor(table).snapshot(table.currentSnapshot()).build();
      for (DeleteFile dropped : changes.removedDeleteFiles()) {
        deleteFiles.remove(dropped.location());
      }
    }
    if (deleteFile != null) {
      deleteFiles.put(deleteFile.location(), deleteFile);
    }
  }

  /**
   * Decides how a submitted rewrite enters this commit. Each row the rewrite carried is still live
   * exactly when the index still has its key at the row's old location and this batch does not
   * delete or replace it; those rows move to their new location, and every other carried row gets a
   * position delete on the new file. So whatever the writer committed since the rewrite's base
   * snapshot (updates, deletes, its own tidying of the same files) is kept.
   */
  private AppliedRewrite applyRewrite(DataFileRewrite rewrite, Tidy tidy) {
    AppliedRewrite applied = new AppliedRewrite(rewrite);
    Map<Integer, long[]> newLocations = new HashMap<>();
    for (DataFile source : rewrite.sources()) {
      if (dataFiles.containsKey(source.location())) {
        applied.sources.add(source);
        newLocations.put(
            index.fileNumber(source.location()), rewrite.newLocations().get(source.location()));
      }
    }
    if (applied.sources.isEmpty()) {
      applied.stale = true;
      return applied;
    }
    int outputs = rewrite.outputs().size();
    BitSet[] live = new BitSet[outputs];
    for (int output = 0; output < outputs; output++) {
      live[output] = new BitSet();
    }
    applied.movedTo = new long[1024];
    index.forEach(
        (key, location) -> {
          long[] targets = newLocations.get(KeyIndex.fileNumber(location));
          if (targets == null || deleted.containsKey(key)) {
            return;
          }
          long position = KeyIndex.position(location);
          long target = position < targets.length ? targets[(int) position] : -1;
          if (target < 0) {
            applied.rejection =
                "row "
                    + position
                    + " of "
                    + index.path(location)
                    + " is live but was deleted in the rewrite's base snapshot";
            return;
          }
          live[KeyIndex.fileNumber(target)].set((int) KeyIndex.position(target));
          applied.movedKeys.add(key);
          int moved = applied.movedKeys.size() - 1;
          if (moved == applied.movedTo.length) {
            applied.movedTo = Arrays.copyOf(applied.movedTo, moved * 2);
          }
          applied.movedTo[moved] = target;
        });
    if (applied.rejection != null) {
      return applied;
    }
    for (int output = 0; output < outputs; output++) {
      DataFile file = rewrite.outputs().get(output);
      int rows = (int) file.recordCount();
      if (live[output].cardinality() == 0) {
        applied.unused.add(file.location());
        continue;
      }
      applied.outputs.add(file);
      List<Long> positions = new ArrayList<>();
      for (int position = live[output].nextClearBit(0);
          position < rows;
          position = live[output].nextClearBit(position + 1)) {
        positions.add((long) position);
      }
      if (!positions.isEmpty()) {
        applied.outputDeletes.put(file.location(), positions);
        applied.rowsDeletedSince += positions.size();
      }
    }
    for (DeleteFile obsolete : rewrite.obsoleteDeletes()) {
      if (deleteFiles.containsKey(obsolete.location()) && !tidy.mergedDeletes.contains(obsolete)) {
        applied.obsoleteDeletes.add(obsolete);
      }
    }
    return applied;
  }

  private FloeException rewriteRejected(String reason) {
    return new FloeException(
        ErrorCode.TABLE_STATE_INVALID,
        "Cannot commit the rewrite of data files of table "
            + table.name()
            + ": "
            + reason
            + "; run it again");
  }

  /** How a submitted rewrite enters a commit. */
  private static final class AppliedRewrite {
    private final DataFileRewrite rewrite;

    /** Sources still live: removed by the commit. */
    private final List<DataFile> sources = new ArrayList<>();

    /** Outputs that hold at least one live row: added by the commit. */
    private final List<DataFile> outputs = new ArrayList<>();

    /** Outputs without a live row: not committed, deleted after the commit. */
    private final List<String> unused = new ArrayList<>();

    private final List<DeleteFile> obsoleteDeletes = new ArrayList<>();
    private final Map<String, List<Long>> outputDeletes = new HashMap<>();
    private final List<Object> movedKeys = new ArrayList<>();
    private long[] movedTo;
    private long rowsDeletedSince;

    /** Why the rewrite cannot be committed, or null. */
    private String rejection;

    /** Whether none of its sources is live any more: the writer compacted them meanwhile. */
    private boolean stale;

    AppliedRewrite(DataFileRewrite rewrite) {
      this.rewrite = rewrite;
    }
  }

  /** What one commit tidies. */
  private static final class Tidy {
    private final List<DataFile> compacted = new ArrayList<>();
    private final List<DeleteFile> mergedDeletes = new ArrayList<>();
  }

  /** The data file a commit writes and the keys of carried (compacted) rows, in file order. */
  private static final class NewData {
    private DataFile file;
    private final List<Object> carriedKeys = new ArrayList<>();
  }

  /**
   * Outcome of one commit.
   *
   * @param filesRewritten data files replaced by a rewrite committed with the batch
   * @param rebased whether another commit had changed the table's data, so that the writer moved
   *     its index onto the table's files before committing
   */
  public record CommitResult(
      long snapshotId,
      int rowsWritten,
      int rowsDeleted,
      int filesCompacted,
      int deleteFilesMerged,
      int filesRewritten,
      boolean rebased,
      long nanos) {}

  private static final class Pending {
    private final Record row;
    private BitSet unresolved;
    private long fillFrom = -1;

    /** Key of the committed row at {@link #fillFrom}. */
    private Object fillKey;

    Pending(Record row) {
      this.row = row;
    }

    void markUnresolved(int field, long location, Object key) {
      if (unresolved == null) {
        unresolved = new BitSet();
      }
      unresolved.set(field);
      fillFrom = location;
      fillKey = key;
    }
  }

  /** The version of a row before a change: pending in this batch, or committed at a location. */
  private static final class Prior {
    static final Prior NONE = new Prior(null, -1, null);

    private final Pending pending;
    private final long location;
    private final Object key;

    Prior(Pending pending, long location, Object key) {
      this.pending = pending;
      this.location = location;
      this.key = key;
    }
  }
}
