package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.TableFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.MetricsConfig;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotChanges;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.deletes.PositionDelete;
import org.apache.iceberg.deletes.PositionDeleteWriter;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.parquet.Parquet;
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
 * <p>Not thread-safe: one writer per table, used by one pipeline thread. After a failed commit the
 * writer refuses further use; open a new one (which reloads the index from the table).
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

  /** Position-delete files below this size are merged by the writer; larger ones are left. */
  static final long SMALL_DELETE_FILE_BYTES = 256L << 10;

  /** Small position-delete files a table may gather before a commit merges them. */
  static final int DELETE_FILES_TO_MERGE = 2;

  private final Table table;
  private final Schema schema;
  private final RowKeys keys;
  private final KeyIndex index;

  /** Live files of the table, as of the writer's last commit (the writer is the only writer). */
  private final Map<String, DataFile> dataFiles;

  private final Map<String, DeleteFile> deleteFiles;
  private final OutputFileFactory fileFactory;
  private boolean compactionEnabled = true;

  private final LinkedHashMap<Object, Pending> inserts = new LinkedHashMap<>();
  private final Map<Object, Long> deleted = new HashMap<>();

  /**
   * Earlier versions of rows deleted in this batch, for a key change reported as delete + insert.
   */
  private final Map<Object, Prior> removedPriors = new HashMap<>();

  private boolean truncate;
  private long changesInBatch;
  private long unchangedValuesFilled;
  private boolean broken;

  private CdcTableWriter(Table table) {
    this.table = requireNonNull(table, "table is null");
    this.schema = table.schema();
    this.keys = new RowKeys(schema);
    TableFiles files = TableFiles.load(table);
    this.dataFiles = new LinkedHashMap<>(files.dataFiles());
    this.deleteFiles = new LinkedHashMap<>(files.deleteFiles());
    this.index = KeyIndex.load(table, keys, files.deletesByDataFile());
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
    removedPriors.clear();
    truncate = true;
    changesInBatch++;
  }

  /**
   * Writes the pending batch and commits it as one snapshot carrying {@code summary}. With no
   * pending changes and {@code stampOnly} false, nothing is committed.
   *
   * @return the committed snapshot, or null if nothing was committed
   */
  public CommitResult commit(Map<String, String> summary, boolean stampOnly) {
    checkUsable();
    boolean empty = !truncate && inserts.isEmpty() && deleted.isEmpty();
    if (empty && !stampOnly) {
      changesInBatch = 0;
      return null;
    }
    long started = System.nanoTime();
    List<String> written = new ArrayList<>();
    boolean attempted = false;
    try {
      fillUnchangedValues();
      Snapshot base = table.currentSnapshot();
      RowDelta delta = table.newRowDelta();
      if (truncate && base != null) {
        dataFiles.values().forEach(delta::removeRows);
        deleteFiles.values().forEach(delta::removeDeletes);
      }
      Tidy tidy = planTidy();
      NewData data = writeDataFile(tidy.compacted);
      if (data.file != null) {
        written.add(data.file.location());
        delta.addRows(data.file);
      }
      tidy.compacted.forEach(delta::removeRows);
      DeleteFile deleteFile = writeDeleteFile(tidy);
      if (deleteFile != null) {
        written.add(deleteFile.location());
        delta.addDeletes(deleteFile);
      }
      tidy.mergedDeletes.forEach(delta::removeDeletes);
      // The data files the new deletes point at must still exist when the commit lands.
      Set<String> referenced = new HashSet<>();
      for (long location : deleted.values()) {
        referenced.add(index.path(location));
      }
      tidy.compacted.forEach(file -> referenced.remove(file.location()));
      if (!referenced.isEmpty()) {
        delta.validateDataFilesExist(referenced);
      }
      if (base != null) {
        delta.validateFromSnapshot(base.snapshotId());
      }
      delta.validateDeletedFiles();
      summary.forEach(delta::set);
      attempted = true;
      delta.commit();

      int rows = inserts.size();
      int deletes = deleted.size();
      applyToIndex(data, tidy, deleteFile);
      long snapshotId = table.currentSnapshot().snapshotId();
      return new CommitResult(
          snapshotId,
          rows,
          deletes,
          tidy.compacted.size(),
          tidy.mergedDeletes.size(),
          System.nanoTime() - started);
    } catch (RuntimeException e) {
      broken = true;
      // Files of a commit whose outcome is unknown may be referenced by the table: keep them.
      boolean rejected =
          !attempted || e instanceof CommitFailedException || e instanceof ValidationException;
      if (rejected) {
        for (String location : written) {
          try {
            table.io().deleteFile(location);
          } catch (RuntimeException cleanup) {
            e.addSuppressed(cleanup);
          }
        }
      }
      if (e instanceof FloeException) {
        throw e;
      }
      throw new FloeException(
          ErrorCode.TABLE_WRITE_FAILED,
          "Cannot commit changes to table " + table.name() + ": " + e.getMessage(),
          e);
    } finally {
      if (!broken) {
        inserts.clear();
        deleted.clear();
        removedPriors.clear();
        truncate = false;
        changesInBatch = 0;
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

  private boolean isCommitted(Object key) {
    return !truncate && index.get(key) != null;
  }

  private Prior lookup(Object key) {
    Pending pending = inserts.get(key);
    if (pending != null) {
      return new Prior(pending, -1);
    }
    if (truncate || deleted.containsKey(key)) {
      return Prior.NONE;
    }
    Long location = index.get(key);
    return location == null ? Prior.NONE : new Prior(null, location);
  }

  private void removeKey(Object key) {
    Prior prior = lookup(key);
    if (prior != Prior.NONE) {
      removedPriors.put(key, prior);
    }
    if (inserts.remove(key) != null || truncate || deleted.containsKey(key)) {
      return;
    }
    Long location = index.get(key);
    if (location != null) {
      deleted.put(key, location);
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
            pending.markUnresolved(field, prior.pending.fillFrom);
          } else {
            pending.row.set(field, prior.pending.row.get(field));
            unchangedValuesFilled++;
          }
        }
      } else if (prior.location >= 0) {
        for (int field = unchanged.nextSetBit(0);
            field >= 0;
            field = unchanged.nextSetBit(field + 1)) {
          pending.markUnresolved(field, prior.location);
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
    List<DataFile> small = new ArrayList<>();
    for (DataFile file : dataFiles.values()) {
      if (file.fileSizeInBytes() < SMALL_FILE_BYTES) {
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
    DataWriter<Record> writer;
    try {
      writer =
          Parquet.writeData(fileFactory.newOutputFile())
              .schema(schema)
              .withSpec(table.spec())
              .setAll(table.properties())
              .metricsConfig(MetricsConfig.forTable(table))
              .createWriterFunc(GenericParquetWriter::create)
              .overwrite()
              .build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
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

  private DeleteFile writeDeleteFile(Tidy tidy) {
    Set<String> removed = new HashSet<>();
    tidy.compacted.forEach(file -> removed.add(file.location()));
    // Position deletes must be sorted by file path, then position.
    TreeMap<String, List<Long>> byPath = new TreeMap<>();
    for (long location : deleted.values()) {
      String path = index.path(location);
      if (!removed.contains(path)) {
        byPath.computeIfAbsent(path, p -> new ArrayList<>()).add(KeyIndex.position(location));
      }
    }
    for (DeleteFile merged : tidy.mergedDeletes) {
      KeyIndex.readPositionDeletes(table, merged.location())
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
    PositionDeleteWriter<Record> writer;
    try {
      writer =
          Parquet.writeDeletes(fileFactory.newOutputFile())
              .withSpec(table.spec())
              .setAll(table.properties())
              .createWriterFunc(GenericParquetWriter::create)
              .overwrite()
              .buildPositionWriter();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    PositionDelete<Record> delete = PositionDelete.create();
    try (writer) {
      for (Map.Entry<String, List<Long>> entry : byPath.entrySet()) {
        List<Long> positions = entry.getValue();
        positions.sort(null);
        long previous = -1;
        for (long position : positions) {
          if (position != previous) {
            writer.write(delete.set(entry.getKey(), position));
          }
          previous = position;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return writer.toDeleteFile();
  }

  private void applyToIndex(NewData data, Tidy tidy, DeleteFile deleteFile) {
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
    if (!tidy.compacted.isEmpty()) {
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

  /** Outcome of one commit. */
  public record CommitResult(
      long snapshotId,
      int rowsWritten,
      int rowsDeleted,
      int filesCompacted,
      int deleteFilesMerged,
      long nanos) {}

  private static final class Pending {
    private final Record row;
    private BitSet unresolved;
    private long fillFrom = -1;

    Pending(Record row) {
      this.row = row;
    }

    void markUnresolved(int field, long location) {
      if (unresolved == null) {
        unresolved = new BitSet();
      }
      unresolved.set(field);
      fillFrom = location;
    }
  }

  private static final class Prior {
    static final Prior NONE = new Prior(null, -1);

    private final Pending pending;
    private final long location;

    Prior(Pending pending, long location) {
      this.pending = pending;
      this.location = location;
    }
  }
}
