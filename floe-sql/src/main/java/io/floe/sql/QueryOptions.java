package io.floe.sql;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * How one query runs: on whose behalf, in which workgroup, how long it may take, and in which
 * session.
 *
 * @param user the authenticated user, for logs and the query history
 * @param workgroup cost controls that apply
 * @param timeout the query is cancelled after this long
 * @param session the session the query runs in, by which the endpoint that started it finds it
 *     among the engine's {@link RunningQueries}: one per PostgreSQL connection, one per HTTP API
 *     server (its requests share it), {@link #LOCAL_SESSION} for queries run directly
 */
public record QueryOptions(String user, Workgroup workgroup, Duration timeout, String session) {
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

  /**
   * The session of queries run directly through the engine: the command line, tests, benchmarks.
   */
  public static final String LOCAL_SESSION = "local";

  public QueryOptions {
    requireNonNull(user, "user is null");
    requireNonNull(workgroup, "workgroup is null");
    requireNonNull(timeout, "timeout is null");
    requireNonNull(session, "session is null");
  }

  /** A query run directly through the engine ({@link #LOCAL_SESSION}). */
  public QueryOptions(String user, Workgroup workgroup, Duration timeout) {
    this(user, workgroup, timeout, LOCAL_SESSION);
  }

  /** Options for a local user of the command line: primary workgroup, default timeout. */
  public static QueryOptions local() {
    return new QueryOptions("local", Workgroup.PRIMARY, DEFAULT_TIMEOUT);
  }

  public QueryOptions withTimeout(Duration newTimeout) {
    return new QueryOptions(user, workgroup, newTimeout, session);
  }
}
