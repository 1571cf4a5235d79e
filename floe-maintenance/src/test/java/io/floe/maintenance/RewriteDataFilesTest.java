package io.floe.maintenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.catalog.TableFiles;
import io.floe.core.writer.CdcTableWriter;
import io.floe.core.writer.RewriteHandoff;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.parquet.Parquet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compaction (rewrite_data_files) of tables written by the CDC writer: committed directly or handed
 * to the writer while it commits, the table keeps exactly its rows, every retained snapshot still
 * reads its own rows, and the writer goes on committing correctly afterwards.
 */
class RewriteDataFilesTest {
  @TempDir Path warehouse;

  private static RewriteDataFilesOptions options(int minInputFiles, String sortOrder) {
    return new RewriteDataFilesOptions(
        RewriteDataFilesOptions.DEFAULT_TARGET_FILE_SIZE,
        minInputFiles,
        RewriteDataFilesOptions.DEFAULT_DELETE_RATIO,
        sortOrder,
        IoThrottle.UNLIMITED);
  }

  @Test
  void binPacksSmallFilesAndFoldsDeletesThenTheWriterGoesOn() throws IOException {
    try (CdcTable cdc = CdcTable.create(warehouse)) {
      cdc.writer().setCompactionEnabled(false);
      cdc.commit(30, 20, 0);
      TableFiles before = TableFiles.load(cdc.load());
      assertThat(before.dataFiles()).hasSize(30);
      assertThat(before.deleteFiles()).isNotEmpty();
      long liveRows = cdc.currentModel().size();

      List<Long> reported = new ArrayList<>();
      RewriteDataFilesResult result =
          cdc.maintenance.rewriteDataFiles(
              CdcTable.ID, options(5, null), (done, total, message) -> reported.add(done));

      TableFiles after = TableFiles.load(cdc.load());
      assertThat(after.dataFiles()).hasSize(1);
      assertThat(after.deleteFiles()).isEmpty();
      assertThat(result.rewrittenDataFiles()).isEqualTo(30);
      assertThat(result.addedDataFiles()).isEqualTo(1);
      assertThat(result.removedDeleteFiles()).isEqualTo(before.deleteFiles().size());
      long rowsWritten =
          before.dataFiles().values().stream().mapToLong(DataFile::recordCount).sum();
      assertThat(result.foldedDeletes()).isEqualTo(rowsWritten - liveRows);
      assertThat(result.rewrittenBytes())
          .isEqualTo(
              before.dataFiles().values().stream().mapToLong(DataFile::fileSizeInBytes).sum());
      assertThat(after.dataFiles().values().iterator().next().recordCount()).isEqualTo(liveRows);
      assertThat(reported).isNotEmpty();
      Table table = cdc.load();
      assertThat(CdcTable.read(table, result.snapshotId())).isEqualTo(cdc.currentModel());
      cdc.assertEverySnapshotReadsItsRows();

      // The writer's index still pointed at the old files: it notices the rewrite and reloads.
      cdc.commit(10, 20, 0);
      table = cdc.load();
      assertThat(CdcTable.read(table, table.currentSnapshot().snapshotId()))
          .isEqualTo(cdc.currentModel());
      assertThat(CdcTableWriter.open(table).liveRows()).isEqualTo(cdc.currentModel().size());
    }
  }

