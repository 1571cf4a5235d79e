package io.floe.core.writer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.LocalCatalog;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class CdcTableWriterTest {
  private static final Schema SCHEMA =
      new Schema(
          List.of(
              Types.NestedField.required(1, "id", Types.LongType.get()),
              Types.NestedField.optional(2, "name", Types.StringType.get()),
              Types.NestedField.optional(3, "big", Types.StringType.get())),
          Set.of(1));

  @RegisterExtension final LocalCatalog local = new LocalCatalog("raw");
  private Table table;

  @BeforeEach
  void setUp() {
    table =
        local.create(
            "t",
            SCHEMA,
            PartitionSpec.unpartitioned(),
            Map.of("format-version", "2", "commit.manifest.min-count-to-merge", "10"));
  }

  @Test
  void collapsesChangesAndWritesPositionDeletes() {
    CdcTableWriter writer = CdcTableWriter.open(table);
    writer.upsert(row(1, "a", "x"), null);
    writer.upsert(row(2, "b", "y"), null);
    writer.update(key(2), row(2, "b2", "y"), null);
    writer.upsert(row(3, "c", "z"), null);
    writer.delete(key(3));
    writer.commit(Map.of("floe.test", "1"));
    assertThat(contents()).isEqualTo(Map.of(1L, List.of("a", "x"), 2L, List.of("b2", "y")));
    assertThat(table.currentSnapshot().summary()).containsEntry("floe.test", "1");

    writer.update(key(1), row(10, "a10", "x"), null); // key change
    writer.delete(key(2));
    writer.upsert(row(4, "d", "w"), null);
    writer.commit(Map.of());
    assertThat(contents()).isEqualTo(Map.of(10L, List.of("a10", "x"), 4L, List.of("d", "w")));
    assertThat(deleteFileContents()).containsOnly(FileContent.POSITION_DELETES);

    // A new writer rebuilds the index from the table and continues correctly.
    table.refresh();
    CdcTableWriter reopened = CdcTableWriter.open(table);
    assertThat(reopened.liveRows()).isEqualTo(2);
    reopened.update(key(4), row(4, "d2", "w"), null);
    reopened.commit(Map.of());
    assertThat(contents()).isEqualTo(Map.of(10L, List.of("a10", "x"), 4L, List.of("d2", "w")));
  }

  @Test
  void fillsUnchangedValuesFromEarlierVersions() {
    CdcTableWriter writer = CdcTableWriter.open(table);
    writer.upsert(row(1, "a", "BIG-1"), null);
    writer.upsert(row(2, "b", "BIG-2"), null);
    writer.commit(Map.of());

    BitSet unchangedBig = new BitSet();
    unchangedBig.set(2);
    writer.update(key(1), row(1, "a2", null), unchangedBig); // from the data file
    writer.upsert(row(5, "e", "BIG-5"), null);
    writer.update(key(5), row(5, "e2", null), unchangedBig); // from this batch
    writer.update(key(2), row(20, "b20", null), unchangedBig); // key change, from the old key
    writer.commit(Map.of());
    assertThat(contents())
        .isEqualTo(
            Map.of(
                1L, List.of("a2", "BIG-1"),
                5L, List.of("e2", "BIG-5"),
                20L, List.of("b20", "BIG-2")));

    assertThatThrownBy(() -> writer.update(key(98), row(98, "x", null), unchangedBig))
        .isInstanceOf(FloeException.class)
        .hasMessageContaining("no earlier version of the row with key 98");
  }

  @Test
  void changesFloeCannotApplyAreTheSourcesData() {
    CdcTableWriter writer = CdcTableWriter.open(table);
    BitSet unchangedBig = new BitSet();
    unchangedBig.set(2);
    assertThatThrownBy(() -> writer.update(key(98), row(98, "x", null), unchangedBig))
        .isInstanceOfSatisfying(
            FloeException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.SOURCE_DATA_INVALID));

    Record nullKey = GenericRecord.create(SCHEMA);
    nullKey.set(1, "no key");
    assertThatThrownBy(() -> writer.upsert(nullKey, null))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SOURCE_DATA_INVALID))
        .hasMessage(
            "Cannot apply a change to table floe.raw.t: primary key column id of a row is NULL;"
                + " check the source table's primary key and replica identity, then reload the"
                + " table (drop it and restart the pipeline)");
  }

  @Test
  void aTableWithoutIdentifierFieldsIsUnsupported() {
    Table keyless =
        local.create(
            "keyless",
            new Schema(Types.NestedField.required(1, "id", Types.LongType.get())),
            PartitionSpec.unpartitioned(),
            Map.of("format-version", "2"));
    assertThatThrownBy(() -> CdcTableWriter.open(keyless))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_UNSUPPORTED))
        .hasMessageStartingWith(
            "Cannot write CDC changes to table floe.raw.keyless: it has no identifier fields");
  }

  @Test
  void aRewriteWhileAnotherIsInProgressOrOneTheWriterWithdrawsCanBeRunAgain() {
    CdcTableWriter writer = CdcTableWriter.open(table);
    RewriteHandoff first = writer.beginRewrite(Set.of());
    assertThatThrownBy(() -> writer.beginRewrite(Set.of()))
        .isInstanceOfSatisfying(
            FloeException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_COMMIT_CONFLICT))
        .hasMessage(
            "Cannot rewrite data files of table floe.raw.t: another rewrite of it is in"
                + " progress; run it again once that one is done");

    writer.abandonRewrite("its writer was replaced");
    assertThat(first.submit(new DataFileRewrite(1, List.of(), List.of(), List.of(), Map.of())))
        .failsWithin(Duration.ZERO)
        .withThrowableOfType(ExecutionException.class)
        .havingCause()
        .isInstanceOfSatisfying(
            FloeException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_COMMIT_CONFLICT))
        .withMessage(
            "Cannot commit the rewrite of data files of table floe.raw.t: its writer was"
                + " replaced; run it again");
  }

  @Test
  void truncateReplacesContents() {
    CdcTableWriter writer = CdcTableWriter.open(table);
    writer.upsert(row(1, "a", null), null);
    writer.upsert(row(2, "b", null), null);
    writer.commit(Map.of());
    writer.delete(key(1));
    writer.commit(Map.of());
    writer.truncate();
    writer.upsert(row(3, "c", null), null);
    writer.commit(Map.of());
    assertThat(contents()).isEqualTo(Map.of(3L, java.util.Arrays.asList("c", null)));
    assertThat(deleteFileContents()).isEmpty();
  }

  @Test
  void stampCommitsWithoutChanges() {
    CdcTableWriter writer = CdcTableWriter.open(table);
    assertThat(writer.commit(Map.of("floe.x", "1"))).isEmpty();
    assertThat(writer.checkpoint(Map.of("floe.x", "2"))).isNotNull();
    assertThat(table.currentSnapshot().summary()).containsEntry("floe.x", "2");
  }

  /**
   * Tidying is tiered by rows: a table that gets one row a commit keeps at most a few small files,
   * and a row is rewritten a few times as its file grows, not once every few commits (8,850
   * rewritten rows over these 300 commits when each compaction took every small file).
   */
  @Test
  void tidyingRewritesEachRowAFewTimes() {
    CdcTableWriter writer = CdcTableWriter.open(table);
    long rewritten = 0;
    int commits = 300;
    for (long id = 0; id < commits; id++) {
      writer.upsert(row(id, "n" + id, "b"), null);
      writer.commit(Map.of());
      rewritten +=
          Long.parseLong(table.currentSnapshot().summary().getOrDefault("deleted-records", "0"));
      assertThat(writer.dataFileCount())
          .isLessThanOrEqualTo(CdcTableWriter.SMALL_FILES_TO_COMPACT + 1);
    }
    assertThat(contents()).hasSize(commits);
    assertThat(rewritten).isLessThan(commits * 10L);
  }

  @Test
  void tidyingKeepsTrackOfDeleteFilesIcebergDrops() {
    CdcTableWriter writer = CdcTableWriter.open(table);
    Map<Long, List<String>> model = new TreeMap<>();
    // A load writes several files without tidying, as a pipeline's full load does.
    writer.setCompactionEnabled(false);
    for (long file = 0; file < 6; file++) {
      for (long id = file * 100; id < file * 100 + 100; id++) {
        writer.upsert(row(id, "n" + id, "b"), null);
        model.put(id, List.of("n" + id, "b"));
      }
      writer.commit(Map.of());
    }
    writer.setCompactionEnabled(true);
    // Each commit updates one row of a different load file: its delete file points at that file
    // only. Once compaction removes those files, Iceberg drops such delete files by itself.
    for (int commit = 0; commit < 12; commit++) {
      long id = (commit % 6) * 100L + commit;
      writer.upsert(row(id, "c" + commit, "b"), null);
      model.put(id, List.of("c" + commit, "b"));
      writer.commit(Map.of());
      assertThat(contents()).as("after commit %s", commit).isEqualTo(model);
      assertThat(writer.deleteFileCount())
          .as("after commit %s", commit)
          .isEqualTo(Integer.parseInt(table.currentSnapshot().summary().get("total-delete-files")));
      assertThat(writer.dataFileCount())
          .isEqualTo(Integer.parseInt(table.currentSnapshot().summary().get("total-data-files")));
    }
  }

  /**
   * Another writer of the table (a pipeline of another process, or its compaction) commits: the
   * writer moves its index onto the table's files reading only those the other commits added or
   * changed deletes of, and its changes apply on top.
   */
  @Test
  void readsOnlyTheFilesAnotherWriterChangedIntoItsIndex() {
    Map<Long, List<String>> model = new TreeMap<>();
    CdcTableWriter writer = CdcTableWriter.open(table);
    writer.setCompactionEnabled(false);
    for (long file = 0; file < 4; file++) {
      for (long id = file * 10; id < file * 10 + 10; id++) {
        writer.upsert(row(id, "n" + id, "b" + id), null);
        model.put(id, List.of("n" + id, "b" + id));
      }
      writer.commit(Map.of());
    }
    long read = writer.indexFilesRead();

    table.refresh();
    CdcTableWriter other = CdcTableWriter.open(table);
    other.setCompactionEnabled(false);
    other.update(key(12), row(12, "other", "b12"), null);
    other.delete(key(15));
    other.commit(Map.of());
    model.put(12L, List.of("other", "b12"));
    model.remove(15L);

    BitSet unchangedBig = new BitSet();
    unchangedBig.set(2);
    writer.update(key(12), row(12, "mine", null), unchangedBig);
    writer.delete(key(31));
    writer.upsert(row(15, "again", "b15"), null);
    CdcTableWriter.CommitResult result = writer.commit(Map.of()).orElseThrow();
    model.put(12L, List.of("mine", "b12"));
    model.remove(31L);
    model.put(15L, List.of("again", "b15"));

    assertThat(result.rebased()).isTrue();
    // The other writer's new file and the one whose rows it deleted; not the other three.
    assertThat(writer.indexFilesRead() - read).isEqualTo(2);
    assertThat(contents()).isEqualTo(model);
    assertThat(writer.liveRows()).isEqualTo(model.size());

    // The other writer folds the two smallest files (three rows; the 10-row ones are larger than
    // twice that) into its new one and merges the delete files: the writer reads the new file and
    // the files the merged delete file applies to (all of this unpartitioned table's), not the
    // files that were folded.
    table.refresh();
    other = CdcTableWriter.open(table);
    other.upsert(row(100, "new", "b100"), null);
    other.commit(Map.of());
    model.put(100L, List.of("new", "b100"));
    table.refresh();
    assertThat(table.currentSnapshot().summary()).containsEntry("deleted-data-files", "2");
    long filesAfterFold = Long.parseLong(table.currentSnapshot().summary().get("total-data-files"));
    read = writer.indexFilesRead();

    writer.update(key(100), row(100, "mine", "b100"), null);
    writer.delete(key(1));
    writer.commit(Map.of());
    model.put(100L, List.of("mine", "b100"));
    model.remove(1L);

    assertThat(writer.indexFilesRead() - read).isEqualTo(filesAfterFold);
    assertThat(contents()).isEqualTo(model);
    assertThat(writer.liveRows()).isEqualTo(model.size());
    table.refresh();
    assertThat(CdcTableWriter.open(table).liveRows()).isEqualTo(model.size());
  }

  /**
   * Another writer commits while this one writes its batch (after it read the table's state, before
   * its commit): Iceberg applies the batch on top, as the two do not conflict, and the writer
   * catches up on the other commit before its next one, so that its index does not keep rows in the
   * files the other commit removed.
   */
  @Test
  void catchesUpOnACommitThatLandedWhileItWroteItsBatch() throws IOException {
    Map<Long, List<String>> model = new TreeMap<>();
    OnNextOutput io = new OnNextOutput(table.io());
    CdcTableWriter writer = writerWritingThrough(io);
    for (long file = 0; file < 5; file++) {
      for (long id = file * 10; id < file * 10 + 10; id++) {
        writer.upsert(row(id, "n" + id, "b" + id), null);
        model.put(id, List.of("n" + id, "b" + id));
      }
      writer.commit(Map.of());
    }

    try (JdbcCatalog elsewhere = local.openAnother()) {
      // Folds the five small files into one as it commits: it removes the files of rows 0-49.
      CdcTableWriter other =
          CdcTableWriter.open(elsewhere.loadTable(TableIdentifier.of("raw", "t")));
      io.before =
          () -> {
            other.upsert(row(200, "other", "b200"), null);
            CdcTableWriter.CommitResult folded = other.commit(Map.of()).orElseThrow();
            assertThat(folded.filesCompacted()).isEqualTo(5);
          };
      writer.upsert(row(100, "mine", "b100"), null);
      CdcTableWriter.CommitResult inserted = writer.commit(Map.of()).orElseThrow();
      model.put(200L, List.of("other", "b200"));
      model.put(100L, List.of("mine", "b100"));
      assertThat(io.before).as("the other writer committed").isNull();
      table.refresh();
      Snapshot parent =
          table.snapshot(table.snapshot(inserted.snapshotId().orElseThrow()).parentId());
      assertThat(parent.summary())
          .as("the batch was committed on top of the other writer's commit")
          .containsEntry("deleted-data-files", "5");
    }

    writer.update(key(3), row(3, "updated", "b3"), null);
    writer.delete(key(42));
    writer.commit(Map.of());
    model.put(3L, List.of("updated", "b3"));
    model.remove(42L);

    assertThat(contents()).isEqualTo(model);
    assertThat(writer.liveRows()).isEqualTo(model.size());
  }

  /**
   * A rollback to a commit of another writer that Iceberg took in under the writer's own: the
   * writer's index has its own commit's changes, which the table no longer has, so it reads the
   * table again instead of catching up from the snapshot its batch was planned on.
   */
  @Test
  void aRollbackToACommitTakenInUnderItsOwnUndoesItsOwnInTheIndex() {
    rollBackPastACommitThatTookAnotherIn(false);
  }

  /** As above, rolled back to the snapshot the writer's batch was planned on. */
  @Test
  void aRollbackToTheSnapshotItsBatchWasPlannedOnUndoesItsOwnInTheIndex() {
    rollBackPastACommitThatTookAnotherIn(true);
  }

  private void rollBackPastACommitThatTookAnotherIn(boolean toPlannedOn) {
    Map<Long, List<String>> model = new TreeMap<>();
    OnNextOutput io = new OnNextOutput(table.io());
    CdcTableWriter writer = writerWritingThrough(io);
    for (long file = 0; file < 2; file++) {
      for (long id = file * 10; id < file * 10 + 10; id++) {
        writer.upsert(row(id, "n" + id, "b" + id), null);
        model.put(id, List.of("n" + id, "b" + id));
      }
      writer.commit(Map.of());
    }

    Snapshot takenIn;
    try (JdbcCatalog elsewhere = local.openAnother()) {
      CdcTableWriter other =
          CdcTableWriter.open(elsewhere.loadTable(TableIdentifier.of("raw", "t")));
      other.setCompactionEnabled(false);
      io.before =
          () -> {
            other.upsert(row(200, "other", "b200"), null);
            other.commit(Map.of());
          };
      writer.delete(key(3));
      writer.upsert(row(100, "mine", "b100"), null);
      CdcTableWriter.CommitResult own = writer.commit(Map.of()).orElseThrow();
      assertThat(io.before).as("the other writer committed").isNull();
      table.refresh();
      takenIn = table.snapshot(table.snapshot(own.snapshotId().orElseThrow()).parentId());
    }
    if (toPlannedOn) {
      table.manageSnapshots().rollbackTo(takenIn.parentId()).commit();
    } else {
      table.manageSnapshots().rollbackTo(takenIn.snapshotId()).commit();
      model.put(200L, List.of("other", "b200"));
    }

    writer.upsert(row(3, "again", "b3"), null);
    writer.upsert(row(100, "again", "b100"), null);
    writer.commit(Map.of());
    model.put(3L, List.of("again", "b3"));
    model.put(100L, List.of("again", "b100"));

    assertThat(contents()).isEqualTo(model);
    assertThat(writer.liveRows()).isEqualTo(model.size());
  }

  /** A commit that changed no files (a manifest rewrite) taken in under the batch costs nothing. */
  @Test
  void takesInACommitThatChangedNoFilesWithoutReadingAny() {
    OnNextOutput io = new OnNextOutput(table.io());
    CdcTableWriter writer = writerWritingThrough(io);
    for (long id = 0; id < 3; id++) {
      writer.upsert(row(id, "n" + id, "b" + id), null);
      writer.commit(Map.of());
    }
    long read = writer.indexFilesRead();
    try (JdbcCatalog elsewhere = local.openAnother()) {
      io.before =
          () ->
              elsewhere
                  .loadTable(TableIdentifier.of("raw", "t"))
                  .rewriteManifests()
                  .rewriteIf(manifest -> true)
                  .commit();
      writer.update(key(1), row(1, "u1", "b1"), null);
      writer.commit(Map.of());
      assertThat(io.before).as("the manifests were rewritten").isNull();
      table.refresh();
      assertThat(table.snapshot(table.currentSnapshot().parentId()).operation())
          .as("the batch was committed on top of the manifest rewrite")
          .isEqualTo("replace");
    }
    writer.update(key(2), row(2, "u2", "b2"), null);
    writer.commit(Map.of());

    assertThat(writer.indexFilesRead()).isEqualTo(read);
    assertThat(contents())
        .isEqualTo(
            Map.of(0L, List.of("n0", "b0"), 1L, List.of("u1", "b1"), 2L, List.of("u2", "b2")));
  }

  /** A writer of the table, without tidying, that writes its files through {@code io}. */
  private CdcTableWriter writerWritingThrough(FileIO io) {
    Table intercepted =
        new BaseTable(((HasTableOperations) table).operations(), table.name()) {
          @Override
          public FileIO io() {
            return io;
          }
        };
    CdcTableWriter writer = CdcTableWriter.open(intercepted);
    writer.setCompactionEnabled(false);
    return writer;
  }

  @Test
  void randomizedChangesMatchAModel() {
    randomizedChanges(commit -> {});
  }

  /**
   * Updates move rows between partitions (the name's first letter changes from n to u and back),
   * and the spec changes twice under the writer, by another process: the table's rows stay the
   * model's, read by Iceberg's own reader, which applies a position delete only within its spec and
   * partition.
   */
  @Test
  void randomizedChangesOfAPartitionedTableMatchAModel() {
    local.catalog().dropTable(TableIdentifier.of("raw", "t"));
    table =
        local.create(
            "t",
            SCHEMA,
            PartitionSpec.builderFor(SCHEMA).bucket("id", 4).truncate("name", 1).build(),
            Map.of("format-version", "2", "commit.manifest.min-count-to-merge", "10"));
    randomizedChanges(
        commit -> {
          Table other = local.catalog().loadTable(TableIdentifier.of("raw", "t"));
          if (commit == 20) {
            other
                .updateSpec()
                .removeField("name_trunc")
                .addField(Expressions.bucket("name", 2))
                .commit();
          } else if (commit == 40) {
            other
                .updateSpec()
                .removeField("id_bucket")
                .removeField(Expressions.bucket("name", 2))
                .commit();
          }
        });
    table.refresh();
    assertThat(table.specs()).hasSize(3);
    assertThat(table.spec().isUnpartitioned()).isTrue();
    assertThat(partitionsOfFiles()).as("files of every spec").containsExactlyInAnyOrder(0, 1, 2);
  }

  /** Partitions (of any spec) that hold a live data file. */
  private int livePartitions() {
    Set<String> partitions = new java.util.HashSet<>();
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      tasks.forEach(
          task ->
              partitions.add(
                  task.file().specId()
                      + "/"
                      + table
                          .specs()
                          .get(task.file().specId())
                          .partitionToPath(task.file().partition())));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return Math.max(1, partitions.size());
  }

  private Set<Integer> partitionsOfFiles() {
    Set<Integer> specs = new java.util.HashSet<>();
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      tasks.forEach(task -> specs.add(task.file().specId()));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return specs;
  }

  /**
   * Applies random upserts, key-changing updates and deletes in 60 commits, reopening the writer
   * every 10, and compares the table with a model after each.
   *
   * @param beforeCommit runs before each commit, given its number
   */
  private void randomizedChanges(java.util.function.IntConsumer beforeCommit) {
    Random random = new Random(42);
    Map<Long, List<String>> model = new TreeMap<>();
    CdcTableWriter writer = CdcTableWriter.open(table);
    for (int commit = 0; commit < 60; commit++) {
      beforeCommit.accept(commit);
      for (int change = 0; change < 50; change++) {
        long id = random.nextInt(60);
        int operation = random.nextInt(10);
        if (operation < 5) {
          String name = "n" + random.nextInt(1000);
          writer.upsert(row(id, name, "big" + id), null);
          model.put(id, List.of(name, "big" + id));
        } else if (operation < 7 && model.containsKey(id)) {
          long newId = random.nextInt(60);
          if (model.containsKey(newId) && newId != id) {
            continue;
          }
          String big = model.get(id).get(1);
          BitSet unchanged = new BitSet();
          unchanged.set(2);
          writer.update(key(id), row(newId, "u" + change, null), unchanged);
          model.remove(id);
          model.put(newId, List.of("u" + change, big));
        } else {
          writer.delete(key(id));
          model.remove(id);
        }
      }
      writer.commit(Map.of());
      if (commit % 10 == 9) {
        table.refresh();
        writer = CdcTableWriter.open(table);
      }
      assertThat(contents()).as("after commit %s", commit).isEqualTo(model);
      assertThat(writer.liveRows()).isEqualTo(model.size());
      // The writer folds small files and delete files as it commits: counts stay bounded, per
      // partition of a spec.
      int partitions = livePartitions();
      assertThat(writer.dataFileCount())
          .isLessThanOrEqualTo((CdcTableWriter.SMALL_FILES_TO_COMPACT + 1) * partitions);
      assertThat(writer.deleteFileCount())
          .isLessThanOrEqualTo(CdcTableWriter.DELETE_FILES_TO_MERGE * partitions);
      assertThat(deleteFileContents()).hasSize(countDeleteFileReferences());
    }
  }

  private Map<Long, List<String>> contents() {
    table.refresh();
    Map<Long, List<String>> rows = new TreeMap<>();
    try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
      for (Record record : records) {
        List<String> values = new ArrayList<>();
        values.add((String) record.get(1));
        values.add((String) record.get(2));
        assertThat(rows.put((Long) record.get(0), values)).as("duplicate key").isNull();
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return rows;
  }

  private int countDeleteFileReferences() {
    int references = 0;
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      for (FileScanTask task : tasks) {
        references += task.deletes().size();
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return references;
  }

  private List<FileContent> deleteFileContents() {
    List<FileContent> contents = new ArrayList<>();
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      for (FileScanTask task : tasks) {
        DataFile file = task.file();
        assertThat(file.content()).isEqualTo(FileContent.DATA);
        task.deletes().forEach(delete -> contents.add(delete.content()));
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return contents;
  }

  private static Record row(long id, String name, String big) {
    GenericRecord record = GenericRecord.create(SCHEMA);
    record.set(0, id);
    record.set(1, name);
    record.set(2, big);
    return record;
  }

  private static Record key(long id) {
    return row(id, null, null);
  }
}
