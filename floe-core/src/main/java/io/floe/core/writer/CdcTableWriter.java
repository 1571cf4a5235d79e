package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.Scans;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotChanges;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;

/**
 * Applies a stream of row changes to one Iceberg format-v2 table whose identifier fields are the
 * source's primary key, and commits them in batches.
 *
 * <p>Changes accumulate in memory until {@link #commit} (or {@link #checkpoint}): several changes
 * to one row collapse to its last state, so each commit writes at most one data file (the new row
 * versions, in arrival order) and one position-delete file (earlier versions that were updated or
 * deleted, found through the {@link KeyIndex}) per partition it touches. The writer never writes
 * equality deletes.
 *
 * <p>A partitioned table's rows go to the partition of the table's current spec; a row whose update
 * moves it to another partition is written there, and its old version deleted by position in its
 * old file. A spec changed by another process (partition evolution) takes effect from the writer's
 * next commit after it saw the change; earlier files keep their spec.
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
 * all of them) and applies the pending batch on top of what the table holds now ({@code CatchUp}).
 * A commit that such a change conflicted with while it was being written, or that concurrent
 * commits kept Iceberg from landing, is caught up and attempted again, a bounded number of times
 * ({@code CommitPolicy} has the rules, and the errors a failed commit reports); one that Iceberg
 * committed on top of such a change (they did not conflict) is caught up on before the next commit.
 * Commits that change no data (manifest rewrites, snapshot expiry) cost nothing.
 *
 * <p>Compaction of the data files it writes goes through the writer: table maintenance prepares the
 * new files on its own thread ({@link #beginRewrite}), and the writer commits them in its next
 * commit, with position deletes on the new files for the rows it changed meanwhile, and moves its
 * index to the new files ({@code AppliedRewrite}). See {@code io.floe.maintenance} for the design
 * and why it is exact.
 *
 * <p>Not thread-safe: one writer per table, used by one pipeline thread; only {@link #beginRewrite}
 * and {@link RewriteHandoff} may be used from other threads. After a failed commit the writer
 * refuses further use; open a new one (which reloads the index from the table).
 */
public final class CdcTableWriter implements TableWriter {
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

  /** Position-delete files below this size are merged by the writer; larger ones are left. */
  static final long SMALL_DELETE_FILE_BYTES = 256L << 10;

  /** Small position-delete files a table may gather before a commit merges them. */
  static final int DELETE_FILES_TO_MERGE = 2;

  private final Table table;
  private final Schema schema;
  private final RowKeys keys;
  private final TableState state;
  private final PendingBatch batch;
  private final CatchUp catchUp;
  private final CommitPolicy policy;
  private final CommitFiles files;
  private boolean compactionEnabled = true;

  private final String writerId = UUID.randomUUID().toString();
  private long commits;
  private final AtomicReference<RewriteHandoff> handoff = new AtomicReference<>();
  private boolean broken;

  private CdcTableWriter(Table table) {
    this.table = requireNonNull(table, "table is null");
    this.schema = table.schema();
    this.keys = new RowKeys(table.name(), schema);
    this.state = TableState.load(table, keys);
    this.batch = new PendingBatch(table, schema, keys, state);
    this.catchUp = new CatchUp(table, keys, state, batch);
    this.policy = new CommitPolicy(table.name());
    this.files = new CommitFiles(table, schema, keys, state, batch);
  }

  /** Opens a writer, loading the key index from the table's current snapshot. */
  public static CdcTableWriter open(Table table) {
    return new CdcTableWriter(table);
  }

  @Override
  public Table table() {
    return table;
  }

  /**
   * Turns the tidying of small files in the writer's commits on or off (on by default). A full load
   * turns it off: its files are written once and are not worth rewriting while it runs.
   */
  @Override
  public void setCompactionEnabled(boolean enabled) {
    this.compactionEnabled = enabled;
  }

  /** Live data files of the table, as of the writer's last commit. */
  public int dataFileCount() {
    return state.dataFiles().size();
  }

  /** Live position-delete files of the table, as of the writer's last commit. */
  public int deleteFileCount() {
    return state.deleteFiles().size();
  }

  @Override
  public Schema schema() {
    return schema;
  }

