package io.floe.catalog;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.catalog.TableTransactions;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.PrincipalConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.storage.LocalFileIO;
import io.floe.demo.EmbeddedPostgres;
import io.floe.testing.S3Server;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.rest.RESTCatalog;

/**
 * A running REST catalog over a fresh warehouse, with its catalog database on the embedded SQLite
 * file or on a PostgreSQL database of its own, and Iceberg's own {@link RESTCatalog} clients of it.
 * {@link #restart} stops the server and starts a new one on the same warehouse and catalog
 * database; {@link #send} makes raw HTTP requests, for what Iceberg's client never sends.
 */
final class RestCatalogFixture implements AutoCloseable {
  static final String PRINCIPAL = "spark";
  static final String SECRET = "spark-secret";
  static final List<PrincipalConfig> PRINCIPALS =
      List.of(new PrincipalConfig(PRINCIPAL, SECRET, "primary"));

  /** Where the catalog database is. */
  enum Metastore {
    SQLITE,
    POSTGRES,
    /** The warehouse in S3 (an S3 API server on 127.0.0.1), the catalog database on SQLite. */
    S3
  }

  private static EmbeddedPostgres postgres;
  private static S3Server s3;
  private static final AtomicInteger DATABASES = new AtomicInteger();

  private final Metastore metastore;
  private final Path warehouse;
  private final Clock clock;
  private final Duration tokenLifetime;

  /** Names this fixture's warehouse prefix in the S3 bucket. */
  private final int s3Prefix;

  /** The PostgreSQL database of the catalog, null on SQLite. */
  private final String postgresUrl;

  /** Runs once before the next connection the server opens to the catalog database. */
  private final AtomicReference<Runnable> beforeNextConnection = new AtomicReference<>();

  private final List<RESTCatalog> clients = new ArrayList<>();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private JdbcCatalog catalog;
  private RestCatalogServer server;

  private RestCatalogFixture(
      Metastore metastore,
      Path warehouse,
      Clock clock,
      Duration tokenLifetime,
      String postgresUrl) {
    this.metastore = metastore;
    this.warehouse = warehouse;
    this.clock = clock;
    this.tokenLifetime = tokenLifetime;
    this.postgresUrl = postgresUrl;
    this.s3Prefix = DATABASES.incrementAndGet();
  }

  static RestCatalogFixture start(Metastore metastore, Path warehouse) throws Exception {
    return start(metastore, warehouse, Clock.systemUTC(), Duration.ofHours(1));
  }

  static RestCatalogFixture start(
      Metastore metastore, Path warehouse, Clock clock, Duration tokenLifetime) throws Exception {
    return start(metastore, warehouse, clock, tokenLifetime, PRINCIPALS);
  }

  static RestCatalogFixture start(
      Metastore metastore,
      Path warehouse,
      Clock clock,
      Duration tokenLifetime,
      List<PrincipalConfig> principals)
      throws Exception {
    Files.createDirectories(warehouse);
    String postgresUrl = null;
    if (metastore == Metastore.POSTGRES) {
      EmbeddedPostgres server = postgres();
      String name = "catalog_" + DATABASES.incrementAndGet();
      try (Connection connection = server.connect("postgres");
          Statement statement = connection.createStatement()) {
        statement.execute("CREATE DATABASE " + name);
      }
      postgresUrl = server.jdbcUrl(name);
    }
    RestCatalogFixture fixture =
        new RestCatalogFixture(metastore, warehouse, clock, tokenLifetime, postgresUrl);
    fixture.open(principals);
    return fixture;
  }

  private void open(List<PrincipalConfig> principals) throws Exception {
    WarehouseConfig warehouseConfig =
        metastore == Metastore.S3
            ? s3().warehouse("rest-" + s3Prefix, warehouse)
            : WarehouseConfig.local(warehouse);
    CatalogConfig config =
        new CatalogConfig(
            true,
            "127.0.0.1",
            0,
            Optional.ofNullable(postgresUrl),
            postgresUrl == null ? "" : postgres().user(),
            postgresUrl == null ? "" : postgres().password(),
            tokenLifetime,
            false);
    // Opened as floe run opens them: the catalog and its database from the configuration.
    catalog = FloeCatalog.open(warehouseConfig, config);
    TableTransactions.Database database = FloeCatalog.database(warehouseConfig, config)::connect;
    TableTransactions.Database connections = database;
    TableTransactions.Database hooked =
        () -> {
          Runnable hook = beforeNextConnection.getAndSet(null);
          if (hook != null) {
            hook.run();
          }
          return connections.connect();
        };
    server =
        RestCatalogServer.start(
            catalog,
            FloeCatalog.NAME,
            hooked,
            config,
            principals,
            warehouseConfig.clientProperties(true),
            Authorizer.AUTHENTICATED,
            clock);
  }

  /**
   * Stops the server and starts a new one (on another port) on the same warehouse and catalog
   * database, with {@code principals}; the clients of the old server are closed.
   */
  void restart(List<PrincipalConfig> principals) throws Exception {
    closeServer();
    open(principals);
  }

