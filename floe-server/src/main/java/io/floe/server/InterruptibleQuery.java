package io.floe.server;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.sql.QueryEngine;
import io.floe.sql.QueryExecution;
import io.floe.sql.QueryOptions;
import io.floe.sql.ResultFormat;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One query of the command line, written as it runs, that another thread can interrupt (Ctrl-C runs
 * the shutdown hooks): the query is cancelled and {@link #run} returns false.
 */
final class InterruptibleQuery {
  private final AtomicReference<QueryExecution> current = new AtomicReference<>();
  private final AtomicBoolean interrupted = new AtomicBoolean();

  /**
   * Runs the query, handing its columns and rows to {@code writer} and finishing it.
   *
   * @return true when the query completed, false when it was interrupted
   * @throws FloeException when the query fails
   */
  boolean run(QueryEngine engine, String sql, QueryOptions options, ResultFormat.Writer writer) {
    try (QueryExecution execution = engine.start(sql, options)) {
      current.set(execution);
      if (interrupted.get()) {
        execution.cancel();
      }
      writer.columns(execution.columns());
      for (Object[] row = execution.next(); row != null; row = execution.next()) {
        writer.row(row);
      }
      writer.finish();
      return true;
    } catch (FloeException e) {
      if (interrupted.get() && e.code() == ErrorCode.SQL_CANCELLED) {
        return false;
      }
      throw e;
    } finally {
      current.set(null);
    }
  }

  /**
   * Cancels the running query; safe from any thread. A query still being planned, or an aggregation
   * computing its first row, stops only when the engine lets it.
   */
  void interrupt() {
    interrupted.set(true);
    QueryExecution execution = current.get();
    if (execution != null) {
      execution.cancel();
    }
  }
}
