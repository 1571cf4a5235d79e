package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.OverwriteFiles;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.SnapshotUpdate;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.InternalRecordWrapper;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFileFactory;

/**
 * Appends rows to an Iceberg table (partitioned or not) in batches: each commit writes one Parquet
 * data file per partition of the batch and appends them in one snapshot carrying the summary. No
 * key index, no deletes: the writer of event tables, whose memory is the pending batch only.
 *
 * <p>Compaction of its small files is left to table maintenance, which commits directly beside
 * appends (they never conflict). Not thread-safe. After a failed commit the writer refuses further
 * use; open a new one.
 */
public final class AppendTableWriter implements TableWriter {
  private final Table table;
  private final Schema schema;
  private final PartitionSpec spec;
  private final OutputFileFactory fileFactory;
  private final CommitPolicy policy;
  private final List<Record> pending = new ArrayList<>();
  private boolean truncate;
  private boolean broken;

  private AppendTableWriter(Table table) {
    this.table = requireNonNull(table, "table is null");
    this.schema = table.schema();
    this.spec = table.spec();
    this.policy = new CommitPolicy(table.name());
    this.fileFactory = ParquetRows.outputFiles(table);
  }

  /** A writer of the table's current schema and partition spec. */
  public static AppendTableWriter open(Table table) {
    return new AppendTableWriter(table);
  }

  @Override
  public Table table() {
    return table;
  }

  @Override
  public Schema schema() {
    return schema;
  }

  @Override
  public void upsert(Record row, BitSet unchanged) {
    checkUsable();
    pending.add(requireNonNull(row, "row is null"));
  }

  @Override
  public void update(Record oldKeyRow, Record row, BitSet unchanged) {
    throw new UnsupportedOperationException(
        "Table " + table.name() + " is written by appends only: it has no key to update by");
  }

  @Override
  public void delete(Record keyRow) {
    throw new UnsupportedOperationException(
        "Table " + table.name() + " is written by appends only: it has no key to delete by");
  }

  @Override
  public void truncate() {
    checkUsable();
    pending.clear();
    truncate = true;
  }

  @Override
  public long pendingChanges() {
    return pending.size();
  }

  @Override
  public long liveRows() {
    return -1;
  }

  @Override
  public Optional<CdcTableWriter.CommitResult> commit(Map<String, String> summary) {
    requireNonNull(summary, "summary is null");
    checkUsable();
    if (pending.isEmpty() && !truncate) {
      return Optional.empty();
    }
    return Optional.of(commitSnapshot(summary));
  }

  @Override
  public CdcTableWriter.CommitResult checkpoint(Map<String, String> summary) {
    requireNonNull(summary, "summary is null");
    checkUsable();
    return commitSnapshot(summary);
  }

  private CdcTableWriter.CommitResult commitSnapshot(Map<String, String> summary) {
    long started = System.nanoTime();
    List<DataFile> written = new ArrayList<>();
    boolean commitCalled = false;
    try {
      written.addAll(writeFiles());
      SnapshotUpdate<?> update;
      if (truncate) {
        OverwriteFiles overwrite =
            table.newOverwrite().overwriteByRowFilter(Expressions.alwaysTrue());
        written.forEach(overwrite::addFile);
        update = overwrite;
      } else {
        AppendFiles append = table.newFastAppend();
        written.forEach(append::appendFile);
        update = append;
      }
      summary.forEach(update::set);
      commitCalled = true;
      update.commit();
    } catch (RuntimeException e) {
      broken = true;
      if (CommitPolicy.writtenFilesUnreferenced(e, commitCalled)) {
        delete(written, e);
      }
      throw policy.error(e);
    }
    int rows = pending.size();
    pending.clear();
    truncate = false;
    OptionalLong snapshot =
        table.currentSnapshot() == null
            ? OptionalLong.empty()
            : OptionalLong.of(table.currentSnapshot().snapshotId());
    return new CdcTableWriter.CommitResult(
        snapshot, rows, 0, 0, 0, 0, false, System.nanoTime() - started);
  }

  /** One data file per partition of the pending rows, in arrival order within each. */
  private List<DataFile> writeFiles() {
    if (pending.isEmpty()) {
      return List.of();
    }
    Map<PartitionKey, List<Record>> partitions = new LinkedHashMap<>();
    if (spec.isUnpartitioned()) {
      partitions.put(null, pending);
    } else {
      PartitionKey key = new PartitionKey(spec, schema);
      InternalRecordWrapper wrapper = new InternalRecordWrapper(schema.asStruct());
      for (Record row : pending) {
        key.partition(wrapper.wrap(row));
        partitions.computeIfAbsent(key.copy(), ignored -> new ArrayList<>()).add(row);
      }
    }
    List<DataFile> files = new ArrayList<>();
    try {
      for (Map.Entry<PartitionKey, List<Record>> partition : partitions.entrySet()) {
        PartitionKey key = partition.getKey();
        DataWriter<Record> writer =
            ParquetRows.dataWriter(
                table,
                key == null ? fileFactory.newOutputFile() : fileFactory.newOutputFile(spec, key),
                spec,
                key);
        try (writer) {
          partition.getValue().forEach(writer::write);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
        files.add(writer.toDataFile());
      }
    } catch (RuntimeException e) {
      delete(files, e);
      throw e;
    }
    return files;
  }

  /** Deletes files no commit references, adding a failure to do so to {@code failure}. */
  private void delete(List<DataFile> files, RuntimeException failure) {
    for (DataFile file : files) {
      try {
        table.io().deleteFile(file.location());
      } catch (RuntimeException cleanup) {
        failure.addSuppressed(cleanup);
      }
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
}
