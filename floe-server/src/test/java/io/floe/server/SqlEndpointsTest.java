package io.floe.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.ErrorType;
import io.floe.core.FloeException;
import io.floe.core.catalog.CatalogDatabase;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.MaintenanceConfig;
import io.floe.core.config.SqlConfig;
import io.floe.core.config.SqlUserConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.maintenance.MaintenanceHistory;
import io.floe.maintenance.WarehouseMaintenance;
import io.floe.server.http.HttpQueryServer;
import io.floe.sql.QueryEngine;
import io.floe.sql.SqlUsers;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SqlEndpointsTest {
  @TempDir Path warehouse;
  private JdbcCatalog catalog;
  private QueryEngine engine;
  private WarehouseMaintenance maintenance;
  private final HttpClient client = HttpClient.newHttpClient();

  @BeforeEach
  void setUp() {
    catalog = FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
    maintenance =
        new WarehouseMaintenance(
            catalog,
            MaintenanceConfig.defaults(),
            MaintenanceHistory.of(CatalogDatabase.embedded(warehouse)),
            new TableWriterRegistry());
    engine =
        QueryEngines.open(
            catalog, WarehouseConfig.local(warehouse), SqlConfig.defaults(), maintenance);
  }

  @AfterEach
  void tearDown() throws Exception {
    catalog.close();
  }

  private static SqlConfig config(int httpPort, List<SqlUserConfig> users) {
    return config(0, httpPort, users);
  }

  private static SqlConfig config(int postgresPort, int httpPort, List<SqlUserConfig> users) {
    return config("127.0.0.1", postgresPort, httpPort, users);
  }

  private static SqlConfig config(
      String listenAddress, int postgresPort, int httpPort, List<SqlUserConfig> users) {
    SqlConfig defaults = SqlConfig.defaults();
    return new SqlConfig(
        listenAddress,
        postgresPort,
        httpPort,
        defaults.queryTimeout(),
        defaults.maxQueryLength(),
        defaults.cacheSize(),
        defaults.residentSize(),
        users,
        List.of());
  }

  private HttpResponse<String> query(SqlEndpoints endpoints, String credentials) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(endpoints.queryUrl() + "?format=csv"))
            .header("Content-Type", "text/plain")
            .POST(HttpRequest.BodyPublishers.ofString("SELECT 42 AS answer"));
    if (credentials != null) {
      request.header(
          "Authorization",
          "Basic "
              + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8)));
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void servesQueriesOfConfiguredUsers() throws Exception {
    SqlConfig config = config(0, List.of(new SqlUserConfig("analyst", "secret", "primary")));
    try (SqlEndpoints endpoints =
        SqlEndpoints.start(
            engine, SqlUsers.of(config), config, maintenance, SqlEndpoints.PortConflict.FAIL)) {
      assertThat(endpoints.httpPort()).isPositive();
      assertThat(endpoints.queryUrl())
          .isEqualTo("http://127.0.0.1:" + endpoints.httpPort() + "/v1/query");
      assertThat(endpoints.connectionHints("analyst", null))
          .containsExactly(
              "psql \"host=127.0.0.1 port=" + endpoints.postgresPort() + " user=analyst\"",
              "curl -u analyst -H 'Content-Type: text/plain' --data-binary 'SELECT 1' '"
                  + endpoints.queryUrl()
                  + "?format=csv'");
      HttpResponse<String> response = query(endpoints, "analyst:secret");
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("answer\r\n42\r\n");
      assertThat(query(endpoints, null).statusCode()).isEqualTo(401);

      assertThat(endpoints.postgresPort()).isPositive().isNotEqualTo(endpoints.httpPort());
      try (Connection connection =
              DriverManager.getConnection(
                  "jdbc:postgresql://127.0.0.1:" + endpoints.postgresPort() + "/floe",
                  "analyst",
                  "secret");
          Statement statement = connection.createStatement();
          ResultSet result = statement.executeQuery("SELECT 42 AS answer")) {
        assertThat(result.next()).isTrue();
        assertThat(result.getInt(1)).isEqualTo(42);
      }
    }
  }

  @Test
  void staysClosedWithoutUsers() throws Exception {
    SqlConfig config = config(0, List.of());
    try (SqlEndpoints endpoints =
        SqlEndpoints.start(
            engine, SqlUsers.of(config), config, maintenance, SqlEndpoints.PortConflict.FAIL)) {
      HttpResponse<String> response = query(endpoints, "anyone:anything");
      assertThat(response.statusCode()).isEqualTo(401);
      assertThat(response.body()).contains("sql.users");
    }
  }

  @Test
  void takenPortFailsOrIsReplacedByAFreeOne() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      SqlConfig config = config(taken.getLocalPort(), List.of());
      assertThatThrownBy(
              () ->
                  SqlEndpoints.start(
                      engine,
                      SqlUsers.of(config),
                      config,
                      maintenance,
                      SqlEndpoints.PortConflict.FAIL))
          .isInstanceOfSatisfying(
              FloeException.class,
              e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.ENDPOINT_UNAVAILABLE);
                assertThat(e.getMessage())
                    .contains("127.0.0.1:" + taken.getLocalPort())
                    .contains("sql.http-port");
              });
      try (SqlEndpoints endpoints =
          SqlEndpoints.start(
              engine,
              SqlUsers.of(config),
              config,
              maintenance,
              SqlEndpoints.PortConflict.USE_FREE_PORT)) {
        assertThat(endpoints.httpPort()).isPositive().isNotEqualTo(taken.getLocalPort());
      }

      SqlConfig postgresTaken = config(taken.getLocalPort(), 0, List.of());
      assertThatThrownBy(
              () ->
                  SqlEndpoints.start(
                      engine,
                      SqlUsers.of(postgresTaken),
                      postgresTaken,
                      maintenance,
                      SqlEndpoints.PortConflict.FAIL))
          .isInstanceOfSatisfying(
              FloeException.class, e -> assertThat(e.getMessage()).contains("sql.postgres-port"));
      try (SqlEndpoints endpoints =
          SqlEndpoints.start(
              engine,
              SqlUsers.of(postgresTaken),
              postgresTaken,
              maintenance,
              SqlEndpoints.PortConflict.USE_FREE_PORT)) {
        assertThat(endpoints.postgresPort()).isPositive().isNotEqualTo(taken.getLocalPort());
      }
    }
  }

  @Test
  void anEndpointThatCannotListenIsTheUsersToFix() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      SqlConfig postgresTaken = config(taken.getLocalPort(), 0, List.of());
      assertThatThrownBy(
              () ->
                  SqlEndpoints.start(
                      engine,
                      SqlUsers.of(postgresTaken),
                      postgresTaken,
                      maintenance,
                      SqlEndpoints.PortConflict.FAIL))
          .isInstanceOfSatisfying(
              FloeException.class,
              e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.ENDPOINT_UNAVAILABLE);
                assertThat(e.type()).isEqualTo(ErrorType.USER);
                assertThat(HttpQueryServer.isBindFailure(e)).isTrue();
              });
    }
    // A host name that does not resolve: no free port helps, and it is no failure of Floe's.
    assertThatThrownBy(
            () ->
                HttpQueryServer.start(
                    engine,
                    new SqlUsers(List.of()),
                    new HttpQueryServer.Settings(
                        "nosuch.invalid", 0, Duration.ofMinutes(1), 1_000_000),
                    maintenance))
        .isInstanceOfSatisfying(
            FloeException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.ENDPOINT_UNAVAILABLE);
              assertThat(HttpQueryServer.isBindFailure(e)).isFalse();
              assertThat(e.getMessage())
                  .startsWith("Cannot start the HTTP query API on nosuch.invalid:0: ")
                  .contains("sql.listen-address");
            });
    SqlConfig unresolvable = config("nosuch.invalid", 0, 0, List.of());
    assertThatThrownBy(
            () ->
                SqlEndpoints.start(
                    engine,
                    SqlUsers.of(unresolvable),
                    unresolvable,
                    maintenance,
                    SqlEndpoints.PortConflict.USE_FREE_PORT))
        .isInstanceOfSatisfying(
            FloeException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.ENDPOINT_UNAVAILABLE);
              assertThat(e.getMessage())
                  .startsWith("Cannot start the PostgreSQL endpoint on nosuch.invalid:0: ")
                  .contains("sql.listen-address");
            });
  }

  @Test
  void closingTwiceIsHarmless() {
    SqlConfig config = config(0, List.of());
    SqlEndpoints endpoints =
        SqlEndpoints.start(
            engine, SqlUsers.of(config), config, maintenance, SqlEndpoints.PortConflict.FAIL);
    endpoints.close();
    endpoints.close();
  }
}
