package io.floe.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Reads a table's rows from PostgreSQL, from Iceberg's own reader and from {@code floe sql}, into
 * one canonical text form per value, so the three can be compared exactly. Keys are the primary key
 * columns joined; a duplicate key fails the read.
 */
final class CanonicalRows {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS");

  private CanonicalRows() {}

  /** Rows of a PostgreSQL table, keyed by the given key columns. */
  static Map<String, List<String>> fromPostgres(
      Connection connection, String table, List<String> keys) throws SQLException {
    Map<String, List<String>> rows = new TreeMap<>();
    try (Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery("SELECT * FROM " + table)) {
      ResultSetMetaData metadata = result.getMetaData();
      while (result.next()) {
        List<String> values = new ArrayList<>();
        for (int i = 1; i <= metadata.getColumnCount(); i++) {
          values.add(postgresValue(result, i, metadata.getColumnTypeName(i)));
        }
        put(rows, key(metadata, values, keys), values, table);
      }
    }
    return rows;
  }

  private static String key(ResultSetMetaData metadata, List<String> values, List<String> keys)
      throws SQLException {
    List<String> parts = new ArrayList<>();
    for (String key : keys) {
      for (int i = 1; i <= metadata.getColumnCount(); i++) {
        if (metadata.getColumnName(i).equals(key)) {
          parts.add(values.get(i - 1));
        }
      }
    }
    return String.join("|", parts);
  }

  private static String postgresValue(ResultSet result, int column, String typeName)
      throws SQLException {
    Object value = result.getObject(column);
    if (value == null) {
      return null;
    }
    switch (typeName) {
      case "int2":
      case "int4":
      case "int8":
        return Long.toString(((Number) value).longValue());
      case "numeric":
        return decimal((BigDecimal) value);
      case "float4":
        return Float.toString(((Number) value).floatValue());
      case "float8":
        return Double.toString(((Number) value).doubleValue());
      case "bytea":
        return HexFormat.of().formatHex(result.getBytes(column));
      case "date":
        return result.getObject(column, LocalDate.class).toString();
      case "time":
        return result.getObject(column, LocalTime.class).format(TIME);
      case "timestamp":
        return timestamp(result.getObject(column, LocalDateTime.class));
      case "timestamptz":
        return result.getObject(column, OffsetDateTime.class).toInstant().toString();
      case "_int4":
      case "_text":
        return json(Arrays.asList((Object[]) ((Array) value).getArray()));
      default:
        return value.toString();
    }
  }

  /** Rows of an Iceberg table read with Iceberg's generic reader. */
  static Map<String, List<String>> fromIceberg(Table table, List<String> keys) {
    table.refresh();
    if (table.currentSnapshot() == null) {
      return new TreeMap<>();
    }
    return fromIceberg(table, table.currentSnapshot().snapshotId(), keys);
  }

  /** As {@link #fromIceberg(Table, List)}, as of a snapshot (time travel), in its schema. */
  static Map<String, List<String>> fromIceberg(Table table, long snapshotId, List<String> keys) {
    Map<String, List<String>> rows = new TreeMap<>();
    List<Types.NestedField> fields =
        table.schemas().get(table.snapshot(snapshotId).schemaId()).columns();
    try (CloseableIterable<Record> records =
        IcebergGenerics.read(table).useSnapshot(snapshotId).build()) {
      for (Record record : records) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < fields.size(); i++) {
          values.add(icebergValue(fields.get(i).type(), record.get(i)));
        }
        List<String> parts = new ArrayList<>();
        for (String key : keys) {
          for (int i = 0; i < fields.size(); i++) {
            if (fields.get(i).name().equals(key)) {
              parts.add(values.get(i));
            }
          }
        }
        put(rows, String.join("|", parts), values, table.name());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }

