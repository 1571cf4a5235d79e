package io.floe.core;

import static java.util.Objects.requireNonNull;

/**
 * Who has to act on an error, and whether running the same thing again may succeed. Exit codes of
 * the command line follow the type ({@link #exitCode}).
 */
public enum ErrorType {
  /** The input was wrong: configuration, SQL, arguments, a table Floe cannot use. */
  USER(1, "The user: the configuration, the query, the arguments or the table must change."),
  /**
   * A system Floe depends on refused or failed in a way that running again does not fix by itself:
   * the source database's data, a commit whose outcome is unknown.
   */
  EXTERNAL(
      2,
      "The operator of a system Floe depends on (the source database, storage, the catalog):"
          + " running again does not help until it is fixed."),
  /**
   * External, retriable: a system Floe depends on failed for now, or a concurrent operation got in
   * the way (storage or the source was unreachable, another commit won the race). Nothing already
   * accepted was lost.
   */
  EXTERNAL_RETRIABLE(
      75,
      "No one, usually: a system Floe depends on failed for now, or a concurrent operation got in"
          + " the way. Running the same thing again may succeed, and nothing already accepted was"
          + " lost; 75 is sysexits' EX_TEMPFAIL, so a supervisor may restart at once."),
  /** A bug or broken invariant in Floe itself. */
  INTERNAL(3, "Floe's developers: report it with the log, which has the stack trace.");

  private final int exitCode;
  private final String description;

  ErrorType(int exitCode, String description) {
    this.exitCode = exitCode;
    this.description = requireNonNull(description, "description is null");
  }

  /**
   * The exit code of a command that fails with an error of this type: 1 user, 2 external, 75
   * external retriable (sysexits' {@code EX_TEMPFAIL}: a supervisor may restart at once), 3
   * internal.
   */
  public int exitCode() {
    return exitCode;
  }

  /** Who acts, for the reference documentation. */
  public String description() {
    return description;
  }

  /** Whether running the same operation again may succeed without anyone acting. */
  public boolean retriable() {
    return this == EXTERNAL_RETRIABLE;
  }
}
