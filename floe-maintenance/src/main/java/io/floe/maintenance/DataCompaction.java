package io.floe.maintenance;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.Scans;
import io.floe.core.catalog.TableFiles;
import io.floe.core.storage.UncommittedFiles;
import io.floe.core.writer.CdcTableWriter;
import io.floe.core.writer.DataFileRewrite;
import io.floe.core.writer.ParquetRows;
import io.floe.core.writer.PartitionRouter;
import io.floe.core.writer.RewriteHandoff;
import io.floe.core.writer.TableWriterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.MetadataColumns;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SortOrder;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableScan;
import org.apache.iceberg.data.GenericDeleteFilter;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.types.Types;

/**
 * Compaction of a table's data files (rewrite_data_files): plans file groups, writes their live
 * rows into new files of the target size, and commits them, through the table's CDC writer when one
 * streams into it in this process. See the package documentation for the design.
 */
final class DataCompaction {
  /** Files smaller than this share of the target size are small. */
  static final double SMALL_FILE_SHARE = 0.75;

  /**
   * Files larger than this multiple of the target size are rewritten into files of the target size,
   * as Spark's default {@code max-file-size-bytes} (1.8 times the target) does.
   */
  static final double LARGE_FILE_SHARE = 1.8;

  /** Most input bytes of one file group (one commit), as a multiple of the target size. */
  static final int GROUP_TARGETS = 2;

  /**
   * Input bytes (as stored) of the rows a sorted rewrite holds in memory before it writes them,
   * sorted, to a temporary file to merge later: rows take several times their stored size on the
   * heap.
   */
  static final long SORT_RUN_BYTES = 16L << 20;

  /** How long a rewrite waits for the table's writer to commit it. */
  static final Duration HANDOFF_TIMEOUT = Duration.ofMinutes(2);

  /** Plannings of one rewrite, when the writer compacted the chosen files meanwhile. */
  static final int PLANNING_ROUNDS = 3;

  /** Rows between two throttle and progress steps. */
  private static final int STEP_ROWS = 10_000;

  private final Table table;
  private final TableWriterRegistry writers;
  private final RewriteDataFilesOptions options;
  private final RewriteProgress progress;
  private final Schema schema;
  private final SortOrder sortOrder;

  /**
   * For each delete file of the snapshot last planned, the data files it applies to: a delete file
   * that applies only to rewritten files is dropped with them.
   */
  private final Map<String, Set<String>> deleteTargets = new HashMap<>();

  /** Input bytes a sorted rewrite holds in memory: {@link #SORT_RUN_BYTES} but in tests. */
  private final long sortRunBytes;

  private DataCompaction(
      Table table,
      TableWriterRegistry writers,
      RewriteDataFilesOptions options,
      RewriteProgress progress,
      long sortRunBytes) {
    this.table = table;
    this.writers = writers;
    this.options = options;
    this.progress = progress;
    this.sortRunBytes = sortRunBytes;
    this.schema = table.schema();
    if (options.sortOrder() == null || options.sortOrder().isBlank()) {
      this.sortOrder = table.sortOrder().isSorted() ? table.sortOrder() : null;
    } else {
      this.sortOrder = SortOrders.parse(schema, options.sortOrder());
    }
  }

  /**
   * Compacts the table's data files; through its writer when one of {@code writers} streams into
   * it, else committing directly.
   */
  static RewriteDataFilesResult run(
      Table table,
      TableWriterRegistry writers,
      RewriteDataFilesOptions options,
      RewriteProgress progress) {
    return run(table, writers, options, progress, SORT_RUN_BYTES);
  }

  /**
   * As {@link #run(Table, TableWriterRegistry, RewriteDataFilesOptions, RewriteProgress)}, sorting
   * in smaller runs.
   */
  static RewriteDataFilesResult run(
      Table table,
      TableWriterRegistry writers,
      RewriteDataFilesOptions options,
      RewriteProgress progress,
      long sortRunBytes) {
    return new DataCompaction(table, writers, options, progress, sortRunBytes).run();
  }

