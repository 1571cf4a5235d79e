package io.floe.sql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.sql.QueryException.SqlState;
import java.io.IOException;
import java.sql.SQLException;
import java.util.function.Supplier;

/**
 * Turns DuckDB's errors (reported as JSON, {@code errors_as_json}) into Floe errors that point at
 * the user's query: positions are mapped back through the rewrite, placeholder view names are
 * replaced by the references the user wrote, and each error gets a PostgreSQL SQLSTATE.
 */
final class ErrorTranslator {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String sql;
  private final QueryRewriter.Rewritten rewritten;
  private final int prefix;
  private final Supplier<String> tables;

  /**
   * @param sql the query as the user sent it
   * @param rewritten the query DuckDB ran, after {@code prefix} characters of its own (EXPLAIN)
   * @param tables lists the tables a query can name, for unknown-table errors
   */
  ErrorTranslator(
      String sql, QueryRewriter.Rewritten rewritten, int prefix, Supplier<String> tables) {
    this.sql = sql;
    this.rewritten = rewritten;
    this.prefix = prefix;
    this.tables = tables;
  }

  ErrorTranslator withPrefix(int newPrefix) {
    return new ErrorTranslator(sql, rewritten, newPrefix, tables);
  }

  /** The error's message without DuckDB's JSON wrapping. */
  static String plainMessage(SQLException e) {
    JsonNode json = json(e);
    return json == null ? String.valueOf(e.getMessage()) : json.path("exception_message").asText();
  }

  QueryException syntax(String message, int position) {
    return new QueryException(
        ErrorCode.SQL_INVALID,
        SqlState.SYNTAX_ERROR,
        located("Cannot run query: " + named(message), position),
        original(position),
        null);
  }

  QueryException notAllowed(String message, int position) {
    return new QueryException(
        ErrorCode.SQL_NOT_ALLOWED,
        SqlState.INSUFFICIENT_PRIVILEGE,
        located("Cannot run query: " + named(message), position),
        original(position),
        null);
  }

  FloeException translate(SQLException e) {
    JsonNode json = json(e);
    if (json == null) {
      return new QueryException(
          ErrorCode.SQL_FAILED,
          SqlState.INTERNAL_ERROR,
          "Cannot run query: " + named(String.valueOf(e.getMessage())),
          0,
          e);
    }
    String type = json.path("exception_type").asText();
    String subtype = json.path("error_subtype").asText();
    String message = named(json.path("exception_message").asText());
    int position = json.has("position") ? json.path("position").asInt(-1) : -1;
    ErrorCode code;
    String state;
    switch (type) {
      case "Parser":
        code = ErrorCode.SQL_INVALID;
        state = SqlState.SYNTAX_ERROR;
        break;
      case "Binder":
      case "Catalog":
        code = ErrorCode.SQL_INVALID;
        if (subtype.equals("COLUMN_NOT_FOUND")) {
          state = SqlState.UNDEFINED_COLUMN;
        } else if (message.contains("Table with name") || message.contains("Referenced table")) {
          code = ErrorCode.TABLE_NOT_FOUND;
          state = SqlState.UNDEFINED_TABLE;
          message += "\nName tables as namespace.table; available tables: " + tables.get();
        } else if (message.contains("function") || message.contains("Function")) {
          state = SqlState.UNDEFINED_FUNCTION;
        } else if (message.contains("type")) {
          state = SqlState.DATATYPE_MISMATCH;
        } else {
          state = SqlState.SYNTAX_ERROR;
        }
        break;
      case "Permission":
        code = ErrorCode.SQL_NOT_ALLOWED;
        state = SqlState.INSUFFICIENT_PRIVILEGE;
        message += "\nOnly Floe's tables can be read through this service.";
        break;
      case "Conversion":
      case "Invalid Input":
      case "Out of Range":
      case "Invalid":
      case "Mismatch Type":
        code = ErrorCode.SQL_INVALID;
        state = SqlState.DATA_EXCEPTION;
        break;
      case "Not implemented":
        code = ErrorCode.SQL_INVALID;
        state = SqlState.FEATURE_NOT_SUPPORTED;
        break;
      case "INTERRUPT":
      case "Interrupt":
        code = ErrorCode.SQL_CANCELLED;
        state = SqlState.QUERY_CANCELED;
        break;
      default:
        code = ErrorCode.SQL_FAILED;
        state = SqlState.INTERNAL_ERROR;
    }
    return new QueryException(
        code, state, located("Cannot run query: " + message, position), original(position), e);
  }

  /** The 1-based position in the user's text, or 0. */
  private int original(int position) {
    if (position < 0) {
      return 0;
    }
    return rewritten.positions().original(Math.max(0, position - prefix)) + 1;
  }

  private String located(String message, int position) {
    int at = original(position);
    if (at <= 0) {
      return message;
    }
    int line = 1;
    int column = 1;
    for (int i = 0; i < at - 1 && i < sql.length(); i++) {
      if (sql.charAt(i) == '\n') {
        line++;
        column = 1;
      } else {
        column++;
      }
    }
    return message + " (at line " + line + ", column " + column + ")";
  }

  private String named(String message) {
    String named = message;
    for (TableReference reference : rewritten.references()) {
      named = named.replace(reference.placeholder(), reference.written());
    }
    return named;
  }

  private static JsonNode json(SQLException e) {
    String message = e.getMessage();
    if (message == null) {
      return null;
    }
    int start = message.indexOf('{');
    int end = message.lastIndexOf('}');
    if (start < 0 || end < start) {
      return null;
    }
    try {
      JsonNode node = JSON.readTree(message.substring(start, end + 1));
      return node.has("exception_message") ? node : null;
    } catch (IOException notJson) {
      return null;
    }
  }
}
