package io.floe.ingest.debezium;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;

/**
 * Converts values of Debezium change events (Kafka Connect representation, with precise decimals,
 * adaptive microsecond times and binary as bytes, as every Floe source configures its connector)
 * into the Java values Iceberg's generic records hold for each Iceberg type.
 */
public final class ValueConverter {
  /** Placeholder Debezium sends for values PostgreSQL left out of an update (unchanged TOAST). */
  public static final String UNCHANGED_PLACEHOLDER = "__floe_unchanged_toast__";

  private static final byte[] UNCHANGED_BYTES =
      UNCHANGED_PLACEHOLDER.getBytes(StandardCharsets.UTF_8);
  private static final String UNCHANGED_UUID = UUID.nameUUIDFromBytes(UNCHANGED_BYTES).toString();
  private static final long MICROS_PER_DAY = 86_400_000_000L;

  private ValueConverter() {}

  /** Whether a raw event value is Debezium's placeholder for an unchanged TOASTed value. */
  public static boolean isUnchanged(Object value) {
    if (value instanceof String) {
      return UNCHANGED_PLACEHOLDER.equals(value);
    }
    if (value instanceof byte[]) {
      return Arrays.equals((byte[]) value, UNCHANGED_BYTES);
    }
    if (value instanceof ByteBuffer) {
      return ByteBuffer.wrap(UNCHANGED_BYTES).equals(value);
    }
    if (value instanceof List) {
      List<?> list = (List<?>) value;
      if (list.size() == 1) {
        Object only = list.get(0);
        return UNCHANGED_PLACEHOLDER.equals(only)
            || UNCHANGED_UUID.equals(only)
            || (only instanceof byte[] && Arrays.equals((byte[]) only, UNCHANGED_BYTES));
      }
      if (list.size() == UNCHANGED_BYTES.length) {
        for (int i = 0; i < UNCHANGED_BYTES.length; i++) {
          Object element = list.get(i);
          if (!(element instanceof Number)
              || ((Number) element).longValue() != UNCHANGED_BYTES[i]) {
            return false;
          }
        }
        return true;
      }
    }
    return false;
  }

  /**
   * Converts one value.
   *
   * @param column name used in error messages
   */
  public static Object convert(String column, Type type, Schema schema, Object value) {
    if (value == null) {
      return null;
    }
    String semantic = schema == null ? null : schema.name();
    switch (type.typeId()) {
      case INTEGER:
        long integer = ((Number) value).longValue();
        if (integer != (int) integer) {
          // The source widened the column without the table following it: never truncate.
          throw new FloeException(
              ErrorCode.VALUE_NOT_REPRESENTABLE,
              "Cannot store value "
                  + integer
                  + " of column "
                  + column
                  + " in its Iceberg int column; the pipeline widens a column when the source"
                  + " widens it, so report this with the log");
        }
        return (int) integer;
      case LONG:
        return ((Number) value).longValue();
      case FLOAT:
        return ((Number) value).floatValue();
      case DOUBLE:
        return ((Number) value).doubleValue();
      case BOOLEAN:
        return value;
      case STRING:
        if (value instanceof Struct || value instanceof BigDecimal) {
          return decimal(column, value).toPlainString();
        }
        return value.toString();
      case DECIMAL:
        return toScale(column, (Types.DecimalType) type, decimal(column, value));
      case DATE:
        return LocalDate.ofEpochDay(((Number) value).longValue());
      case TIME:
        return time(column, micros(semantic, value));
      case TIMESTAMP:
        if (((Types.TimestampType) type).shouldAdjustToUTC()) {
          return zonedTimestamp(value.toString());
        }
        long micros = micros(semantic, value);
        return LocalDateTime.ofEpochSecond(
            Math.floorDiv(micros, 1_000_000L),
            (int) Math.floorMod(micros, 1_000_000L) * 1000,
            ZoneOffset.UTC);
      case UUID:
        return value instanceof UUID ? value : UUID.fromString(value.toString());
      case BINARY:
        if (value instanceof byte[] bytes) {
          return ByteBuffer.wrap(
              "io.debezium.data.Bits".equals(semantic) ? bigEndian(bytes) : bytes);
        }
        return value;
      case LIST:
        Type element = ((Types.ListType) type).elementType();
        Schema elementSchema = schema == null ? null : schema.valueSchema();
        List<Object> converted = new ArrayList<>();
        for (Object item : (List<?>) value) {
          converted.add(convert(column, element, elementSchema, item));
        }
        return converted;
      default:
        throw new FloeException(
            ErrorCode.TYPE_UNSUPPORTED,
            "Cannot convert value of column " + column + " to Iceberg type " + type);
    }
  }

