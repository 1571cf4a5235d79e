package io.floe.server;

import io.floe.core.config.SqlConfig;
import io.floe.maintenance.WarehouseMaintenance;
import io.floe.sql.QueryEngine;
import java.nio.file.Path;
import org.apache.iceberg.catalog.Catalog;

/**
 * Builds the query engine from the {@code sql} section of the configuration, with the warehouse's
 * maintenance for its procedures.
 */
final class QueryEngines {
  private QueryEngines() {}

  static QueryEngine open(
      Catalog catalog, Path warehouse, SqlConfig sql, WarehouseMaintenance maintenance) {
    QueryEngine.Settings defaults = QueryEngine.Settings.defaults(warehouse);
    return new QueryEngine(
        catalog,
        warehouse,
        new QueryEngine.Settings(sql.maxQueryLength(), defaults.workDirectory(), sql.cacheSize()),
        maintenance);
  }
}