  /**
   * After a partition evolution (unpartitioned, then bucket(4, id), then truncate(1, name) as
   * well), the files of earlier specs are rewritten into the current spec's partitions, the rows of
   * one file spread over several; handed to the registered writer, which commits on afterwards.
   */
  @Test
  void rewritesFilesOfEarlierSpecsIntoTheCurrentOne() throws Exception {
    try (CdcTable cdc = CdcTable.create(warehouse)) {
      cdc.writer().setCompactionEnabled(false);
      cdc.writers.register(cdc.writer());
      try {
        cdc.commit(5, 20, 0);
        cdc.load().updateSpec().addField(Expressions.bucket("id", 4)).commit();
        cdc.commit(5, 20, 0);
        cdc.load().updateSpec().addField(Expressions.truncate("name", 1)).commit();
        cdc.commit(5, 20, 0);
        Table table = cdc.load();
        int current = table.spec().specId();
        Set<Integer> specsBefore = new HashSet<>();
        TableFiles.load(table).dataFiles().values().forEach(f -> specsBefore.add(f.specId()));
        assertThat(specsBefore).hasSize(3);

        // The writer commits changes, some to rows the rewrite carries, until it took the rewrite
        // in.
        CompletableFuture<RewriteDataFilesResult> rewrite =
            CompletableFuture.supplyAsync(
                () ->
                    cdc.maintenance.rewriteDataFiles(
                        CdcTable.ID, options(100, null), (done, total, message) -> {}));
        for (int commits = 0; !rewrite.isDone() && commits < 2000; commits++) {
          cdc.commit(1, 5, 5);
        }
        RewriteDataFilesResult result = rewrite.get(1, TimeUnit.MINUTES);

        table = cdc.load();
        TableFiles after = TableFiles.load(table);
        assertThat(result.rewrittenDataFiles()).isPositive();
        assertThat(after.dataFiles().values()).allMatch(file -> file.specId() == current);
        // bucket(4) x {n, u}: the rows of the unpartitioned files spread over the partitions.
        assertThat(after.dataFiles()).hasSizeGreaterThan(4);
        assertThat(CdcTable.read(table, table.currentSnapshot().snapshotId()))
            .isEqualTo(cdc.currentModel());
        cdc.assertEverySnapshotReadsItsRows();

        cdc.commit(10, 20, 0);
        table = cdc.load();
        assertThat(CdcTable.read(table, table.currentSnapshot().snapshotId()))
            .isEqualTo(cdc.currentModel());
        assertThat(CdcTableWriter.open(table).liveRows()).isEqualTo(cdc.currentModel().size());
      } finally {
        cdc.writers.unregister(cdc.writer());
      }
    }
  }

  @Test
  void handedToTheWriterWhileItKeepsCommitting() throws Exception {
    rewriteWhileTheWriterKeepsCommitting(
        true,
        cdc -> cdc.commit(20, 20, 0),
        cdc -> cdc.commit(3, 20, 0),
        cdc -> cdc.commit(1, 5, 5));
  }

  /**
   * A compaction run where no writer of the table is registered, as {@code floe maintain} beside a
   * pipeline of another process (here committing every 200 ms): the writer's deletes of rows the
   * rewrite carries, committed while it writes and while it commits, are carried over to the new
   * files, and the writer reloads its index when it sees the rewrite.
   */
  @Test
  void committedDirectlyWhileAWriterOfAnotherProcessKeepsCommitting() throws Exception {
    rewriteWhileTheWriterKeepsCommitting(
        false,
        cdc -> cdc.commit(20, 20, 0),
        cdc -> cdc.commit(3, 20, 0),
        cdc -> cdc.commit(1, 5, 200));
  }

  /**
   * As above, where the rewritten files had no deletes and the deletes committed while the rewrite
   * reads also name a file outside it: the rewrite replaces no delete file.
   */
  @Test
  void committedDirectlyWhenTheRewrittenFilesHadNoDeletes() throws Exception {
    Random random = new Random(11);
    rewriteWhileTheWriterKeepsCommitting(
        false,
        cdc -> cdc.commitInserts(20),
        cdc -> {
          cdc.commitUpserts(1000);
          cdc.commitUpserts(1000, 5);
        },
        cdc -> {
          cdc.commitUpserts(1000, random.nextInt(80));
          CdcTable.pause(200);
        });
  }

