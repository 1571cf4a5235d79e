package io.floe.maintenance;

import static java.util.Objects.requireNonNull;

import java.util.Map;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotSummary;
import org.apache.iceberg.Table;

/**
 * A table's size at one moment, from the summary of its current snapshot ({@code total-data-files},
 * {@code total-delete-files}, {@code total-files-size}), and its number of snapshots. A table
 * without a current snapshot has no files. A total the summary lacks (written by an engine that
 * does not keep totals) is -1.
 *
 * @param totalBytes bytes of the live data and delete files
 */
public record TableFigures(long dataFiles, long deleteFiles, long totalBytes, int snapshots) {

  /** Measures the table as loaded; refresh it first for its latest state. */
  public static TableFigures of(Table table) {
    requireNonNull(table, "table is null");
    int snapshots = 0;
    for (Snapshot ignored : table.snapshots()) {
      snapshots++;
    }
    Snapshot current = table.currentSnapshot();
    if (current == null) {
      return new TableFigures(0, 0, 0, snapshots);
    }
    Map<String, String> summary = current.summary() == null ? Map.of() : current.summary();
    return new TableFigures(
        total(summary, SnapshotSummary.TOTAL_DATA_FILES_PROP),
        total(summary, SnapshotSummary.TOTAL_DELETE_FILES_PROP),
        total(summary, SnapshotSummary.TOTAL_FILE_SIZE_PROP),
        snapshots);
  }

  private static long total(Map<String, String> summary, String property) {
    String value = summary.get(property);
    if (value == null) {
      return -1;
    }
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