  private static synchronized S3Server s3() throws Exception {
    if (s3 == null) {
      s3 = S3Server.start("lake");
      S3Server started = s3;
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      started.close();
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                  }));
    }
    return s3;
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

  Metastore metastore() {
    return metastore;
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

  /**
   * Runs {@code hook} once, before the next connection the server opens to the catalog database
   * (for its own tables or a multi-table commit; the JDBC catalog keeps connections of its own).
   */
  void beforeNextConnection(Runnable hook) {
    beforeNextConnection.set(hook);
  }

  /** A new client with the principal's credentials and {@code extra} properties. */
  RESTCatalog client(Map<String, String> extra) {
    return client(PRINCIPAL + ":" + SECRET, extra);
  }

  /** A new client with {@code credential} ({@code name:secret}) and {@code extra} properties. */
  RESTCatalog client(String credential, Map<String, String> extra) {
    Map<String, String> properties = new HashMap<>();
    properties.put(CatalogProperties.URI, server.uri());
    properties.put("credential", credential);
    // On S3 the client learns the endpoint and credentials from the server's table loads.
    properties.put(
        CatalogProperties.FILE_IO_IMPL,
        metastore == Metastore.S3
            ? "org.apache.iceberg.aws.s3.S3FileIO"
            : LocalFileIO.class.getName());
    if (metastore == Metastore.S3) {
      properties.put("client.region", S3Server.REGION);
      properties.put("http-client.type", "urlconnection");
    }
    properties.putAll(extra);
    RESTCatalog client = new RESTCatalog();
    client.initialize("floe-client", properties);
    synchronized (clients) {
      clients.add(client);
    }
    return client;
  }

  /** A raw HTTP request to the server: {@code path} as sent (already encoded), from the root. */
  HttpResponse<String> sendRaw(
      String method, String path, HttpRequest.BodyPublisher body, Map<String, String> headers) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(server.uri() + path.substring(1)))
            .timeout(Duration.ofSeconds(30))
            .method(method, body);
    headers.forEach(request::header);
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(method + " " + path + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A raw request with a JSON body (null: none) and a bearer token (null: none). */
  HttpResponse<String> send(String method, String path, String json, String token) {
    Map<String, String> headers = new HashMap<>();
    if (token != null) {
      headers.put("Authorization", "Bearer " + token);
    }
    if (json != null) {
      headers.put("Content-Type", "application/json");
    }
    return sendRaw(
        method,
        path,
        json == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8),
        headers);
  }

  /** A form posted to the token endpoint, with extra headers. */
  HttpResponse<String> postTokenForm(String form, Map<String, String> headers) {
    Map<String, String> all = new HashMap<>(headers);
    all.put("Content-Type", "application/x-www-form-urlencoded");
    return sendRaw(
        "POST",
        "/v1/oauth/tokens",
        HttpRequest.BodyPublishers.ofString(form, StandardCharsets.UTF_8),
        all);
  }

  /** A token for client credentials, from the token endpoint. */
  String token(String principal, String secret) {
    HttpResponse<String> response =
        postTokenForm(
            "grant_type=client_credentials&client_id="
                + principal
                + "&client_secret="
                + secret
                + "&scope=catalog",
            Map.of());
    if (response.statusCode() != 200) {
      throw new IllegalStateException(
          "token endpoint answered " + response.statusCode() + ": " + response.body());
    }
    try {
      return CatalogRoutes.mapper().readTree(response.body()).get("access_token").asText();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A token of the fixture's principal. */
  String token() {
    return token(PRINCIPAL, SECRET);
  }

  /**
   * What the catalog holds, read through {@link #catalog()}: every namespace with its properties,
   * every table with its metadata location, and the files of the warehouse.
   */
  record State(
      Map<String, Map<String, String>> namespaces, Map<String, String> tables, Set<String> files) {}

  State state() {
    Map<String, Map<String, String>> namespaces = new TreeMap<>();
    Map<String, String> tables = new TreeMap<>();
    List<Namespace> pending = new ArrayList<>(catalog.listNamespaces(Namespace.empty()));
    while (!pending.isEmpty()) {
      Namespace namespace = pending.remove(pending.size() - 1);
      namespaces.put(namespace.toString(), catalog.loadNamespaceMetadata(namespace));
      pending.addAll(catalog.listNamespaces(namespace));
      for (TableIdentifier table : catalog.listTables(namespace)) {
        tables.put(table.toString(), metadataLocation(table));
      }
    }
    Set<String> files = new TreeSet<>();
    try (Stream<Path> walk = Files.walk(warehouse)) {
      walk.filter(Files::isRegularFile)
          .map(path -> warehouse.relativize(path).toString())
          .filter(name -> !name.startsWith("catalog.db"))
          .forEach(files::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new State(namespaces, tables, files);
  }

  /** The table's current metadata location, as the catalog database has it. */
  String metadataLocation(TableIdentifier table) {
    return ((BaseTable) catalog.loadTable(table)).operations().current().metadataFileLocation();
  }

  private void closeServer() throws Exception {
    synchronized (clients) {
      for (RESTCatalog client : clients) {
        client.close();
      }
      clients.clear();
    }
    server.close();
    catalog.close();
  }

  @Override
  public void close() throws Exception {
    closeServer();
  }
}
