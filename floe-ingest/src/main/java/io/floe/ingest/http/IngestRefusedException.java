package io.floe.ingest.http;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;

/**
 * {@link HttpSource#submit} refuses a batch and accepts nothing of it: the stream's buffer is full
 * ({@link ErrorCode#STREAM_BUSY}: send it again after {@link #retryAfterSeconds}), or its pipeline
 * is not running ({@link ErrorCode#STREAM_UNAVAILABLE}).
 */
public final class IngestRefusedException extends FloeException {
  private static final long serialVersionUID = 1L;

  private final long retryAfterSeconds;

  IngestRefusedException(ErrorCode code, String message, long retryAfterSeconds) {
    super(code, message);
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** How long the client should wait before it sends the batch again, in seconds (at least 1). */
  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
