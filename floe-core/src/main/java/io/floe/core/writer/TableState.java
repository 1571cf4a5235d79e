package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import io.floe.core.catalog.TableFiles;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.Table;

/**
 * What a {@link CdcTableWriter} knows of its table: the key index and the live data and delete
 * files, all as of one snapshot (which {@link CatchUp} tracks). The writer's commits change it as
 * they land, and catching up on other commits moves it onto the table's current files; so the
 * writer plans each commit without reading the table's metadata in full.
 *
 * <p>Mutable, and owned by one writer: used by its thread only.
 */
final class TableState {
  private KeyIndex index;
  private final Map<String, DataFile> dataFiles = new LinkedHashMap<>();
  private final Map<String, DeleteFile> deleteFiles = new LinkedHashMap<>();
  private long indexFilesRead;

  private TableState(KeyIndex index, TableFiles files) {
    moveTo(index, files, files.dataFiles().size());
  }

  /** Reads the table's current snapshot: its files, and the keys of every live row. */
  static TableState load(Table table, RowKeys keys) {
    TableFiles files = TableFiles.load(table);
    return new TableState(KeyIndex.load(table, keys, files.deletesByDataFile()), files);
  }

  KeyIndex index() {
    return index;
  }

  /** Live data files by location; commits change it in place. */
  Map<String, DataFile> dataFiles() {
    return dataFiles;
  }

  /** Live position-delete files by location; commits change it in place. */
  Map<String, DeleteFile> deleteFiles() {
    return deleteFiles;
  }

  /** Data files whose keys have been read into the index, in all. */
  long indexFilesRead() {
    return indexFilesRead;
  }

  /**
   * Takes the index as it describes the table now and the table's current files, after catching up
   * on other commits read the keys of {@code filesRead} data files.
   */
  void moveTo(KeyIndex index, TableFiles files, long filesRead) {
    this.index = requireNonNull(index, "index is null");
    dataFiles.clear();
    dataFiles.putAll(files.dataFiles());
    deleteFiles.clear();
    deleteFiles.putAll(files.deleteFiles());
    indexFilesRead += filesRead;
  }
}
