package io.floe.core.lookup;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.writer.ParquetRows;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotChanges;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Conversions;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.apache.iceberg.util.SnapshotUtil;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.IndexType;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteOptions;

/**
 * A key-indexed lookup of a table's live rows, as of one of its snapshots, that moves to later
 * snapshots by reading only what they changed. Rows live in an embedded RocksDB in a directory of
 * its own, within a memory budget: half of it holds rows on the Java heap ({@link HeapRows}, in
 * front of RocksDB and written through), the other half is RocksDB's block cache and write buffers;
 * what does not fit is on local disk. The index can always be built again from the table, so
 * RocksDB writes no write-ahead log.
 *
 * <p>Following a table: for each snapshot since the index's, in order, the data files it added are
 * read with their row positions (less the rows its own position deletes delete), its position
 * deletes remove the rows they name, and the rows of the data files it removed that no added file
 * took over (a copy-on-write delete) are removed. A compaction, which moves rows to new files,
 * costs a read of the files it wrote. Snapshots that change no data files cost nothing. The index
 * is built again in full when it cannot follow: its snapshot is not an ancestor of the new one (a
 * rollback, or expired history), a snapshot added equality deletes, the key or value columns
 * changed type or vanished, or a file is not Parquet.
 *
 * <p>A key is expected to have one live row; with several, the last one read is used, and they are
 * counted ({@link Stats#duplicateKeys}).
 *
 * <p>Not thread-safe: one thread uses an index.
 */
public final class ReferenceIndex implements AutoCloseable {
  static {
    RocksDB.loadLibrary();
  }

  private static final byte[] ROWS = "rows".getBytes(java.nio.charset.StandardCharsets.UTF_8);
  private static final byte[] LOCATIONS =
      "locations".getBytes(java.nio.charset.StandardCharsets.UTF_8);
  private static final long MIN_WRITE_BUFFER = 1L << 20;

  /** What a move to another snapshot did. */
  public record Refresh(
      OptionalLong from,
      OptionalLong to,
      int snapshots,
      long rowsPut,
      long rowsRemoved,
      boolean rebuilt,
      String reason) {}

  /**
   * The index's figures.
   *
   * @param memoryBytes what the index holds in memory now: rows on the heap, and RocksDB's block
   *     cache, write buffers and table readers
   * @param diskBytes the store's files on disk
   * @param heapRows the rows held on the heap (all of them when they fit in its half of the budget)
   */
  public record Stats(
      long rows,
      long memoryBytes,
      long diskBytes,
      long duplicateKeys,
      long rebuilds,
      long heapRows) {}

  private final Table table;
  private final String tableName;
  private final List<String> keyColumns;
  private final List<String> valueColumns;
  private final Path directory;
  private final HeapRows heap;
  private final LRUCache cache;
  private final DBOptions dbOptions;
  private final ColumnFamilyOptions columnOptions;
  private final WriteOptions writeOptions;
  private final ReadOptions readOptions;
  private RocksDB db;
  private ColumnFamilyHandle rows;
  private ColumnFamilyHandle locations;
  private final List<ColumnFamilyHandle> handles = new ArrayList<>();

  private Schema keySchema;
  private Schema valueSchema;
  // Their columns: Schema.columns() copies them at each call, too slow for each lookup.
  private List<Types.NestedField> keyFields;
  private List<Types.NestedField> valueFields;
  private Schema projection;
  private OptionalLong snapshotId = OptionalLong.empty();
  private final Map<String, Integer> fileIds = new HashMap<>();

  /** The last number given to a data file: numbers are never reused, though files go. */
  private int lastFileId;

  private long rowCount;
  private long duplicateKeys;
  private long rebuilds;

  /** Whether the rows' locations are known (not after a build of a table with equality deletes). */
  private boolean located;

