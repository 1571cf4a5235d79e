package io.floe.server.http;

import static java.util.Objects.requireNonNull;

import io.floe.core.FloeException;

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

  int status() {
    return status;
  }

  FloeException error() {
    return error;
  }
}
