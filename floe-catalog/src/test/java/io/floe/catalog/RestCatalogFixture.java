package io.floe.catalog;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.catalog.TableTransactions;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.PrincipalConfig;
import io.floe.core.storage.LocalFileIO;
import io.floe.demo.EmbeddedPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.rest.RESTCatalog;

/**
 * A running REST catalog over a fresh warehouse, with its catalog database on the embedded SQLite
 * file or on a PostgreSQL database of its own, and Iceberg's own {@link RESTCatalog} clients of it.
 */
final class RestCatalogFixture implements AutoCloseable {
  static final String PRINCIPAL = "spark";
  static final String SECRET = "spark-secret";

  /** Where the catalog database is. */
  enum Metastore {
    SQLITE,
    POSTGRES
  }

  private static EmbeddedPostgres postgres;
  private static final AtomicInteger DATABASES = new AtomicInteger();

  private final JdbcCatalog catalog;
  private final RestCatalogServer server;
  private final Path warehouse;
  private final List<RESTCatalog> clients = new java.util.ArrayList<>();

  private RestCatalogFixture(JdbcCatalog catalog, RestCatalogServer server, Path warehouse) {
    this.catalog = catalog;
    this.server = server;
    this.warehouse = warehouse;
  }

  static RestCatalogFixture start(Metastore metastore, Path warehouse) throws Exception {
    return start(metastore, warehouse, Clock.systemUTC(), Duration.ofHours(1));
  }

  static RestCatalogFixture start(
      Metastore metastore, Path warehouse, Clock clock, Duration tokenLifetime) throws Exception {
    JdbcCatalog catalog;
    TableTransactions.Database database;
    if (metastore == Metastore.SQLITE) {
      catalog = FloeCatalog.open(warehouse);
      database = () -> FloeCatalog.connect(warehouse);
    } else {
      EmbeddedPostgres server = postgres();
      String name = "catalog_" + DATABASES.incrementAndGet();
      try (Connection connection = server.connect("postgres");
          Statement statement = connection.createStatement()) {
        statement.execute("CREATE DATABASE " + name);
      }
      String url = server.jdbcUrl(name);
      Map<String, String> properties = new HashMap<>();
      properties.put(CatalogProperties.URI, url);
      properties.put("jdbc.user", server.user());
      properties.put("jdbc.password", server.password());
      properties.put(CatalogProperties.WAREHOUSE_LOCATION, warehouse.toString());
      properties.put(CatalogProperties.FILE_IO_IMPL, LocalFileIO.class.getName());
      properties.put("jdbc.schema-version", "V1");
      catalog = new JdbcCatalog();
      catalog.initialize(FloeCatalog.NAME, properties);
      database = () -> DriverManager.getConnection(url, server.user(), server.password());
    }
    CatalogConfig config = CatalogConfig.defaults().withEndpoint("127.0.0.1", 0);
    config =
        new CatalogConfig(
            true,
            config.listenAddress(),
            config.port(),
            config.database(),
            "",
            "",
            tokenLifetime,
            false);
    RestCatalogServer rest =
        RestCatalogServer.start(
            catalog,
            FloeCatalog.NAME,
            database,
            config,
            List.of(new PrincipalConfig(PRINCIPAL, SECRET, "primary")),
            Map.of(),
            Authorizer.AUTHENTICATED,
            clock);
    return new RestCatalogFixture(catalog, rest, warehouse);
  }

  private static synchronized EmbeddedPostgres postgres() {
    if (postgres == null) {
      postgres = EmbeddedPostgres.start();
      Runtime.getRuntime().addShutdownHook(new Thread(postgres::close));
    }
    return postgres;
  }

  /** The catalog the server serves, as Floe's own components use it. */
  JdbcCatalog catalog() {
    return catalog;
  }

  Path warehouse() {
    return warehouse;
  }

  String uri() {
    return server.uri();
  }

  int port() {
    return server.port();
  }

  /** A new client with the principal's credentials and {@code extra} properties. */
  RESTCatalog client(Map<String, String> extra) {
    Map<String, String> properties = new HashMap<>();
    properties.put(CatalogProperties.URI, server.uri());
    properties.put("credential", PRINCIPAL + ":" + SECRET);
    properties.put(CatalogProperties.FILE_IO_IMPL, LocalFileIO.class.getName());
    properties.putAll(extra);
    RESTCatalog client = new RESTCatalog();
    client.initialize("floe-client", properties);
    synchronized (clients) {
      clients.add(client);
    }
    return client;
  }

  @Override
  public void close() throws Exception {
    synchronized (clients) {
      for (RESTCatalog client : clients) {
        client.close();
      }
    }
    server.close();
    catalog.close();
  }
}