  /** Rows in the table once the pending batch is committed. */
  @Override
  public long liveRows() {
    return batch.liveRows();
  }

  /** Values the source left out of updates that were taken from earlier row versions. */
  @Override
  public long unchangedValuesFilled() {
    return batch.unchangedValuesFilled();
  }

  /**
   * Data files whose keys the writer has read into its index: all of them when it opened and after
   * a rollback, then those other processes' commits added or changed.
   */
  long indexFilesRead() {
    return state.indexFilesRead();
  }

  /** Changes applied since the last commit. */
  @Override
  public long pendingChanges() {
    return batch.changes();
  }

  /**
   * Inserts a row, or replaces the row with the same key (a snapshot read or a replayed insert).
   *
   * @param unchanged positions of top-level fields whose value must be taken from the row's
   *     previous version, or null
   */
  @Override
  public void upsert(Record row, BitSet unchanged) {
    checkUsable();
    batch.upsert(row, unchanged);
  }

  /**
   * Applies an update whose before image has key {@code oldKeyRow}'s key; a changed key is a delete
   * of the old row plus an insert of the new one.
   */
  @Override
  public void update(Record oldKeyRow, Record row, BitSet unchanged) {
    checkUsable();
    batch.update(oldKeyRow, row, unchanged);
  }

  /** Deletes the row with the key of {@code keyRow} (only key fields need be set). */
  @Override
  public void delete(Record keyRow) {
    checkUsable();
    batch.delete(keyRow);
  }

  /**
   * Whether the table holds a row with the key of {@code keyRow} (only key fields need be set) once
   * the pending batch commits: a look into the writer's index, no read of the table.
   */
  public boolean holds(Record keyRow) {
    checkUsable();
    return batch.holds(keyRow);
  }

  /**
   * Removes every row, committed and pending; later changes in this batch apply to an empty table.
   */
  @Override
  public void truncate() {
    checkUsable();
    batch.truncate();
  }

  /**
   * Writes the pending batch and commits it as one snapshot carrying {@code summary}, together with
   * a submitted rewrite if there is one; with neither, commits nothing.
   *
   * @param summary properties for the snapshot's summary (a pipeline's source position)
   * @return the commit, or empty if there was nothing to commit
   * @throws FloeException if the commit failed; the writer cannot be used after that
   */
  @Override
  public Optional<CommitResult> commit(Map<String, String> summary) {
    requireNonNull(summary, "summary is null");
    checkUsable();
    if (batch.isEmpty() && !rewriteSubmitted()) {
      batch.resetChanges();
      return Optional.empty();
    }
    return Optional.of(commitSnapshot(summary));
  }

  /**
   * Commits a snapshot carrying {@code summary} even if there is nothing else to commit, with the
   * pending batch and a submitted rewrite if there are: a checkpoint, so that the table records a
   * position (a pipeline's, when its full load completes, on every table it loaded).
   *
   * @throws FloeException if the commit failed; the writer cannot be used after that
   */
  @Override
  public CommitResult checkpoint(Map<String, String> summary) {
    requireNonNull(summary, "summary is null");
    checkUsable();
    return commitSnapshot(summary);
  }

  /**
   * Commits the batch and a submitted rewrite, if any, as one snapshot carrying the summary,
   * attempting it again when {@link CommitPolicy} says so.
   */
  private CommitResult commitSnapshot(Map<String, String> summary) {
    long started = System.nanoTime();
    try {
      boolean rebased = false;
      boolean moved = catchUp.catchUp();
      for (int attempt = 1; ; attempt++) {
        if (moved) {
          rebased = true;
          abandonRewrite("the table's data changed under it (rolled back, or written elsewhere)");
        }
        RewriteHandoff taken = handoff.get();
        DataFileRewrite rewrite = taken == null ? null : taken.take();
        if (rewrite == null) {
          taken = null;
        }
        try {
          Landed landed;
          try {
            landed = attempt(summary, taken, rewrite);
          } catch (RuntimeException failure) {
            moved = afterFailedAttempt(failure, attempt, taken);
            continue;
          }
          try {
            return takeIn(landed, rebased, started);
          } catch (RuntimeException failure) {
            FloeException error = policy.errorAfterCommit(failure);
            if (taken != null) {
              taken.fail(error);
            }
            throw error;
          }
        } finally {
          if (taken != null) {
            handoff.compareAndSet(taken, null);
          }
        }
      }
    } catch (RuntimeException e) {
      broken = true;
      throw policy.error(e);
    }
  }

