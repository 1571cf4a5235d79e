package io.floe.sql.pgwire;

import io.floe.core.ErrorCode;
import io.floe.sql.QueryException;

/** The errors of the wire protocol layer, each with its PostgreSQL SQLSTATE. */
final class PgErrors {
  static final String PROTOCOL_VIOLATION = "08P01";
  static final String INVALID_AUTHORIZATION = "28000";
  static final String INVALID_TEXT_REPRESENTATION = "22P02";
  static final String INVALID_BINARY_REPRESENTATION = "22P03";
  static final String UNDEFINED_PARAMETER = "42P02";
  static final String UNDEFINED_OBJECT = "42704";
  static final String UNDEFINED_STATEMENT = "26000";
  static final String UNDEFINED_PORTAL = "34000";
  static final String DUPLICATE_STATEMENT = "42P05";
  static final String DUPLICATE_PORTAL = "42P03";

  private PgErrors() {}

  /** The client broke the protocol; the message says what it sent. */
  static QueryException protocol(String message) {
    return new QueryException(ErrorCode.SQL_INVALID, PROTOCOL_VIOLATION, message);
  }

  /** The client asked for something this endpoint does not do. */
  static QueryException unsupported(String message) {
    return new QueryException(
        ErrorCode.SQL_NOT_ALLOWED, QueryException.SqlState.FEATURE_NOT_SUPPORTED, message);
  }

  /** A request named something that is not there, or is already there. */
  static QueryException invalid(String sqlState, String message) {
    return new QueryException(ErrorCode.SQL_INVALID, sqlState, message);
  }

  static QueryException cancelled() {
    return new QueryException(
        ErrorCode.SQL_CANCELLED,
        QueryException.SqlState.QUERY_CANCELED,
        "Cannot finish query: it was cancelled on request");
  }
}
