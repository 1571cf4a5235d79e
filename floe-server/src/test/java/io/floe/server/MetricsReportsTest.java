package io.floe.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.Authorizer;
import io.floe.catalog.RestCatalogServer;
import io.floe.core.catalog.CatalogDatabase;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.MaintenanceConfig;
import io.floe.core.config.PrincipalConfig;
import io.floe.core.config.SqlConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.storage.LocalFileIO;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.maintenance.MaintenanceHistory;
import io.floe.maintenance.WarehouseMaintenance;
import io.floe.sql.QueryEngine;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.rest.RESTCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scan and commit reports an engine sends to the REST catalog are stored, and Floe's SQL reads
 * them as {@code system.metrics_reports}.
 */
class MetricsReportsTest {
  @TempDir Path warehouse;

  @Test
  void storesReportsThatQueriesRead() throws Exception {
    try (JdbcCatalog catalog =
            FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
        RestCatalogServer server =
            RestCatalogServer.start(
                catalog,
                FloeCatalog.NAME,
                () -> CatalogDatabase.embedded(warehouse).connect(),
                CatalogConfig.defaults().withEndpoint("127.0.0.1", 0),
                List.of(new PrincipalConfig("spark", "spark-secret", "primary")),
                Map.of(),
                Authorizer.AUTHENTICATED,
                Clock.systemUTC());
        RESTCatalog client = new RESTCatalog();
        QueryEngine engine =
            QueryEngines.open(
                catalog,
                WarehouseConfig.local(warehouse),
                SqlConfig.defaults(),
                new WarehouseMaintenance(
                    catalog,
                    MaintenanceConfig.defaults(),
                    MaintenanceHistory.of(CatalogDatabase.embedded(warehouse)),
                    new TableWriterRegistry()))) {
      client.initialize(
          "spark",
          Map.of(
              "uri",
              server.uri(),
              "credential",
              "spark:spark-secret",
              "io-impl",
              LocalFileIO.class.getName()));
      assertThat(engine.queryAll("SELECT count(*) FROM system.metrics_reports"))
          .containsExactly(List.of(0L));

      client.createNamespace(Namespace.of("raw"));
      Table table =
          client.createTable(
              TableIdentifier.of("raw", "events"),
              new Schema(Types.NestedField.required(1, "id", Types.LongType.get())));
      table
          .newFastAppend()
          .appendFile(
              DataFiles.builder(PartitionSpec.unpartitioned())
                  .withPath(warehouse.resolve("events-1.parquet").toString())
                  .withFileSizeInBytes(10)
                  .withRecordCount(3)
                  .build())
          .commit();
      try (CloseableIterable<?> tasks = table.newScan().planFiles()) {
        assertThat(tasks).hasSize(1);
      }

      List<List<Object>> rows =
          engine.queryAll(
              "SELECT principal, table_namespace, table_name, report_type,"
                  + " snapshot_id = "
                  + table.currentSnapshot().snapshotId()
                  + ", json_extract_string(report, '$.report-type')"
                  + " FROM system.metrics_reports ORDER BY received_at");
      assertThat(rows)
          .containsExactly(
              List.of("spark", "raw", "events", "commit_report", true, "commit-report"),
              List.of("spark", "raw", "events", "scan_report", true, "scan-report"));
    }
  }
}