  private ReferenceIndex(
      Table table,
      List<String> keyColumns,
      List<String> valueColumns,
      Path directory,
      long memoryBytes) {
    this.table = table;
    this.tableName = table.name();
    this.keyColumns = List.copyOf(keyColumns);
    this.valueColumns = List.copyOf(valueColumns);
    this.directory = directory;
    // Half of the budget holds rows on the heap: a lookup that finds its row there costs a hash
    // probe, a tenth of a lookup in RocksDB's cache (a call into native code, an index and a
    // filter partition, a block search). Of RocksDB's half, lookups dominate and writes come in
    // small batches after the build: most is block cache, and four write buffers (two per column
    // family) take an eighth.
    this.heap = new HeapRows(memoryBytes / 2);
    long storeBytes = memoryBytes - memoryBytes / 2;
    long writeBuffer = Math.max(MIN_WRITE_BUFFER, storeBytes / 32);
    // A fifth of the cache is kept for index and filter blocks, which are partitioned: a lookup in
    // a table larger than the cache then reads one small partition, not a whole file's index.
    this.cache =
        new LRUCache(Math.max(MIN_WRITE_BUFFER, storeBytes - 4 * writeBuffer), -1, false, 0.2);
    BlockBasedTableConfig tables =
        new BlockBasedTableConfig()
            .setBlockCache(cache)
            .setCacheIndexAndFilterBlocks(true)
            .setCacheIndexAndFilterBlocksWithHighPriority(true)
            .setPinTopLevelIndexAndFilter(true)
            .setPinL0FilterAndIndexBlocksInCache(true)
            .setIndexType(IndexType.kTwoLevelIndexSearch)
            .setPartitionFilters(true)
            .setMetadataBlockSize(4096)
            .setFilterPolicy(new BloomFilter(10));
    this.columnOptions =
        new ColumnFamilyOptions()
            .setTableFormatConfig(tables)
            .setWriteBufferSize(writeBuffer)
            .setMaxWriteBufferNumber(2);
    this.dbOptions =
        new DBOptions()
            .setCreateIfMissing(true)
            .setCreateMissingColumnFamilies(true)
            .setMaxOpenFiles(256);
    this.writeOptions = new WriteOptions().setDisableWAL(true);
    this.readOptions = new ReadOptions();
  }

  /**
   * Builds the index of {@code table} by {@code keyColumns}, giving {@code valueColumns}, at its
   * current snapshot or at {@code snapshotId}.
   *
   * @param directory a directory of its own for the store (created if missing, emptied); the caller
   *     deletes it after {@link #close()}
   * @param memoryBytes the store's memory budget
   * @throws FloeException with {@link ErrorCode#CONFIG_INVALID} when the table has no such columns
   */
  public static ReferenceIndex open(
      Table table,
      List<String> keyColumns,
      List<String> valueColumns,
      Path directory,
      long memoryBytes,
      OptionalLong snapshotId) {
    requireNonNull(table, "table is null");
    requireNonNull(directory, "directory is null");
    requireNonNull(snapshotId, "snapshotId is null");
    if (keyColumns.isEmpty()) {
      throw new IllegalArgumentException("A lookup of " + table.name() + " needs key columns");
    }
    ReferenceIndex index =
        new ReferenceIndex(table, keyColumns, valueColumns, directory, memoryBytes);
    try {
      index.openStore();
      Snapshot target =
          snapshotId.isPresent() ? table.snapshot(snapshotId.getAsLong()) : table.currentSnapshot();
      if (snapshotId.isPresent() && target == null) {
        throw new FloeException(
            ErrorCode.TABLE_VERSION_NOT_FOUND,
            "Table " + table.name() + " has no snapshot " + snapshotId.getAsLong());
      }
      index.rebuild(target, "opened");
      return index;
    } catch (RuntimeException e) {
      index.close();
      throw e;
    }
  }

  /** The snapshot the index reflects; empty for a table without snapshots. */
  public OptionalLong snapshotId() {
    return snapshotId;
  }

  /** The key columns, as the index's snapshot's schema has them. */
  public Schema keySchema() {
    return keySchema;
  }

  /** The key columns, as {@link #keySchema} has them, in order. */
  public List<Types.NestedField> keyFields() {
    return keyFields;
  }

  /** The value columns, as the index's snapshot's schema has them. */
  public Schema valueSchema() {
    return valueSchema;
  }

  /** Live keys. */
  public long size() {
    return rowCount;
  }

  /** Moves to the table's current snapshot. */
  public Refresh refresh() {
    table.refresh();
    Snapshot current = table.currentSnapshot();
    return moveTo(current);
  }