  /**
   * Asks the policy what follows a failed attempt, and fails the rewrite the attempt carried.
   *
   * @return whether catching up before the next attempt moved the index onto other commits
   * @throws FloeException if the commit is not attempted again
   */
  private boolean afterFailedAttempt(RuntimeException failure, int attempt, RewriteHandoff taken) {
    boolean moved;
    try {
      moved = policy.beforeNextAttempt(failure, attempt, catchUp);
    } catch (RuntimeException e) {
      FloeException error = policy.error(e);
      if (taken != null) {
        taken.fail(error);
      }
      throw error;
    }
    if (taken != null) {
      taken.fail(policy.rewriteLeftOut(failure));
    }
    return moved;
  }

  /**
   * One attempt at committing the batch (and a rewrite): writes their files and commits them.
   * Deletes the files it wrote if it fails, unless the table may reference them.
   */
  private Landed attempt(
      Map<String, String> summary, RewriteHandoff taken, DataFileRewrite rewrite) {
    List<String> written = new ArrayList<>();
    List<String> rewriteOutputs = new ArrayList<>();
    if (rewrite != null) {
      rewrite.outputs().forEach(file -> rewriteOutputs.add(file.location()));
    }
    boolean commitCalled = false;
    try {
      batch.fillUnchangedValues();
      Snapshot base = table.currentSnapshot();
      RowDelta delta = table.newRowDelta().scanManifestsWith(Scans.callerThread());
      if (batch.truncates() && base != null) {
        state.dataFiles().values().forEach(delta::removeRows);
        state.deleteFiles().values().forEach(delta::removeDeletes);
      }
      TidyPlan tidy = planTidy();
      AppliedRewrite applied = null;
      if (rewrite != null) {
        applied = AppliedRewrite.apply(table, taken, rewrite, state, batch, tidy).orElse(null);
        if (applied == null) {
          rewriteOutputs.clear(); // deleted already, and the handoff told why
        }
      }
      CommitFiles.NewData data = files.writeDataFiles(tidy.compacted());
      for (CommitFiles.Written file : data.files()) {
        written.add(file.file().location());
        delta.addRows(file.file());
      }
      tidy.compacted().forEach(delta::removeRows);
      List<DeleteFile> deleteFiles = files.writeDeleteFiles(tidy, applied);
      for (DeleteFile deleteFile : deleteFiles) {
        written.add(deleteFile.location());
        delta.addDeletes(deleteFile);
      }
      tidy.mergedDeletes().forEach(delta::removeDeletes);
      Set<String> removed = new HashSet<>();
      tidy.compacted().forEach(file -> removed.add(file.location()));
      if (applied != null) {
        applied.addTo(delta);
        applied.sources().forEach(file -> removed.add(file.location()));
      }
      // The data files the new deletes point at must still exist when the commit lands.
      Set<String> referenced = new HashSet<>();
      for (long location : batch.deleted().values()) {
        referenced.add(state.index().path(location));
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
      commitCalled = true;
      delta.commit();
      return new Landed(base, marker, data, tidy, deleteFiles, applied);
    } catch (RuntimeException e) {
      if (CommitPolicy.writtenFilesUnreferenced(e, commitCalled)) {
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

  /** Moves the writer onto its commit that landed, and completes the rewrite it carried. */
  private CommitResult takeIn(Landed landed, boolean rebased, long started) {
    int rows = batch.insertedKeys().size();
    int deletes = batch.deleted().size();
    applyToState(landed.data, landed.tidy, landed.deleteFiles, landed.applied);
    OptionalLong committed = catchUp.committed(landed.marker, landed.base);
    batch.clear();
    if (landed.applied != null) {
      landed.applied.committed(table, committed);
    }
    return new CommitResult(
        committed,
        rows,
        deletes,
        landed.tidy.compacted().size(),
        landed.tidy.mergedDeletes().size(),
        landed.applied == null ? 0 : landed.applied.sources().size(),
        rebased,
        System.nanoTime() - started);
  }

  /**
   * Decides what this commit tidies ({@link TidyPlan}): nothing when it truncates the table or
   * tidying is off, and never the files a rewrite in progress reserved.
   */
  private TidyPlan planTidy() {
    if (batch.truncates() || !compactionEnabled) {
      return TidyPlan.NONE;
    }
    RewriteHandoff rewrite = handoff.get();
    if (rewrite != null && rewrite.finished() && handoff.compareAndSet(rewrite, null)) {
      rewrite = null; // withdrawn by the compaction, which failed or gave up
    }
    return TidyPlan.plan(state, table.specs(), rewrite == null ? Set.of() : rewrite.reserved());
  }

  /** Moves the index and the live files onto the commit that just landed. */
  private void applyToState(
      CommitFiles.NewData data,
      TidyPlan tidy,
      List<DeleteFile> newDeletes,
      AppliedRewrite applied) {
    KeyIndex index = state.index();
    Map<String, DataFile> dataFiles = state.dataFiles();
    Map<String, DeleteFile> deleteFiles = state.deleteFiles();
    if (batch.truncates()) {
      index.clear();
      dataFiles.clear();
      deleteFiles.clear();
    }
    for (Object key : batch.deleted().keySet()) {
      index.remove(key);
    }
    for (CommitFiles.Written file : data.files()) {
      int fileNumber = index.fileNumber(file.file().location());
      long position = 0;
      for (Object key : file.keys()) {
        index.put(key, KeyIndex.location(fileNumber, position++));
      }
      dataFiles.put(file.file().location(), file.file());
    }
    tidy.compacted().forEach(file -> dataFiles.remove(file.location()));
    tidy.mergedDeletes().forEach(file -> deleteFiles.remove(file.location()));
    if (applied != null) {
      applied.moveIndex(state);
    }
    if (!tidy.compacted().isEmpty() || applied != null) {
      // Iceberg drops delete files that only pointed at removed data files: forget them too.
      SnapshotChanges changes =
          SnapshotChanges.builderFor(table).snapshot(table.currentSnapshot()).build();
      for (DeleteFile dropped : changes.removedDeleteFiles()) {
        deleteFiles.remove(dropped.location());
      }
    }
    newDeletes.forEach(file -> deleteFiles.put(file.location(), file));
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
            ErrorCode.TABLE_COMMIT_CONFLICT,
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
  @Override
  public boolean rewriteSubmitted() {
    RewriteHandoff current = handoff.get();
    return current != null && current.submitted();
  }

  /**
   * Withdraws a rewrite that the writer has not taken yet, failing it with {@code reason}: a
   * conflict, as the rewrite can be run again.
   */
  void abandonRewrite(String reason) {
    RewriteHandoff current = handoff.get();
    if (current != null
        && current.withdraw(
            new FloeException(
                ErrorCode.TABLE_COMMIT_CONFLICT,
                "Cannot commit the rewrite of data files of table "
                    + table.name()
                    + ": "
                    + reason
                    + "; run it again"))) {
      handoff.compareAndSet(current, null);
    }
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

  /**
   * A commit that landed, with what the writer needs to move onto it.
   *
   * @param base the snapshot the batch was planned on, or null for none
   * @param applied the rewrite it carried, or null
   * @param deleteFiles its position-delete files, one per partition they apply to
   */
  private record Landed(
      Snapshot base,
      String marker,
      CommitFiles.NewData data,
      TidyPlan tidy,
      List<DeleteFile> deleteFiles,
      AppliedRewrite applied) {}

  /**
   * Outcome of one commit.
   *
   * @param snapshotId the snapshot committed; empty if it had left the table's history (rolled back
   *     or expired by another process) by the time the writer looked for it, right after the commit
   * @param filesRewritten data files replaced by a rewrite committed with the batch
   * @param rebased whether another commit had changed the table's data, so that the writer moved
   *     its index onto the table's files before committing
   */
  public record CommitResult(
      OptionalLong snapshotId,
      int rowsWritten,
      int rowsDeleted,
      int filesCompacted,
      int deleteFilesMerged,
      int filesRewritten,
      boolean rebased,
      long nanos) {
    public CommitResult {
      requireNonNull(snapshotId, "snapshotId is null");
    }
  }
}
