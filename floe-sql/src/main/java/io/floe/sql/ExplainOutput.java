package io.floe.sql;

import static java.util.Objects.requireNonNull;

import io.floe.core.Bytes;
import io.floe.core.ErrorCode;
import io.floe.sql.QueryException.SqlState;
import io.floe.sql.ScanPlan.DataScan;
import io.floe.sql.ScanPlan.MetadataScan;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.Snapshot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rows of {@code EXPLAIN [ANALYZE]}: Floe's plan of each table reference (snapshot, filter
 * pushed to Iceberg, files and bytes kept of the snapshot's), then DuckDB's plan of the query with
 * the placeholder views named by their tables.
 */
final class ExplainOutput {
  private static final Logger LOG = LoggerFactory.getLogger(ExplainOutput.class);

  private final ScheduledExecutorService timer;

  /**
   * @param timer bounds {@code EXPLAIN ANALYZE}, which runs the query, by the query's timeout
   */
  ExplainOutput(ScheduledExecutorService timer) {
    this.timer = requireNonNull(timer, "timer is null");
  }

  /**
   * The plan's lines, one per row.
   *
   * @param connection prepared for the query
   * @param analyze whether DuckDB runs the query and reports what each step took
   * @throws QueryException when DuckDB cannot plan or run the query, or it runs longer than {@code
   *     timeout}
   */
  List<Object[]> lines(
      Connection connection,
      QueryRewriter.Rewritten rewritten,
      List<ScanPlan> scans,
      QueryStats stats,
      boolean analyze,
      ErrorTranslator errors,
      Duration timeout) {
    List<Object[]> lines = new ArrayList<>();
    lines.add(new Object[] {"Floe plan for query " + stats.queryId()});
    for (ScanPlan scan : scans) {
      lines.add(new Object[] {"  " + scan.reference().written()});
      if (scan instanceof ScanPlan.SystemScan system) {
        lines.add(
            new Object[] {
              "    system table "
                  + system.reference().table()
                  + ": "
                  + system.contents().rows().size()
                  + " rows"
            });
        continue;
      }
      if (scan instanceof MetadataScan metadata) {
        lines.add(
            new Object[] {
              "    metadata table "
                  + metadata.reference().metadata().name().toLowerCase(Locale.ROOT)
                  + " of "
                  + metadata.reference().table()
                  + ": "
                  + metadata.contents().rows().size()
                  + " rows read from table metadata"
            });
        continue;
      }
      DataScan data = (DataScan) scan;
      lines.add(new Object[] {"    snapshot: " + snapshot(data)});
      lines.add(new Object[] {"    filter pushed to Iceberg: " + data.filter()});
      TableScan described = data.describe();
      lines.add(
          new Object[] {
            "    data files: "
                + described.dataFiles()
                + " of "
                + described.totalDataFiles()
                + " planned; bytes: "
                + Bytes.format(described.bytes())
                + " of "
                + Bytes.format(described.totalBytes())
                + (described.totalBytes() > 0
                    ? String.format(
                        Locale.ROOT,
                        " (%.1f%% pruned)",
                        100.0
                            * (described.totalBytes() - described.bytes())
                            / described.totalBytes())
                    : "")
          });
      int vectors = data.files().deletionVectors();
      lines.add(
          new Object[] {
            "    position delete files applied: "
                + (described.deleteFiles() - vectors)
                + (vectors > 0 ? "; deletion vectors applied: " + vectors : "")
          });
    }
    lines.add(new Object[] {"  bytes scanned: " + Bytes.format(stats.bytesScanned())});
    long start = System.nanoTime();
    lines.add(new Object[] {analyze ? "DuckDB plan, executed:" : "DuckDB plan:"});
    try {
      duckDbPlan(connection, rewritten, scans, stats, analyze, timeout, lines);
    } catch (SQLException e) {
      throw errors.withPrefix(analyze ? 16 : 8).translate(e);
    }
    if (analyze) {
      lines.add(new Object[] {"Executed in " + (System.nanoTime() - start) / 1_000_000 + " ms"});
    }
    return lines;
  }

  private static String snapshot(DataScan data) {
    if (data.snapshot().isEmpty()) {
      return "none (empty table)";
    }
    Snapshot snapshot = data.snapshot().get();
    return snapshot.snapshotId()
        + " committed "
        + Instant.ofEpochMilli(snapshot.timestampMillis())
        + (data.reference().travel() == null ? " (current)" : " (time travel)");
  }

  private void duckDbPlan(
      Connection connection,
      QueryRewriter.Rewritten rewritten,
      List<ScanPlan> scans,
      QueryStats stats,
      boolean analyze,
      Duration timeout,
      List<Object[]> lines)
      throws SQLException {
    try (Statement statement = connection.createStatement()) {
      // EXPLAIN ANALYZE runs the query before start() returns: bound it by the query's timeout.
      Future<?> cancel =
          timer.schedule(
              () -> {
                try {
                  statement.cancel();
                } catch (SQLException e) {
                  LOG.warn("Could not cancel EXPLAIN ANALYZE of {}", stats.queryId(), e);
                }
              },
              timeout.toMillis(),
              TimeUnit.MILLISECONDS);
      ResultSet result;
      try {
        result =
            statement.executeQuery((analyze ? "EXPLAIN ANALYZE " : "EXPLAIN ") + rewritten.sql());
      } catch (SQLException e) {
        if (cancel.isDone()) {
          throw new QueryException(
              ErrorCode.SQL_TIMEOUT,
              SqlState.QUERY_CANCELED,
              "Query "
                  + stats.queryId()
                  + " (EXPLAIN ANALYZE) ran longer than its time limit and was cancelled",
              0,
              e);
        }
        throw e;
      } finally {
        cancel.cancel(false);
      }
      while (result.next()) {
        String plan = result.getString(2);
        for (String line : plan.split("\n", -1)) {
          String shown = line;
          for (ScanPlan scan : scans) {
            shown =
                shown.replace(scan.reference().placeholder(), scan.reference().table().toString());
          }
          lines.add(new Object[] {shown});
        }
      }
    }
  }
}
