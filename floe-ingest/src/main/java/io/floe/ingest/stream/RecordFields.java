package io.floe.ingest.stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Matches a decoded record's fields to a table's columns, by name: converts each value to its
 * column's Iceberg type, strictly (text is not read as a number; a number that does not fit is
 * refused), and infers the type of a field that has no column yet.
 *
 * <h2>Conversions</h2>
 *
 * <ul>
 *   <li>int, long: whole numbers in range (a decimal without fraction, such as {@code 5.0}, too).
 *   <li>float, double, decimal(p,s): any number; a decimal must fit its precision and scale
 *       exactly.
 *   <li>boolean: true or false. string: text; {@code json} columns hold any value's JSON text.
 *   <li>date, time, timestamp, timestamptz: ISO-8601 text ({@code 2026-12-07}, {@code 10:15:30},
 *       {@code 2026-12-07T10:15:30}, {@code 2026-12-07T10:15:30Z} or with an offset), the decoder's
 *       temporal values, or for timestamps a whole number of milliseconds since 1970-01-01 UTC. A
 *       timestamp with an offset goes into a timestamp column as its UTC time; one without into a
 *       timestamptz column is refused (its instant is unknown).
 *   <li>uuid: UUID text. binary: base64 text, or bytes.
 * </ul>
 *
 * <p>Inferred types: whole numbers long, other numbers double, text string, true/false boolean,
 * bytes binary, temporal values their type, objects and lists json (string).
 */
public final class RecordFields {
  /**
   * Writes json columns' text. Temporal values in nested objects (Avro records, Debezium structs)
   * become their ISO-8601 text, as Jackson has no serializer of its own for them here.
   */
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .registerModule(
              new SimpleModule("floe-temporal-text")
                  .addSerializer(LocalDate.class, ToStringSerializer.instance)
                  .addSerializer(LocalTime.class, ToStringSerializer.instance)
                  .addSerializer(LocalDateTime.class, ToStringSerializer.instance)
                  .addSerializer(Instant.class, ToStringSerializer.instance)
                  .addSerializer(OffsetDateTime.class, ToStringSerializer.instance));

  private static final Pattern COLUMN_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  /** The doc of string columns that hold a field's JSON text ({@code json} columns). */
  public static final String JSON_DOC = "JSON text";

  private RecordFields() {}

  /**
   * The fields as a row of {@code schema}: each column takes the field of its name, converted;
   * fields without a column are left out, columns without a field are null.
   *
   * @throws RecordRejectedException when a value does not convert to its column's type
   */
  public static Record toRecord(Map<String, Object> fields, Schema schema) {
    GenericRecord row = GenericRecord.create(schema);
    List<Types.NestedField> columns = schema.columns();
    for (int position = 0; position < columns.size(); position++) {
      Types.NestedField column = columns.get(position);
      Object value = fields.get(column.name());
      if (value != null) {
        row.set(position, convert(value, column));
      }
    }
    return row;
  }

  /** The names of fields that have no column in {@code schema}, in the record's order. */
  public static List<String> unknownFields(Map<String, Object> fields, Schema schema) {
    List<String> unknown = new ArrayList<>();
    for (String name : fields.keySet()) {
      if (schema.findField(name) == null) {
        unknown.add(name);
      }
    }
    return unknown;
  }