  /** Moves to the table's snapshot {@code id}. */
  public Refresh moveTo(long id) {
    Snapshot target = table.snapshot(id);
    if (target == null) {
      table.refresh();
      target = table.snapshot(id);
    }
    if (target == null) {
      throw new FloeException(
          ErrorCode.TABLE_VERSION_NOT_FOUND, "Table " + tableName + " has no snapshot " + id);
    }
    return moveTo(target);
  }

  private Refresh moveTo(Snapshot target) {
    OptionalLong from = snapshotId;
    if (target == null) {
      if (from.isEmpty()) {
        return new Refresh(from, from, 0, 0, 0, false, "");
      }
      return rebuild(null, "the table has no snapshot any more");
    }
    if (from.isPresent() && from.getAsLong() == target.snapshotId()) {
      return new Refresh(from, from, 0, 0, 0, false, "");
    }
    String cannot = cannotFollow(target);
    if (cannot != null) {
      return rebuild(target, cannot);
    }
    List<Snapshot> between = new ArrayList<>();
    for (Snapshot snapshot :
        SnapshotUtil.ancestorsBetween(
            target.snapshotId(), from.isPresent() ? from.getAsLong() : null, table::snapshot)) {
      between.add(snapshot);
    }
    Collections.reverse(between);
    List<SnapshotChanges> changes = new ArrayList<>();
    for (Snapshot snapshot : between) {
      SnapshotChanges changed = SnapshotChanges.builderFor(table).snapshot(snapshot).build();
      changes.add(changed);
      for (DeleteFile delete : changed.addedDeleteFiles()) {
        if (delete.content() != FileContent.POSITION_DELETES
            || delete.format() != FileFormat.PARQUET) {
          return rebuild(
              target, "snapshot " + snapshot.snapshotId() + " added " + describe(delete));
        }
      }
      for (DataFile data : changed.addedDataFiles()) {
        if (data.format() != FileFormat.PARQUET) {
          return rebuild(target, "snapshot " + snapshot.snapshotId() + " added " + describe(data));
        }
      }
    }
    long[] counts = follow(changes);
    long put = counts[0];
    long removed = counts[1];
    snapshotId = OptionalLong.of(target.snapshotId());
    return new Refresh(from, snapshotId, between.size(), put, removed, false, "");
  }

  /** Why the index cannot follow to {@code target} incrementally, or null when it can. */
  private String cannotFollow(Snapshot target) {
    if (!located) {
      return "the index was built from a table with equality deletes";
    }
    if (snapshotId.isPresent()
        && !SnapshotUtil.isAncestorOf(
            target.snapshotId(), snapshotId.getAsLong(), table::snapshot)) {
      return "snapshot "
          + snapshotId.getAsLong()
          + " is not an ancestor of "
          + target.snapshotId()
          + " (a rollback, or expired history)";
    }
    Schema schema = schemaOf(target);
    for (Types.NestedField column : projection.columns()) {
      Types.NestedField now = schema.findField(column.fieldId());
      if (now == null || !now.type().equals(column.type())) {
        return "column " + column.name() + " changed";
      }
    }
    return null;
  }

