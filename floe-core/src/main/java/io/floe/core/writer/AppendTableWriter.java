package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.OverwriteFiles;
import org.apache.iceberg.Schema;
import org.apache.iceberg.SnapshotUpdate;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;

/**
 * Appends rows to an Iceberg table (partitioned or not) in batches: each batch is one Parquet data
 * file per partition, written on a background thread as rows come ({@link BackgroundDataFiles}),
 * and each commit appends the batch's files in one snapshot carrying the summary. No key index, no
 * deletes: the writer of event tables, whose memory is the rows not written yet (a few thousand).
 *
 * <p>Compaction of its small files is left to table maintenance, which commits directly beside
 * appends (they never conflict). Not thread-safe. After a failed commit the writer refuses further
 * use; open a new one.
 */
public final class AppendTableWriter implements TableWriter {
  private final Table table;
  private final Schema schema;
  private final CommitPolicy policy;
  private final BackgroundDataFiles files;
  private long pending;
  private boolean truncate;
  private volatile boolean broken;

  private AppendTableWriter(Table table) {
    this.table = requireNonNull(table, "table is null");
    this.schema = table.schema();
    this.policy = new CommitPolicy(table.name());
    this.files =
        new BackgroundDataFiles(table, schema, table.spec(), ParquetRows.outputFiles(table));
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
    files.add(requireNonNull(row, "row is null"));
    pending++;
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
    files.discard();
    pending = 0;
    truncate = true;
  }

  @Override
  public long pendingChanges() {
    return pending;
  }

  @Override
  public long liveRows() {
    return -1;
  }

  @Override
  public Optional<CdcTableWriter.CommitResult> commit(Map<String, String> summary) {
    requireNonNull(summary, "summary is null");
    checkUsable();
    if (pending == 0 && !truncate) {
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
      written.addAll(files.finish());
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
    int rows = Math.toIntExact(pending);
    pending = 0;
    truncate = false;
    OptionalLong snapshot =
        table.currentSnapshot() == null
            ? OptionalLong.empty()
            : OptionalLong.of(table.currentSnapshot().snapshotId());
    return new CdcTableWriter.CommitResult(
        snapshot, rows, 0, 0, 0, 0, false, System.nanoTime() - started);
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

  @Override
  public void discard() {
    broken = true;
    files.discard();
  }

  private void checkUsable() {
    if (broken) {
      throw new FloeException(
          ErrorCode.TABLE_STATE_INVALID,
          "Cannot use the writer of table "
              + table.name()
              + " after a failed commit or after its batch was discarded; open a new writer");
    }
  }
}