  /**
   * Loads 20 small files with {@code load}, then rewrites them while the writer commits changes
   * ({@code whileReading} while the rewrite reads, then {@code meanwhile} until it is done),
   * registered (as a pipeline of this process) or not.
   */
  private void rewriteWhileTheWriterKeepsCommitting(
      boolean registered,
      Consumer<CdcTable> load,
      Consumer<CdcTable> whileReading,
      Consumer<CdcTable> meanwhile)
      throws Exception {
    try (CdcTable cdc = CdcTable.create(warehouse)) {
      cdc.writer().setCompactionEnabled(false);
      load.accept(cdc);
      // A registered writer leaves the rewrite's files alone; an unregistered one must not compact
      // them here (the next test).
      cdc.writer().setCompactionEnabled(registered);
      if (registered) {
        cdc.writers.register(cdc.writer());
      }
      try (PausedRewrite rewrite = new PausedRewrite(cdc)) {
        // Updates and deletes of rows the rewrite is carrying, committed while it runs.
        whileReading.accept(cdc);
        rewrite.release();
        int commits = 0;
        while (!rewrite.isDone() && commits < 2000) {
          meanwhile.accept(cdc);
          commits++;
        }
        RewriteDataFilesResult result = rewrite.result();
        assertThat(result.rewrittenDataFiles()).isEqualTo(20);
        assertThat(result.rowsChangedMeanwhile()).isPositive();
        assertThat(RunDetails.of(result))
            .endsWith(
                ", carried over " + result.rowsChangedMeanwhile() + " rows changed meanwhile");
        if (!registered) {
          // The rewrite's own snapshot changes no row.
          Table table = cdc.load();
          assertThat(CdcTable.read(table, result.snapshotId()))
              .isEqualTo(CdcTable.read(table, table.snapshot(result.snapshotId()).parentId()));
        }
      } finally {
        cdc.writers.unregister(cdc.writer());
      }
      cdc.writer().setCompactionEnabled(true);
      cdc.commit(10, 20, 0);
      Table table = cdc.load();
      assertThat(CdcTable.read(table, table.currentSnapshot().snapshotId()))
          .isEqualTo(cdc.currentModel());
      cdc.assertEverySnapshotReadsItsRows();
      assertThat(CdcTableWriter.open(table).liveRows()).isEqualTo(cdc.currentModel().size());
    }
  }

  /**
   * Without a registered writer, a writer that compacts the rewrite's files itself meanwhile makes
   * the rewrite plan again instead of failing.
   */
  @Test
  void directRewriteOfFilesTheWriterCompactedMeanwhileIsPlannedAgain() throws Exception {
    try (CdcTable cdc = CdcTable.create(warehouse)) {
      cdc.writer().setCompactionEnabled(false);
      cdc.commit(20, 20, 0);
      try (PausedRewrite rewrite = new PausedRewrite(cdc)) {
        cdc.writer().setCompactionEnabled(true);
        cdc.commit(1, 20, 0);
        assertThat(TableFiles.load(cdc.load()).dataFiles().size()).isLessThan(5);
        rewrite.release();
        assertThat(rewrite.result().rewrittenDataFiles()).isZero();
      }
      cdc.commit(5, 20, 0);
      Table table = cdc.load();
      assertThat(CdcTable.read(table, table.currentSnapshot().snapshotId()))
          .isEqualTo(cdc.currentModel());
      cdc.assertEverySnapshotReadsItsRows();
    }
  }