  /**
   * The type a column for {@code value} gets, or empty when the value says nothing (null).
   *
   * @throws RecordRejectedException for a field name no column can have
   */
  public static Optional<Type> inferType(String name, Object value) {
    if (!COLUMN_NAME.matcher(name).matches()) {
      throw new RecordRejectedException(
          RejectReason.INVALID_FIELD_NAME,
          "Field '"
              + name
              + "' cannot become a column: column names are a letter or underscore followed by"
              + " letters, digits or underscores; rename the field at the producer");
    }
    if (value == null || (value instanceof JsonNode node && node.isNull())) {
      return Optional.empty();
    }
    if (value instanceof Boolean) {
      return Optional.of(Types.BooleanType.get());
    }
    if (value instanceof Integer || value instanceof Long || value instanceof Short) {
      return Optional.of(Types.LongType.get());
    }
    if (value instanceof BigInteger integer) {
      return Optional.of(
          integer.bitLength() < 64 ? Types.LongType.get() : Types.DecimalType.of(38, 0));
    }
    if (value instanceof Number) {
      return Optional.of(Types.DoubleType.get());
    }
    if (value instanceof String) {
      return Optional.of(Types.StringType.get());
    }
    if (value instanceof byte[] || value instanceof ByteBuffer) {
      return Optional.of(Types.BinaryType.get());
    }
    if (value instanceof LocalDate) {
      return Optional.of(Types.DateType.get());
    }
    if (value instanceof LocalTime) {
      return Optional.of(Types.TimeType.get());
    }
    if (value instanceof LocalDateTime) {
      return Optional.of(Types.TimestampType.withoutZone());
    }
    if (value instanceof Instant || value instanceof OffsetDateTime) {
      return Optional.of(Types.TimestampType.withZone());
    }
    if (value instanceof UUID) {
      return Optional.of(Types.UUIDType.get());
    }
    // Objects and lists: their JSON text.
    return Optional.of(Types.StringType.get());
  }

  /** Whether a column holds JSON text: a string column whose doc is {@link #JSON_DOC}. */
  public static boolean isJson(Types.NestedField column) {
    return column.type().typeId() == Type.TypeID.STRING && JSON_DOC.equals(column.doc());
  }

  /**
   * Whether an inferred column for {@code value} holds its JSON text: an object or a list, or any
   * {@link JsonNode} (JSON kept as it came, such as a Debezium json column's value, which may be a
   * bare number or string).
   */
  public static boolean inferJson(Object value) {
    return value instanceof Map
        || value instanceof List
        || (value instanceof JsonNode node && !node.isNull() && !node.isMissingNode());
  }