  /**
   * Parses Debezium's ZonedTimestamp text. Debezium writes UTC as {@code yyyy-MM-ddTHH:mm:ss[.f]Z};
   * that form is parsed by hand (it is on every row of every table with a timestamptz column),
   * anything else by {@link OffsetDateTime#parse}.
   */
  static OffsetDateTime zonedTimestamp(String text) {
    int length = text.length();
    if (length >= 20
        && text.charAt(length - 1) == 'Z'
        && text.charAt(4) == '-'
        && text.charAt(7) == '-'
        && text.charAt(10) == 'T'
        && text.charAt(13) == ':'
        && text.charAt(16) == ':'
        && Character.isDigit(text.charAt(0))) {
      try {
        int nanos = 0;
        if (length > 20) {
          if (text.charAt(19) != '.' || length > 30) {
            return OffsetDateTime.parse(text).withOffsetSameInstant(ZoneOffset.UTC);
          }
          int digits = length - 21;
          nanos = Integer.parseInt(text, 20, length - 1, 10);
          for (int i = digits; i < 9; i++) {
            nanos *= 10;
          }
        }
        return OffsetDateTime.of(
            Integer.parseInt(text, 0, 4, 10),
            Integer.parseInt(text, 5, 7, 10),
            Integer.parseInt(text, 8, 10, 10),
            Integer.parseInt(text, 11, 13, 10),
            Integer.parseInt(text, 14, 16, 10),
            Integer.parseInt(text, 17, 19, 10),
            nanos,
            ZoneOffset.UTC);
      } catch (NumberFormatException | java.time.DateTimeException e) {
        return OffsetDateTime.parse(text).withOffsetSameInstant(ZoneOffset.UTC);
      }
    }
    return OffsetDateTime.parse(text).withOffsetSameInstant(ZoneOffset.UTC);
  }

  /**
   * The bytes of a MariaDB {@code bit(n)} value most significant first, as the database shows them
   * ({@code HEX(b)}): Debezium sends them least significant first.
   */
  private static byte[] bigEndian(byte[] littleEndian) {
    byte[] bytes = new byte[littleEndian.length];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = littleEndian[bytes.length - 1 - i];
    }
    return bytes;
  }

  /**
   * A time of day. PostgreSQL's {@code 24:00:00} is the end of the day, which Iceberg's time type
   * holds as midnight; a MariaDB {@code time} outside a day (it is a duration there, from -838 to
   * 838 hours) has no time of day to map to and is refused.
   */
  private static LocalTime time(String column, long micros) {
    if (micros == MICROS_PER_DAY) {
      return LocalTime.MIDNIGHT;
    }
    if (micros < 0 || micros > MICROS_PER_DAY) {
      throw new FloeException(
          ErrorCode.VALUE_NOT_REPRESENTABLE,
          "Cannot store value "
              + java.time.Duration.ofNanos(micros * 1000)
              + " of column "
              + column
              + " as an Iceberg time: it is outside 00:00:00..23:59:59.999999; keep durations"
              + " in an integer or text column at the source");
    }
    return LocalTime.ofNanoOfDay(micros * 1000);
  }

  private static long micros(String semantic, Object value) {
    long raw = ((Number) value).longValue();
    if (semantic == null) {
      return raw;
    }
    switch (semantic) {
      case "io.debezium.time.Time":
      case "io.debezium.time.Timestamp":
        return raw * 1000;
      case "io.debezium.time.NanoTime":
      case "io.debezium.time.NanoTimestamp":
        return Math.floorDiv(raw, 1000);
      default:
        return raw;
    }
  }

  private static BigDecimal decimal(String column, Object value) {
    if (value instanceof BigDecimal) {
      return (BigDecimal) value;
    }
    if (value instanceof Struct) {
      // io.debezium.data.VariableScaleDecimal: numeric without declared precision.
      Struct struct = (Struct) value;
      byte[] bytes = struct.getBytes("value");
      if (bytes == null) {
        throw new FloeException(
            ErrorCode.VALUE_NOT_REPRESENTABLE,
            "Cannot store value of column "
                + column
                + ": NaN or infinite numerics are not supported");
      }
      return new BigDecimal(new BigInteger(bytes), struct.getInt32("scale"));
    }
    if (value instanceof Number) {
      return new BigDecimal(value.toString());
    }
    return new BigDecimal(value.toString());
  }

  private static BigDecimal toScale(String column, Types.DecimalType type, BigDecimal value) {
    BigDecimal scaled;
    try {
      scaled = value.setScale(type.scale(), RoundingMode.UNNECESSARY);
    } catch (ArithmeticException e) {
      throw notRepresentable(column, type, value);
    }
    if (scaled.precision() > type.precision()) {
      throw notRepresentable(column, type, value);
    }
    return scaled;
  }

  private static FloeException notRepresentable(
      String column, Types.DecimalType type, BigDecimal value) {
    return new FloeException(
        ErrorCode.VALUE_NOT_REPRESENTABLE,
        "Cannot store value "
            + value.toPlainString()
            + " of column "
            + column
            + " exactly as "
            + type
            + "; declare the column with a precision and scale at the source (numeric(p,s)),"
            + " or, for PostgreSQL, set source.unbounded-numeric: string to keep such values"
            + " as exact text");
  }
}