  /**
   * Applies the net changes of consecutive snapshots, in one pass: the data and delete files they
   * added that are still there, against those of the index's snapshot they removed. A file added
   * and removed within them (a small file compacted soon after) is never read, and a delete file
   * that merges older ones (as the CDC writer does) costs only the positions it adds.
   *
   * @return the rows put and removed
   */
  private long[] follow(List<SnapshotChanges> snapshots) {
    Map<String, DataFile> addedData = new java.util.LinkedHashMap<>();
    List<DataFile> removedData = new ArrayList<>();
    Map<String, DeleteFile> addedDeletes = new java.util.LinkedHashMap<>();
    List<DeleteFile> removedDeletes = new ArrayList<>();
    for (SnapshotChanges changed : snapshots) {
      for (DataFile data : changed.removedDataFiles()) {
        if (addedData.remove(data.location()) == null) {
          removedData.add(data);
        }
      }
      changed.addedDataFiles().forEach(data -> addedData.put(data.location(), data));
      for (DeleteFile delete : changed.removedDeleteFiles()) {
        if (addedDeletes.remove(delete.location()) == null) {
          removedDeletes.add(delete);
        }
      }
      changed.addedDeleteFiles().forEach(delete -> addedDeletes.put(delete.location(), delete));
    }
    Map<String, Set<Long>> deleted = new HashMap<>();
    for (DeleteFile delete : addedDeletes.values()) {
      ParquetRows.readPositionDeletes(table.io(), delete.location())
          .forEach(
              (path, positions) ->
                  deleted.computeIfAbsent(path, ignored -> new HashSet<>()).addAll(positions));
    }
    // Positions of delete files the new ones replaced were applied when those came.
    for (DeleteFile delete : removedDeletes) {
      if (deleted.isEmpty()) {
        break;
      }
      ParquetRows.readPositionDeletes(table.io(), delete.location())
          .forEach(
              (path, positions) -> {
                Set<Long> added = deleted.get(path);
                if (added != null) {
                  added.removeAll(positions);
                }
              });
    }
    long put = 0;
    long removed = 0;
    try {
      // The live rows of removed files: a rewrite (a compaction) moves them to the files it adds,
      // whose rows then need no lookup; those no added file has are gone.
      Set<ByteBuffer> moving = new HashSet<>();
      for (DataFile data : removedData) {
        Integer fileId = fileIds.remove(data.location());
        if (fileId != null) {
          collectFile(fileId, moving);
        }
      }
      for (DataFile data : addedData.values()) {
        String path = data.location();
        put += readFile(path, deleted.getOrDefault(path, Set.of()), moving);
        deleted.remove(path);
      }
      for (Map.Entry<String, Set<Long>> file : deleted.entrySet()) {
        Integer fileId = fileIds.get(file.getKey());
        if (fileId == null) {
          continue; // Rows of a file the index does not have (any more).
        }
        for (long position : file.getValue()) {
          removed += removeAt(fileId, position);
        }
      }
      for (ByteBuffer key : moving) {
        deleteRow(toArray(key));
        rowCount--;
        removed++;
      }
    } catch (RocksDBException e) {
      throw storeFailure(e);
    }
    return new long[] {put, removed};
  }

  /** Reads a data file's live rows into the index; returns how many. */
  private long readFile(String path, Set<Long> deleted, Set<ByteBuffer> moving)
      throws RocksDBException {
    Integer known = fileIds.get(path);
    int fileId = known != null ? known : ++lastFileId;
    fileIds.put(path, fileId);
    long count = 0;
    Schema withPosition = ParquetRows.withPosition(projection);
    try (CloseableIterable<Record> records = ParquetRows.read(table.io(), path, withPosition)) {
      for (Record record : records) {
        long position = ParquetRows.position(record);
        if (deleted.contains(position)) {
          continue;
        }
        put(record, fileId, position, moving);
        count++;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + path + " of " + tableName, e);
    }
    return count;
  }

  /**
   * Puts a row at its location. A row of {@code moving} (a key whose row was in a removed file,
   * whose location entry is gone already) is written without a lookup.
   */
  private void put(Record record, int fileId, long position, Set<ByteBuffer> moving)
      throws RocksDBException {
    byte[] key = encode(record, keyFields);
    boolean moved = moving.remove(ByteBuffer.wrap(key));
    ByteBuffer previous = moved ? null : row(key);
    if (moved) {
      // Its row was in a removed file: it is the same key, at a new location.
    } else if (previous == null) {
      rowCount++;
    } else {
      // A row of a key the index has: when building, a duplicate in the snapshot's files; when
      // following, the key's new version (a delete in the same snapshot removes the old row).
      db.delete(locations, writeOptions, location(previous.getInt(), previous.getLong()));
      if (building) {
        duplicateKeys++;
      }
    }
    byte[] values = encode(record, valueFields);
    ByteBuffer row = ByteBuffer.allocate(12 + values.length);
    row.putInt(fileId).putLong(position).put(values);
    db.put(rows, writeOptions, key, row.array());
    heap.put(key, row.array());
    db.put(locations, writeOptions, location(fileId, position), key);
  }

  private boolean building;

  /** The row of {@code key} (from its location on), from the heap or else from RocksDB, or null. */
  private ByteBuffer row(byte[] key) throws RocksDBException {
    ByteBuffer held = heap.get(key);
    if (held != null) {
      return held;
    }
    byte[] row = db.get(rows, readOptions, key);
    return row == null ? null : ByteBuffer.wrap(row);
  }