  /**
   * A record's value converted to {@code column}'s type, as {@link #toRecord} converts it.
   *
   * @throws RecordRejectedException when it does not convert
   */
  public static Object convert(Object value, Types.NestedField column) {
    Type type = column.type();
    try {
      switch (type.typeId()) {
        case BOOLEAN:
          if (value instanceof Boolean) {
            return value;
          }
          break;
        case INTEGER:
          {
            if (value instanceof Integer) {
              return value;
            }
            if (value instanceof Long number && number == number.intValue()) {
              return number.intValue();
            }
            BigInteger integer = wholeNumber(value, column);
            if (integer != null) {
              if (integer.bitLength() >= 32) {
                throw outOfRange(value, column, "an int holds -2147483648 to 2147483647");
              }
              return integer.intValue();
            }
            break;
          }
        case LONG:
          {
            if (value instanceof Long || value instanceof Integer) {
              return ((Number) value).longValue();
            }
            BigInteger integer = wholeNumber(value, column);
            if (integer != null) {
              if (integer.bitLength() >= 64) {
                throw outOfRange(value, column, "a long holds 64-bit whole numbers");
              }
              return integer.longValue();
            }
            break;
          }
        case FLOAT:
          if (value instanceof Number number) {
            float result = number.floatValue();
            if (Float.isInfinite(result) && !Double.isInfinite(number.doubleValue())) {
              throw outOfRange(value, column, "a float holds up to about 3.4e38");
            }
            return result;
          }
          break;
        case DOUBLE:
          if (value instanceof Number number) {
            double result = number.doubleValue();
            if (Double.isInfinite(result) && !(value instanceof Double || value instanceof Float)) {
              throw outOfRange(value, column, "a double holds up to about 1.8e308");
            }
            return result;
          }
          break;
        case DECIMAL:
          if (value instanceof Number number) {
            Types.DecimalType decimal = (Types.DecimalType) type;
            BigDecimal exact = decimal(number);
            BigDecimal scaled;
            try {
              scaled = exact.setScale(decimal.scale(), RoundingMode.UNNECESSARY);
            } catch (ArithmeticException e) {
              throw outOfRange(value, column, "it has more than " + decimal.scale() + " decimals");
            }
            if (scaled.precision() > decimal.precision()) {
              throw outOfRange(
                  value, column, "it has more than " + decimal.precision() + " digits");
            }
            return scaled;
          }
          break;
        case STRING:
          if (isJson(column)) {
            return value instanceof String text ? JSON.writeValueAsString(text) : json(value);
          }
          if (value instanceof String) {
            return value;
          }
          if (value instanceof Map || value instanceof List || value instanceof JsonNode) {
            if (!(value instanceof JsonNode node) || node.isContainerNode()) {
              return json(value);
            }
          }
          break;
        case DATE:
          if (value instanceof LocalDate date) {
            return date(date, value, column);
          }
          if (value instanceof String text) {
            return date(LocalDate.parse(text), value, column);
          }
          break;
        case TIME:
          if (value instanceof LocalTime) {
            return value;
          }
          if (value instanceof String text) {
            return LocalTime.parse(text);
          }
          break;
        case TIMESTAMP:
          return timestamp(value, column, ((Types.TimestampType) type).shouldAdjustToUTC());
        case UUID:
          if (value instanceof UUID) {
            return value;
          }
          if (value instanceof String text) {
            try {
              return UUID.fromString(text);
            } catch (IllegalArgumentException e) {
              throw outOfRange(value, column, "it is not a UUID such as" + " " + UUID.randomUUID());
            }
          }
          break;
        case BINARY:
          if (value instanceof byte[] bytes) {
            return ByteBuffer.wrap(bytes);
          }
          if (value instanceof ByteBuffer buffer) {
            return buffer;
          }
          if (value instanceof String text) {
            try {
              return ByteBuffer.wrap(Base64.getDecoder().decode(text));
            } catch (IllegalArgumentException e) {
              throw outOfRange(value, column, "binary columns take base64 text");
            }
          }
          break;
        default:
          throw new RecordRejectedException(
              RejectReason.TYPE_MISMATCH,
              "Column "
                  + column.name()
                  + " has type "
                  + type
                  + ", which stream records cannot fill yet");
      }
    } catch (DateTimeParseException e) {
      throw outOfRange(value, column, "it is not ISO-8601 text of a " + type);
    } catch (DateTimeException e) {
      // A valid text whose value java.time cannot hold once moved to UTC.
      throw outOfRange(value, column, e.getMessage());
    } catch (NumberFormatException e) {
      // NaN or an infinity where a whole number or a decimal must go.
      throw outOfRange(value, column, e.getMessage());
    } catch (JsonProcessingException e) {
      throw new RecordRejectedException(
          RejectReason.TYPE_MISMATCH,
          "Field " + column.name() + " cannot be written as JSON: " + e.getOriginalMessage(),
          e);
    }
    throw new RecordRejectedException(
        RejectReason.TYPE_MISMATCH,
        "Field "
            + column.name()
            + " has "
            + describe(value)
            + " but its column has type "
            + type
            + "; fix the producer, or add a column of another name for the new type (a column's"
            + " type cannot change in place)");
  }