  private static String icebergValue(Type type, Object value) {
    if (value == null) {
      return null;
    }
    switch (type.typeId()) {
      case INTEGER:
      case LONG:
        return Long.toString(((Number) value).longValue());
      case DECIMAL:
        return decimal((BigDecimal) value);
      case FLOAT:
        return Float.toString((Float) value);
      case DOUBLE:
        return Double.toString((Double) value);
      case BINARY:
        ByteBuffer buffer = ((ByteBuffer) value).duplicate();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return HexFormat.of().formatHex(bytes);
      case TIME:
        return ((LocalTime) value).format(TIME);
      case TIMESTAMP:
        if (value instanceof OffsetDateTime) {
          return ((OffsetDateTime) value).toInstant().toString();
        }
        return timestamp((LocalDateTime) value);
      case LIST:
        return json((List<?>) value);
      default:
        return value.toString();
    }
  }

  /**
   * Rows of an Iceberg table read through {@code floe sql} in CSV, with the given select list
   * (expressions that render each column in a comparable way) and column kinds for parsing.
   */
  static Map<String, List<String>> fromFloeSql(
      String warehouse, String table, Map<String, String> columnKinds, List<String> keys) {
    return fromFloeSql(List.of("-w", warehouse), table, columnKinds, keys);
  }

  /**
   * As {@link #fromFloeSql(String, String, Map, List)}, naming the warehouse with {@code options}.
   */
  static Map<String, List<String>> fromFloeSql(
      List<String> options, String table, Map<String, String> columnKinds, List<String> keys) {
    List<String> expressions = new ArrayList<>();
    for (Map.Entry<String, String> column : columnKinds.entrySet()) {
      String name = "\"" + column.getKey() + "\"";
      switch (column.getValue()) {
        case "bytes":
          expressions.add("lower(hex(" + name + "))");
          break;
        case "list":
          expressions.add("to_json(" + name + ")::varchar");
          break;
        default:
          expressions.add(name);
      }
    }
    String query = "SELECT " + String.join(", ", expressions) + " FROM " + table;
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    PrintStream original = System.out;
    int exitCode;
    synchronized (CanonicalRows.class) {
      System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
      try {
        List<String> arguments = new ArrayList<>(List.of("sql"));
        arguments.addAll(options);
        arguments.addAll(List.of("--format", "csv", query));
        exitCode = Main.execute(arguments.toArray(String[]::new));
      } finally {
        System.setOut(original);
      }
    }
    String output = buffer.toString(StandardCharsets.UTF_8);
    assertThat(exitCode).as("floe sql exit code; output: %s", output).isZero();
    List<List<String>> records = Csv.parse(output);
    List<String> header = records.get(0);
    List<String> kinds = new ArrayList<>(columnKinds.values());
    Map<String, List<String>> rows = new TreeMap<>();
    for (List<String> record : records.subList(1, records.size())) {
      List<String> values = new ArrayList<>();
      for (int i = 0; i < record.size(); i++) {
        values.add(sqlValue(kinds.get(i), record.get(i)));
      }
      List<String> parts = new ArrayList<>();
      List<String> names = new ArrayList<>(columnKinds.keySet());
      for (String key : keys) {
        parts.add(values.get(names.indexOf(key)));
      }
      put(rows, String.join("|", parts), values, table + " (floe sql, header " + header + ")");
    }
    return rows;
  }

  private static String sqlValue(String kind, String text) {
    if (text == null) {
      return null;
    }
    switch (kind) {
      case "decimal":
        return decimal(new BigDecimal(text));
      case "float":
        return Float.toString(Float.parseFloat(text));
      case "double":
        return Double.toString(Double.parseDouble(text));
      case "time":
        return LocalTime.parse(text).format(TIME);
      case "timestamp":
        return timestamp(LocalDateTime.parse(text.replace(' ', 'T')));
      case "timestamptz":
        String iso = text.replace(' ', 'T');
        if (iso.matches(".*[+-]\\d\\d$")) {
          iso = iso + ":00";
        }
        return OffsetDateTime.parse(iso).toInstant().toString();
      case "list":
        try {
          return JSON.writeValueAsString(JSON.readTree(text));
        } catch (JsonProcessingException e) {
          throw new FloeException(ErrorCode.INTERNAL_ERROR, "bad JSON from floe sql: " + text, e);
        }
      default:
        return text;
    }
  }

