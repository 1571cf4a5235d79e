package io.floe.server;

import io.floe.catalog.CatalogServerTables;
import io.floe.core.config.SqlConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.ingest.quality.CatalogQualityResults;
import io.floe.maintenance.WarehouseMaintenance;
import io.floe.sql.Procedures;
import io.floe.sql.QueryEngine;
import java.time.Clock;
import org.apache.iceberg.catalog.Catalog;

/**
 * Builds the query engine from the {@code sql} section of the configuration, with the warehouse's
 * maintenance (as the command configured it) for its {@code CALL system.*} procedures.
 */
final class QueryEngines {
  private QueryEngines() {}

  static QueryEngine open(
      Catalog catalog, WarehouseConfig warehouse, SqlConfig sql, WarehouseMaintenance maintenance) {
    return open(catalog, warehouse, sql, maintenance, sql.residentSize());
  }

  /**
   * For one query ({@code floe sql}): no data files are held resident, which pays off only for the
   * queries that follow.
   */
  static QueryEngine openForOneQuery(
      Catalog catalog, WarehouseConfig warehouse, SqlConfig sql, WarehouseMaintenance maintenance) {
    return open(catalog, warehouse, sql, maintenance, 0);
  }

  private static QueryEngine open(
      Catalog catalog,
      WarehouseConfig warehouse,
      SqlConfig sql,
      WarehouseMaintenance maintenance,
      long residentSize) {
    // The engine's work files and the cache of remote files live in the local state directory:
    // the warehouse directory itself, or that of a warehouse in object storage.
    QueryEngine.Settings defaults = QueryEngine.Settings.defaults(warehouse.stateDirectory());
    QueryEngine engine =
        new QueryEngine(
            catalog,
            warehouse.stateDirectory(),
            new QueryEngine.Settings(
                sql.maxQueryLength(),
                defaults.workDirectory(),
                sql.cacheSize(),
                residentSize,
                QueryEngine.Settings.RESIDENT_MIN_ROWS),
            new Procedures(maintenance, Clock.systemUTC()));
    engine.addSystemTable(
        new MetricsReportsTable(
            new CatalogServerTables(maintenance.history().database()::connect)));
    engine.addSystemTable(new SchemaHistoryTable(catalog));
    engine.addSystemTable(
        new QualityResultsTable(
            new CatalogQualityResults(
                maintenance.history().database(), CatalogQualityResults.DEFAULT_KEEP)));
    return engine;
  }
}