  private static Object timestamp(Object value, Types.NestedField column, boolean withZone) {
    OffsetDateTime utc = null;
    if (value instanceof Instant instant) {
      utc = instant.atOffset(ZoneOffset.UTC);
    } else if (value instanceof OffsetDateTime offset) {
      utc = offset.withOffsetSameInstant(ZoneOffset.UTC);
    } else if (value instanceof LocalDateTime local) {
      if (!withZone) {
        return timestampInRange(local, value, column);
      }
      throw new RecordRejectedException(
          RejectReason.TYPE_MISMATCH,
          "Field "
              + column.name()
              + " is a timestamp without time zone but its column is timestamptz; send it with"
              + " an offset such as Z");
    } else if (value instanceof String text) {
      TemporalAccessor parsed = commonTimestamp(text);
      if (parsed == null) {
        parsed =
            DateTimeFormatter.ISO_DATE_TIME.parseBest(
                text, OffsetDateTime::from, LocalDateTime::from);
      }
      if (parsed instanceof OffsetDateTime offset) {
        utc = offset.withOffsetSameInstant(ZoneOffset.UTC);
      } else if (!withZone) {
        return timestampInRange((LocalDateTime) parsed, value, column);
      } else {
        throw new RecordRejectedException(
            RejectReason.TYPE_MISMATCH,
            "Field "
                + column.name()
                + " is a timestamp without time zone ("
                + text
                + ") but its column is timestamptz; send it with an offset such as Z");
      }
    } else if (value instanceof Number) {
      BigInteger millis = wholeNumber(value, column);
      if (millis == null || millis.bitLength() >= 63) {
        throw outOfRange(value, column, "timestamps as numbers are whole milliseconds since 1970");
      }
      utc = Instant.ofEpochMilli(millis.longValue()).atOffset(ZoneOffset.UTC);
    }
    if (utc == null) {
      throw new RecordRejectedException(
          RejectReason.TYPE_MISMATCH,
          "Field "
              + column.name()
              + " has "
              + describe(value)
              + " but its column is a "
              + column.type()
              + "; send ISO-8601 text or milliseconds since 1970");
    }
    timestampInRange(utc.toLocalDateTime(), value, column);
    return withZone ? utc : utc.toLocalDateTime();
  }

  /**
   * The usual shape of ISO-8601 timestamp text, {@code 2026-12-07T10:15:30}, optionally with a
   * fraction of 1 to 9 digits, then {@code Z}, {@code +HH:MM}, {@code -HH:MM} or nothing, read
   * without {@link DateTimeFormatter}, whose optional sections copy its parsed fields several times
   * per text: as {@code ISO_DATE_TIME.parseBest(text, OffsetDateTime::from, LocalDateTime::from)}
   * reads it, or null for any other text and for a value out of range (which the formatter then
   * reads, or refuses with its own message).
   */
  static TemporalAccessor commonTimestamp(String text) {
    int length = text.length();
    if (length < 19
        || !digits(text, 0, 4)
        || text.charAt(4) != '-'
        || !digits(text, 5, 2)
        || text.charAt(7) != '-'
        || !digits(text, 8, 2)
        || text.charAt(10) != 'T'
        || !digits(text, 11, 2)
        || text.charAt(13) != ':'
        || !digits(text, 14, 2)
        || text.charAt(16) != ':'
        || !digits(text, 17, 2)) {
      return null;
    }
    int position = 19;
    int nanos = 0;
    if (position < length && text.charAt(position) == '.') {
      int start = ++position;
      while (position < length && position - start < 9 && isDigit(text.charAt(position))) {
        nanos = nanos * 10 + (text.charAt(position++) - '0');
      }
      int count = position - start;
      if (count == 0 || (position < length && isDigit(text.charAt(position)))) {
        return null;
      }
      for (int i = count; i < 9; i++) {
        nanos *= 10;
      }
    }
    try {
      LocalDateTime local =
          LocalDateTime.of(
              number(text, 0, 4),
              number(text, 5, 2),
              number(text, 8, 2),
              number(text, 11, 2),
              number(text, 14, 2),
              number(text, 17, 2),
              nanos);
      if (position == length) {
        return local;
      }
      char sign = text.charAt(position);
      if (sign == 'Z' && position + 1 == length) {
        return OffsetDateTime.of(local, ZoneOffset.UTC);
      }
      if ((sign == '+' || sign == '-')
          && position + 6 == length
          && digits(text, position + 1, 2)
          && text.charAt(position + 3) == ':'
          && digits(text, position + 4, 2)) {
        int hours = number(text, position + 1, 2);
        int minutes = number(text, position + 4, 2);
        if (minutes > 59) {
          return null;
        }
        int signum = sign == '+' ? 1 : -1;
        return OffsetDateTime.of(
            local, ZoneOffset.ofHoursMinutes(signum * hours, signum * minutes));
      }
      return null;
    } catch (DateTimeException e) {
      return null;
    }
  }

