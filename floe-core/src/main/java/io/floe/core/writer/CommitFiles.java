package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFileFactory;

/**
 * Writes the files of a {@link CdcTableWriter}'s commits, at most two each: one data file with the
 * batch's new rows and the live rows of the small files the commit compacts, and one
 * position-delete file. Names them uniquely for the writer ({@link OutputFileFactory}).
 */
final class CommitFiles {
  private final Table table;
  private final Schema schema;
  private final RowKeys keys;
  private final TableState state;
  private final PendingBatch batch;
  private final OutputFileFactory fileFactory;

  CommitFiles(Table table, Schema schema, RowKeys keys, TableState state, PendingBatch batch) {
    this.table = requireNonNull(table, "table is null");
    this.schema = requireNonNull(schema, "schema is null");
    this.keys = requireNonNull(keys, "keys is null");
    this.state = requireNonNull(state, "state is null");
    this.batch = requireNonNull(batch, "batch is null");
    this.fileFactory = ParquetRows.outputFiles(table);
  }

  /** Writes the batch's rows, then the live rows of the files being compacted. */
  NewData writeDataFile(List<DataFile> compacted) {
    if (batch.insertedKeys().isEmpty() && compacted.isEmpty()) {
      return NewData.NONE;
    }
    List<Object> carriedKeys = new ArrayList<>();
    KeyIndex index = state.index();
    Map<Object, Long> deleted = batch.deleted();
    DataWriter<Record> writer =
        ParquetRows.dataWriter(table, fileFactory.newOutputFile(), table.spec(), null);
    try (writer) {
      for (Record row : batch.rows()) {
        writer.write(row);
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
            carriedKeys.add(key);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new NewData(writer.toDataFile(), carriedKeys);
  }

  /**
   * Writes the position deletes of the batch's deleted and replaced rows, of the rows a rewrite's
   * outputs do not carry live, and of the small delete files the commit merges (leaving out data
   * files the commit removes), into one file.
   *
   * @param applied the rewrite the commit carries, or null
   * @return the file, or null if there is nothing to delete
   */
  DeleteFile writeDeleteFile(TidyPlan tidy, AppliedRewrite applied) {
    Set<String> removed = new HashSet<>();
    tidy.compacted().forEach(file -> removed.add(file.location()));
    if (applied != null) {
      applied.sources().forEach(file -> removed.add(file.location()));
    }
    // Position deletes must be sorted by file path, then position.
    TreeMap<String, List<Long>> byPath = new TreeMap<>();
    for (long location : batch.deleted().values()) {
      String path = state.index().path(location);
      if (!removed.contains(path)) {
        byPath.computeIfAbsent(path, p -> new ArrayList<>()).add(KeyIndex.position(location));
      }
    }
    if (applied != null) {
      applied
          .outputDeletes()
          .forEach(
              (path, positions) ->
                  byPath.computeIfAbsent(path, p -> new ArrayList<>()).addAll(positions));
    }
    for (DeleteFile merged : tidy.mergedDeletes()) {
      ParquetRows.readPositionDeletes(table.io(), merged.location())
          .forEach(
              (path, positions) -> {
                if (state.dataFiles().containsKey(path) && !removed.contains(path)) {
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

  /**
   * The data file a commit writes, and the keys of the rows it carried over from compacted files,
   * in file order after the batch's rows.
   *
   * @param file the data file, or null if the commit writes none
   */
  record NewData(DataFile file, List<Object> carriedKeys) {
    static final NewData NONE = new NewData(null, List.of());

    NewData {
      carriedKeys = List.copyOf(requireNonNull(carriedKeys, "carriedKeys is null"));
    }
  }
}
