package io.floe.server.http;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.ingest.PipelineSupervisor;
import io.floe.ingest.http.HttpStreams;
import io.floe.maintenance.WarehouseMaintenance;
import io.floe.sql.QueryEngine;
import io.floe.sql.SqlUsers;
import java.io.IOException;
import java.net.BindException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP query API on an embedded Jetty server: {@code POST /v1/query}, {@code GET /v1/queries},
 * {@code DELETE /v1/queries/{id}}, {@code GET /v1/health}, and table maintenance under {@code
 * /v1/maintenance/} ({@link MaintenanceApi}), and records of HTTP streams under {@code /v1/streams}
 * ({@link StreamsApi}). Each running query, maintenance operation or ingest request holds one
 * server thread.
 */
public final class HttpQueryServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HttpQueryServer.class);
  private static final int MAX_THREADS = 200;
  private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(30);

  /**
   * Where the server listens and what it accepts.
   *
   * @param host address to bind, such as {@code 127.0.0.1} or {@code 0.0.0.0}
   * @param port port to bind; 0 picks a free one
   * @param queryTimeout queries' default timeout and the longest a request may ask for
   * @param maxQueryLength longest accepted query text, in characters
   */
  public record Settings(String host, int port, Duration queryTimeout, int maxQueryLength) {
    public Settings {
      requireNonNull(host, "host is null");
      requireNonNull(queryTimeout, "queryTimeout is null");
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port is out of range: " + port);
      }
      if (maxQueryLength < 1) {
        throw new IllegalArgumentException("maxQueryLength is not positive: " + maxQueryLength);
      }
    }
  }

  private final Server server;
  private final ServerConnector connector;
  private final QueryApi api;

  private HttpQueryServer(Server server, ServerConnector connector, QueryApi api) {
    this.server = server;
    this.connector = connector;
    this.api = api;
  }

  /**
   * Starts the server.
   *
   * @throws FloeException {@link ErrorCode#ENDPOINT_UNAVAILABLE} when it cannot listen on the
   *     address and port, with a {@link BindException} cause when the port is taken or the address
   *     is not local ({@link #isBindFailure})
   */
  public static HttpQueryServer start(
      QueryEngine engine, SqlUsers users, Settings settings, WarehouseMaintenance maintenance) {
    return start(engine, users, settings, maintenance, new HttpStreams(), IDLE_TIMEOUT);
  }

  /**
   * Starts the server, which also takes the records of the HTTP streams of {@code streams} ({@link
   * StreamsApi}).
   *
   * @throws FloeException as {@link #start(QueryEngine, SqlUsers, Settings, WarehouseMaintenance)}
   */
  public static HttpQueryServer start(
      QueryEngine engine,
      SqlUsers users,
      Settings settings,
      WarehouseMaintenance maintenance,
      HttpStreams streams) {
    return start(engine, users, settings, maintenance, streams, IDLE_TIMEOUT);
  }

  /**
   * Starts the server with connections closed after {@code idleTimeout} without traffic, except
   * while a query computes.
   */
  static HttpQueryServer start(
      QueryEngine engine,
      SqlUsers users,
      Settings settings,
      WarehouseMaintenance maintenance,
      Duration idleTimeout) {
    return start(engine, users, settings, maintenance, new HttpStreams(), idleTimeout);
  }

  /**
   * Starts the server with the records of {@code streams} and connections closed after {@code
   * idleTimeout} without traffic, except while a query computes.
   */
  static HttpQueryServer start(
      QueryEngine engine,
      SqlUsers users,
      Settings settings,
      WarehouseMaintenance maintenance,
      HttpStreams streams,
      Duration idleTimeout) {
    QueuedThreadPool threads = new QueuedThreadPool(MAX_THREADS);
    threads.setName("floe-http");
    Server server = new Server(threads);
    HttpConfiguration configuration = new HttpConfiguration();
    configuration.setSendServerVersion(false);
    ServerConnector connector =
        new ServerConnector(server, new HttpConnectionFactory(configuration));
    connector.setHost(settings.host());
    connector.setPort(settings.port());
    connector.setIdleTimeout(idleTimeout.toMillis());
    server.addConnector(connector);
    QueryApi api =
        new QueryApi(
            engine,
            users,
            settings.queryTimeout(),
            settings.maxQueryLength(),
            new MaintenanceApi(maintenance, Clock.systemUTC()),
            new StreamsApi(streams));
    server.setHandler(api);
    String address = settings.host() + ":" + settings.port();
    try {
      // Opened apart from the start, so that a failure to listen tells itself from the others.
      connector.open();
    } catch (IOException e) {
      stop(server);
      throw new FloeException(
          ErrorCode.ENDPOINT_UNAVAILABLE,
          "Cannot start the HTTP query API on "
              + address
              + (isBindFailure(e)
                  ? ": the address is in use or not local; set sql.http-port to a free port (0"
                      + " picks one) or sql.listen-address to an address of this machine"
                  : ": "
                      + e.getMessage()
                      + " ("
                      + e.getCause()
                      + "); set sql.listen-address to"
                      + " an address or host name of this machine"),
          e);
    }
    try {
      server.start();
    } catch (Exception e) {
      stop(server);
      throw new FloeException(
          ErrorCode.INTERNAL_ERROR, "Cannot start the HTTP query API on " + address + ": " + e, e);
    }
    return new HttpQueryServer(server, connector, api);
  }

  /** Whether {@code failure} is, or was caused by, a {@link BindException}. */
  public static boolean isBindFailure(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof BindException) {
        return true;
      }
      if (cause.getCause() == cause) {
        break;
      }
    }
    return false;
  }

  /** Serves the pipelines {@code pipelines} lists under {@code /v1/pipelines}. */
  public void servePipelines(Supplier<List<PipelineSupervisor>> pipelines) {
    api.servePipelines(pipelines);
  }

  /** The bound port. */
  public int port() {
    return connector.getLocalPort();
  }

  /** Cancels the running queries, then stops the server. */
  @Override
  public void close() {
    int cancelled = api.cancelAll();
    if (cancelled > 0) {
      LOG.info("Cancelled {} running HTTP queries", cancelled);
    }
    stop(server);
  }

  private static void stop(Server server) {
    try {
      server.stop();
    } catch (Exception e) {
      LOG.warn("Could not stop the HTTP query API cleanly: {}", e.toString());
    }
  }
}