  private static boolean digits(String text, int from, int count) {
    for (int i = from; i < from + count; i++) {
      if (!isDigit(text.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static int number(String text, int from, int count) {
    int value = 0;
    for (int i = from; i < from + count; i++) {
      value = value * 10 + (text.charAt(i) - '0');
    }
    return value;
  }

  /** Iceberg keeps timestamps as a long of microseconds since 1970: about 292,000 years. */
  private static final long MAX_TIMESTAMP_SECONDS = Long.MAX_VALUE / 1_000_000 - 1;

  private static LocalDateTime timestampInRange(
      LocalDateTime timestamp, Object value, Types.NestedField column) {
    if (Math.abs(timestamp.toEpochSecond(ZoneOffset.UTC)) > MAX_TIMESTAMP_SECONDS) {
      throw outOfRange(value, column, "timestamps go from about year -290308 to 294247");
    }
    return timestamp;
  }

  /** Iceberg keeps dates as an int of days since 1970. */
  private static LocalDate date(LocalDate date, Object value, Types.NestedField column) {
    long days = date.toEpochDay();
    if (days != (int) days) {
      throw outOfRange(value, column, "dates go from about year -5877641 to 5881580");
    }
    return date;
  }

  /** The value as a whole number, or null when it is not a number; refuses fractions. */
  private static BigInteger wholeNumber(Object value, Types.NestedField column) {
    if (value instanceof Integer || value instanceof Long || value instanceof Short) {
      return BigInteger.valueOf(((Number) value).longValue());
    }
    if (value instanceof BigInteger integer) {
      return integer;
    }
    if (value instanceof Number number) {
      BigDecimal exact = decimal(number);
      try {
        return exact.toBigIntegerExact();
      } catch (ArithmeticException e) {
        throw new RecordRejectedException(
            RejectReason.TYPE_MISMATCH,
            "Field "
                + column.name()
                + " has the fractional number "
                + value
                + " but its column has type "
                + column.type()
                + ", which holds whole numbers");
      }
    }
    return null;
  }

  private static BigDecimal decimal(Number number) {
    if (number instanceof BigDecimal decimal) {
      return decimal;
    }
    if (number instanceof BigInteger integer) {
      return new BigDecimal(integer);
    }
    if (number instanceof Double || number instanceof Float) {
      double value = number.doubleValue();
      if (Double.isNaN(value) || Double.isInfinite(value)) {
        throw new NumberFormatException(value + " is not a decimal number");
      }
      // A float's own shortest text (1.1f is 1.1, not 1.100000023841858).
      return number instanceof Float
          ? new BigDecimal(number.toString())
          : BigDecimal.valueOf(value);
    }
    return BigDecimal.valueOf(number.longValue());
  }

  private static String json(Object value) throws JsonProcessingException {
    return JSON.writeValueAsString(value);
  }

  private static RecordRejectedException outOfRange(
      Object value, Types.NestedField column, String why) {
    String text = String.valueOf(value);
    if (text.length() > 100) {
      text = text.substring(0, 100) + "...";
    }
    return new RecordRejectedException(
        RejectReason.VALUE_OUT_OF_RANGE,
        "Field "
            + column.name()
            + " has the value "
            + text
            + ", which does not fit its column of type "
            + column.type()
            + ": "
            + why);
  }

  private static String describe(Object value) {
    if (value instanceof String) {
      return "text";
    }
    if (value instanceof Boolean) {
      return "a boolean";
    }
    if (value instanceof Number) {
      return "a number";
    }
    if (value instanceof Map || (value instanceof JsonNode node && node.isObject())) {
      return "an object";
    }
    if (value instanceof List || (value instanceof JsonNode node && node.isArray())) {
      return "a list";
    }
    return "a value of type " + value.getClass().getSimpleName();
  }
}
