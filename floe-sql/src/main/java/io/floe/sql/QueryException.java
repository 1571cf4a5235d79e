package io.floe.sql;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;

/**
 * A query that could not run or failed while running. {@link #position()} is the 1-based character
 * position in the query text the error points at, or 0 when the error has no position; {@link
 * #sqlState()} is the PostgreSQL SQLSTATE that clients of the wire protocol receive.
 */
public final class QueryException extends FloeException {
  private static final long serialVersionUID = 1L;

  private final int position;
  private final String sqlState;

  public QueryException(ErrorCode code, String sqlState, String message) {
    this(code, sqlState, message, 0, null);
  }

  public QueryException(
      ErrorCode code, String sqlState, String message, int position, Throwable cause) {
    super(code, message, cause);
    this.sqlState = sqlState;
    this.position = position;
  }

  public int position() {
    return position;
  }

  public String sqlState() {
    return sqlState;
  }

  /** The SQLSTATE for any Floe error: the query's own, or one derived from the error code. */
  public static String sqlState(FloeException e) {
    if (e instanceof QueryException) {
      return ((QueryException) e).sqlState;
    }
    switch (e.code()) {
      case TABLE_NOT_FOUND:
        return SqlState.UNDEFINED_TABLE;
      case SQL_INVALID:
        return SqlState.SYNTAX_ERROR;
      case SQL_NOT_ALLOWED:
        return SqlState.INSUFFICIENT_PRIVILEGE;
      case SQL_CANCELLED:
      case SQL_TIMEOUT:
        return SqlState.QUERY_CANCELED;
      case SQL_LIMIT_EXCEEDED:
        return SqlState.PROGRAM_LIMIT_EXCEEDED;
      case AUTHENTICATION_FAILED:
        return SqlState.INVALID_PASSWORD;
      default:
        return SqlState.INTERNAL_ERROR;
    }
  }

  /** SQLSTATE codes Floe reports, as PostgreSQL defines them. */
  public static final class SqlState {
    public static final String SYNTAX_ERROR = "42601";
    public static final String UNDEFINED_TABLE = "42P01";
    public static final String UNDEFINED_COLUMN = "42703";
    public static final String UNDEFINED_FUNCTION = "42883";
    public static final String DATATYPE_MISMATCH = "42804";
    public static final String INSUFFICIENT_PRIVILEGE = "42501";
    public static final String FEATURE_NOT_SUPPORTED = "0A000";
    public static final String QUERY_CANCELED = "57014";
    public static final String PROGRAM_LIMIT_EXCEEDED = "54000";
    public static final String INVALID_PASSWORD = "28P01";
    public static final String DATA_EXCEPTION = "22000";
    public static final String INTERNAL_ERROR = "XX000";

    private SqlState() {}
  }
}
