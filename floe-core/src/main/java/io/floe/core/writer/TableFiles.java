package io.floe.core.writer;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.Scans;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.CloseableIterable;

/**
 * The live data and delete files of a table's current snapshot, as the writer knows them. Planned
 * once when the writer opens, then kept up to date by the writer's own commits.
 */
final class TableFiles {
  final Map<String, DataFile> dataFiles = new LinkedHashMap<>();
  final Map<String, DeleteFile> deleteFiles = new LinkedHashMap<>();

  /** For each data file, the delete files that apply to it (only filled by {@link #load}). */
  final Map<String, Set<DeleteFile>> deletesByDataFile = new LinkedHashMap<>();

  static TableFiles load(Table table) {
    TableFiles files = new TableFiles();
    if (table.currentSnapshot() == null) {
      return files;
    }
    try (CloseableIterable<FileScanTask> tasks = Scans.scan(table).planFiles()) {
      for (FileScanTask task : tasks) {
        files.dataFiles.put(task.file().location(), task.file());
        Set<DeleteFile> deletes =
            files.deletesByDataFile.computeIfAbsent(
                task.file().location(), path -> new HashSet<>());
        for (DeleteFile delete : task.deletes()) {
          if (delete.content() == FileContent.EQUALITY_DELETES) {
            throw new FloeException(
                ErrorCode.TABLE_STATE_INVALID,
                "Cannot load key index of table "
                    + table.name()
                    + ": it has equality delete file "
                    + delete.location()
                    + ", which Floe does not write; compact the table (rewrite_data_files) first");
          }
          deletes.add(delete);
          files.deleteFiles.put(delete.location(), delete);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return files;
  }
}
