package io.floe.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The benchmark's source table, {@code public.items(id bigint primary key, name text, price
 * numeric(10,2), qty int, created timestamptz, active boolean)}.
 */
final class ItemsTable {
  static final String NAME = "items";

  /** The aggregate every benchmark checks on both sides: row count and sum of qty. */
  static final String CHECKSUM_SQL = "SELECT count(*), sum(qty) FROM ";

  private ItemsTable() {}

  static void create(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute(
          "CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(10,2), qty int,"
              + " created timestamptz, active boolean)");
    }
  }

  /** Inserts rows with ids {@code first..last} (inclusive) in one statement; returns the count. */
  static long fill(Connection connection, long first, long last) throws SQLException {
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO items SELECT g, 'item ' || g, round((random() * 1000)::numeric, 2),"
                + " (random() * 100)::int, now() - g * interval '1 second', g % 2 = 0"
                + " FROM generate_series(?::bigint, ?::bigint) g")) {
      insert.setLong(1, first);
      insert.setLong(2, last);
      return insert.executeUpdate();
    }
  }

  /** Creates the table with rows {@code 1..rows}, vacuumed and analyzed. */
  static void createFilled(Connection connection, long rows) throws SQLException {
    create(connection);
    fill(connection, 1, rows);
    analyze(connection);
  }

  static void analyze(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute("VACUUM ANALYZE items");
    }
  }

  /** Row count and sum of qty in PostgreSQL. */
  static Checksum checksum(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery(CHECKSUM_SQL + "items")) {
      result.next();
      return new Checksum(result.getLong(1), result.getLong(2));
    }
  }

  /** Row count and sum of qty of one side. */
  record Checksum(long rows, long qtySum) {
    @Override
    public String toString() {
      return "rows=" + rows + " sum(qty)=" + qtySum;
    }
  }
}
