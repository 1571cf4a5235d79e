package io.floe.core.catalog;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableScan;
import org.apache.iceberg.io.CloseableIterable;

/**
 * The live data files of a table's current snapshot and the position-delete files that apply to
 * them, as Iceberg plans them. Floe writes no equality deletes; a table that has some is refused.
 */
public final class TableFiles {
  private final Map<String, DataFile> dataFiles;
  private final Map<String, DeleteFile> deleteFiles;
  private final Map<String, Set<DeleteFile>> deletesByDataFile;

  private TableFiles(
      Map<String, DataFile> dataFiles,
      Map<String, DeleteFile> deleteFiles,
      Map<String, Set<DeleteFile>> deletesByDataFile) {
    this.dataFiles = Collections.unmodifiableMap(dataFiles);
    this.deleteFiles = Collections.unmodifiableMap(deleteFiles);
    this.deletesByDataFile = Collections.unmodifiableMap(deletesByDataFile);
  }

  /** Plans the table's current snapshot. */
  public static TableFiles load(Table table) {
    return table.currentSnapshot() == null ? plan(table, null) : plan(table, Scans.scan(table));
  }

  /**
   * Plans a scan of the table, which may select another snapshot or filter files; a null scan plans
   * nothing (a table without snapshots).
   */
  public static TableFiles plan(Table table, TableScan scan) {
    Map<String, DataFile> dataFiles = new LinkedHashMap<>();
    Map<String, DeleteFile> deleteFiles = new LinkedHashMap<>();
    Map<String, Set<DeleteFile>> deletesByDataFile = new LinkedHashMap<>();
    if (scan != null) {
      try (CloseableIterable<FileScanTask> tasks = scan.planFiles()) {
        for (FileScanTask task : tasks) {
          dataFiles.put(task.file().location(), task.file());
          Set<DeleteFile> deletes =
              deletesByDataFile.computeIfAbsent(
                  task.file().location(), path -> new LinkedHashSet<>());
          for (DeleteFile delete : task.deletes()) {
            if (delete.content() == FileContent.EQUALITY_DELETES) {
              throw new FloeException(
                  ErrorCode.TABLE_STATE_INVALID,
                  "Cannot read table "
                      + table.name()
                      + ": it has equality delete file "
                      + delete.location()
                      + ", which Floe does not write or apply; compact the table"
                      + " (rewrite_data_files) first");
            }
            deletes.add(delete);
            deleteFiles.put(delete.location(), delete);
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return new TableFiles(dataFiles, deleteFiles, deletesByDataFile);
  }

  /** Live data files by location. */
  public Map<String, DataFile> dataFiles() {
    return dataFiles;
  }

  /** Live position-delete files by location. */
  public Map<String, DeleteFile> deleteFiles() {
    return deleteFiles;
  }

  /** For each live data file's location, the delete files that apply to it. */
  public Map<String, Set<DeleteFile>> deletesByDataFile() {
    return deletesByDataFile;
  }

  /** Bytes of all live data and delete files. */
  public long bytes() {
    long bytes = 0;
    for (DataFile file : dataFiles.values()) {
      bytes += file.fileSizeInBytes();
    }
    for (DeleteFile file : deleteFiles.values()) {
      bytes += file.fileSizeInBytes();
    }
    return bytes;
  }
}