  private void deleteRow(byte[] key) throws RocksDBException {
    db.delete(rows, writeOptions, key);
    heap.remove(key);
  }

  /** Removes the row at a location, if the index has it there; returns 1 if it did. */
  private long removeAt(int fileId, long position) throws RocksDBException {
    byte[] location = location(fileId, position);
    byte[] key = db.get(locations, readOptions, location);
    if (key == null) {
      return 0;
    }
    db.delete(locations, writeOptions, location);
    ByteBuffer found = row(key);
    if (found != null) {
      if (found.getInt() == fileId && found.getLong() == position) {
        deleteRow(key);
        rowCount--;
        return 1;
      }
    }
    return 0;
  }

  /** Removes the rows still located in a removed data file; returns how many. */
  /**
   * Adds the keys of the rows located in a removed data file to {@code moving} and deletes their
   * locations. (A location entry always names its key's current location: moving a key deletes its
   * old entry.)
   */
  private void collectFile(int fileId, Set<ByteBuffer> moving) throws RocksDBException {
    byte[] prefix = ByteBuffer.allocate(4).putInt(fileId).array();
    List<byte[]> locationKeys = new ArrayList<>();
    try (RocksIterator iterator = db.newIterator(locations, readOptions)) {
      for (iterator.seek(prefix); iterator.isValid(); iterator.next()) {
        ByteBuffer location = ByteBuffer.wrap(iterator.key());
        if (location.getInt() != fileId) {
          break;
        }
        locationKeys.add(iterator.key());
        moving.add(ByteBuffer.wrap(iterator.value()));
      }
    }
    for (byte[] location : locationKeys) {
      db.delete(locations, writeOptions, location);
    }
  }

  /** Empties the store and reads the table at {@code target} in full. */
  private Refresh rebuild(Snapshot target, String reason) {
    OptionalLong from = snapshotId;
    clearStore();
    rebuilds++;
    Schema schema = target == null ? table.schema() : schemaOf(target);
    bindColumns(schema);
    fileIds.clear();
    lastFileId = 0;
    rowCount = 0;
    duplicateKeys = 0;
    located = true;
    long put = 0;
    if (target != null) {
      building = true;
      try {
        put = buildFrom(target);
        // One sorted run instead of the build's overlapping files: a lookup of a row that is not
        // on the heap then searches one file, not each of them (3.4 instead of 5.7 us each, for a
        // million rows in RocksDB's cache).
        db.compactRange(rows);
      } catch (RocksDBException e) {
        throw storeFailure(e);
      } finally {
        building = false;
      }
    }
    snapshotId = target == null ? OptionalLong.empty() : OptionalLong.of(target.snapshotId());
    return new Refresh(from, snapshotId, 1, put, 0, true, reason);
  }

