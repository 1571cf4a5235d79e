package io.floe.server;

import static java.util.Objects.requireNonNull;

import io.floe.ingest.quality.QualityResult;
import io.floe.ingest.quality.QualityResults;
import io.floe.sql.SystemTable;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Types;

/**
 * {@code system.quality_results}: one row per quality rule per commit of a table (and per blocked
 * batch), as the pipelines recorded them in the catalog database; the latest 100,000 are kept.
 */
final class QualityResultsTable implements SystemTable {
  private static final int LIMIT = 100_000;

  private static final Schema SCHEMA =
      new Schema(
          Types.NestedField.required(1, "recorded_at", Types.TimestampType.withZone()),
          Types.NestedField.required(2, "pipeline", Types.StringType.get()),
          Types.NestedField.required(3, "table_name", Types.StringType.get()),
          Types.NestedField.required(4, "rule", Types.StringType.get()),
          Types.NestedField.required(5, "check_type", Types.StringType.get()),
          Types.NestedField.required(6, "action", Types.StringType.get()),
          Types.NestedField.optional(
              7,
              "snapshot_id",
              Types.LongType.get(),
              "The table's snapshot that committed the rows; null for a blocked batch"),
          Types.NestedField.required(8, "rows_checked", Types.LongType.get()),
          Types.NestedField.required(9, "rows_failed", Types.LongType.get()),
          Types.NestedField.required(
              10, "outcome", Types.StringType.get(), "passed, warned, quarantined or blocked"),
          Types.NestedField.required(
              11, "example", Types.StringType.get(), "A failing row's value and why, or empty"));

  private final QualityResults results;

  QualityResultsTable(QualityResults results) {
    this.results = requireNonNull(results, "results is null");
  }

  @Override
  public String name() {
    return "quality_results";
  }

  @Override
  public Schema schema() {
    return SCHEMA;
  }

  @Override
  public List<Object[]> rows() {
    List<Object[]> rows = new ArrayList<>();
    for (QualityResult result : results.recent(LIMIT)) {
      rows.add(
          new Object[] {
            ChronoUnit.MICROS.between(Instant.EPOCH, result.recordedAt()),
            result.pipeline(),
            result.table(),
            result.rule(),
            result.check(),
            result.action(),
            result.snapshotId().isPresent() ? result.snapshotId().getAsLong() : null,
            result.rowsChecked(),
            result.rowsFailed(),
            result.outcome(),
            result.example()
          });
    }
    return rows;
  }
}
