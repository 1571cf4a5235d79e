package io.floe.server;

import static java.util.Objects.requireNonNull;

import io.floe.catalog.CatalogServerTables;
import io.floe.sql.SystemTable;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Types;

/**
 * {@code system.metrics_reports}: the scan and commit reports engines sent to the REST catalog, one
 * row each, with the report as Iceberg's JSON ({@code json_extract(report, '$.metrics')}).
 */
final class MetricsReportsTable implements SystemTable {
  private static final Schema SCHEMA =
      new Schema(
          Types.NestedField.required(1, "received_at", Types.TimestampType.withZone()),
          Types.NestedField.required(2, "principal", Types.StringType.get()),
          Types.NestedField.required(3, "table_namespace", Types.StringType.get()),
          Types.NestedField.required(4, "table_name", Types.StringType.get()),
          Types.NestedField.required(5, "report_type", Types.StringType.get()),
          Types.NestedField.optional(6, "snapshot_id", Types.LongType.get()),
          Types.NestedField.required(7, "report", Types.StringType.get()));

  private final CatalogServerTables database;

  MetricsReportsTable(CatalogServerTables database) {
    this.database = requireNonNull(database, "database is null");
  }

  @Override
  public String name() {
    return "metrics_reports";
  }

  @Override
  public Schema schema() {
    return SCHEMA;
  }

  @Override
  public List<Object[]> rows() {
    // Created by the REST catalog when it starts; created here for a warehouse it never served.
    database.createReportsTable();
    List<Object[]> rows = new ArrayList<>();
    for (CatalogServerTables.StoredReport report : database.reports()) {
      long micros =
          java.time.temporal.ChronoUnit.MICROS.between(
              java.time.Instant.EPOCH, report.receivedAt());
      rows.add(
          new Object[] {
            micros,
            report.principal(),
            report.tableNamespace(),
            report.tableName(),
            report.reportType(),
            report.snapshotId(),
            report.report()
          });
    }
    return rows;
  }
}
