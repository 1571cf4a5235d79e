package io.floe.ingest.transform;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.duckdb.DuckDBAppender;
import org.duckdb.DuckDBConnection;

/**
 * An in-process DuckDB that evaluates SQL over batches of rows: shared by {@link RecordTransform}
 * and {@link RowPredicates}. Locked down as a sandbox before any user SQL runs: no file or network
 * access, one thread, a small memory limit, and settings that cannot be changed back.
 *
 * <p>Not thread-safe: one pipeline thread uses it.
 */
final class DuckBatch implements AutoCloseable {
  static final String TABLE = "floe_batch";
  static final String ROW = "floe_row";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final DuckDBConnection connection;

  private DuckBatch(DuckDBConnection connection) {
    this.connection = connection;
  }

  static DuckBatch open() {
    try {
      Connection connection = DriverManager.getConnection("jdbc:duckdb:");
      try (Statement statement = connection.createStatement()) {
        statement.execute("SET threads = 1");
        statement.execute("SET memory_limit = '256MB'");
        statement.execute("SET enable_external_access = false");
        statement.execute("SET autoinstall_known_extensions = false");
        statement.execute("SET autoload_known_extensions = false");
        statement.execute("SET lock_configuration = true");
      }
      return new DuckBatch(connection.unwrap(DuckDBConnection.class));
    } catch (SQLException e) {
      throw new FloeException(
          ErrorCode.INTERNAL_ERROR,
          "Cannot start the SQL engine (DuckDB) of transforms and quality rules: " + e.getMessage(),
          e);
    }
  }

  /**
   * Checks that {@code sql}, a select-list item or predicate, parses, in {@code SELECT <sql>} or
   * {@code SELECT * WHERE <sql>} form; returns DuckDB's message when it does not.
   */
  String syntaxError(String query) {
    try (PreparedStatement statement =
        connection.prepareStatement("SELECT json_serialize_sql(?::VARCHAR)")) {
      statement.setString(1, query);
      try (ResultSet rows = statement.executeQuery()) {
        rows.next();
        JsonNode parsed = JSON.readTree(rows.getString(1));
        if (parsed.path("error").asBoolean(false)) {
          return parsed.path("error_message").asText("invalid SQL");
        }
        JsonNode statements = parsed.path("statements");
        if (statements.size() != 1) {
          return "it must be one expression, not " + statements.size() + " statements";
        }
        return null;
      }
    } catch (SQLException | JsonProcessingException e) {
      return e.getMessage();
    }
  }

  /**
   * Replaces the batch table with one of {@code columns} (name, DuckDB type), after a {@value #ROW}
   * BIGINT column, and appends {@code rows} (values in the columns' order, each row's number
   * first).
   */
  void load(List<String> names, List<String> types, List<Object[]> rows) throws SQLException {
    StringBuilder create =
        new StringBuilder("CREATE OR REPLACE TABLE " + TABLE + " (" + ROW + " BIGINT");
    for (int i = 0; i < names.size(); i++) {
      create.append(", ").append(quote(names.get(i))).append(' ').append(types.get(i));
    }
    create.append(')');
    try (Statement statement = connection.createStatement()) {
      statement.execute(create.toString());
    }
    try (DuckDBAppender appender =
        connection.createAppender(DuckDBConnection.DEFAULT_SCHEMA, TABLE)) {
      for (Object[] row : rows) {
        appender.beginRow();
        appender.append((Long) row[0]);
        for (int i = 1; i < row.length; i++) {
          append(appender, row[i]);
        }
        appender.endRow();
      }
    }
  }

  Statement statement() throws SQLException {
    return connection.createStatement();
  }

  private static void append(DuckDBAppender appender, Object value) throws SQLException {
    if (value == null) {
      appender.appendNull();
    } else if (value instanceof Boolean v) {
      appender.append(v);
    } else if (value instanceof Integer v) {
      appender.append(v);
    } else if (value instanceof Long v) {
      appender.append(v);
    } else if (value instanceof Short v) {
      appender.append(v.intValue());
    } else if (value instanceof Byte v) {
      appender.append(v.intValue());
    } else if (value instanceof BigInteger v) {
      appender.append(v);
    } else if (value instanceof Float v) {
      appender.append(v);
    } else if (value instanceof Double v) {
      appender.append(v);
    } else if (value instanceof BigDecimal v) {
      appender.append(v);
    } else if (value instanceof String v) {
      appender.append(v);
    } else if (value instanceof byte[] v) {
      appender.append(v);
    } else if (value instanceof ByteBuffer v) {
      ByteBuffer copy = v.duplicate();
      byte[] bytes = new byte[copy.remaining()];
      copy.get(bytes);
      appender.append(bytes);
    } else if (value instanceof LocalDate v) {
      appender.append(v);
    } else if (value instanceof LocalTime v) {
      appender.append(v);
    } else if (value instanceof LocalDateTime v) {
      appender.append(v);
    } else if (value instanceof OffsetDateTime v) {
      appender.append(v);
    } else if (value instanceof Instant v) {
      appender.append(v.atOffset(ZoneOffset.UTC));
    } else if (value instanceof UUID v) {
      appender.append(v);
    } else {
      appender.append(json(value));
    }
  }

