package io.floe.sql.pgwire;

import io.floe.sql.SqlValues;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.Locale;
import java.util.UUID;

/**
 * The PostgreSQL types Floe's results are sent as, with their text and binary encodings. Unsigned
 * and 128-bit integers become {@code numeric}; lists, structs, maps, enums and other DuckDB types
 * without a PostgreSQL counterpart are sent as {@code text} in DuckDB's notation.
 */
enum PgType {
  BOOL(16, 1),
  INT2(21, 2),
  INT4(23, 4),
  INT8(20, 8),
  NUMERIC(1700, -1),
  FLOAT4(700, 4),
  FLOAT8(701, 8),
  TEXT(25, -1),
  DATE(1082, 4),
  TIME(1083, 8),
  TIMESTAMP(1114, 8),
  TIMESTAMPTZ(1184, 8),
  UUID(2950, 16),
  BYTEA(17, -1),
  /** Sent in text form only: Floe receives intervals as DuckDB's text. */
  INTERVAL(1186, 16);

  static final LocalDate POSTGRES_EPOCH = LocalDate.of(2000, 1, 1);
  private static final Instant POSTGRES_EPOCH_INSTANT =
      POSTGRES_EPOCH.atStartOfDay().toInstant(ZoneOffset.UTC);
  private static final HexFormat HEX = HexFormat.of();

  private final int oid;
  private final int size;

  PgType(int oid, int size) {
    this.oid = oid;
    this.size = size;
  }

  int oid() {
    return oid;
  }

  /** The type's length in bytes, -1 for variable-length types. */
  int size() {
    return size;
  }

  boolean hasBinaryFormat() {
    return this != INTERVAL;
  }

  /** The PostgreSQL type of a DuckDB type name such as {@code DECIMAL(10,2)}. */
  static PgType of(String duckdbType) {
    String type = duckdbType.toUpperCase(Locale.ROOT);
    if (type.startsWith("DECIMAL") || type.startsWith("NUMERIC")) {
      return NUMERIC;
    }
    switch (type) {
      case "BOOLEAN":
        return BOOL;
      case "TINYINT":
      case "SMALLINT":
      case "UTINYINT":
        return INT2;
      case "INTEGER":
      case "USMALLINT":
        return INT4;
      case "BIGINT":
      case "UINTEGER":
        return INT8;
      case "HUGEINT":
      case "UBIGINT":
      case "UHUGEINT":
        return NUMERIC;
      case "FLOAT":
      case "REAL":
        return FLOAT4;
      case "DOUBLE":
        return FLOAT8;
      case "DATE":
        return DATE;
      case "TIME":
        return TIME;
      case "TIMESTAMP":
        return TIMESTAMP;
      case "TIMESTAMP WITH TIME ZONE":
        return TIMESTAMPTZ;
      case "UUID":
        return UUID;
      case "BLOB":
        return BYTEA;
      case "INTERVAL":
        return INTERVAL;
      default:
        return TEXT;
    }
  }

