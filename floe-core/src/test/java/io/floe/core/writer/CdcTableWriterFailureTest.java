package io.floe.core.writer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.LocalCatalog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.stream.StreamSupport;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * How a writer's commit fails and when it is attempted again ({@link CommitPolicy}), on a real
 * table whose row deltas fail their commit as a test says ({@link FailingCommits}).
 */
class CdcTableWriterFailureTest {
  private static final TableIdentifier ID = TableIdentifier.of("raw", "t");
  private static final Schema SCHEMA =
      new Schema(
          List.of(
              Types.NestedField.required(1, "id", Types.LongType.get()),
              Types.NestedField.optional(2, "name", Types.StringType.get())),
          Set.of(1));

  @RegisterExtension final LocalCatalog local = new LocalCatalog("raw");
  private Table table;

  @BeforeEach
  void setUp() {
    table =
        local
            .catalog()
            .createTable(
                ID,
                SCHEMA,
                PartitionSpec.unpartitioned(),
                Map.of("format-version", "2", "commit.manifest.min-count-to-merge", "10"));
  }

  @Test
  void aValidationFailureIsNotAttemptedAgain() {
    commitFiles(3);
    FailingCommits failing =
        new FailingCommits(table, attempt -> new ValidationException("Invalid for the test"));
    CdcTableWriter writer = writerOf(failing);
    long before = currentSnapshotId();
    writer.upsert(row(100, "new"), null);

    assertThatThrownBy(() -> writer.commit(Map.of()))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_STATE_INVALID))
        .hasCauseInstanceOf(ValidationException.class)
        .hasMessage(
            "Cannot commit changes to table floe.raw.t: Iceberg rejected the commit as invalid"
                + " (Invalid for the test) although no other commit changed the table's data"
                + " since the batch was planned; report it with the log, and run it again with a"
                + " new writer (which reloads the table)");
    assertThat(failing.commits).isEqualTo(1);
    assertThat(currentSnapshotId()).isEqualTo(before);
    assertThat(failing.added).isNotEmpty().noneMatch(this::exists);
  }

  @Test
  void aConflictIsAttemptedAgainUpToTheBoundThenTheWriterRefusesUse() {
    commitFiles(3);
    FailingCommits failing =
        new FailingCommits(table, attempt -> new CommitFailedException("Lost race %s", attempt));
    CdcTableWriter writer = writerOf(failing);
    long before = currentSnapshotId();
    writer.upsert(row(100, "new"), null);

    assertThatThrownBy(() -> writer.commit(Map.of()))
        .isInstanceOfSatisfying(
            FloeException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.TABLE_COMMIT_CONFLICT);
              assertThat(e.type().retriable()).isTrue();
            })
        .hasCauseInstanceOf(CommitFailedException.class)
        .hasMessage(
            "Cannot commit changes to table floe.raw.t: 3 attempts failed because concurrent"
                + " commits kept changing the table (Lost race 3); nothing of this batch was"
                + " committed; run it again (a pipeline resumes from the last position it"
                + " committed), and if this keeps happening, find what else commits to the table"
                + " so often");
    assertThat(failing.commits).isEqualTo(CommitPolicy.COMMIT_ATTEMPTS);
    assertThat(currentSnapshotId()).isEqualTo(before);
    assertThat(failing.added).hasSize(CommitPolicy.COMMIT_ATTEMPTS).noneMatch(this::exists);

    assertThatThrownBy(() -> writer.upsert(row(101, "later"), null))
        .isInstanceOf(FloeException.class)
        .hasMessage(
            "Cannot use the writer of table floe.raw.t after a failed commit; open a new writer");
    assertThatThrownBy(() -> writer.commit(Map.of())).hasMessageContaining("after a failed commit");
  }

  @Test
  void aConflictThatClearsCommitsTheBatchOnce() {
    commitFiles(3);
    FailingCommits failing =
        new FailingCommits(
            table, attempt -> attempt == 1 ? new CommitFailedException("Lost race") : null);
    CdcTableWriter writer = writerOf(failing);
    long snapshotsBefore = snapshotCount();
    Map<Long, String> model = contents();
    writer.update(key(1), row(1, "updated"), null);
    writer.upsert(row(100, "new"), null);
    model.put(1L, "updated");
    model.put(100L, "new");

    CdcTableWriter.CommitResult result = writer.commit(Map.of("floe.test", "1")).orElseThrow();

    assertThat(failing.commits).isEqualTo(2);
    assertThat(snapshotCount()).isEqualTo(snapshotsBefore + 1);
    table.refresh();
    assertThat(result.snapshotId()).hasValue(currentSnapshotId());
    assertThat(table.currentSnapshot().summary()).containsEntry("floe.test", "1");
    assertThat(result.rebased()).isFalse();
    assertThat(contents()).isEqualTo(model).hasSize((int) writer.liveRows());
    // The first attempt's data and delete file are gone, the second's are the table's.
    assertThat(failing.added).hasSize(4);
    assertThat(failing.added.subList(0, 2)).noneMatch(this::exists);
    assertThat(failing.added.subList(2, 4)).allMatch(this::exists);

    // The writer goes on from the commit that landed.
    writer.delete(key(100));
    writer.commit(Map.of());
    model.remove(100L);
    assertThat(contents()).isEqualTo(model);
  }

  @Test
  void aBatchThatConflictsWithACommitOfAnotherProcessIsPlannedAgainOnTopOfIt() {
    commitFiles(5);
    OnNextOutput io = new OnNextOutput(table.io());
    FailingCommits failing = new FailingCommits(table, attempt -> null, io);
    CdcTableWriter writer = writerOf(failing);
    Map<Long, String> model = contents();

    try (JdbcCatalog elsewhere = local.openAnother()) {
      // Folds the five small files into one as it commits: the file of row 3 is gone.
      CdcTableWriter other = CdcTableWriter.open(elsewhere.loadTable(ID));
      io.before =
          () -> {
            other.upsert(row(200, "other"), null);
            assertThat(other.commit(Map.of()).orElseThrow().filesCompacted()).isEqualTo(5);
          };
      writer.update(key(3), row(3, "mine"), null);
      CdcTableWriter.CommitResult result = writer.commit(Map.of()).orElseThrow();
      model.put(3L, "mine");
      model.put(200L, "other");

      assertThat(io.before).as("the other writer committed").isNull();
      assertThat(failing.commits).as("the rejected attempt and the one on top").isEqualTo(2);
      assertThat(result.rebased()).isTrue();
    }
    assertThat(contents()).isEqualTo(model).hasSize((int) writer.liveRows());
  }

  @Test
  void aBatchThatKeepsConflictingWithOtherCommitsFailsAfterTheBound() {
    commitFiles(2);
    try (JdbcCatalog elsewhere = local.openAnother()) {
      CdcTableWriter other = CdcTableWriter.open(elsewhere.loadTable(ID));
      other.setCompactionEnabled(false);
      // Before each attempt is rejected, another process changes the table's data.
      FailingCommits failing =
          new FailingCommits(
              table,
              attempt -> {
                other.upsert(row(200 + attempt, "other"), null);
                other.commit(Map.of());
                return new ValidationException("Conflicts with commit %s", attempt);
              });
      CdcTableWriter writer = writerOf(failing);
      writer.upsert(row(100, "new"), null);

      assertThatThrownBy(() -> writer.commit(Map.of()))
          .isInstanceOfSatisfying(
              FloeException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_COMMIT_CONFLICT))
          .hasMessageStartingWith(
              "Cannot commit changes to table floe.raw.t: 3 attempts failed because concurrent"
                  + " commits kept changing the table (Conflicts with commit 3); nothing of this"
                  + " batch was committed");
      assertThat(failing.commits).isEqualTo(CommitPolicy.COMMIT_ATTEMPTS);
    }
    assertThat(contents()).containsKeys(201L, 202L, 203L).doesNotContainKey(100L);
  }

  @Test
  void aStorageFailureIsNotAttemptedAgain() {
    commitFiles(3);
    FailingCommits failing =
        new FailingCommits(
            table,
            attempt ->
                new IllegalStateException(
                    "Cannot write manifest list",
                    new UncheckedIOException(new IOException("No space left on device"))));
    CdcTableWriter writer = writerOf(failing);
    writer.upsert(row(100, "new"), null);

    assertThatThrownBy(() -> writer.commit(Map.of()))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_WRITE_FAILED))
        .hasMessage(
            "Cannot commit changes to table floe.raw.t: reading or writing its files failed"
                + " (Cannot write manifest list); check that the table's storage is reachable and"
                + " run it again");
    assertThat(failing.commits).isEqualTo(1);
  }

  @Test
  void aStorageFailureWritingTheBatchIsNotAttemptedAgain() {
    commitFiles(3);
    FileIO full =
        new ForwardingFileIO(table.io()) {
          @Override
          public OutputFile newOutputFile(String path) {
            throw new UncheckedIOException(new IOException("No space left on device"));
          }
        };
    FailingCommits failing = new FailingCommits(table, attempt -> null, full);
    CdcTableWriter writer = writerOf(failing);
    writer.upsert(row(100, "new"), null);

    assertThatThrownBy(() -> writer.commit(Map.of()))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_WRITE_FAILED))
        .hasMessageContaining("No space left on device");
    assertThat(failing.commits).isZero();
  }

  @Test
  void anUnexpectedFailureIsReportedAsABugWithItsCause() {
    commitFiles(3);
    IllegalStateException bug = new IllegalStateException("A bug");
    FailingCommits failing = new FailingCommits(table, attempt -> bug);
    CdcTableWriter writer = writerOf(failing);
    writer.upsert(row(100, "new"), null);

    assertThatThrownBy(() -> writer.commit(Map.of()))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INTERNAL_ERROR))
        .hasCause(bug)
        .hasMessage(
            "Cannot commit changes to table floe.raw.t: unexpected"
                + " java.lang.IllegalStateException: A bug; report it with the log, which has its"
                + " stack trace, and run it again with a new writer (which reloads the table)");
    assertThat(failing.commits).isEqualTo(1);
  }

  @Test
  void aCommitOfUnknownOutcomeIsNotAttemptedAgainAndKeepsItsFiles() {
    commitFiles(3);
    FailingCommits failing =
        new FailingCommits(
            table,
            attempt -> new CommitStateUnknownException(new SQLException("Connection reset")));
    CdcTableWriter writer = writerOf(failing);
    writer.update(key(1), row(1, "updated"), null);

    assertThatThrownBy(() -> writer.commit(Map.of()))
        .isInstanceOfSatisfying(
            FloeException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_COMMIT_UNKNOWN))
        .hasMessageStartingWith(
            "Cannot commit changes to table floe.raw.t: the catalog did not say whether the"
                + " commit succeeded (")
        .hasMessageEndingWith(
            "); the files written for it are kept, as the table may reference them; check the"
                + " table's latest snapshots before running it again");
    assertThat(failing.commits).isEqualTo(1);
    assertThat(failing.added).as("a data file and a delete file").hasSize(2).allMatch(this::exists);
  }

  /** Commits {@code files} batches of three new rows each: rows 0 to 3 × files - 1. */
  private void commitFiles(int files) {
    CdcTableWriter writer = CdcTableWriter.open(table);
    writer.setCompactionEnabled(false);
    for (long file = 0; file < files; file++) {
      for (long id = file * 3; id < file * 3 + 3; id++) {
        writer.upsert(row(id, "n" + id), null);
      }
      writer.commit(Map.of());
    }
    table.refresh();
  }

  /** A writer, without tidying, that commits through {@code failing}. */
  private static CdcTableWriter writerOf(FailingCommits failing) {
    CdcTableWriter writer = CdcTableWriter.open(failing);
    writer.setCompactionEnabled(false);
    return writer;
  }

  private long currentSnapshotId() {
    table.refresh();
    return table.currentSnapshot().snapshotId();
  }

  private long snapshotCount() {
    table.refresh();
    return StreamSupport.stream(table.snapshots().spliterator(), false).count();
  }

  private boolean exists(String location) {
    return table.io().newInputFile(location).exists();
  }

  private Map<Long, String> contents() {
    table.refresh();
    Map<Long, String> rows = new TreeMap<>();
    try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
      for (Record record : records) {
        assertThat(rows.put((Long) record.get(0), (String) record.get(1)))
            .as("duplicate key")
            .isNull();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }

  private static Record row(long id, String name) {
    GenericRecord record = GenericRecord.create(SCHEMA);
    record.set(0, id);
    record.set(1, name);
    return record;
  }

  private static Record key(long id) {
    return row(id, null);
  }

  /**
   * The table, through which a writer commits row deltas whose commit fails with what {@code
   * failure} gives for the attempt (counted from 1), or commits if it gives null. It counts the
   * attempts and notes the files added to them.
   */
  private static final class FailingCommits extends BaseTable {
    private final IntFunction<RuntimeException> failure;
    private final FileIO io;
    private int commits;
    private final List<String> added = new ArrayList<>();

    FailingCommits(Table table, IntFunction<RuntimeException> failure) {
      this(table, failure, table.io());
    }

    FailingCommits(Table table, IntFunction<RuntimeException> failure, FileIO io) {
      super(((HasTableOperations) table).operations(), table.name());
      this.failure = failure;
      this.io = io;
    }

    @Override
    public FileIO io() {
      return io;
    }

    @Override
    public RowDelta newRowDelta() {
      return new ForwardingRowDelta(super.newRowDelta()) {
        @Override
        public RowDelta addRows(DataFile file) {
          added.add(file.location());
          return super.addRows(file);
        }

        @Override
        public RowDelta addDeletes(DeleteFile file) {
          added.add(file.location());
          return super.addDeletes(file);
        }

        @Override
        public void commit() {
          commits++;
          RuntimeException failed = failure.apply(commits);
          if (failed != null) {
            throw failed;
          }
          super.commit();
        }
      };
    }
  }

  /** A row delta that passes everything on to another. */
  private static class ForwardingRowDelta implements RowDelta {
    private final RowDelta delegate;

    ForwardingRowDelta(RowDelta delegate) {
      this.delegate = delegate;
    }

    @Override
    public RowDelta addRows(DataFile file) {
      delegate.addRows(file);
      return this;
    }

    @Override
    public RowDelta addDeletes(DeleteFile file) {
      delegate.addDeletes(file);
      return this;
    }

    @Override
    public RowDelta removeRows(DataFile file) {
      delegate.removeRows(file);
      return this;
    }

    @Override
    public RowDelta removeDeletes(DeleteFile file) {
      delegate.removeDeletes(file);
      return this;
    }

    @Override
    public RowDelta validateFromSnapshot(long snapshotId) {
      delegate.validateFromSnapshot(snapshotId);
      return this;
    }

    @Override
    public RowDelta caseSensitive(boolean caseSensitive) {
      delegate.caseSensitive(caseSensitive);
      return this;
    }

    @Override
    public RowDelta validateDataFilesExist(Iterable<? extends CharSequence> referencedFiles) {
      delegate.validateDataFilesExist(referencedFiles);
      return this;
    }

    @Override
    public RowDelta validateDeletedFiles() {
      delegate.validateDeletedFiles();
      return this;
    }

    @Override
    public RowDelta conflictDetectionFilter(Expression conflictDetectionFilter) {
      delegate.conflictDetectionFilter(conflictDetectionFilter);
      return this;
    }

    @Override
    public RowDelta validateNoConflictingDataFiles() {
      delegate.validateNoConflictingDataFiles();
      return this;
    }

    @Override
    public RowDelta validateNoConflictingDeleteFiles() {
      delegate.validateNoConflictingDeleteFiles();
      return this;
    }

    @Override
    public RowDelta set(String property, String value) {
      delegate.set(property, value);
      return this;
    }

    @Override
    public RowDelta deleteWith(Consumer<String> deleteFunc) {
      delegate.deleteWith(deleteFunc);
      return this;
    }

    @Override
    public RowDelta stageOnly() {
      delegate.stageOnly();
      return this;
    }

    @Override
    public RowDelta scanManifestsWith(ExecutorService executorService) {
      delegate.scanManifestsWith(executorService);
      return this;
    }

    @Override
    public RowDelta toBranch(String branch) {
      delegate.toBranch(branch);
      return this;
    }

    @Override
    public Snapshot apply() {
      return delegate.apply();
    }

    @Override
    public void commit() {
      delegate.commit();
    }
  }
}
