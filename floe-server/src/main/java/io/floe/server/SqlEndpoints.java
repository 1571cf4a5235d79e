package io.floe.server;

import static java.util.Objects.requireNonNull;

import io.floe.core.config.SqlConfig;
import io.floe.ingest.PipelineSupervisor;
import io.floe.ingest.http.HttpStreams;
import io.floe.maintenance.WarehouseMaintenance;
import io.floe.server.http.HttpQueryServer;
import io.floe.sql.QueryEngine;
import io.floe.sql.SqlUsers;
import io.floe.sql.pgwire.PgWireServer;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SQL endpoints of a running Floe, bound to {@code sql.listen-address}: the PostgreSQL wire
 * protocol endpoint on {@code sql.postgres-port} and the HTTP query API on {@code sql.http-port}.
 * Both authenticate the {@code sql.users}; without users they stay closed (every query is refused).
 */
final class SqlEndpoints implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SqlEndpoints.class);

  /** What to do when a configured port is taken. */
  enum PortConflict {
    /** Fail: the operator chose the port. */
    FAIL,
    /** Listen on a free port instead and log it (the demo). */
    USE_FREE_PORT
  }

  /** Lifecycle; transitions are logged. */
  enum State {
    RUNNING,
    STOPPED
  }

  private final AtomicReference<State> state = new AtomicReference<>(State.RUNNING);
  private final String clientHost;
  private final PgWireServer postgres;
  private final HttpQueryServer http;

  private SqlEndpoints(String clientHost, PgWireServer postgres, HttpQueryServer http) {
    this.clientHost = requireNonNull(clientHost, "clientHost is null");
    this.postgres = requireNonNull(postgres, "postgres is null");
    this.http = requireNonNull(http, "http is null");
  }

  /**
   * Starts the endpoints of {@code config} over {@code engine}; the HTTP API also serves table
   * maintenance by {@code maintenance}, and takes no stream records.
   */
  static SqlEndpoints start(
      QueryEngine engine,
      SqlUsers users,
      SqlConfig config,
      WarehouseMaintenance maintenance,
      PortConflict conflict) {
    return start(engine, users, config, maintenance, new HttpStreams(), conflict);
  }

  /**
   * Starts the endpoints of {@code config} over {@code engine}; the HTTP API also serves table
   * maintenance by {@code maintenance}, and takes the records of the HTTP streams of {@code
   * streams}.
   */
  static SqlEndpoints start(
      QueryEngine engine,
      SqlUsers users,
      SqlConfig config,
      WarehouseMaintenance maintenance,
      HttpStreams streams,
      PortConflict conflict) {
    requireNonNull(engine, "engine is null");
    requireNonNull(streams, "streams is null");
    requireNonNull(users, "users is null");
    requireNonNull(maintenance, "maintenance is null");
    PgWireServer postgres =
        bind(
            "PostgreSQL wire protocol endpoint",
            "sql.postgres-port",
            config.postgresPort(),
            conflict,
            port -> {
              PgWireServer server =
                  new PgWireServer(
                      engine, users, config.listenAddress(), port, config.queryTimeout());
              server.start();
              return server;
            });
    HttpQueryServer http;
    try {
      http =
          bind(
              "HTTP query API",
              "sql.http-port",
              config.httpPort(),
              conflict,
              port ->
                  HttpQueryServer.start(
                      engine,
                      users,
                      new HttpQueryServer.Settings(
                          config.listenAddress(),
                          port,
                          config.queryTimeout(),
                          config.maxQueryLength()),
                      maintenance,
                      streams));
    } catch (RuntimeException e) {
      postgres.close();
      throw e;
    }
    SqlEndpoints endpoints = new SqlEndpoints(clientHost(config.listenAddress()), postgres, http);
    LOG.info(
        "SQL endpoints {} on {}: PostgreSQL wire protocol on port {}, HTTP query API on port {};"
            + " connect with: {}  or: {}",
        State.RUNNING,
        config.listenAddress(),
        postgres.port(),
        http.port(),
        endpoints.psqlHint("<user>"),
        endpoints.curlHint("<user>"));
    if (users.isEmpty()) {
      LOG.warn(
          "The SQL endpoints are closed until users are configured: every query is refused; add"
              + " users (name, password, workgroup) under sql.users in the configuration file");
    }
    return endpoints;
  }

  private static <T> T bind(
      String endpoint, String key, int port, PortConflict conflict, IntFunction<T> starter) {
    try {
      return starter.apply(port);
    } catch (RuntimeException e) {
      if (conflict == PortConflict.USE_FREE_PORT && port != 0 && HttpQueryServer.isBindFailure(e)) {
        LOG.info(
            "Port {} ({}) is taken; the {} listens on a free port instead", port, key, endpoint);
        return starter.apply(0);
      }
      throw e;
    }
  }

  /** The host clients on this machine connect to: loopback when listening on every interface. */
  private static String clientHost(String listenAddress) {
    if (listenAddress.equals("0.0.0.0") || listenAddress.equals("::") || listenAddress.isEmpty()) {
      return "127.0.0.1";
    }
    return listenAddress;
  }

  int postgresPort() {
    return postgres.port();
  }

  /** Serves the pipelines {@code pipelines} lists on the HTTP API, under {@code /v1/pipelines}. */
  void servePipelines(Supplier<List<PipelineSupervisor>> pipelines) {
    http.servePipelines(pipelines);
  }

  int httpPort() {
    return http.port();
  }

  /** The URL of the query endpoint, such as {@code http://127.0.0.1:8080/v1/query}. */
  String queryUrl() {
    return httpBase() + "/v1/query";
  }

  /** Where clients POST the records of an HTTP stream. */
  String streamUrl(String stream) {
    return httpBase() + "/v1/streams/" + stream + "/records";
  }

  private String httpBase() {
    String host = clientHost.indexOf(':') >= 0 ? "[" + clientHost + "]" : clientHost;
    return "http://" + host + ":" + http.port();
  }

  /**
   * How to connect: a {@code psql} command and a {@code curl} command.
   *
   * @param user the user as psql's {@code user=} and curl's {@code -u} take it: a name, or for curl
   *     {@code name:password}
   */
  List<String> connectionHints(String user, String password) {
    String psqlUser = password == null ? user : user + " password=" + password;
    String curlUser = password == null ? user : user + ":" + password;
    return List.of(psqlHint(psqlUser), curlHint(curlUser));
  }

  private String psqlHint(String user) {
    return "psql \"host=" + clientHost + " port=" + postgres.port() + " user=" + user + "\"";
  }

  private String curlHint(String user) {
    return "curl -u "
        + user
        + " -H 'Content-Type: text/plain' --data-binary 'SELECT 1' '"
        + queryUrl()
        + "?format=csv'";
  }

  @Override
  public void close() {
    if (state.compareAndSet(State.RUNNING, State.STOPPED)) {
      try {
        http.close();
      } finally {
        postgres.close();
      }
      LOG.info("SQL endpoints {}", State.STOPPED);
    }
  }
}
