package io.floe.sql;

import io.floe.core.catalog.CatalogDatabase;
import io.floe.core.config.MaintenanceConfig;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.maintenance.MaintenanceHistory;
import io.floe.maintenance.WarehouseMaintenance;
import java.nio.file.Path;
import java.time.Clock;
import org.apache.iceberg.catalog.Catalog;

/**
 * Query engines for tests, whose {@code CALL system.*} procedures run with the default maintenance
 * policy and the warehouse's maintenance history, as {@code floe sql} runs them without a
 * configuration file.
 */
public final class TestEngines {
  private TestEngines() {}

  /** An engine with the default settings. */
  public static QueryEngine open(Catalog catalog, Path warehouse) {
    return new QueryEngine(catalog, warehouse, procedures(catalog, warehouse));
  }

  public static QueryEngine open(Catalog catalog, Path warehouse, QueryEngine.Settings settings) {
    return new QueryEngine(catalog, warehouse, settings, procedures(catalog, warehouse));
  }

  public static Procedures procedures(Catalog catalog, Path warehouse) {
    return new Procedures(
        new WarehouseMaintenance(
            catalog,
            MaintenanceConfig.defaults(),
            MaintenanceHistory.of(CatalogDatabase.embedded(warehouse)),
            new TableWriterRegistry()),
        Clock.systemUTC());
  }
}