  private static String decimal(BigDecimal value) {
    BigDecimal stripped = value.stripTrailingZeros();
    return stripped.signum() == 0 ? "0" : stripped.toPlainString();
  }

  private static String timestamp(LocalDateTime value) {
    return value.toLocalDate() + "T" + value.toLocalTime().format(TIME);
  }

  private static String json(List<?> values) {
    try {
      return JSON.writeValueAsString(
          values.stream()
              .map(v -> v instanceof Number ? ((Number) v).longValue() : v)
              .collect(Collectors.toList()));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void put(
      Map<String, List<String>> rows, String key, List<String> values, String table) {
    List<String> previous = rows.put(key, values);
    assertThat(previous).as("duplicate key %s in %s", key, table).isNull();
  }

  /** The first differences between two row sets, for failure messages. */
  static String differences(Map<String, List<String>> expected, Map<String, List<String>> actual) {
    List<String> lines = new ArrayList<>();
    for (Map.Entry<String, List<String>> entry : expected.entrySet()) {
      List<String> other = actual.get(entry.getKey());
      if (other == null) {
        lines.add("missing key " + entry.getKey());
      } else if (!other.equals(entry.getValue())) {
        List<String> columns = new ArrayList<>();
        for (int i = 0; i < entry.getValue().size(); i++) {
          String a = entry.getValue().get(i);
          String b = i < other.size() ? other.get(i) : "<none>";
          if (a == null ? b != null : !a.equals(b)) {
            columns.add("#" + i + " expected " + abbreviate(a) + " but was " + abbreviate(b));
          }
        }
        lines.add("key " + entry.getKey() + ": " + columns);
      }
    }
    for (String key : actual.keySet()) {
      if (!expected.containsKey(key)) {
        lines.add("unexpected key " + key);
      }
    }
    return lines.size()
        + " differences; first: "
        + lines.stream().limit(10).collect(Collectors.joining("\n  "));
  }

  private static String abbreviate(String value) {
    return value == null || value.length() <= 80
        ? value
        : value.substring(0, 80) + "...(" + value.length() + ")";
  }

  /** Parses RFC 4180 CSV; empty unquoted fields are NULL. */
  static final class Csv {
    private Csv() {}

    static List<List<String>> parse(String text) {
      List<List<String>> records = new ArrayList<>();
      List<String> record = new ArrayList<>();
      StringBuilder field = new StringBuilder();
      boolean quoted = false;
      boolean wasQuoted = false;
      int i = 0;
      while (i < text.length()) {
        char c = text.charAt(i);
        if (quoted) {
          if (c == '"') {
            if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
              field.append('"');
              i += 2;
              continue;
            }
            quoted = false;
          } else {
            field.append(c);
          }
          i++;
          continue;
        }
        if (c == '"') {
          quoted = true;
          wasQuoted = true;
        } else if (c == ',') {
          record.add(wasQuoted || field.length() > 0 ? field.toString() : null);
          field.setLength(0);
          wasQuoted = false;
        } else if (c == '\n') {
          record.add(wasQuoted || field.length() > 0 ? field.toString() : null);
          records.add(record);
          record = new ArrayList<>();
          field.setLength(0);
          wasQuoted = false;
        } else if (c != '\r') {
          field.append(c);
        }
        i++;
      }
      if (field.length() > 0 || !record.isEmpty()) {
        record.add(wasQuoted || field.length() > 0 ? field.toString() : null);
        records.add(record);
      }
      return records;
    }
  }
}
