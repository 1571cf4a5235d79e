package io.floe.core;

import static java.util.Objects.requireNonNull;

/**
 * Every error a user can see carries one of these codes. Codes are stable: scripts and operators
 * may match on them.
 */
public enum ErrorCode {
  CONFIG_INVALID(1, ErrorType.USER),
  CONFIG_UNREADABLE(2, ErrorType.USER),
  SOURCE_UNREACHABLE(100, ErrorType.EXTERNAL),
  SOURCE_NOT_READY(101, ErrorType.USER),
  SOURCE_TABLE_INVALID(102, ErrorType.USER),
  SOURCE_FAILED(103, ErrorType.EXTERNAL),
  TYPE_UNSUPPORTED(110, ErrorType.USER),
  VALUE_NOT_REPRESENTABLE(111, ErrorType.USER),
  TABLE_WRITE_FAILED(200, ErrorType.EXTERNAL),
  TABLE_STATE_INVALID(201, ErrorType.INTERNAL),
  TABLE_NOT_FOUND(202, ErrorType.USER),
  CATALOG_FAILED(203, ErrorType.EXTERNAL),
  TABLE_VERSION_NOT_FOUND(204, ErrorType.USER),
  SQL_INVALID(300, ErrorType.USER),
  SQL_NOT_ALLOWED(301, ErrorType.USER),
  SQL_FAILED(302, ErrorType.INTERNAL),
  SQL_CANCELLED(303, ErrorType.USER),
  SQL_TIMEOUT(304, ErrorType.USER),
  SQL_LIMIT_EXCEEDED(305, ErrorType.USER),
  AUTHENTICATION_FAILED(400, ErrorType.USER),
  INTERNAL_ERROR(900, ErrorType.INTERNAL);

  private final int number;
  private final ErrorType type;

  ErrorCode(int number, ErrorType type) {
    this.number = number;
    this.type = requireNonNull(type, "type is null");
  }

  public int number() {
    return number;
  }

  public ErrorType type() {
    return type;
  }

  /** Short printable form, e.g. {@code FLOE-001}. */
  public String label() {
    return String.format("FLOE-%03d", number);
  }
}