  /** PostgreSQL's type modifier: precision and scale for numeric, otherwise -1. */
  static int typeModifier(String duckdbType) {
    String type = duckdbType.replace(" ", "");
    int open = type.indexOf('(');
    if (of(duckdbType) != NUMERIC || open < 0 || !type.endsWith(")")) {
      return -1;
    }
    String[] parts = type.substring(open + 1, type.length() - 1).split(",", -1);
    try {
      int precision = Integer.parseInt(parts[0]);
      int scale = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
      return ((precision << 16) | scale) + 4;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** The value in PostgreSQL's text output format. */
  String text(Object value) {
    switch (this) {
      case BOOL:
        return ((Boolean) value) ? "t" : "f";
      case NUMERIC:
        return value instanceof BigDecimal
            ? ((BigDecimal) value).toPlainString()
            : value.toString();
      case FLOAT4:
        return floatText(((Number) value).floatValue(), true);
      case FLOAT8:
        return floatText(((Number) value).doubleValue(), false);
      case DATE:
        return value instanceof LocalDate ? dateText((LocalDate) value) : SqlValues.text(value);
      case UUID:
        return value.toString();
      case BYTEA:
        return "\\x" + HEX.formatHex((byte[]) value);
      default:
        return SqlValues.text(value);
    }
  }

  /** The value in PostgreSQL's binary format; not for {@link #INTERVAL}. */
  byte[] binary(Object value) {
    switch (this) {
      case BOOL:
        return new byte[] {(byte) (((Boolean) value) ? 1 : 0)};
      case INT2:
        return ByteBuffer.allocate(2).putShort(((Number) value).shortValue()).array();
      case INT4:
        return ByteBuffer.allocate(4).putInt(((Number) value).intValue()).array();
      case INT8:
        return ByteBuffer.allocate(8).putLong(((Number) value).longValue()).array();
      case NUMERIC:
        return PgNumeric.encode(
            value instanceof BigInteger
                ? new BigDecimal((BigInteger) value)
                : new BigDecimal(value.toString()));
      case FLOAT4:
        return ByteBuffer.allocate(4).putFloat(((Number) value).floatValue()).array();
      case FLOAT8:
        return ByteBuffer.allocate(8).putDouble(((Number) value).doubleValue()).array();
      case DATE:
        return ByteBuffer.allocate(4)
            .putInt((int) ChronoUnit.DAYS.between(POSTGRES_EPOCH, (LocalDate) value))
            .array();
      case TIME:
        return ByteBuffer.allocate(8).putLong(((LocalTime) value).toNanoOfDay() / 1000).array();
      case TIMESTAMP:
        return ByteBuffer.allocate(8)
            .putLong(micros(((LocalDateTime) value).toInstant(ZoneOffset.UTC)))
            .array();
      case TIMESTAMPTZ:
        return ByteBuffer.allocate(8).putLong(micros(((OffsetDateTime) value).toInstant())).array();
      case UUID:
        UUID uuid = (UUID) value;
        return ByteBuffer.allocate(16)
            .putLong(uuid.getMostSignificantBits())
            .putLong(uuid.getLeastSignificantBits())
            .array();
      case BYTEA:
        return (byte[]) value;
      case TEXT:
        return SqlValues.text(value).getBytes(StandardCharsets.UTF_8);
      default:
        throw new IllegalStateException("No binary format for " + this);
    }
  }

  /** Microseconds since PostgreSQL's epoch, 2000-01-01 00:00:00 UTC. */
  static long micros(Instant instant) {
    return ChronoUnit.MICROS.between(POSTGRES_EPOCH_INSTANT, instant);
  }

  static Instant instant(long micros) {
    return POSTGRES_EPOCH_INSTANT.plus(micros, ChronoUnit.MICROS);
  }

  /** Dates as PostgreSQL prints them with DateStyle ISO: years before 1 are written "BC". */
  static String dateText(LocalDate date) {
    if (date.getYear() > 0) {
      return date.toString();
    }
    return String.format(
        Locale.ROOT,
        "%04d-%02d-%02d BC",
        1 - date.getYear(),
        date.getMonthValue(),
        date.getDayOfMonth());
  }

  /**
   * Floating point numbers as PostgreSQL prints them: the shortest text that reads back as the same
   * number, in exponent form when the exponent is below -4 or at least 6 (float4) or 15 (float8).
   */
  static String floatText(double value, boolean single) {
    if (Double.isNaN(value)) {
      return "NaN";
    }
    if (Double.isInfinite(value)) {
      return value > 0 ? "Infinity" : "-Infinity";
    }
    if (value == 0) {
      return 1 / value < 0 ? "-0" : "0";
    }
    BigDecimal decimal =
        new BigDecimal(single ? Float.toString((float) value) : Double.toString(value))
            .stripTrailingZeros();
    String digits = decimal.unscaledValue().abs().toString();
    int exponent = digits.length() - 1 - decimal.scale();
    if (exponent >= -4 && exponent < (single ? 6 : 15)) {
      return decimal.toPlainString();
    }
    StringBuilder text = new StringBuilder();
    if (decimal.signum() < 0) {
      text.append('-');
    }
    text.append(digits.charAt(0));
    if (digits.length() > 1) {
      text.append('.').append(digits, 1, digits.length());
    }
    text.append(exponent < 0 ? "e-" : "e+");
    text.append(String.format(Locale.ROOT, "%02d", Math.abs(exponent)));
    return text.toString();
  }
}
