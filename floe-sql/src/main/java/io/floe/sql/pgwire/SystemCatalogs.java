package io.floe.sql.pgwire;

import io.floe.core.ErrorCode;
import io.floe.sql.QueryException;
import io.floe.sql.SqlLexer;
import java.util.List;

/**
 * Refuses queries over PostgreSQL's system catalogs, which this endpoint does not provide. psql's
 * {@code \d} commands and drivers' metadata calls query {@code pg_catalog}; without this check they
 * would fail deep inside DuckDB with a message about some missing function.
 */
final class SystemCatalogs {
  private static final String SCHEMA = "pg_catalog";
  // Type lookups (pgJDBC names uuid and interval columns this way) are answered by DuckDB's own
  // PostgreSQL-compatible pg_type and pg_namespace.
  private static final java.util.Set<String> SERVED = java.util.Set.of("pg_type", "pg_namespace");

  private SystemCatalogs() {}

  static void refuse(String sql) {
    List<SqlLexer.Token> tokens = SqlLexer.tokens(sql);
    for (int i = 0; i + 1 < tokens.size(); i++) {
      SqlLexer.Token token = tokens.get(i);
      if (token.isWord(SCHEMA)
          && tokens.get(i + 1).text().equals(".")
          && !(i + 2 < tokens.size()
              && SERVED.contains(tokens.get(i + 2).text().toLowerCase(java.util.Locale.ROOT)))) {
        throw new QueryException(
            ErrorCode.SQL_NOT_ALLOWED,
            QueryException.SqlState.FEATURE_NOT_SUPPORTED,
            "Cannot run query: PostgreSQL's system catalogs (pg_catalog) are not available"
                + " through Floe's SQL endpoint (only their pg_type and pg_namespace), so psql's \\d"
                + " commands and drivers' metadata calls do not work; list tables and columns with"
                + " information_schema.tables and information_schema.columns",
            token.start() + 1,
            null);
      }
    }
  }
}
