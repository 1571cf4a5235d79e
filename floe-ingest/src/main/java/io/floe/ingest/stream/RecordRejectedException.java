package io.floe.ingest.stream;

import static java.util.Objects.requireNonNull;

/**
 * A stream record that cannot be written, for a permanent reason: the pipeline writes it to the
 * dead-letter table and goes on. The message says what is wrong with the record and, where it
 * helps, what to change.
 */
public final class RecordRejectedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final RejectReason reason;

  public RecordRejectedException(RejectReason reason, String message) {
    super(requireNonNull(message, "message is null"));
    this.reason = requireNonNull(reason, "reason is null");
  }

  public RecordRejectedException(RejectReason reason, String message, Throwable cause) {
    super(requireNonNull(message, "message is null"), cause);
    this.reason = requireNonNull(reason, "reason is null");
  }

  public RejectReason reason() {
    return reason;
  }
}
