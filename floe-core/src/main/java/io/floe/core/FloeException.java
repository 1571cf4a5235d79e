package io.floe.core;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Optional;
import java.util.Set;

/**
 * A failure a user can see. Messages follow the form "Cannot &lt;verb&gt; &lt;object&gt;:
 * &lt;reason&gt;" and say what to do next.
 */
public class FloeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorCode code;

  public FloeException(ErrorCode code, String message) {
    super(requireNonNull(message, "message is null"));
    this.code = requireNonNull(code, "code is null");
  }

  public FloeException(ErrorCode code, String message, Throwable cause) {
    super(requireNonNull(message, "message is null"), cause);
    this.code = requireNonNull(code, "code is null");
  }

  public ErrorCode code() {
    return code;
  }

  public ErrorType type() {
    return code.type();
  }

  /**
   * The first {@link FloeException} among {@code failure} and its causes: what a user is told when
   * a library (Debezium, Iceberg, picocli) wraps Floe's own failure; empty when there is none.
   */
  public static Optional<FloeException> in(Throwable failure) {
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Throwable cause = failure; cause != null && seen.add(cause); cause = cause.getCause()) {
      if (cause instanceof FloeException floe) {
        return Optional.of(floe);
      }
    }
    return Optional.empty();
  }

  /** The message with its code, as printed to users: {@code FLOE-001 Cannot ...}. */
  public String describe() {
    return code.label() + " " + getMessage();
  }
}
