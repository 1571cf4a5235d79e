package io.floe.sql;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.sql.Blob;
import java.sql.SQLException;
import java.sql.Struct;
import java.sql.Timestamp;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Result values as plain Java objects, detached from DuckDB's result set, and their text form.
 *
 * <p>Values are {@code null}, {@link Boolean}, {@link Byte}, {@link Short}, {@link Integer}, {@link
 * Long}, {@link java.math.BigInteger}, {@link Float}, {@link Double}, {@link BigDecimal}, {@link
 * String}, {@link java.time.LocalDate}, {@link LocalTime}, {@link LocalDateTime} (TIMESTAMP),
 * {@link OffsetDateTime} in UTC (TIMESTAMP WITH TIME ZONE), {@link java.util.UUID}, {@code byte[]}
 * (BLOB), {@link List} (LIST and ARRAY), {@link SqlStruct} (STRUCT) and {@link Map} (MAP). INTERVAL
 * and other types arrive as DuckDB's text.
 */
public final class SqlValues {
  private static final DateTimeFormatter TIME =
      new DateTimeFormatterBuilder()
          .appendPattern("HH:mm:ss")
          .optionalStart()
          .appendFraction(ChronoField.MICRO_OF_SECOND, 0, 6, true)
          .toFormatter();

  private SqlValues() {}

  /** A struct value: field names in declaration order. */
  public record SqlStruct(Map<String, Object> fields) {}

  /** Converts a value read from DuckDB's JDBC driver. */
  public static Object normalize(Object value) throws SQLException {
    if (value == null
        || value instanceof String
        || value instanceof Number
        || value instanceof Boolean
        || value instanceof java.time.temporal.Temporal
        || value instanceof java.util.UUID) {
      if (value instanceof OffsetDateTime) {
        return ((OffsetDateTime) value).withOffsetSameInstant(ZoneOffset.UTC);
      }
      return value;
    }
    if (value instanceof Timestamp) {
      return ((Timestamp) value).toLocalDateTime();
    }
    if (value instanceof java.sql.Date) {
      return ((java.sql.Date) value).toLocalDate();
    }
    if (value instanceof java.sql.Time) {
      return ((java.sql.Time) value).toLocalTime();
    }
    if (value instanceof Blob) {
      Blob blob = (Blob) value;
      return blob.getBytes(1, (int) blob.length());
    }
    if (value instanceof ByteBuffer) {
      ByteBuffer buffer = ((ByteBuffer) value).duplicate();
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return bytes;
    }
    if (value instanceof byte[]) {
      return value;
    }
    if (value instanceof java.sql.Array) {
      Object[] elements = (Object[]) ((java.sql.Array) value).getArray();
      List<Object> list = new ArrayList<>(elements.length);
      for (Object element : elements) {
        list.add(normalize(element));
      }
      return list;
    }
    if (value instanceof Struct) {
      Struct struct = (Struct) value;
      Map<String, Object> fields = new LinkedHashMap<>();
      if (value instanceof org.duckdb.DuckDBStruct) {
        for (Map.Entry<String, Object> entry :
            ((org.duckdb.DuckDBStruct) value).getMap().entrySet()) {
          fields.put(entry.getKey(), normalize(entry.getValue()));
        }
      } else {
        Object[] attributes = struct.getAttributes();
        for (int i = 0; i < attributes.length; i++) {
          fields.put(String.valueOf(i + 1), normalize(attributes[i]));
        }
      }
      return new SqlStruct(fields);
    }
    if (value instanceof Map) {
      Map<Object, Object> map = new LinkedHashMap<>();
      for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
        map.put(normalize(entry.getKey()), normalize(entry.getValue()));
      }
      return map;
    }
    return value.toString();
  }

  /**
   * Writes the value as JSON: booleans, integers and decimals as exact JSON values, finite floats
   * as numbers, everything else (NaN and infinities included) as its {@link #text}.
   */
  public static void writeJson(JsonGenerator json, Object value) throws IOException {
    if (value == null) {
      json.writeNull();
    } else if (value instanceof Boolean) {
      json.writeBoolean((Boolean) value);
    } else if (value instanceof Long
        || value instanceof Integer
        || value instanceof Short
        || value instanceof Byte) {
      json.writeNumber(((Number) value).longValue());
    } else if (value instanceof BigInteger) {
      json.writeNumber((BigInteger) value);
    } else if (value instanceof BigDecimal) {
      json.writeNumber((BigDecimal) value);
    } else if ((value instanceof Double || value instanceof Float)
        && Double.isFinite(((Number) value).doubleValue())) {
      json.writeNumber(((Number) value).doubleValue());
    } else {
      json.writeString(text(value));
    }
  }

  /** A CSV field (RFC 4180): quoted when empty or holding a comma, quote or line break. */
  public static String csvField(String value) {
    if (value.isEmpty()
        || value.indexOf(',') >= 0
        || value.indexOf('"') >= 0
        || value.indexOf('\n') >= 0
        || value.indexOf('\r') >= 0) {
      return "\"" + value.replace("\"", "\"\"") + "\"";
    }
    return value;
  }

  /** The value's text as DuckDB prints it; {@code null} for SQL NULL. */
  public static String text(Object value) {
    if (value == null) {
      return null;
    }
    StringBuilder text = new StringBuilder();
    append(text, value, false);
    return text.toString();
  }

  private static void append(StringBuilder text, Object value, boolean nested) {
    if (value == null) {
      text.append(nested ? "NULL" : "");
    } else if (value instanceof BigDecimal) {
      text.append(((BigDecimal) value).toPlainString());
    } else if (value instanceof LocalDateTime) {
      LocalDateTime timestamp = (LocalDateTime) value;
      text.append(timestamp.toLocalDate()).append(' ').append(TIME.format(timestamp));
    } else if (value instanceof OffsetDateTime) {
      OffsetDateTime timestamp = ((OffsetDateTime) value).withOffsetSameInstant(ZoneOffset.UTC);
      text.append(timestamp.toLocalDate()).append(' ').append(TIME.format(timestamp)).append("+00");
    } else if (value instanceof LocalTime) {
      text.append(TIME.format((LocalTime) value));
    } else if (value instanceof byte[]) {
      for (byte b : (byte[]) value) {
        int unsigned = b & 0xff;
        if (unsigned >= 0x20 && unsigned < 0x7f && unsigned != '\\') {
          text.append((char) unsigned);
        } else {
          text.append(String.format("\\x%02X", unsigned));
        }
      }
    } else if (value instanceof List) {
      text.append('[');
      boolean first = true;
      for (Object element : (List<?>) value) {
        text.append(first ? "" : ", ");
        append(text, element, true);
        first = false;
      }
      text.append(']');
    } else if (value instanceof SqlStruct) {
      text.append('{');
      boolean first = true;
      for (Map.Entry<String, Object> field : ((SqlStruct) value).fields().entrySet()) {
        text.append(first ? "'" : ", '").append(field.getKey().replace("'", "''")).append("': ");
        if (field.getValue() instanceof String) {
          text.append('\'').append(((String) field.getValue()).replace("'", "''")).append('\'');
        } else {
          append(text, field.getValue(), true);
        }
        first = false;
      }
      text.append('}');
    } else if (value instanceof Map) {
      text.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
        text.append(first ? "" : ", ");
        append(text, entry.getKey(), true);
        text.append('=');
        append(text, entry.getValue(), true);
        first = false;
      }
      text.append('}');
    } else {
      text.append(value);
    }
  }
}
