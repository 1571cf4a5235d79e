package io.floe.core;

/** Who has to act on an error: the user, an external system's operator, or Floe's developers. */
public enum ErrorType {
  /** The input was wrong: configuration, SQL, arguments. The user fixes it. */
  USER,
  /** A system Floe depends on refused or failed: the source database, storage, network. */
  EXTERNAL,
  /** A bug or broken invariant in Floe itself. */
  INTERNAL
}
