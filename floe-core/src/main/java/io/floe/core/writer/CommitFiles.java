package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import io.floe.core.catalog.TableFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFileFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the files of a {@link CdcTableWriter}'s commits: per partition, at most one data file with
 * the batch's new rows and the live rows of the small files the commit compacts, and one
 * position-delete file (an unpartitioned table gets at most two files per commit). Names them
 * uniquely for the writer ({@link OutputFileFactory}).
 */
final class CommitFiles {
  private static final Logger LOG = LoggerFactory.getLogger(CommitFiles.class);

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

  /**
   * Writes the batch's rows, then the live rows of the files being compacted, into one data file
   * per partition of the table's current spec (one file for an unpartitioned table). A row whose
   * update moved it to another partition is written into its new partition's file; its old version
   * gets a position delete in its old file, as any replaced row does.
   */
  NewData writeDataFiles(List<DataFile> compacted) {
    if (batch.insertedKeys().isEmpty() && compacted.isEmpty()) {
      return NewData.NONE;
    }
    PartitionSpec spec = table.spec();
    PartitionRouter<PartitionFile> router =
        new PartitionRouter<>(spec, schema, partition -> new PartitionFile(spec, partition));
    boolean written = false;
    try {
      batch.forEachRow((key, row) -> router.writerFor(row).write(row, key));
      KeyIndex index = state.index();
      Map<Object, Long> deleted = batch.deleted();
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
            router.writerFor(copy).write(copy, key);
          }
        }
      }
      written = true;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (!written) {
        router.writers().forEach(PartitionFile::abandon);
      }
    }
    List<Written> files = new ArrayList<>();
    for (PartitionFile file : router.writers()) {
      files.add(file.close());
    }
    return new NewData(files);
  }

  /**
   * Writes the position deletes of the batch's deleted and replaced rows, of the rows a rewrite's
   * outputs do not carry live, and of the small delete files the commit merges (leaving out data
   * files the commit removes), into one file.
   *
   * @param applied the rewrite the commit carries, or null
   * @return the files, one per partition of the data files they point at; none if there is nothing
   *     to delete
   */
  List<DeleteFile> writeDeleteFiles(TidyPlan tidy, AppliedRewrite applied) {
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
      return List.of();
    }
    // A position-delete file applies to the data files of its own spec and partition only: one
    // file per partition of the data files it points at.
    Map<String, DataFile> outputs = new HashMap<>();
    if (applied != null) {
      applied.outputs().forEach(file -> outputs.put(file.location(), file));
    }
    Map<String, TreeMap<String, List<Long>>> byPartition = new LinkedHashMap<>();
    Map<String, DataFile> partitionFiles = new HashMap<>();
    for (Map.Entry<String, List<Long>> entry : byPath.entrySet()) {
      DataFile file = state.dataFiles().get(entry.getKey());
      if (file == null) {
        file = outputs.get(entry.getKey());
      }
      if (file == null) {
        throw new IllegalStateException(
            "Cannot write position deletes for " + entry.getKey() + ": not a live data file");
      }
      String partition = TableFiles.partitionKey(table.specs(), file);
      partitionFiles.putIfAbsent(partition, file);
      byPartition
          .computeIfAbsent(partition, p -> new TreeMap<>())
          .put(entry.getKey(), entry.getValue());
    }
    List<DeleteFile> deleteFiles = new ArrayList<>();
    for (Map.Entry<String, TreeMap<String, List<Long>>> entry : byPartition.entrySet()) {
      DataFile file = partitionFiles.get(entry.getKey());
      PartitionSpec spec = table.specs().get(file.specId());
      StructLike partition = spec.isUnpartitioned() ? null : file.partition();
      deleteFiles.add(
          ParquetRows.writePositionDeletes(
              table,
              ParquetRows.newOutputFile(fileFactory, spec, partition),
              spec,
              partition,
              entry.getValue()));
    }
    return deleteFiles;
  }

  /** The data file of one partition that a commit writes, and the keys of its rows in order. */
  private final class PartitionFile {
    private final DataWriter<Record> writer;
    private final List<Object> keys = new ArrayList<>();

    PartitionFile(PartitionSpec spec, StructLike partition) {
      this.writer =
          ParquetRows.dataWriter(
              table, ParquetRows.newOutputFile(fileFactory, spec, partition), spec, partition);
    }

    void write(Record row, Object key) {
      writer.write(row);
      keys.add(key);
    }

    Written close() {
      try {
        writer.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return new Written(writer.toDataFile(), keys);
    }

    /** Closes the file after a failure; the caller's failure is what is reported. */
    void abandon() {
      try {
        writer.close();
      } catch (IOException | RuntimeException e) {
        LOG.warn("Cannot close an abandoned data file of table {}", table.name(), e);
      }
    }
  }

  /**
   * A data file a commit wrote, and the keys of its rows in file order: the batch's rows, then
   * those carried over from compacted files.
   */
  record Written(DataFile file, List<Object> keys) {
    Written {
      requireNonNull(file, "file is null");
      keys = List.copyOf(requireNonNull(keys, "keys is null"));
    }
  }

  /** The data files a commit writes, one per partition; none if it writes no rows. */
  record NewData(List<Written> files) {
    static final NewData NONE = new NewData(List.of());

    NewData {
      files = List.copyOf(requireNonNull(files, "files is null"));
    }
  }
}