  private RewriteDataFilesResult run() {
    long started = System.nanoTime();
    Totals totals = new Totals();
    // A group whose files the table's writer compacted itself meanwhile is planned again.
    for (int round = 1; round <= PLANNING_ROUNDS; round++) {
      table.refresh();
      Snapshot base = table.currentSnapshot();
      if (base == null) {
        break;
      }
      List<List<FileScanTask>> groups = plan(base);
      for (List<FileScanTask> group : groups) {
        for (FileScanTask task : group) {
          totals.total += task.file().fileSizeInBytes();
        }
      }
      boolean stale = false;
      for (int i = 0; i < groups.size(); i++) {
        totals.label = "file group " + (i + 1) + " of " + groups.size();
        stale |= !rewriteGroup(base, groups.get(i), totals);
      }
      if (!stale) {
        break;
      }
    }
    return new RewriteDataFilesResult(
        totals.rewrittenFiles,
        totals.addedFiles,
        totals.rewrittenBytes,
        totals.addedBytes,
        totals.removedDeleteFiles,
        totals.foldedDeletes,
        totals.deletedSince,
        totals.snapshotId,
        SnapshotExpiry.millisSince(started));
  }

  /**
   * Chooses the files to rewrite, by partition: files smaller than {@link #SMALL_FILE_SHARE} of the
   * target when a partition has at least {@code minInputFiles} of them, and every file whose
   * deleted rows reach {@code deleteRatio} of its rows, that equality deletes apply to, or that is
   * larger than {@link #LARGE_FILE_SHARE} targets (then together with the partition's small files).
   * Each partition's files are split into groups of at most {@link #GROUP_TARGETS} target sizes of
   * input.
   */
  private List<List<FileScanTask>> plan(Snapshot base) {
    deleteTargets.clear();
    Map<String, List<FileScanTask>> byPartition = new LinkedHashMap<>();
    Map<String, Long> deletedRows = new HashMap<>();
    Map<String, Map<String, Long>> positionsByDeleteFile = new HashMap<>();
    boolean filtered = options.filter().op() != Expression.Operation.TRUE;
    // Every file is planned, not only the matching ones: a delete file may be dropped only when
    // all the data files it applies to are rewritten.
    TableScan scan = Scans.scan(table).useSnapshot(base.snapshotId());
    try (CloseableIterable<FileScanTask> tasks =
        (filtered ? scan.includeColumnStats() : scan).planFiles()) {
      for (FileScanTask task : tasks) {
        DataFile file = task.file();
        byPartition
            .computeIfAbsent(TableFiles.partitionKey(table.specs(), file), key -> new ArrayList<>())
            .add(task);
        long deleted = 0;
        for (DeleteFile delete : task.deletes()) {
          deleteTargets
              .computeIfAbsent(delete.location(), location -> new HashSet<>())
              .add(file.location());
          Map<String, Long> positions =
              delete.content() == FileContent.EQUALITY_DELETES
                  ? null
                  : positionsByDeleteFile.computeIfAbsent(
                      delete.location(), location -> countPositions(delete));
          if (positions == null) {
            // Equality deletes, or deletes Floe cannot count: fold them.
            deleted = Long.MAX_VALUE;
            break;
          }
          deleted += positions.getOrDefault(file.location(), 0L);
        }
        deletedRows.put(file.location(), deleted);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Predicate<DataFile> matching =
        filtered ? TableFiles.mayMatch(table, schema, options.filter()) : file -> true;
    long small = (long) (options.targetFileSizeBytes() * SMALL_FILE_SHARE);
    long large = (long) (options.targetFileSizeBytes() * LARGE_FILE_SHARE);
    long groupBytes = options.targetFileSizeBytes() * GROUP_TARGETS;
    List<List<FileScanTask>> groups = new ArrayList<>();
    for (List<FileScanTask> tasks : byPartition.values()) {
      List<FileScanTask> smallFiles = new ArrayList<>();
      List<FileScanTask> due = new ArrayList<>();
      for (FileScanTask task : tasks) {
        DataFile file = task.file();
        if (!matching.test(file)) {
          continue;
        }
        long deleted = deletedRows.get(file.location());
        boolean heavy =
            deleted == Long.MAX_VALUE
                || (file.recordCount() > 0
                    && deleted >= options.deleteRatio() * file.recordCount());
        boolean oversized = file.fileSizeInBytes() > large;
        // A file of an earlier spec (before a partition evolution) moves to the current one.
        boolean earlierSpec = file.specId() != table.spec().specId();
        if (heavy || oversized || earlierSpec) {
          due.add(task);
        } else if (file.fileSizeInBytes() < small) {
          smallFiles.add(task);
        }
      }
      List<FileScanTask> chosen = new ArrayList<>(due);
      if (!due.isEmpty() || smallFiles.size() >= options.minInputFiles()) {
        chosen.addAll(smallFiles);
      }
      if (chosen.isEmpty()) {
        continue;
      }
      // Oldest files first, so that rows keep roughly the order they arrived in.
      chosen.sort(Comparator.comparingLong(task -> task.file().dataSequenceNumber()));
      List<FileScanTask> group = new ArrayList<>();
      long bytes = 0;
      for (FileScanTask task : chosen) {
        if (!group.isEmpty() && bytes + task.file().fileSizeInBytes() > groupBytes) {
          groups.add(group);
          group = new ArrayList<>();
          bytes = 0;
        }
        group.add(task);
        bytes += task.file().fileSizeInBytes();
      }
      groups.add(group);
    }
    return groups;
  }

  /**
   * Deleted positions of a position-delete file, counted by data file; null for a format other than
   * Parquet (not written by Floe).
   */
  private Map<String, Long> countPositions(DeleteFile delete) {
    if (delete.format() != FileFormat.PARQUET) {
      return null;
    }
    Map<String, Long> counts = new HashMap<>();
    ParquetRows.readPositionDeletes(table.io(), delete.location())
        .forEach((path, positions) -> counts.put(path, (long) positions.size()));
    return counts;
  }

  /**
   * Rewrites one file group and commits it.
   *
   * @return false if the group is stale: the writer compacted its files before it was committed
   */
  private boolean rewriteGroup(Snapshot base, List<FileScanTask> group, Totals totals) {
    Set<String> sources = new HashSet<>();
    group.forEach(task -> sources.add(task.file().location()));
    Optional<CdcTableWriter> writer = writers.forTable(table.uuid());
    RewriteHandoff handoff = writer.map(w -> w.beginRewrite(sources)).orElse(null);
    Outputs outputs = new Outputs();
    boolean committed = false;
    try {
      if (handoff != null && !allLive(sources)) {
        // The writer compacted some of them between the planning and the reservation.
        return false;
      }
      DataFileRewrite rewrite = write(base, group, outputs, totals);
      long snapshotId;
      int rewrittenFiles;
      long deletedSince = 0;
      int removedDeleteFiles = rewrite.obsoleteDeletes().size();
      if (handoff != null) {
        RewriteHandoff.Outcome outcome = await(handoff, handoff.submit(rewrite));
        if (outcome.stale()) {
          return false;
        }
        // Empty if the writer's snapshot left the table's history right away: none to report.
        snapshotId = outcome.snapshotId().orElse(-1);
        rewrittenFiles = outcome.rewrittenFiles();
        deletedSince = outcome.rowsDeletedSince();
      } else {
        DirectRewriteCommit direct = new DirectRewriteCommit(table, base, rewrite);
        OptionalLong committedSnapshot;
        try {
          committedSnapshot = direct.commit();
        } catch (CommitStateUnknownException e) {
          committed = true; // its files may be referenced: keep them
          throw e;
        }
        if (committedSnapshot.isEmpty()) {
          return false;
        }
        snapshotId = committedSnapshot.getAsLong();
        rewrittenFiles = rewrite.sources().size();
        removedDeleteFiles = direct.removedDeleteFiles();
        deletedSince = direct.rowsDeletedSince();
      }
      committed = true;
      record(rewrite, rewrittenFiles, removedDeleteFiles, snapshotId, deletedSince, totals);
      return true;
    } finally {
      // A rewrite the writer took is the writer's to clean up.
      if (!committed && (handoff == null || handoff.withdraw("the rewrite failed"))) {
        UncommittedFiles.delete(table, outputs.locations);
      }
    }
  }

  /** Whether all these data files are live in the table's current snapshot. */
  private boolean allLive(Set<String> locations) {
    table.refresh();
    Set<String> missing = new HashSet<>(locations);
    try (CloseableIterable<FileScanTask> tasks = Scans.scan(table).planFiles()) {
      for (FileScanTask task : tasks) {
        missing.remove(task.file().location());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return missing.isEmpty();
  }

  private static void record(
      DataFileRewrite rewrite,
      int rewrittenFiles,
      int removedDeleteFiles,
      long snapshotId,
      long deletedSince,
      Totals totals) {
    totals.rewrittenFiles += rewrittenFiles;
    totals.rewrittenBytes += rewrite.sourceBytes();
    totals.addedFiles += rewrite.outputs().size();
    for (DataFile output : rewrite.outputs()) {
      totals.addedBytes += output.fileSizeInBytes();
    }
    totals.removedDeleteFiles += removedDeleteFiles;
    totals.deletedSince += deletedSince;
    totals.snapshotId = snapshotId;
  }

  /**
   * Reads the group's files as of the base snapshot, deletes applied, and writes their rows into
   * new files of the target size (sorted, if there is a sort order), noting where each row went.
   */
  private DataFileRewrite write(
      Snapshot base, List<FileScanTask> group, Outputs outputs, Totals totals) {
    if (sortOrder == null) {
      return write(base, group, outputs, totals, null);
    }
    try (SortedRows sorted =
        new SortedRows(
            schema, sortOrder, sortRunBytes, Path.of(System.getProperty("java.io.tmpdir")))) {
      return write(base, group, outputs, totals, sorted);
    }
  }

  private DataFileRewrite write(
      Snapshot base, List<FileScanTask> group, Outputs outputs, Totals totals, SortedRows sorted) {
    Schema requested = ParquetRows.withPosition(schema);
    Map<String, long[]> newLocations = new HashMap<>();
    Set<String> sourceLocations = new HashSet<>();
    List<DataFile> sources = new ArrayList<>();
    List<long[]> targetsBySource = new ArrayList<>();
    Map<String, DeleteFile> deletes = new LinkedHashMap<>();
    // The rows go to the partitions of the current spec: those of the group's own partition when
    // the group is of the current spec, spread over its partitions when it is of an earlier one.
    PartitionSpec spec = table.spec();
    OutputFileFactory files = outputFiles(table, spec.specId(), "rewrite");
    PartitionRouter<RollingWriter> writers =
        new PartitionRouter<>(
            spec, schema, partition -> new RollingWriter(files, spec, partition, outputs));
    for (FileScanTask task : group) {
      DataFile source = task.file();
      sources.add(source);
      sourceLocations.add(source.location());
      long[] targets = new long[(int) source.recordCount()];
      Arrays.fill(targets, -1);
      newLocations.put(source.location(), targets);
      targetsBySource.add(targets);
      task.deletes().forEach(delete -> deletes.put(delete.location(), delete));
      GenericDeleteFilter filter = new GenericDeleteFilter(table.io(), task, schema, requested);
      Schema required = filter.requiredSchema();
      int positionField = required.columns().indexOf(MetadataColumns.ROW_POSITION);
      long bytesPerRow = Math.max(1, source.fileSizeInBytes() / Math.max(1, source.recordCount()));
      long rows = 0;
      try (CloseableIterable<Record> records =
          filter.filter(ParquetRows.read(table.io(), source.location(), required))) {
        for (Record record : records) {
          GenericRecord row = GenericRecord.create(schema);
          for (Types.NestedField field : schema.columns()) {
            row.setField(field.name(), record.getField(field.name()));
          }
          long position = (Long) record.get(positionField);
          if (sorted != null) {
            sorted.add(row, targetsBySource.size() - 1, position, bytesPerRow);
          } else {
            targets[(int) position] = writers.writerFor(row).write(row);
          }
          if (++rows % STEP_ROWS == 0) {
            step(totals, STEP_ROWS * bytesPerRow);
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      step(totals, (rows % STEP_ROWS) * bytesPerRow);
      totals.foldedDeletes += source.recordCount() - rows;
      totals.done += source.fileSizeInBytes() - rows * bytesPerRow;
    }
    if (sorted != null) {
      sorted.forEachSorted(
          (row, source, position) ->
              targetsBySource.get(source)[(int) position] = writers.writerFor(row).write(row));
    }
    writers.writers().forEach(RollingWriter::close);
    // Delete files of the group that apply to no data file outside it become obsolete.
    List<DeleteFile> obsolete = new ArrayList<>();
    for (DeleteFile delete : deletes.values()) {
      if (sourceLocations.containsAll(deleteTargets.get(delete.location()))) {
        obsolete.add(delete);
      }
    }
    return new DataFileRewrite(base.snapshotId(), sources, obsolete, outputs.files, newLocations);
  }

  /** Names new Parquet files of a spec for one operation ({@code kind} and a random id). */
  static OutputFileFactory outputFiles(Table table, int specId, String kind) {
    return OutputFileFactory.builderFor(table, specId, System.currentTimeMillis())
        .format(FileFormat.PARQUET)
        .operationId(kind + "-" + UUID.randomUUID())
        .build();
  }

  private void step(Totals totals, long bytes) {
    try {
      // Read once and written once.
      options.throttle().acquire(2 * bytes);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw interrupted(e);
    }
    totals.done += bytes;
    progress.report(Math.min(totals.done, totals.total), totals.total, totals.label);
  }

  private RewriteHandoff.Outcome await(
      RewriteHandoff handoff, CompletableFuture<RewriteHandoff.Outcome> done) {
    try {
      try {
        return done.get(HANDOFF_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        if (handoff.withdraw(
            "the pipeline writing the table did not commit it within " + HANDOFF_TIMEOUT)) {
          throw new FloeException(
              ErrorCode.TABLE_COMMIT_CONFLICT,
              "Cannot rewrite data files of table "
                  + table.name()
                  + ": the pipeline writing it did not commit the rewrite within "
                  + HANDOFF_TIMEOUT
                  + " (is it stalled?); nothing was committed: run it again",
              e);
        }
        // The writer is committing it now.
        return done.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      handoff.withdraw("the rewrite was interrupted");
      throw interrupted(e);
    } catch (ExecutionException e) {
      // The writer fails a rewrite with a FloeException; anything else is classified as the
      // other failures of the operation are (TableMaintenance).
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException failure) {
        throw failure;
      }
      throw new FloeException(
          ErrorCode.INTERNAL_ERROR,
          "Cannot rewrite data files of table " + table.name() + ": unexpected " + cause,
          cause);
    }
  }

  private FloeException interrupted(InterruptedException e) {
    return new FloeException(
        ErrorCode.OPERATION_INTERRUPTED,
        "Cannot rewrite data files of table "
            + table.name()
            + ": interrupted (Floe is stopping?); nothing was committed, run it again",
        e);
  }

  /**
   * The files a rewrite wrote, by the index of each in the order they were opened (a file is null
   * until it is closed): the index is part of the locations of its rows.
   */
  private static final class Outputs {
    private final List<DataFile> files = new ArrayList<>();
    private final List<String> locations = new ArrayList<>();
  }

  /** Writes data files of one partition, starting a new one when the target size is reached. */
  private final class RollingWriter {
    private final OutputFileFactory files;
    private final PartitionSpec spec;
    private final StructLike partition;
    private final Outputs outputs;
    private DataWriter<Record> current;
    private int output;
    private long rows;

    RollingWriter(
        OutputFileFactory files, PartitionSpec spec, StructLike partition, Outputs outputs) {
      this.files = files;
      this.spec = spec;
      this.partition = partition;
      this.outputs = outputs;
    }

    /** Writes a row; returns its location for {@link DataFileRewrite#newLocations}. */
    long write(Record row) {
      if (current == null) {
        var file = ParquetRows.newOutputFile(files, spec, partition);
        outputs.locations.add(file.encryptingOutputFile().location());
        current = ParquetRows.dataWriter(table, file, spec, partition);
        output = outputs.files.size();
        outputs.files.add(null);
        rows = 0;
      }
      current.write(row);
      long location = DataFileRewrite.location(output, rows++);
      if (rows % 1000 == 0 && current.length() >= options.targetFileSizeBytes()) {
        close();
      }
      return location;
    }

    void close() {
      if (current == null) {
        return;
      }
      try {
        current.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      outputs.files.set(output, current.toDataFile());
      current = null;
    }
  }

  /** Figures summed over the file groups, and progress. */
  private static final class Totals {
    private long total;
    private long done;
    private String label = "";
    private int rewrittenFiles;
    private int addedFiles;
    private long rewrittenBytes;
    private long addedBytes;
    private int removedDeleteFiles;
    private long foldedDeletes;
    private long snapshotId = -1;
    private long deletedSince;
  }
}
