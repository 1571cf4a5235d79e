package io.floe.server.http;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import org.eclipse.jetty.http.HttpStatus;

/** A request the API answers with an error before running anything: the status and the error. */
final class RequestRejected extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final transient FloeException error;

  RequestRejected(int status, FloeException error) {
    super(requireNonNull(error, "error is null").getMessage(), error);
    this.status = status;
    this.error = error;
  }

  /**
   * Refuses a request whose method is not {@code allowed} at its path (405; the API adds the Allow
   * header), with an error of {@code code}; does nothing when the method is allowed.
   */
  static void requireMethod(String method, String allowed, ErrorCode code) {
    if (!method.equals(allowed)) {
      throw new RequestRejected(
          HttpStatus.METHOD_NOT_ALLOWED_405,
          new FloeException(code, "Cannot serve " + method + " here: use " + allowed));
    }
  }

  int status() {
    return status;
  }

  FloeException error() {
    return error;
  }
}
