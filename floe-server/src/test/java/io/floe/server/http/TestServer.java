package io.floe.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.floe.core.catalog.CatalogDatabase;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.MaintenanceConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.ingest.http.HttpStreams;
import io.floe.maintenance.MaintenanceHistory;
import io.floe.maintenance.WarehouseMaintenance;
import io.floe.sql.Procedures;
import io.floe.sql.QueryEngine;
import io.floe.sql.SqlUsers;
import io.floe.sql.Workgroup;
import io.floe.testing.SalesTable;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * An HTTP query API on loopback over a warehouse with one table, {@code raw.sales} (ids 1 to 10,
 * amount = id * 10, tags = [t{id}]), and a real HTTP client. Users: alice/secret and bob/hunter2.
 */
final class TestServer implements AutoCloseable {
  static final String ALICE = "alice";
  static final String ALICE_PASSWORD = "secret";
  static final String BOB = "bob";
  static final String BOB_PASSWORD = "hunter2";
  static final int MAX_QUERY_LENGTH = 1000;
  static final Duration QUERY_TIMEOUT = Duration.ofMinutes(1);
  static final ObjectMapper JSON = new ObjectMapper();

  final JdbcCatalog catalog;
  final QueryEngine engine;
  final HttpQueryServer server;
  final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private TestServer(JdbcCatalog catalog, QueryEngine engine, HttpQueryServer server) {
    this.catalog = catalog;
    this.engine = engine;
    this.server = server;
  }

  static TestServer start(Path warehouse) {
    return start(warehouse, users(), Duration.ofSeconds(30));
  }

  static SqlUsers users() {
    return new SqlUsers(
        List.of(
            new SqlUsers.User(ALICE, ALICE_PASSWORD, Workgroup.PRIMARY),
            new SqlUsers.User(BOB, BOB_PASSWORD, Workgroup.PRIMARY)));
  }

  static TestServer start(Path warehouse, SqlUsers users) {
    return start(warehouse, users, Duration.ofSeconds(30));
  }

  static TestServer start(Path warehouse, SqlUsers users, Duration idleTimeout) {
    return start(warehouse, users, idleTimeout, new HttpStreams());
  }

  /** A server that also takes the records of {@code streams}. */
  static TestServer start(Path warehouse, SqlUsers users, HttpStreams streams) {
    return start(warehouse, users, Duration.ofSeconds(30), streams);
  }

  static TestServer start(
      Path warehouse, SqlUsers users, Duration idleTimeout, HttpStreams streams) {
    JdbcCatalog catalog =
        FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
    SalesTable.create(catalog);
    WarehouseMaintenance maintenance =
        new WarehouseMaintenance(
            catalog,
            MaintenanceConfig.defaults(),
            MaintenanceHistory.of(CatalogDatabase.embedded(warehouse)),
            new TableWriterRegistry());
    QueryEngine engine =
        new QueryEngine(
            catalog,
            warehouse,
            new QueryEngine.Settings(
                MAX_QUERY_LENGTH, warehouse.resolve(".floe").resolve("sql"), 1L << 30),
            new Procedures(maintenance, Clock.systemUTC()));
    HttpQueryServer server =
        HttpQueryServer.start(
            engine,
            users,
            new HttpQueryServer.Settings("127.0.0.1", 0, QUERY_TIMEOUT, MAX_QUERY_LENGTH),
            maintenance,
            streams,
            idleTimeout);
    return new TestServer(catalog, engine, server);
  }

  URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + server.port() + pathAndQuery);
  }

  static String basic(String user, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  HttpRequest.Builder request(String pathAndQuery, String user, String password) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(uri(pathAndQuery));
    if (user != null) {
      builder.header("Authorization", basic(user, password));
    }
    return builder.timeout(Duration.ofSeconds(60));
  }

  /** POSTs a JSON query request as alice. */
  HttpResponse<String> query(String json) {
    return send(
        request("/v1/query", ALICE, ALICE_PASSWORD)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build());
  }

  /** POSTs a JSON query request as alice, streaming the response. */
  HttpResponse<InputStream> queryStreaming(String json) {
    return sendStreaming(
        request("/v1/query", ALICE, ALICE_PASSWORD)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build());
  }

  HttpResponse<String> send(HttpRequest request) {
    try {
      return client.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  HttpResponse<InputStream> sendStreaming(HttpRequest request) {
    return sendStreaming(request, client);
  }

  /** Sends on the given client, e.g. a new one whose first request opens a new connection. */
  HttpResponse<InputStream> sendStreaming(HttpRequest request, HttpClient via) {
    try {
      return via.send(request, HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The JSON request {@code {"sql": sql}} plus extra members written as JSON text. */
  static String body(String sql, String... members) {
    StringBuilder json = new StringBuilder("{\"sql\":");
    try {
      json.append(JSON.writeValueAsString(sql));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (String member : members) {
      json.append(',').append(member);
    }
    return json.append('}').toString();
  }

  static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Alice's running queries, as listed by {@code GET /v1/queries}. */
  JsonNode runningQueries(String user, String password) {
    HttpResponse<String> response = send(request("/v1/queries", user, password).GET().build());
    if (response.statusCode() != 200) {
      throw new AssertionError("GET /v1/queries: " + response.statusCode() + " " + response.body());
    }
    return json(response.body()).get("queries");
  }

  @Override
  public void close() throws Exception {
    server.close();
    catalog.close();
  }
}
