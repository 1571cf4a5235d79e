package io.floe.server.http;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.ingest.PipelineSupervisor;
import io.floe.sql.QueryEngine;
import io.floe.sql.QueryExecution;
import io.floe.sql.RunningQueries;
import io.floe.sql.SqlUsers;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP query API. Every endpoint but {@code /v1/health} needs HTTP Basic authentication as one
 * of the {@code sql.users}; every error is answered with the JSON of {@link ErrorResponses},
 * without {@code sqlState} for the maintenance endpoints.
 *
 * <ul>
 *   <li>{@code POST /v1/query} runs a query in the user's workgroup ({@link QueryRequest}, {@link
 *       QueryResponder})
 *   <li>{@code GET /v1/queries} lists the user's running queries: {@code {"queries": [{"queryId":
 *       .., "sql": .., "elapsedMillis": .., "rows": ..}]}}
 *   <li>{@code DELETE /v1/queries/{id}} cancels one of them: {@code {"queryId": .., "cancelled":
 *       true}}, or 404
 *   <li>{@code GET /v1/health} answers {@code {"status":"ok"}}
 *   <li>{@code /v1/maintenance/...}: table maintenance, see {@link MaintenanceApi}
 *   <li>{@code /v1/pipelines...}: pipeline figures and dead-letter replays, see {@link
 *       PipelinesApi}
 *   <li>{@code /v1/streams/...}: records of HTTP streams, see {@link StreamsApi}
 * </ul>
 */
final class QueryApi extends Handler.Abstract {
  static final String QUERY_PATH = "/v1/query";
  static final String QUERIES_PATH = "/v1/queries";
  static final String HEALTH_PATH = "/v1/health";

  private static final Logger LOG = LoggerFactory.getLogger(QueryApi.class);
  private static final byte[] HEALTHY = "{\"status\":\"ok\"}\n".getBytes(StandardCharsets.UTF_8);
  // Names each server's queries among the engine's running queries, unique within the JVM.
  private static final AtomicLong SERVER_NUMBERS = new AtomicLong();

  private final SqlUsers users;
  private final Duration queryTimeout;
  private final long bodyLimit;
  private final RunningQueries running;
  private final String session = "http-" + SERVER_NUMBERS.incrementAndGet();
  private final QueryResponder responder;
  private final MaintenanceApi maintenance;
  private final QueryEngine engine;
  private volatile PipelinesApi pipelines;
  private final StreamsApi streams;

  /**
   * @param queryTimeout the default timeout of queries, and the longest a request may ask for
   * @param maxQueryLength the longest query text in characters; bodies over {@link #bodyLimit(int)}
   *     bytes are refused
   */
  QueryApi(
      QueryEngine engine,
      SqlUsers users,
      Duration queryTimeout,
      int maxQueryLength,
      MaintenanceApi maintenance,
      StreamsApi streams) {
    super(InvocationType.BLOCKING);
    this.users = requireNonNull(users, "users is null");
    this.queryTimeout = requireNonNull(queryTimeout, "queryTimeout is null");
    this.bodyLimit = bodyLimit(maxQueryLength);
    requireNonNull(engine, "engine is null");
    this.running = engine.runningQueries();
    this.responder = new QueryResponder(engine, session);
    this.maintenance = requireNonNull(maintenance, "maintenance is null");
    this.streams = requireNonNull(streams, "streams is null");
    this.engine = engine;
    this.pipelines = new PipelinesApi(List::of, engine);
  }

  /** Serves the pipelines {@code pipelines} lists under {@code /v1/pipelines}. */
  void servePipelines(Supplier<List<PipelineSupervisor>> pipelines) {
    this.pipelines = new PipelinesApi(pipelines, engine);
  }

  /**
   * The largest request body accepted for queries of up to {@code maxQueryLength} characters: room
   * for every character escaped in JSON ({@code \}{@code uXXXX}, 6 bytes) and 64 KiB of envelope.
   */
  static long bodyLimit(int maxQueryLength) {
    return 6L * maxQueryLength + 64 * 1024;
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    String path = Request.getPathInContext(request);
    String method = request.getMethod();
    try {
      if (path.equals(HEALTH_PATH)) {
        RequestRejected.requireMethod(method, "GET", ErrorCode.SQL_INVALID);
        Responses.json(response, callback, HttpStatus.OK_200, HEALTHY);
      } else if (path.equals(QUERY_PATH)) {
        RequestRejected.requireMethod(method, "POST", ErrorCode.SQL_INVALID);
        SqlUsers.User user = authenticate(request);
        QueryRequest query;
        try {
          query = QueryRequest.read(request, bodyLimit, queryTimeout);
        } catch (UncheckedIOException e) {
          LOG.debug("Cannot read the body of a query request: {}", e.getCause().toString());
          callback.failed(e.getCause());
          return true;
        }
        responder.respond(request, response, callback, user, query);
      } else if (path.equals(QUERIES_PATH)) {
        RequestRejected.requireMethod(method, "GET", ErrorCode.SQL_INVALID);
        list(response, callback, authenticate(request));
      } else if (path.startsWith(QUERIES_PATH + "/")
          && path.indexOf('/', QUERIES_PATH.length() + 1) < 0) {
        RequestRejected.requireMethod(method, "DELETE", ErrorCode.SQL_INVALID);
        cancel(
            response, callback, authenticate(request), path.substring(QUERIES_PATH.length() + 1));
      } else if (path.startsWith(MaintenanceApi.PREFIX)) {
        authenticate(request);
        maintenance.serve(request, response, callback, path);
      } else if (path.equals(PipelinesApi.PREFIX) || path.startsWith(PipelinesApi.PREFIX + "/")) {
        pipelines.serve(request, response, callback, path, authenticate(request));
      } else if (StreamsApi.serves(path)) {
        authenticate(request);
        streams.serve(request, response, callback, path);
      } else {
        throw new RequestRejected(
            HttpStatus.NOT_FOUND_404,
            new FloeException(
                ErrorCode.SQL_INVALID,
                "Cannot serve "
                    + method
                    + " "
                    + path
                    + ": no such endpoint; the endpoints are POST /v1/query, GET /v1/queries,"
                    + " DELETE /v1/queries/{id}, GET /v1/health, GET /v1/maintenance/runs,"
                    + " GET /v1/maintenance/policy, POST /v1/maintenance/{operation}, GET"
                    + " /v1/pipelines, POST /v1/pipelines/{name}/dead-letters/replay, GET /v1/streams and POST"
                    + " /v1/streams/{stream}/records"));
      }
    } catch (RequestRejected e) {
      if (e.status() == HttpStatus.METHOD_NOT_ALLOWED_405) {
        response.getHeaders().put(HttpHeader.ALLOW, allowed(path));
      }
      closeIfUnread(request, response);
      ErrorResponses.send(response, callback, e.status(), e.error(), runsSql(path));
    } catch (RuntimeException e) {
      LOG.error("Cannot serve {} {}", method, path, e);
      if (response.isCommitted()) {
        callback.failed(e);
      } else {
        closeIfUnread(request, response);
        ErrorResponses.send(
            response,
            callback,
            new FloeException(
                ErrorCode.INTERNAL_ERROR,
                "Cannot serve " + method + " " + path + ": internal failure: " + e,
                e));
      }
    }
    return true;
  }

