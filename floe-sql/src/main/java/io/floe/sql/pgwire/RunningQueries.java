package io.floe.sql.pgwire;

import io.floe.sql.QueryExecution;
import java.util.HashSet;
import java.util.Set;

/**
 * The queries a session has open, and the cancel requests that apply to them. A cancel request
 * (from another connection) or the server's shutdown arrives on another thread than the session's,
 * hence the lock.
 *
 * <p>As in PostgreSQL, a cancel request applies to what the session is doing between a client's
 * request and the ReadyForQuery answering it, including a query that has not started yet; a request
 * arriving while the session waits for the client is ignored.
 */
final class RunningQueries {
  private final Object lock = new Object();
  private final Set<QueryExecution> open = new HashSet<>();
  private boolean busy;
  private boolean cancelRequested;
  private boolean ending;

  /** The session received a message and works on it. */
  void busy() {
    synchronized (lock) {
      busy = true;
    }
  }

  /** The session answered with ReadyForQuery: earlier cancel requests no longer apply. */
  void idle() {
    synchronized (lock) {
      busy = false;
      cancelRequested = false;
    }
  }

  /** Throws when a cancel request applies, so that no further query starts. */
  void checkNotCancelled() {
    synchronized (lock) {
      if (cancelRequested || ending) {
        throw PgErrors.cancelled();
      }
    }
  }

  /** A query the session started; it is cancelled at once if a request came meanwhile. */
  void opened(QueryExecution execution) {
    synchronized (lock) {
      open.add(execution);
      if (cancelRequested || ending) {
        execution.cancel();
      }
    }
  }

  void closed(QueryExecution execution) {
    synchronized (lock) {
      open.remove(execution);
    }
  }

  /** Runs a cancel request; returns false when it was ignored because the session was idle. */
  boolean cancel() {
    synchronized (lock) {
      if (!busy) {
        return false;
      }
      cancelRequested = true;
      open.forEach(QueryExecution::cancel);
      return true;
    }
  }

  /** The session ends: cancels its queries and lets no other start. */
  void end() {
    synchronized (lock) {
      ending = true;
      open.forEach(QueryExecution::cancel);
    }
  }

  /** Whether a query is open in a session that goes on. */
  boolean anyOpen() {
    synchronized (lock) {
      return !ending && !open.isEmpty();
    }
  }
}
