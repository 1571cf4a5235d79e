package io.floe.sql;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * How one query runs: on whose behalf, in which workgroup, and how long it may take.
 *
 * @param user the authenticated user, for logs and the query history
 * @param workgroup cost controls that apply
 * @param timeout the query is cancelled after this long
 */
public record QueryOptions(String user, Workgroup workgroup, Duration timeout) {
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

  public QueryOptions {
    requireNonNull(user, "user is null");
    requireNonNull(workgroup, "workgroup is null");
    requireNonNull(timeout, "timeout is null");
  }

  /** Options for a local user of the command line: primary workgroup, default timeout. */
  public static QueryOptions local() {
    return new QueryOptions("local", Workgroup.PRIMARY, DEFAULT_TIMEOUT);
  }

  public QueryOptions withTimeout(Duration newTimeout) {
    return new QueryOptions(user, workgroup, newTimeout);
  }
}
