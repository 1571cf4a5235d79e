package io.floe.server.http;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.ErrorType;
import io.floe.core.FloeException;
import io.floe.sql.QueryEngine;
import io.floe.sql.QueryExecution;
import io.floe.sql.QueryOptions;
import io.floe.sql.SqlUsers;
import java.io.IOException;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers one {@code POST /v1/query}: starts the query, waits for its first row (so that errors up
 * to then get a proper status), then streams the rows as they come in blocks of {@link #BLOCK_SIZE}
 * bytes.
 */
final class QueryResponder {
  static final String QUERY_ID = "X-Floe-Query-Id";
  static final String BYTES_SCANNED = "X-Floe-Bytes-Scanned";
  static final String RESULT_REUSED = "X-Floe-Result-Reused";
  static final String ROWS_TRAILER = "X-Floe-Rows";
  static final String ELAPSED_TRAILER = "X-Floe-Elapsed-Millis";
  static final int BLOCK_SIZE = 32 * 1024;

  private static final Logger LOG = LoggerFactory.getLogger(QueryResponder.class);

  private final QueryEngine engine;
  private final String session;

  /**
   * @param session the session the queries run in, by which the API finds them running
   */
  QueryResponder(QueryEngine engine, String session) {
    this.engine = requireNonNull(engine, "engine is null");
    this.session = requireNonNull(session, "session is null");
  }

  void respond(
      Request request,
      Response response,
      Callback callback,
      SqlUsers.User user,
      QueryRequest query) {
    long started = System.nanoTime();
    QueryExecution execution;
    try {
      execution =
          engine.start(
              query.sql(),
              new QueryOptions(user.name(), user.workgroup(), query.timeout(), session));
    } catch (FloeException e) {
      if (e.type() == ErrorType.INTERNAL) {
        LOG.warn("Query of {} failed to start", user.name(), e);
      }
      ErrorResponses.send(response, callback, e);
      return;
    }
    // Closed, which ends it among the running queries, before the last bytes go out: a client
    // that has read the whole response no longer sees its query running.
    Runnable release = () -> close(execution);
    try {
      stream(request, response, callback, query, execution, started, release);
    } finally {
      release.run();
    }
  }

  private static void stream(
      Request request,
      Response response,
      Callback callback,
      QueryRequest query,
      QueryExecution execution,
      long started,
      Runnable release) {
    response.getHeaders().put(QUERY_ID, execution.id());
    ResponseOutput output = new ResponseOutput(response, BLOCK_SIZE);
    AtomicBoolean clientGone = new AtomicBoolean();
    // While the query computes nothing is written; an idle connection is then expected. A client
    // that stops reading for an idle period while a block waits to be written fails the request.
    request.addIdleTimeoutListener(timeout -> output.writing());
    request.addFailureListener(
        failure -> {
          clientGone.set(true);
          execution.cancel();
        });
    Object[] row;
    try {
      row = execution.next();
    } catch (FloeException e) {
      release.run();
      failBeforeRows(response, callback, execution, e, clientGone.get());
      return;
    }
    AtomicLong rows = new AtomicLong();
    ResultStream result;
    try {
      result = ResultStream.open(query.format(), output);
    } catch (IOException e) {
      callback.failed(e);
      return;
    }
    response.setStatus(HttpStatus.OK_200);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, result.contentType());
    response.getHeaders().put(BYTES_SCANNED, execution.stats().bytesScanned());
    response.getHeaders().put(RESULT_REUSED, Boolean.toString(execution.stats().reused()));
    if (acceptsTrailers(request)) {
      response.setTrailersSupplier(
          () ->
              HttpFields.build()
                  .put(ROWS_TRAILER, Long.toString(rows.get()))
                  .put(ELAPSED_TRAILER, Long.toString(millisSince(started))));
    }
    try {
      result.begin(execution.id(), execution.columns());
      for (; row != null; row = execution.next()) {
        result.row(row);
        rows.incrementAndGet();
      }
      result.end(execution.stats(), rows.get(), millisSince(started));
      release.run();
      output.finish();
      callback.succeeded();
    } catch (FloeException e) {
      release.run();
      if (clientGone.get()) {
        LOG.info("Client of query {} went away after {} rows", execution.id(), rows.get());
        callback.failed(e);
      } else if (!output.sent()) {
        output.discard();
        failBeforeRows(response, callback, execution, e, false);
      } else {
        failWhileStreaming(callback, execution, result, output, e, rows.get());
      }
    } catch (IOException e) {
      execution.cancel();
      LOG.info(
          "Client of query {} went away after {} rows; query cancelled",
          execution.id(),
          rows.get());
      callback.failed(e);
    }
  }

  private static void failBeforeRows(
      Response response,
      Callback callback,
      QueryExecution execution,
      FloeException error,
      boolean clientGone) {
    if (clientGone) {
      LOG.info("Client of query {} went away before its first row", execution.id());
      callback.failed(error);
      return;
    }
    logFailure(execution, error);
    response.reset();
    response.getHeaders().put(QUERY_ID, execution.id());
    ErrorResponses.send(response, callback, error);
  }

  private static void failWhileStreaming(
      Callback callback,
      QueryExecution execution,
      ResultStream result,
      ResponseOutput output,
      FloeException error,
      long rows) {
    try {
      if (result.fail(error)) {
        logFailure(execution, error);
        output.finish();
        callback.succeeded();
        return;
      }
    } catch (IOException e) {
      error.addSuppressed(e);
    }
    // The status line went out long ago; breaking the transfer is the only way left to tell the
    // client the result is incomplete. One line says both, with the trace of Floe's own failures.
    if (error.type() == ErrorType.INTERNAL) {
      LOG.warn("Query {} failed; aborted its response after {} rows", execution.id(), rows, error);
    } else {
      LOG.warn(
          "Query {} failed; aborted its response after {} rows: {}",
          execution.id(),
          rows,
          error.describe());
    }
    callback.failed(error);
  }

  private static void logFailure(QueryExecution execution, FloeException error) {
    if (error.type() == ErrorType.INTERNAL) {
      LOG.warn("Query {} failed", execution.id(), error);
    } else if (error.code() != ErrorCode.SQL_CANCELLED && error.code() != ErrorCode.SQL_TIMEOUT) {
      LOG.debug("Query {} failed: {}", execution.id(), error.describe());
    }
  }

  private static boolean acceptsTrailers(Request request) {
    for (HttpField field : request.getHeaders()) {
      if (field.is(HttpHeader.TE.asString())
          && field.getValue().toLowerCase(Locale.ROOT).contains("trailers")) {
        return true;
      }
    }
    return false;
  }

  private static void close(QueryExecution execution) {
    try {
      execution.close();
    } catch (FloeException e) {
      LOG.warn("Could not release query {}: {}", execution.id(), e.describe());
    }
  }

  private static long millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }
}