  /** The DuckDB type of a Java value as decoders and Iceberg's generic records hold them. */
  static String typeOf(Object value) {
    if (value instanceof Boolean) {
      return "BOOLEAN";
    }
    if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
      return "INTEGER";
    }
    if (value instanceof Long) {
      return "BIGINT";
    }
    if (value instanceof BigInteger) {
      return "HUGEINT";
    }
    if (value instanceof Float) {
      return "FLOAT";
    }
    if (value instanceof Double) {
      return "DOUBLE";
    }
    if (value instanceof BigDecimal decimal) {
      int scale = Math.max(0, Math.min(decimal.scale(), 38));
      return decimal.precision() - decimal.scale() + scale > 38 || decimal.scale() < 0
          ? "DOUBLE"
          : "DECIMAL(38," + scale + ")";
    }
    if (value instanceof String) {
      return "VARCHAR";
    }
    if (value instanceof byte[] || value instanceof ByteBuffer) {
      return "BLOB";
    }
    if (value instanceof LocalDate) {
      return "DATE";
    }
    if (value instanceof LocalTime) {
      return "TIME";
    }
    if (value instanceof LocalDateTime) {
      return "TIMESTAMP";
    }
    if (value instanceof OffsetDateTime || value instanceof Instant) {
      return "TIMESTAMPTZ";
    }
    if (value instanceof UUID) {
      return "UUID";
    }
    return "JSON";
  }

  /** A value of a DOUBLE column that came as a BigDecimal too large for DECIMAL(38). */
  static Object forType(Object value, String type) {
    if (type.equals("DOUBLE") && value instanceof BigDecimal decimal) {
      return decimal.doubleValue();
    }
    if (type.startsWith("DECIMAL") && value instanceof BigDecimal decimal) {
      return decimal.setScale(Integer.parseInt(type.substring(11, type.length() - 1)));
    }
    return value;
  }

  private static String json(Object value) throws SQLException {
    try {
      return value instanceof JsonNode node ? node.toString() : JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new SQLException("Cannot write a nested value as JSON: " + e.getMessage(), e);
    }
  }

  /** A Java value, as {@link io.floe.ingest.stream.RecordFields} takes it, of a result column. */
  static Object value(ResultSet rows, int column, String type) throws SQLException {
    Object value = rows.getObject(column);
    if (value == null) {
      return null;
    }
    String base = type.toUpperCase(java.util.Locale.ROOT);
    if (base.startsWith("DECIMAL")) {
      return rows.getBigDecimal(column);
    }
    switch (base) {
      case "BOOLEAN":
        return rows.getBoolean(column);
      case "TINYINT":
      case "SMALLINT":
      case "INTEGER":
      case "UTINYINT":
      case "USMALLINT":
        return rows.getInt(column);
      case "BIGINT":
      case "UINTEGER":
        return rows.getLong(column);
      case "HUGEINT":
      case "UBIGINT":
      case "UHUGEINT":
        BigInteger big = new BigInteger(rows.getString(column));
        return big.bitLength() < 64 ? (Object) big.longValue() : big;
      case "FLOAT":
        return rows.getFloat(column);
      case "DOUBLE":
        return rows.getDouble(column);
      case "VARCHAR":
      case "JSON":
        return rows.getString(column);
      case "DATE":
        return rows.getObject(column, LocalDate.class);
      case "TIME":
        return rows.getObject(column, LocalTime.class);
      case "TIMESTAMP":
      case "TIMESTAMP_S":
      case "TIMESTAMP_MS":
      case "TIMESTAMP_NS":
        return rows.getObject(column, LocalDateTime.class);
      case "TIMESTAMP WITH TIME ZONE":
        return rows.getObject(column, OffsetDateTime.class).withOffsetSameInstant(ZoneOffset.UTC);
      case "UUID":
        return rows.getObject(column, UUID.class);
      case "BLOB":
        return rows.getBytes(column);
      default:
        // Structs, lists and maps: Java maps and lists, which become JSON text in the table.
        return nestedValue(value);
    }
  }

  private static Object nestedValue(Object value) throws SQLException {
    if (value instanceof org.duckdb.DuckDBStruct struct) {
      Map<String, Object> fields = new java.util.LinkedHashMap<>();
      for (Map.Entry<String, Object> field : struct.getMap().entrySet()) {
        fields.put(field.getKey(), nestedValue(field.getValue()));
      }
      return fields;
    }
    if (value instanceof java.sql.Array array) {
      List<Object> elements = new ArrayList<>();
      for (Object element : (Object[]) array.getArray()) {
        elements.add(nestedValue(element));
      }
      return elements;
    }
    if (value instanceof Map<?, ?> map) {
      Map<String, Object> entries = new java.util.LinkedHashMap<>();
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        entries.put(String.valueOf(entry.getKey()), nestedValue(entry.getValue()));
      }
      return entries;
    }
    if (value instanceof java.sql.Timestamp timestamp) {
      return timestamp.toLocalDateTime();
    }
    if (value instanceof java.sql.Date date) {
      return date.toLocalDate();
    }
    return value;
  }

  static String quote(String name) {
    return '"' + name.replace("\"", "\"\"") + '"';
  }

  /** DuckDB's message, without its exception class prefix. */
  static String message(SQLException e) {
    String message = requireNonNull(e.getMessage(), "message");
    int newline = message.indexOf("\n\nLINE");
    return (newline > 0 ? message.substring(0, newline) : message).strip();
  }

  @Override
  public void close() {
    try {
      connection.close();
    } catch (SQLException e) {
      throw new IllegalStateException("Cannot close DuckDB: " + e.getMessage(), e);
    }
  }
}
