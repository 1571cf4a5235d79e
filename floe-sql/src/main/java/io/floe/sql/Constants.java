package io.floe.sql;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Evaluates constant expressions written in queries (time travel values, procedure arguments) in a
 * DuckDB that can read no file and whose configuration is locked, with the time zone UTC.
 */
final class Constants {
  private Constants() {}

  /**
   * The value of {@code expression} (see {@link SqlValues} for its Java type), or null for SQL
   * NULL.
   */
  static Object evaluate(String expression) throws SQLException {
    try (Connection sandbox = FreshDuckDb.open(new java.util.Properties());
        Statement statement = sandbox.createStatement()) {
      statement.execute("SET TimeZone = 'UTC'");
      statement.execute("SET enable_external_access = false");
      statement.execute("SET lock_configuration = true");
      try (ResultSet result = statement.executeQuery("SELECT " + expression)) {
        result.next();
        return SqlValues.normalize(result.getObject(1));
      }
    }
  }
}
