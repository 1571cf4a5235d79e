package io.floe.sql;

import static java.util.Objects.requireNonNull;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Rows of a DuckDB statement, which runs on the first read so that it can be cancelled and timed
 * out from the start; DuckDB streams results, so rows are not held in memory. Closing releases the
 * DuckDB connection, then what the query held besides ({@code release}: its cache leases and spill
 * directory).
 */
final class LiveRows implements QueryExecution.Rows {
  private final Connection connection;
  private final PreparedStatement statement;
  private final int columns;
  private final Runnable release;
  private ResultSet result;

  LiveRows(Connection connection, PreparedStatement statement, int columns, Runnable release) {
    this.connection = requireNonNull(connection, "connection is null");
    this.statement = requireNonNull(statement, "statement is null");
    this.columns = columns;
    this.release = requireNonNull(release, "release is null");
  }

  @Override
  public Object[] next() throws SQLException {
    if (result == null) {
      result = statement.executeQuery();
    }
    if (!result.next()) {
      return null;
    }
    Object[] values = new Object[columns];
    for (int i = 0; i < columns; i++) {
      values[i] = SqlValues.normalize(result.getObject(i + 1));
    }
    return values;
  }

  @Override
  public void interrupt() throws SQLException {
    statement.cancel();
  }

  @Override
  public void close() throws SQLException {
    try {
      connection.close();
    } finally {
      release.run();
    }
  }
}