  @Test
  void compactionLoopAlongsideCommitsLosesNothing() throws Exception {
    try (CdcTable cdc = CdcTable.create(warehouse)) {
      cdc.commit(10, 20, 0);
      cdc.writers.register(cdc.writer());
      AtomicBoolean writing = new AtomicBoolean(true);
      List<RewriteDataFilesResult> results = new ArrayList<>();
      ExecutorService executor = Executors.newSingleThreadExecutor();
      try {
        Future<?> compaction =
            executor.submit(
                () -> {
                  while (writing.get()) {
                    results.add(
                        cdc.maintenance.rewriteDataFiles(
                            CdcTable.ID,
                            new RewriteDataFilesOptions(
                                RewriteDataFilesOptions.DEFAULT_TARGET_FILE_SIZE,
                                2,
                                0.05,
                                null,
                                IoThrottle.UNLIMITED),
                            RewriteProgress.NONE));
                  }
                  return null;
                });
        cdc.commit(80, 10, 3);
        writing.set(false);
        while (!compaction.isDone()) {
          cdc.commitPending();
          CdcTable.pause(5);
        }
        compaction.get();
      } finally {
        cdc.writers.unregister(cdc.writer());
        executor.shutdownNow();
      }
      assertThat(results.stream().mapToInt(RewriteDataFilesResult::rewrittenDataFiles).sum())
          .isPositive();
      Table table = cdc.load();
      assertThat(CdcTable.read(table, table.currentSnapshot().snapshotId()))
          .isEqualTo(cdc.currentModel());
      cdc.assertEverySnapshotReadsItsRows();
      assertThat(CdcTableWriter.open(table).liveRows()).isEqualTo(cdc.currentModel().size());
      assertThat(TableFiles.load(table).dataFiles().size()).isLessThan(10);
    }
  }

  @Test
  void writerLeavesReservedFilesAloneUntilTheRewriteIsWithdrawn() throws IOException {
    try (CdcTable cdc = CdcTable.create(warehouse)) {
      cdc.writer().setCompactionEnabled(false);
      cdc.commit(6, 20, 0);
      RewriteHandoff handoff =
          cdc.writer().beginRewrite(TableFiles.load(cdc.load()).dataFiles().keySet());
      cdc.writer().setCompactionEnabled(true);
      cdc.commit(1, 20, 0);
      assertThat(TableFiles.load(cdc.load()).dataFiles()).hasSize(7);

      assertThat(handoff.withdraw("given up")).isTrue();
      cdc.commit(1, 20, 0);
      assertThat(TableFiles.load(cdc.load()).dataFiles().size()).isLessThan(3);
      Table table = cdc.load();
      assertThat(CdcTable.read(table, table.currentSnapshot().snapshotId()))
          .isEqualTo(cdc.currentModel());
    }
  }