  private long buildFrom(Snapshot target) {
    List<FileScanTask> tasks = new ArrayList<>();
    boolean equalityDeletes = false;
    try (CloseableIterable<FileScanTask> planned =
        table.newScan().useSnapshot(target.snapshotId()).planFiles()) {
      for (FileScanTask task : planned) {
        tasks.add(task);
        for (DeleteFile delete : task.deletes()) {
          if (delete.content() != FileContent.POSITION_DELETES
              || delete.format() != FileFormat.PARQUET) {
            equalityDeletes = true;
          }
        }
        if (task.file().format() != FileFormat.PARQUET) {
          equalityDeletes = true;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot plan a read of " + tableName, e);
    }
    long put = 0;
    try {
      if (equalityDeletes) {
        // Iceberg's reader applies every kind of delete, but says no row positions: the index is
        // built again in full at each later move.
        located = false;
        try (CloseableIterable<Record> records =
            IcebergGenerics.read(table)
                .useSnapshot(target.snapshotId())
                .select(projection.columns().stream().map(Types.NestedField::name).toList())
                .build()) {
          long position = 0;
          for (Record record : records) {
            put(record, 0, position++, new HashSet<>());
            put++;
          }
        }
      } else {
        Map<String, Set<Long>> deletes = new HashMap<>();
        Set<String> readDeletes = new HashSet<>();
        for (FileScanTask task : tasks) {
          for (DeleteFile delete : task.deletes()) {
            if (readDeletes.add(delete.location())) {
              ParquetRows.readPositionDeletes(table.io(), delete.location())
                  .forEach(
                      (path, positions) ->
                          deletes
                              .computeIfAbsent(path, ignored -> new HashSet<>())
                              .addAll(positions));
            }
          }
        }
        Set<String> read = new HashSet<>();
        for (FileScanTask task : tasks) {
          String path = task.file().location();
          if (read.add(path)) {
            put += readFile(path, deletes.getOrDefault(path, Set.of()), new HashSet<>());
          }
        }
      }
    } catch (RocksDBException e) {
      throw storeFailure(e);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + tableName, e);
    }
    return put;
  }

  private void bindColumns(Schema schema) {
    List<Types.NestedField> keys = new ArrayList<>();
    List<Types.NestedField> values = new ArrayList<>();
    for (String name : keyColumns) {
      keys.add(column(schema, name, "key"));
    }
    for (String name : valueColumns) {
      values.add(column(schema, name, "value"));
    }
    keySchema = new Schema(keys);
    valueSchema = new Schema(values);
    keyFields = List.copyOf(keys);
    valueFields = List.copyOf(values);
    List<Types.NestedField> all = new ArrayList<>(keys);
    for (Types.NestedField value : values) {
      if (keys.stream().noneMatch(key -> key.fieldId() == value.fieldId())) {
        all.add(value);
      }
    }
    projection = new Schema(all);
  }

  private Types.NestedField column(Schema schema, String name, String role) {
    Types.NestedField field = schema.findField(name);
    if (field == null) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Table "
              + tableName
              + " has no column "
              + name
              + " to look rows up by ("
              + role
              + " column); its columns: "
              + schema.columns().stream().map(Types.NestedField::name).toList());
    }
    if (!field.type().isPrimitiveType()) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Column "
              + name
              + " of table "
              + tableName
              + " is a "
              + field.type()
              + "; a lookup takes only columns of primitive types");
    }
    return field;
  }

  private Schema schemaOf(Snapshot snapshot) {
    Integer schemaId = snapshot.schemaId();
    Schema schema = schemaId == null ? null : table.schemas().get(schemaId);
    return schema == null ? table.schema() : schema;
  }

  /**
   * The values of the value columns in the live row with key {@code key}, given in the key columns'
   * Java types as Iceberg's generic records hold them, or empty when no live row has the key.
   */
  public Optional<Object[]> lookup(List<Object> key) {
    checkKey(key);
    try {
      ByteBuffer row = row(encodeValues(key, keyFields));
      return row == null ? Optional.empty() : Optional.of(decodeValues(row));
    } catch (RocksDBException e) {
      throw storeFailure(e);
    }
  }

  /** {@link #lookup} of several keys at once, in their order. */
  public List<Optional<Object[]>> lookupAll(List<List<Object>> keys) {
    List<Optional<Object[]>> found = new ArrayList<>(keys.size());
    // The keys the heap does not hold, and where their answers go: read from RocksDB at once.
    List<byte[]> missed = new ArrayList<>();
    List<Integer> missedAt = new ArrayList<>();
    List<byte[]> encoded = new ArrayList<>(keys.size());
    for (List<Object> key : keys) {
      checkKey(key);
      encoded.add(encodeValues(key, keyFields));
    }
    ByteBuffer[] held = heap.getAll(encoded);
    for (int i = 0; i < held.length; i++) {
      if (held[i] != null) {
        found.add(Optional.of(decodeValues(held[i])));
      } else {
        found.add(Optional.empty());
        missed.add(encoded.get(i));
        missedAt.add(i);
      }
    }
    if (missed.isEmpty()) {
      return found;
    }
    try {
      List<byte[]> rowsFound =
          db.multiGetAsList(readOptions, Collections.nCopies(missed.size(), rows), missed);
      for (int i = 0; i < rowsFound.size(); i++) {
        byte[] row = rowsFound.get(i);
        if (row != null) {
          heap.put(missed.get(i), row);
          found.set(missedAt.get(i), Optional.of(decodeValues(ByteBuffer.wrap(row))));
        }
      }
      return found;
    } catch (RocksDBException e) {
      throw storeFailure(e);
    }
  }

  private void checkKey(List<Object> key) {
    requireNonNull(key, "key is null");
    if (key.size() != keyFields.size()) {
      throw new IllegalArgumentException(
          "Cannot look up "
              + key
              + " in "
              + tableName
              + ": a key has "
              + keyFields.size()
              + " values, of the columns "
              + keyColumns
              + ", in that order");
    }
  }

  public Stats stats() {
    try {
      long memory =
          heap.bytes()
              + cache.getUsage()
              + db.getLongProperty(rows, "rocksdb.cur-size-all-mem-tables")
              + db.getLongProperty(locations, "rocksdb.cur-size-all-mem-tables")
              + db.getLongProperty(rows, "rocksdb.estimate-table-readers-mem")
              + db.getLongProperty(locations, "rocksdb.estimate-table-readers-mem");
      long disk =
          db.getLongProperty(rows, "rocksdb.total-sst-files-size")
              + db.getLongProperty(locations, "rocksdb.total-sst-files-size");
      return new Stats(rowCount, memory, disk, duplicateKeys, rebuilds, heap.size());
    } catch (RocksDBException e) {
      throw storeFailure(e);
    }
  }

  /** The values of a row: its bytes from its position on (a location, then the values). */
  private Object[] decodeValues(ByteBuffer row) {
    ByteBuffer buffer = row.slice();
    buffer.position(12);
    List<Types.NestedField> columns = valueFields;
    Object[] values = new Object[columns.size()];
    for (int i = 0; i < values.length; i++) {
      int length = buffer.getInt();
      if (length < 0) {
        continue;
      }
      ByteBuffer value = buffer.slice();
      value.limit(length);
      buffer.position(buffer.position() + length);
      values[i] = fromBytes(columns.get(i).type(), value);
    }
    return values;
  }

  private static Object fromBytes(Type type, ByteBuffer bytes) {
    if (type.typeId() == Type.TypeID.STRING) {
      // Iceberg's conversion decodes through a CharsetDecoder and a CharBuffer: five times slower.
      return new String(
          bytes.array(),
          bytes.arrayOffset() + bytes.position(),
          bytes.remaining(),
          java.nio.charset.StandardCharsets.UTF_8);
    }
    if (type.typeId() == Type.TypeID.DECIMAL && bytes.remaining() <= Long.BYTES) {
      // Iceberg's conversion builds a BigInteger from the bytes first: a tenth of a lookup's cost.
      return java.math.BigDecimal.valueOf(unscaled(bytes), ((Types.DecimalType) type).scale());
    }
    Object value = Conversions.fromByteBuffer(type, bytes);
    // Iceberg's generic records hold temporal values as java.time objects, not as numbers.
    return switch (type.typeId()) {
      case DATE -> org.apache.iceberg.util.DateTimeUtil.dateFromDays((Integer) value);
      case TIME -> org.apache.iceberg.util.DateTimeUtil.timeFromMicros((Long) value);
      case TIMESTAMP ->
          ((Types.TimestampType) type).shouldAdjustToUTC()
              ? org.apache.iceberg.util.DateTimeUtil.timestamptzFromMicros((Long) value)
              : org.apache.iceberg.util.DateTimeUtil.timestampFromMicros((Long) value);
      case FIXED, BINARY -> ByteBuffer.wrap(toArray((ByteBuffer) value));
      case STRING -> value.toString();
      default -> value;
    };
  }

  /**
   * The unscaled value of a decimal of at most 8 bytes, as Iceberg encodes it: big-endian two's
   * complement, in as few bytes as the value needs.
   */
  private static long unscaled(ByteBuffer bytes) {
    int end = bytes.position() + bytes.remaining();
    long value = bytes.remaining() == 0 ? 0 : bytes.get(bytes.position()); // Sign-extended.
    for (int i = bytes.position() + 1; i < end; i++) {
      value = (value << 8) | (bytes.get(i) & 0xff);
    }
    return value;
  }

  private static Object toInternal(Type type, Object value) {
    return switch (type.typeId()) {
      case DATE -> org.apache.iceberg.util.DateTimeUtil.daysFromDate((java.time.LocalDate) value);
      case TIME -> org.apache.iceberg.util.DateTimeUtil.microsFromTime((java.time.LocalTime) value);
      case TIMESTAMP ->
          value instanceof java.time.OffsetDateTime time
              ? org.apache.iceberg.util.DateTimeUtil.microsFromTimestamptz(time)
              : org.apache.iceberg.util.DateTimeUtil.microsFromTimestamp(
                  (java.time.LocalDateTime) value);
      case FIXED -> value instanceof byte[] array ? ByteBuffer.wrap(array) : value;
      default -> value;
    };
  }

  private static byte[] toArray(ByteBuffer buffer) {
    ByteBuffer copy = buffer.duplicate();
    byte[] bytes = new byte[copy.remaining()];
    copy.get(bytes);
    return bytes;
  }

  /** The values of {@code columns} in {@code record}, encoded. */
  private static byte[] encode(Record record, List<Types.NestedField> columns) {
    List<Object> values = new ArrayList<>(columns.size());
    for (Types.NestedField column : columns) {
      values.add(record.getField(column.name()));
    }
    return encodeValues(values, columns);
  }

  private static byte[] encodeValues(List<Object> values, List<Types.NestedField> columns) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64);
    for (int i = 0; i < columns.size(); i++) {
      Object value = values.get(i);
      if (value == null) {
        writeInt(out, -1);
        continue;
      }
      Type type = columns.get(i).type();
      ByteBuffer bytes = Conversions.toByteBuffer(type, toInternal(type, value));
      byte[] array = toArray(bytes);
      writeInt(out, array.length);
      out.write(array, 0, array.length);
    }
    return out.toByteArray();
  }

  private static void writeInt(ByteArrayOutputStream out, int value) {
    out.write(value >>> 24);
    out.write(value >>> 16);
    out.write(value >>> 8);
    out.write(value);
  }

  private static byte[] location(int fileId, long position) {
    return ByteBuffer.allocate(12).putInt(fileId).putLong(position).array();
  }

  private static String describe(ContentFile<?> file) {
    return file.content().name().toLowerCase(java.util.Locale.ROOT)
        + " in "
        + file.format()
        + " ("
        + file.location()
        + ")";
  }

  private void openStore() {
    try {
      deleteContents(directory);
      Files.createDirectories(directory);
      List<ColumnFamilyDescriptor> families =
          List.of(
              new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, columnOptions),
              new ColumnFamilyDescriptor(ROWS, columnOptions),
              new ColumnFamilyDescriptor(LOCATIONS, columnOptions));
      db = RocksDB.open(dbOptions, directory.toString(), families, handles);
      rows = handles.get(1);
      locations = handles.get(2);
    } catch (RocksDBException | IOException e) {
      throw new FloeException(
          ErrorCode.TABLE_WRITE_FAILED,
          "Cannot open the lookup index of "
              + tableName
              + " in "
              + directory
              + ": "
              + e.getMessage()
              + "; check that the state directory is writable and has free space",
          e);
    }
  }

  /** Deletes what a previous index left in {@code directory}: a new index starts empty. */
  private static void deleteContents(Path directory) throws IOException {
    if (!Files.isDirectory(directory)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        if (!path.equals(directory)) {
          Files.delete(path);
        }
      }
    }
  }

  /** Drops every row of the store (a rebuild starts from nothing). */
  private void clearStore() {
    heap.clear();
    try {
      for (ColumnFamilyHandle family : List.of(rows, locations)) {
        try (RocksIterator first = db.newIterator(family, readOptions)) {
          first.seekToFirst();
          if (!first.isValid()) {
            continue;
          }
          byte[] from = first.key();
          first.seekToLast();
          byte[] to = Arrays.copyOf(first.key(), first.key().length + 1);
          db.deleteRange(family, writeOptions, from, to);
        }
      }
    } catch (RocksDBException e) {
      throw storeFailure(e);
    }
  }

  private FloeException storeFailure(RocksDBException e) {
    return new FloeException(
        ErrorCode.TABLE_WRITE_FAILED,
        "The lookup index of "
            + tableName
            + " in "
            + directory
            + " failed: "
            + e.getMessage()
            + "; check that the state directory has free space",
        e);
  }

  @Override
  public void close() {
    for (ColumnFamilyHandle handle : handles) {
      handle.close();
    }
    handles.clear();
    if (db != null) {
      db.close();
      db = null;
    }
    readOptions.close();
    writeOptions.close();
    dbOptions.close();
    columnOptions.close();
    cache.close();
  }
}
