package io.floe.server;

import io.floe.core.Bytes;
import io.floe.core.config.EffectiveMaintenancePolicy;
import io.floe.core.config.MaintenancePolicy;
import io.floe.maintenance.MaintenanceRun;
import io.floe.maintenance.TableFigures;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/** Maintenance runs and policies as text tables for the terminal ({@code floe maintain}). */
final class MaintenanceOutput {
  private static final DateTimeFormatter STARTED =
      DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

  private MaintenanceOutput() {}

  /**
   * One line per run, newest first as given: when it started (UTC), the table, the operation, how
   * long it took, its figures before and after, and what it did or why it failed.
   */
  static String runs(List<MaintenanceRun> runs) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(
        List.of(
            "STARTED (UTC)",
            "TABLE",
            "OPERATION",
            "TOOK",
            "DATA FILES",
            "DELETE FILES",
            "SIZE",
            "SNAPSHOTS",
            "RESULT"));
    for (MaintenanceRun run : runs) {
      rows.add(
          List.of(
              STARTED.format(run.startedAt()),
              run.table().toString(),
              run.operation().label(),
              run.durationMillis() + " ms",
              change(run, TableFigures::dataFiles, false),
              change(run, TableFigures::deleteFiles, false),
              change(run, TableFigures::totalBytes, true),
              change(run, TableFigures::snapshots, false),
              run.failed() ? "FAILED: " + run.error() : run.details()));
    }
    return table(rows);
  }

  /** One line per key: its value as the configuration writes it, and where it comes from. */
  static String policy(EffectiveMaintenancePolicy policy) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("KEY", "VALUE", "SOURCE"));
    for (MaintenancePolicy.Key key : MaintenancePolicy.Key.values()) {
      String value = policy.policy().text(key);
      rows.add(
          List.of(
              key.configName(),
              value.isEmpty() ? "(empty)" : value,
              policy.source(key).toString()));
    }
    return "Maintenance policy of " + policy.table() + "\n" + table(rows);
  }

  private static String change(
      MaintenanceRun run, ToLongFunction<TableFigures> figure, boolean bytes) {
    return value(run.before(), figure, bytes) + " -> " + value(run.after(), figure, bytes);
  }

  private static String value(
      TableFigures figures, ToLongFunction<TableFigures> figure, boolean bytes) {
    if (figures == null || figure.applyAsLong(figures) < 0) {
      return "?";
    }
    long value = figure.applyAsLong(figures);
    return bytes ? Bytes.format(value) : Long.toString(value);
  }

  /** Rows as columns padded to their widest cell; the last column is not padded. */
  private static String table(List<List<String>> rows) {
    int columns = rows.get(0).size();
    int[] widths = new int[columns];
    for (List<String> row : rows) {
      for (int column = 0; column < columns; column++) {
        widths[column] = Math.max(widths[column], row.get(column).length());
      }
    }
    StringBuilder text = new StringBuilder();
    for (List<String> row : rows) {
      for (int column = 0; column < columns; column++) {
        String cell = row.get(column);
        text.append(cell);
        if (column < columns - 1) {
          text.append(" ".repeat(widths[column] - cell.length() + 2));
        }
      }
      text.append('\n');
    }
    return text.toString();
  }
}