  @Test
  void sortsRewrittenFilesBySortOrder() throws IOException {
    try (CdcTable cdc = CdcTable.create(warehouse)) {
      cdc.writer().setCompactionEnabled(false);
      cdc.commit(10, 20, 0);
      cdc.maintenance.rewriteDataFiles(
          CdcTable.ID, options(2, "name DESC NULLS LAST, id"), RewriteProgress.NONE);
      Table table = cdc.load();
      DataFile file = TableFiles.load(table).dataFiles().values().iterator().next();
      List<String> names = new ArrayList<>();
      try (CloseableIterable<Record> rows =
          Parquet.read(table.io().newInputFile(file.location()))
              .project(CdcTable.SCHEMA)
              .createReaderFunc(
                  schema -> GenericParquetReaders.buildReader(CdcTable.SCHEMA, schema))
              .build()) {
        rows.forEach(row -> names.add((String) row.get(1)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      assertThat(names).hasSize(cdc.currentModel().size());
      assertThat(names).isSortedAccordingTo((left, right) -> right.compareTo(left));
      assertThat(CdcTable.read(table, table.currentSnapshot().snapshotId()))
          .isEqualTo(cdc.currentModel());
    }
  }

  /**
   * A sorted rewrite that spills its rows in many runs, handed to the writer while it commits: the
   * new file is sorted, and the writer's index follows every row through the merge (its later
   * updates and deletes land on the right rows).
   */
  @Test
  void sortedRewriteSpilledInRunsKeepsTheWritersIndexRight() throws Exception {
    try (CdcTable cdc = CdcTable.create(warehouse)) {
      cdc.writer().setCompactionEnabled(false);
      cdc.commit(20, 20, 0);
      cdc.writer().setCompactionEnabled(true);
      cdc.writers.register(cdc.writer());
      // Tens of bytes of input a row, 500 bytes a run: runs of a few rows each.
      try (PausedRewrite rewrite =
          new PausedRewrite(
              progress ->
                  DataCompaction.run(
                      cdc.load(),
                      cdc.writers,
                      options(5, "name DESC NULLS LAST, id"),
                      progress,
                      500))) {
        rewrite.release();
        while (!rewrite.isDone()) {
          cdc.commit(1, 5, 5);
        }
        assertThat(rewrite.result().rewrittenDataFiles()).isEqualTo(20);
        DataFile sorted =
            TableFiles.load(cdc.load()).dataFiles().values().stream()
                .max(Comparator.comparingLong(DataFile::recordCount))
                .orElseThrow();
        List<String> names = new ArrayList<>();
        try (CloseableIterable<Record> rows =
            Parquet.read(cdc.load().io().newInputFile(sorted.location()))
                .project(CdcTable.SCHEMA)
                .createReaderFunc(
                    schema -> GenericParquetReaders.buildReader(CdcTable.SCHEMA, schema))
                .build()) {
          rows.forEach(row -> names.add((String) row.get(1)));
        }
        assertThat(names).hasSizeGreaterThan(40).isSortedAccordingTo(Comparator.reverseOrder());
        cdc.commit(20, 20, 0);
      } finally {
        cdc.writers.unregister(cdc.writer());
      }
      Table table = cdc.load();
      assertThat(CdcTable.read(table, table.currentSnapshot().snapshotId()))
          .isEqualTo(cdc.currentModel());
      cdc.assertEverySnapshotReadsItsRows();
      assertThat(CdcTableWriter.open(table).liveRows()).isEqualTo(cdc.currentModel().size());
    }
  }

  @Test
  void leavesTablesWithFewSmallFilesAndNoDeletes() throws IOException {
    try (CdcTable cdc = CdcTable.create(warehouse)) {
      cdc.writer().setCompactionEnabled(false);
      cdc.commit(3, 20, 0);
      long current = cdc.load().currentSnapshot().snapshotId();
      RewriteDataFilesResult result =
          cdc.maintenance.rewriteDataFiles(
              CdcTable.ID,
              new RewriteDataFilesOptions(
                  RewriteDataFilesOptions.DEFAULT_TARGET_FILE_SIZE,
                  5,
                  2.0,
                  null,
                  IoThrottle.UNLIMITED),
              RewriteProgress.NONE);
      assertThat(result.rewrittenDataFiles()).isZero();
      assertThat(result.snapshotId()).isEqualTo(-1);
      assertThat(cdc.load().currentSnapshot().snapshotId()).isEqualTo(current);
    }
  }

  /** A file above 1.8 targets is split into files of the target size, as Spark does. */
  @Test
  void splitsFilesLargerThanTheTarget() throws IOException {
    try (CdcTable cdc = CdcTable.create(warehouse)) {
      cdc.writer().setCompactionEnabled(false);
      Random random = new Random(7);
      for (long id = 1_000; id < 21_000; id++) {
        cdc.writer().upsert(CdcTable.row(id, "n" + random.nextLong(), "big-" + id), null);
      }
      cdc.writer().commit(Map.of());
      Table before = cdc.load();
      DataFile large = TableFiles.load(before).dataFiles().values().iterator().next();
      long target = large.fileSizeInBytes() / 4;
      RewriteDataFilesOptions options =
          new RewriteDataFilesOptions(target, 5, 2.0, null, IoThrottle.UNLIMITED);

      RewriteDataFilesResult result =
          cdc.maintenance.rewriteDataFiles(CdcTable.ID, options, RewriteProgress.NONE);

      assertThat(result.rewrittenDataFiles()).isEqualTo(1);
      assertThat(result.addedDataFiles()).isGreaterThanOrEqualTo(3);
      Table after = cdc.load();
      assertThat(TableFiles.load(after).dataFiles().values())
          .hasSize(result.addedDataFiles())
          .allSatisfy(file -> assertThat(file.fileSizeInBytes()).isLessThan(target * 18 / 10));
      assertThat(CdcTable.read(after, after.currentSnapshot().snapshotId()))
          .hasSize(20_000)
          .isEqualTo(CdcTable.read(before, before.currentSnapshot().snapshotId()));

      // The split files are not split again. (In files this small, Parquet's size estimate of
      // the rows it still buffers is above their compressed size, so the split files come out
      // smaller than the target; too few of them to be bin-packed here.)
      RewriteDataFilesOptions fewSmallFiles =
          new RewriteDataFilesOptions(target, 1_000, 2.0, null, IoThrottle.UNLIMITED);
      assertThat(
              cdc.maintenance
                  .rewriteDataFiles(CdcTable.ID, fewSmallFiles, RewriteProgress.NONE)
                  .rewrittenDataFiles())
          .isZero();
      assertThat(CdcTableWriter.open(after).liveRows()).isEqualTo(20_000);
    }
  }

  @Test
  void refusesBadSortOrders() throws IOException {
    try (CdcTable cdc = CdcTable.create(warehouse)) {
      cdc.commit(2, 5, 0);
      assertThatThrownBy(
              () ->
                  cdc.maintenance.rewriteDataFiles(
                      CdcTable.ID, options(1, "nope DESC"), RewriteProgress.NONE))
          .hasMessageContaining("Invalid sort order 'nope DESC': no column nope in the table");
      assertThatThrownBy(
              () ->
                  cdc.maintenance.rewriteDataFiles(
                      CdcTable.ID, options(1, "id SIDEWAYS"), RewriteProgress.NONE))
          .hasMessageContaining("unexpected 'SIDEWAYS' after column id");
    }
  }

  @Test
  void writerContinuesCorrectlyAfterARollback() throws IOException {
    try (CdcTable cdc = CdcTable.create(warehouse)) {
      cdc.commit(10, 20, 0);
      long target = cdc.commits().get(4);
      cdc.maintenance.rollbackToSnapshot(CdcTable.ID, target);
      cdc.resetModelTo(target);
      // The same writer, which committed 5 snapshots after the rollback's target, goes on.
      cdc.commit(10, 20, 0);
      Table table = cdc.load();
      assertThat(CdcTable.read(table, table.currentSnapshot().snapshotId()))
          .isEqualTo(cdc.currentModel());
      assertThat(CdcTableWriter.open(table).liveRows()).isEqualTo(cdc.currentModel().size());
    }
  }

  /**
   * A rewrite in another thread (by default of {@link CdcTable}'s table, at least 5 small files)
   * that, once it has begun reading, waits at its first progress report until released.
   */
  private static final class PausedRewrite implements AutoCloseable {
    private final CountDownLatch reading = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);
    private final ExecutorService executor = Executors.newSingleThreadExecutor();
    private final Future<RewriteDataFilesResult> result;

    PausedRewrite(CdcTable cdc) {
      this(progress -> cdc.maintenance.rewriteDataFiles(CdcTable.ID, options(5, null), progress));
    }

    /** Runs {@code rewrite} with a progress listener that pauses it. */
    PausedRewrite(Function<RewriteProgress, RewriteDataFilesResult> rewrite) {
      result =
          executor.submit(
              () ->
                  rewrite.apply(
                      (done, total, message) -> {
                        reading.countDown();
                        await(released);
                      }));
      await(reading);
    }

    void release() {
      released.countDown();
    }

    boolean isDone() {
      return result.isDone();
    }

    RewriteDataFilesResult result() throws Exception {
      return result.get(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
      released.countDown();
      executor.shutdownNow();
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      assertThat(latch.await(30, TimeUnit.SECONDS)).isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
