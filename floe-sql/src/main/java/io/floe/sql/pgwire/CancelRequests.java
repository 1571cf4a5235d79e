package io.floe.sql.pgwire;

import static java.util.Objects.requireNonNull;

import io.floe.sql.QueryExecution;
import io.floe.sql.RunningQueries;

/**
 * The cancel requests of one session and the queries they apply to. The session's open queries are
 * those the engine's {@link RunningQueries} has under the session's name, which the engine records
 * before a query is handed to the session and forgets when it is closed. A cancel request (from
 * another connection) or the server's shutdown arrives on another thread than the session's, hence
 * the lock.
 *
 * <p>As in PostgreSQL, a cancel request applies to what the session is doing between a client's
 * request and the ReadyForQuery answering it, including a query that has not started yet; a request
 * arriving while the session waits for the client is ignored.
 */
final class CancelRequests {
  private final RunningQueries running;
  private final String session;
  private final Object lock = new Object();
  private boolean busy;
  private boolean cancelRequested;
  private boolean ending;

  /**
   * @param running the engine's running queries
   * @param session the session's name, under which its queries run ({@link
   *     io.floe.sql.QueryOptions#session()})
   */
  CancelRequests(RunningQueries running, String session) {
    this.running = requireNonNull(running, "running is null");
    this.session = requireNonNull(session, "session is null");
  }

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

  /**
   * A query the session started; it is cancelled at once if a request came meanwhile. A request
   * that comes later finds it among the running queries.
   */
  void started(QueryExecution execution) {
    synchronized (lock) {
      if (cancelRequested || ending) {
        execution.cancel();
      }
    }
  }

  /** Runs a cancel request; returns false when it was ignored because the session was idle. */
  boolean cancel() {
    synchronized (lock) {
      if (!busy) {
        return false;
      }
      cancelRequested = true;
      running.cancelAll(session);
      return true;
    }
  }

  /** The session ends: cancels its queries and lets no other start. */
  void end() {
    synchronized (lock) {
      ending = true;
      running.cancelAll(session);
    }
  }

  /** Whether a query is open in a session that goes on. */
  boolean anyOpen() {
    synchronized (lock) {
      return !ending && !running.ofSession(session).isEmpty();
    }
  }
}
