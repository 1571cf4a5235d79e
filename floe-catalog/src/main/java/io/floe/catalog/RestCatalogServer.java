package io.floe.catalog;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.TableTransactions;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.PrincipalConfig;
import java.io.IOException;
import java.net.BindException;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Iceberg REST catalog on an embedded Jetty server, serving the warehouse's catalog (the same
 * {@link JdbcCatalog} instance the pipelines, SQL and maintenance use) to other engines.
 */
public final class RestCatalogServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RestCatalogServer.class);
  private static final int MAX_THREADS = 64;

  private final Server server;
  private final ServerConnector connector;
  private final String host;

  private final CatalogServerTables database;

  private RestCatalogServer(
      Server server, ServerConnector connector, String host, CatalogServerTables database) {
    this.server = server;
    this.connector = connector;
    this.host = host;
    this.database = database;
  }

  /**
   * Starts serving.
   *
   * @param catalogName the catalog's name, as its rows in the database carry it; clients may name
   *     it as their warehouse
   * @param database connections to the catalog's database
   * @param tableConfig what table loads tell clients about the storage (such as the S3 endpoint)
   * @throws FloeException {@link ErrorCode#ENDPOINT_UNAVAILABLE} when it cannot listen
   */
  public static RestCatalogServer start(
      JdbcCatalog catalog,
      String catalogName,
      TableTransactions.Database database,
      CatalogConfig config,
      List<PrincipalConfig> principals,
      Map<String, String> tableConfig,
      Authorizer authorizer,
      Clock clock) {
    requireNonNull(config, "config is null");
    CatalogServerTables catalogDatabase = new CatalogServerTables(database);
    byte[] key = catalogDatabase.tokenKey();
    catalogDatabase.createReportsTable();
    Principals directory = Principals.of(principals, key);
    if (directory.isEmpty() && !config.anonymousAccess()) {
      LOG.warn(
          "The REST catalog has no principals and anonymous access is off, so it refuses every"
              + " request; declare principals in the configuration");
    }
    Tokens tokens = new Tokens(key, directory, config.tokenLifetime(), clock);
    CatalogRoutes routes =
        new CatalogRoutes(
            catalog,
            new TableTransactions(catalog, catalogName, database),
            catalogDatabase,
            authorizer,
            catalogName,
            tableConfig,
            clock);
    QueuedThreadPool threads = new QueuedThreadPool(MAX_THREADS);
    threads.setName("floe-catalog");
    Server server = new Server(threads);
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    // Iceberg clients separate namespace levels with %1F in paths, which Jetty refuses by
    // default as a suspicious character; names are checked by the routes instead (Names).
    http.setUriCompliance(
        UriCompliance.DEFAULT.with(
            "iceberg-rest", UriCompliance.Violation.SUSPICIOUS_PATH_CHARACTERS));
    ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
    connector.setHost(config.listenAddress());
    connector.setPort(config.port());
    server.addConnector(connector);
    server.setErrorHandler(new RestCatalogHandler.JsonErrors());
    server.setHandler(new RestCatalogHandler(routes, directory, tokens, config.anonymousAccess()));
    String address = config.listenAddress() + ":" + config.port();
    try {
      connector.open();
    } catch (IOException e) {
      stop(server);
      throw new FloeException(
          ErrorCode.ENDPOINT_UNAVAILABLE,
          "Cannot start the REST catalog on "
              + address
              + (isBindFailure(e)
                  ? ": the address is in use or not local; set catalog.port to a free port (0"
                      + " picks one) or catalog.listen-address to an address of this machine"
                  : ": " + e.getMessage()),
          e);
    }
    try {
      server.start();
    } catch (Exception e) {
      stop(server);
      throw new FloeException(
          ErrorCode.INTERNAL_ERROR, "Cannot start the REST catalog on " + address + ": " + e, e);
    }
    RestCatalogServer started =
        new RestCatalogServer(server, connector, config.listenAddress(), catalogDatabase);
    LOG.info("REST catalog listening on {}", started.uri());
    return started;
  }

  /** The bound port. */
  public int port() {
    return connector.getLocalPort();
  }

  /** The URI clients are given, such as {@code http://127.0.0.1:8181/}. */
  public String uri() {
    String shown = host.equals("0.0.0.0") ? "127.0.0.1" : host;
    return "http://" + (shown.contains(":") ? "[" + shown + "]" : shown) + ":" + port() + "/";
  }

  @Override
  public void close() {
    stop(server);
    database.close();
  }

  private static boolean isBindFailure(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof BindException) {
        return true;
      }
    }
    return false;
  }

  private static void stop(Server server) {
    try {
      server.stop();
    } catch (Exception e) {
      LOG.warn("Could not stop the REST catalog cleanly: {}", e.toString());
    }
  }
}