  /**
   * Asks the client to close the connection when the request body was refused before it was read
   * (or has not fully arrived yet): the connection cannot carry another request.
   */
  private static void closeIfUnread(Request request, Response response) {
    if (!request.consumeAvailable()) {
      response.getHeaders().put(HttpHeader.CONNECTION, "close");
    }
  }

  /** Cancels every query running through this API, when the server stops. */
  int cancelAll() {
    return running.cancelAll(session);
  }

  /** Whether errors of {@code path} carry a SQLSTATE: not those of endpoints that run no SQL. */
  private static boolean runsSql(String path) {
    return !path.startsWith(MaintenanceApi.PREFIX)
        && !StreamsApi.serves(path)
        && !path.startsWith(PipelinesApi.PREFIX);
  }

  private static String allowed(String path) {
    if (path.equals(QUERY_PATH)) {
      return "POST";
    }
    if (StreamsApi.serves(path)) {
      return StreamsApi.allowed(path);
    }
    if (path.startsWith(MaintenanceApi.PREFIX)) {
      return MaintenanceApi.allowed(path);
    }
    if (path.startsWith(PipelinesApi.PREFIX)) {
      return PipelinesApi.allowed(path);
    }
    return path.equals(HEALTH_PATH) || path.equals(QUERIES_PATH) ? "GET" : "DELETE";
  }

  private SqlUsers.User authenticate(Request request) {
    if (users.isEmpty()) {
      throw unauthorized(
          "Cannot run queries: no SQL users are configured; add users (name, password, workgroup)"
              + " under sql.users in the configuration file and restart Floe");
    }
    BasicCredentials credentials =
        BasicCredentials.parse(request.getHeaders().get(HttpHeader.AUTHORIZATION))
            .orElseThrow(
                () ->
                    unauthorized(
                        "Cannot authenticate: send the name and password of one of the sql.users"
                            + " with HTTP Basic authentication (curl -u name:password)"));
    return users
        .authenticate(credentials.user(), credentials.password())
        .orElseThrow(
            () ->
                unauthorized(
                    "Cannot authenticate "
                        + credentials.user()
                        + ": unknown user or wrong password"));
  }

  private static RequestRejected unauthorized(String message) {
    return new RequestRejected(
        HttpStatus.UNAUTHORIZED_401, new FloeException(ErrorCode.AUTHENTICATION_FAILED, message));
  }

  private void list(Response response, Callback callback, SqlUsers.User user) {
    byte[] body =
        Responses.json(
            json -> {
              json.writeStartObject();
              json.writeArrayFieldStart("queries");
              for (QueryExecution execution : running.of(session, user.name())) {
                json.writeStartObject();
                json.writeStringField("queryId", execution.id());
                json.writeStringField("sql", execution.sql());
                json.writeNumberField("elapsedMillis", execution.elapsedMillis());
                json.writeNumberField("rows", execution.rowCount());
                json.writeEndObject();
              }
              json.writeEndArray();
              json.writeEndObject();
            });
    Responses.json(response, callback, HttpStatus.OK_200, body);
  }

  private void cancel(Response response, Callback callback, SqlUsers.User user, String queryId) {
    QueryExecution execution =
        running
            .find(session, user.name(), queryId)
            .orElseThrow(
                () ->
                    new RequestRejected(
                        HttpStatus.NOT_FOUND_404,
                        new FloeException(
                            ErrorCode.SQL_INVALID,
                            "Cannot cancel query "
                                + queryId
                                + ": no query with this id is running for "
                                + user.name()
                                + "; GET /v1/queries lists yours")));
    execution.cancel();
    byte[] body =
        Responses.json(
            json -> {
              json.writeStartObject();
              json.writeStringField("queryId", execution.id());
              json.writeBooleanField("cancelled", true);
              json.writeEndObject();
            });
    Responses.json(response, callback, HttpStatus.OK_200, body);
  }
}
