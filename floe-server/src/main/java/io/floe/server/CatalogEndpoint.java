package io.floe.server;

import io.floe.catalog.Authorizer;
import io.floe.catalog.RestCatalogServer;
import io.floe.core.catalog.CatalogDatabase;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.PrincipalConfig;
import io.floe.server.http.HttpQueryServer;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the Iceberg REST catalog of {@code floe run} and {@code floe demo} over the same catalog
 * instance the pipelines, SQL and maintenance use.
 */
final class CatalogEndpoint {
  private static final Logger LOG = LoggerFactory.getLogger(CatalogEndpoint.class);

  private CatalogEndpoint() {}

  /**
   * The running REST catalog, or null when {@code catalog.enabled} is off.
   *
   * @param conflict what to do when the port is taken
   */
  static RestCatalogServer start(
      JdbcCatalog catalog,
      CatalogDatabase database,
      CatalogConfig config,
      List<PrincipalConfig> principals,
      Map<String, String> tableConfig,
      SqlEndpoints.PortConflict conflict) {
    if (!config.enabled()) {
      LOG.info("REST catalog disabled (catalog.enabled: false)");
      return null;
    }
    try {
      return start(catalog, database, config, principals, tableConfig);
    } catch (RuntimeException e) {
      if (conflict == SqlEndpoints.PortConflict.USE_FREE_PORT
          && config.port() != 0
          && HttpQueryServer.isBindFailure(e)) {
        LOG.info(
            "Port {} (catalog.port) is taken; the REST catalog listens on a free port",
            config.port());
        return start(
            catalog,
            database,
            config.withEndpoint(config.listenAddress(), 0),
            principals,
            tableConfig);
      }
      throw e;
    }
  }

  private static RestCatalogServer start(
      JdbcCatalog catalog,
      CatalogDatabase database,
      CatalogConfig config,
      List<PrincipalConfig> principals,
      Map<String, String> tableConfig) {
    return RestCatalogServer.start(
        catalog,
        FloeCatalog.NAME,
        database::connect,
        config,
        principals,
        tableConfig,
        Authorizer.AUTHENTICATED,
        Clock.systemUTC());
  }
}
