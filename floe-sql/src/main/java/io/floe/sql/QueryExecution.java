package io.floe.sql;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running query: its columns are known, its rows are read one at a time with {@link #next()}. Any
 * thread may {@link #cancel()} it; the reading thread then gets a {@link QueryException} with code
 * {@link ErrorCode#SQL_CANCELLED} (or {@link ErrorCode#SQL_TIMEOUT} when its time ran out). Always
 * {@link #close()} it, which releases its DuckDB instance.
 */
public final class QueryExecution implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(QueryExecution.class);

  /** Where rows come from: a live DuckDB result or rows held in memory. */
  interface Rows {
    /** The next row, or null at the end. */
    Object[] next() throws SQLException;

    /** Interrupts a running {@link #next()}; called from another thread. */
    void interrupt() throws SQLException;

    void close() throws SQLException;
  }

  /** Told once when the last row was read, with the rows kept (null when there were too many). */
  interface Completion {
    void completed(QueryExecution execution, List<Object[]> rows);
  }

  private final String sql;
  private final List<SqlColumn> columns;
  private final QueryStats stats;
  private final String commandTag;
  private final Rows rows;
  private final Function<SQLException, FloeException> errors;
  private final AtomicReference<QueryException> cancellation = new AtomicReference<>();
  private final long startNanos = System.nanoTime();
  private volatile Future<?> timeout;
  private Runnable closeHook = () -> {};
  private Completion completion;
  private java.util.ArrayList<Object[]> kept;
  private int keepLimit;
  private long rowCount;
  private boolean finished;
  private boolean closed;

  QueryExecution(
      String sql,
      List<SqlColumn> columns,
      QueryStats stats,
      String commandTag,
      Rows rows,
      Function<SQLException, FloeException> errors) {
    this.sql = requireNonNull(sql, "sql is null");
    this.columns = List.copyOf(requireNonNull(columns, "columns is null"));
    this.stats = requireNonNull(stats, "stats is null");
    this.commandTag = requireNonNull(commandTag, "commandTag is null");
    this.rows = requireNonNull(rows, "rows is null");
    this.errors = requireNonNull(errors, "errors is null");
  }

  /** The query's id, such as {@code q-000042}; cancel it by this id through the HTTP API. */
  public String id() {
    return stats.queryId();
  }

  /** The query text as received. */
  public String sql() {
    return sql;
  }

  public List<SqlColumn> columns() {
    return columns;
  }

  /** What the query planned to read; known before the first row. */
  public QueryStats stats() {
    return stats;
  }

  /** The statement kind for protocol completion messages: {@code SELECT} or {@code EXPLAIN}. */
  public String commandTag() {
    return commandTag;
  }

  /** Rows read so far. */
  public long rowCount() {
    return rowCount;
  }

  /** Milliseconds since the query started. */
  public long elapsedMillis() {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  /**
   * The next row's values (see {@link SqlValues} for their Java types), or null after the last.
   *
   * @throws QueryException when the query fails, is cancelled or times out
   */
  public Object[] next() {
    if (finished) {
      return null;
    }
    checkCancelled();
    Object[] row;
    try {
      row = rows.next();
    } catch (SQLException e) {
      checkCancelled();
      throw errors.apply(e);
    }
    checkCancelled();
    if (row == null) {
      finished = true;
      cancelTimeout();
      if (completion != null) {
        completion.completed(this, kept);
      }
      return null;
    }
    rowCount++;
    if (kept != null) {
      if (kept.size() < keepLimit) {
        kept.add(row);
      } else {
        kept = null;
        completion = null;
      }
    }
    return row;
  }

  /** Cancels the query; a blocked or later {@link #next()} throws. Safe from any thread. */
  public void cancel() {
    cancel(
        new QueryException(
            ErrorCode.SQL_CANCELLED,
            QueryException.SqlState.QUERY_CANCELED,
            "Query " + id() + " was cancelled on request"));
  }

  void cancel(QueryException reason) {
    if (finished || !cancellation.compareAndSet(null, reason)) {
      return;
    }
    LOG.info("Cancelling query {}: {}", id(), reason.getMessage());
    try {
      rows.interrupt();
    } catch (SQLException e) {
      LOG.warn("Could not interrupt query {}; it stops at its next row", id(), e);
    }
  }

  boolean cancelled() {
    return cancellation.get() != null;
  }

  void closeHook(Runnable hook) {
    this.closeHook = requireNonNull(hook, "hook is null");
  }

  void timeout(Future<?> future) {
    this.timeout = future;
  }

  void onCompletion(Completion newCompletion, int rowLimit) {
    this.completion = newCompletion;
    this.keepLimit = rowLimit;
    this.kept = new java.util.ArrayList<>();
  }

  private void checkCancelled() {
    QueryException reason = cancellation.get();
    if (reason != null) {
      finished = true;
      throw reason;
    }
  }

  private void cancelTimeout() {
    Future<?> future = timeout;
    if (future != null) {
      future.cancel(false);
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    cancelTimeout();
    try {
      rows.close();
    } catch (SQLException e) {
      throw errors.apply(e);
    } finally {
      closeHook.run();
    }
  }
}
