package io.floe.core.writer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;

/**
 * The writer's primary-key index: for every live row of a table, the data file and row position
 * that hold it. An update or delete of a row written in an earlier commit becomes a position delete
 * found here, never an equality delete.
 *
 * <p>A location packs a file number (into {@link #files}) and a row position into one {@code long}
 * to keep the index compact: about 80 bytes per row for single-column keys.
 */
final class KeyIndex {
  private final Map<Object, Long> locations = new HashMap<>();
  private final List<String> files = new ArrayList<>();
  private final Map<String, Integer> fileNumbers = new HashMap<>();

  static long location(int fileNumber, long position) {
    return ((long) fileNumber << 32) | position;
  }

  static int fileNumber(long location) {
    return (int) (location >>> 32);
  }

  static long position(long location) {
    return location & 0xFFFFFFFFL;
  }

  Long get(Object key) {
    return locations.get(key);
  }

  void put(Object key, long location) {
    locations.put(key, location);
  }

  void remove(Object key) {
    locations.remove(key);
  }

  /** Calls {@code action} with every live row's key and location. */
  void forEach(BiConsumer<Object, Long> action) {
    locations.forEach(action);
  }

  int size() {
    return locations.size();
  }

  void clear() {
    locations.clear();
    files.clear();
    fileNumbers.clear();
  }

  int fileNumber(String path) {
    return fileNumbers.computeIfAbsent(
        path,
        p -> {
          files.add(p);
          return files.size() - 1;
        });
  }

  String path(long location) {
    return files.get(fileNumber(location));
  }

  /**
   * Reads the key columns of every live row of the table's current snapshot, with position deletes
   * applied.
   */
  static KeyIndex load(Table table, RowKeys keys, Map<String, Set<DeleteFile>> deletesByDataFile) {
    KeyIndex index = new KeyIndex();
    index.read(table, keys, deletesByDataFile);
    return index;
  }

  /**
   * Moves the index onto the table's current files after other commits changed some of them: the
   * rows of {@code dropped} files are forgotten, and those of {@code reread} files (a subset of the
   * current snapshot's data files) are read again, with the deletes that apply to them now. Rows of
   * any other file are kept as they are.
   *
   * @param deletesByDataFile the current snapshot's data files and the deletes applying to each
   */
  void refresh(
      Table table,
      RowKeys keys,
      Set<String> dropped,
      Set<String> reread,
      Map<String, Set<DeleteFile>> deletesByDataFile) {
    BitSet stale = new BitSet();
    for (Set<String> paths : List.of(dropped, reread)) {
      for (String path : paths) {
        Integer number = fileNumbers.get(path);
        if (number != null) {
          stale.set(number);
        }
      }
    }
    if (!stale.isEmpty()) {
      locations.values().removeIf(location -> stale.get(fileNumber(location)));
    }
    Map<String, Set<DeleteFile>> toRead = new HashMap<>();
    for (String path : reread) {
      Set<DeleteFile> deletes = deletesByDataFile.get(path);
      if (deletes == null) {
        throw new IllegalArgumentException("Not a data file of the current snapshot: " + path);
      }
      toRead.put(path, deletes);
    }
    read(table, keys, toRead);
  }

  /** Adds the live rows of the given data files, with the given deletes applied, to the index. */
  private void read(Table table, RowKeys keys, Map<String, Set<DeleteFile>> deletesByDataFile) {
    Map<String, Map<String, Set<Long>>> deletedPositionsByDeleteFile = new HashMap<>();
    for (Map.Entry<String, Set<DeleteFile>> entry : deletesByDataFile.entrySet()) {
      String dataPath = entry.getKey();
      Set<Long> deleted = new HashSet<>();
      for (DeleteFile delete : entry.getValue()) {
        Map<String, Set<Long>> positions =
            deletedPositionsByDeleteFile.computeIfAbsent(
                delete.location(),
                location -> ParquetRows.readPositionDeletes(table.io(), location));
        deleted.addAll(positions.getOrDefault(dataPath, Set.of()));
      }
      int fileNumber = fileNumber(dataPath);
      try (CloseableIterable<Record> rows =
          ParquetRows.read(table.io(), dataPath, keys.keySchemaWithPosition())) {
        for (Record row : rows) {
          long position = ParquetRows.position(row);
          if (!deleted.contains(position)) {
            put(keys.keyOfProjection(row), location(fileNumber, position));
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
