package io.floe.core;

/**
 * Who has to act on an error, and whether running the same thing again may succeed. Exit codes of
 * the command line follow the type ({@link #exitCode}).
 */
public enum ErrorType {
  /**
   * The input was wrong: configuration, SQL, arguments, a table Floe cannot use. The user fixes it.
   */
  USER(1),
  /**
   * A system Floe depends on refused or failed in a way that running again does not fix by itself:
   * the source database's data, a commit whose outcome is unknown. Its operator acts.
   */
  EXTERNAL(2),
  /**
   * External, retriable: a system Floe depends on failed for now, or a concurrent operation got in
   * the way: storage or the source was unreachable, another commit won the race. Running the same
   * thing again may succeed; nothing already accepted was lost.
   */
  EXTERNAL_RETRIABLE(75),
  /** A bug or broken invariant in Floe itself: report it with the log. */
  INTERNAL(3);

  private final int exitCode;

  ErrorType(int exitCode) {
    this.exitCode = exitCode;
  }

  /**
   * The exit code of a command that fails with an error of this type: 1 user, 2 external, 75
   * external retriable (sysexits' {@code EX_TEMPFAIL}: a supervisor may restart at once), 3
   * internal.
   */
  public int exitCode() {
    return exitCode;
  }

  /** Whether running the same operation again may succeed without anyone acting. */
  public boolean retriable() {
    return this == EXTERNAL_RETRIABLE;
  }
}
