package io.floe.sql.pgwire;

import io.floe.sql.SqlLexer;
import io.floe.sql.SqlValues;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Puts a statement's parameter values into its text as SQL literals, because the engine runs SQL
 * text. Each {@code $n} outside string literals, quoted identifiers and comments is replaced.
 *
 * <p>A parameter whose type the client declared becomes a literal of that type ({@code CAST(5 AS
 * BIGINT)}, {@code CAST('2024-01-01' AS DATE)}), so that a statement's result columns have the same
 * types whether it is described (parameters are then typed NULLs) or run. Numbers are checked to be
 * numbers and strings are quoted, so no value can change the statement's meaning.
 */
final class ParameterBinder {
  static final int UNSPECIFIED = 0;
  static final int TEXT = 25;
  static final int TEXT_FORMAT = 0;
  static final int BINARY_FORMAT = 1;
  private static final int MAX_PARAMETERS = 65_535;
  private static final int BOOL = 16;
  private static final int BYTEA = 17;
  private static final int INT8 = 20;
  private static final int INT2 = 21;
  private static final int INT4 = 23;
  private static final int FLOAT4 = 700;
  private static final int FLOAT8 = 701;
  private static final int DATE = 1082;
  private static final int TIME = 1083;
  private static final int TIMESTAMP = 1114;
  private static final int TIMESTAMPTZ = 1184;
  private static final int INTERVAL = 1186;
  private static final int NUMERIC = 1700;
  private static final int UUID_OID = 2950;

  /** text, varchar, bpchar, name, unknown: their binary form is the UTF-8 text. */
  private static final Set<Integer> STRING_TYPES = Set.of(UNSPECIFIED, TEXT, 1043, 1042, 19, 705);

  private static final Set<String> TRUE_WORDS = Set.of("t", "true", "y", "yes", "on", "1");
  private static final Set<String> FALSE_WORDS = Set.of("f", "false", "n", "no", "off", "0");
  private static final HexFormat HEX = HexFormat.of();
  private static final Pattern DATE_WITH_ZONE =
      Pattern.compile("(\\d{4,}-\\d{2}-\\d{2}) [+-]\\d{2}(?::\\d{2}){0,2}( BC)?");

  private ParameterBinder() {}

  /** One replaced {@code $n}: where it was in the statement and where its literal is now. */
  record Replacement(int originalStart, int originalEnd, int start, int end) {}

  /** A statement with its parameters replaced by literals. */
  record Bound(String sql, List<Replacement> replacements) {
    Bound {
      replacements = List.copyOf(replacements);
    }

    /** The 1-based position in the statement as written for a position in the bound text. */
    int originalPosition(int position) {
      if (position <= 0) {
        return position;
      }
      int index = position - 1;
      int shift = 0;
      for (Replacement replacement : replacements) {
        if (index < replacement.start()) {
          break;
        }
        if (index < replacement.end()) {
          return replacement.originalStart() + 1;
        }
        shift = replacement.end() - replacement.originalEnd();
      }
      return index - shift + 1;
    }
  }

  /** The highest parameter number the statement refers to, 0 when it has none. */
  static int parameterCount(String sql) {
    int count = 0;
    for (SqlLexer.Token token : SqlLexer.tokens(sql)) {
      if (token.kind() == SqlLexer.Kind.PARAMETER) {
        count = Math.max(count, number(token));
      }
    }
    return count;
  }

  /** The statement with {@code $n} replaced by {@code literals.get(n - 1)}. */
  static Bound substitute(String sql, List<String> literals) {
    StringBuilder bound = new StringBuilder(sql.length() + 16 * literals.size());
    List<Replacement> replacements = new ArrayList<>();
    int copied = 0;
    for (SqlLexer.Token token : SqlLexer.tokens(sql)) {
      if (token.kind() != SqlLexer.Kind.PARAMETER) {
        continue;
      }
      int number = number(token);
      if (number > literals.size()) {
        throw PgErrors.protocol(
            "Cannot bind parameters: the statement refers to "
                + token.text()
                + " but "
                + literals.size()
                + " parameters were given");
      }
      bound.append(sql, copied, token.start());
      int start = bound.length();
      bound.append(literals.get(number - 1));
      replacements.add(new Replacement(token.start(), token.end(), start, bound.length()));
      copied = token.end();
    }
    bound.append(sql, copied, sql.length());
    return new Bound(bound.toString(), replacements);
  }

  private static int number(SqlLexer.Token token) {
    String digits = token.text().substring(1);
    int number = digits.length() > 5 ? Integer.MAX_VALUE : Integer.parseInt(digits);
    if (number < 1 || number > MAX_PARAMETERS) {
      throw PgErrors.invalid(
          PgErrors.UNDEFINED_PARAMETER,
          "Cannot use parameter " + token.text() + ": parameters are numbered $1 to $65535");
    }
    return number;
  }

  /** The literal a parameter of this type stands for when the statement is only described. */
  static String nullLiteral(int type) {
    String castType = castType(type);
    return castType == null ? "NULL" : "CAST(NULL AS " + castType + ")";
  }

  /**
   * The SQL literal for one parameter value.
   *
   * @param number the parameter's number, for messages
   * @param type the parameter's type OID as the client declared it; 0 when unspecified
   * @param format 0 for text, 1 for binary
   * @param value the value's bytes, null for SQL NULL
   */
  static String literal(int number, int type, int format, byte[] value) {
    if (value == null) {
      return nullLiteral(type);
    }
    try {
      return format == BINARY_FORMAT
          ? binaryLiteral(number, type, value)
          : textLiteral(number, type, new String(value, StandardCharsets.UTF_8));
    } catch (BufferUnderflowException | ArithmeticException e) {
      throw PgErrors.invalid(
          PgErrors.INVALID_BINARY_REPRESENTATION,
          "Cannot bind parameter $"
              + number
              + ": its binary value of "
              + value.length
              + " bytes is not a valid value of type OID "
              + type);
    }
  }

  private static String textLiteral(int number, int type, String text) {
    String trimmed = text.trim();
    switch (type) {
      case BOOL:
        return bool(number, trimmed);
      case INT2:
        return cast(parseInteger(number, trimmed, Short.MIN_VALUE, Short.MAX_VALUE), "SMALLINT");
      case INT4:
        return bare(
            Long.toString(parseInteger(number, trimmed, Integer.MIN_VALUE, Integer.MAX_VALUE)));
      case INT8:
        return cast(parseInteger(number, trimmed, Long.MIN_VALUE, Long.MAX_VALUE), "BIGINT");
      case FLOAT4:
      case FLOAT8:
        return floating(type, parseDouble(number, trimmed));
      case NUMERIC:
        return numeric(parseNumeric(number, trimmed));
      case BYTEA:
        return blob(parseBytea(number, text));
      case UNSPECIFIED:
        return quote(withoutDateZone(text));
      default:
        String castType = castType(type);
        return castType == null ? quote(text) : "CAST(" + quote(text) + " AS " + castType + ")";
    }
  }

  /**
   * A date sent with a time zone ({@code 2024-01-31 +01}, as pgJDBC's {@code setDate} sends it
   * untyped) without the zone: PostgreSQL ignores the zone of a date, DuckDB refuses it.
   */
  static String withoutDateZone(String text) {
    Matcher matcher = DATE_WITH_ZONE.matcher(text);
    if (!matcher.matches()) {
      return text;
    }
    return matcher.group(1) + (matcher.group(2) == null ? "" : " (BC)");
  }

  private static String binaryLiteral(int number, int type, byte[] value) {
    ByteBuffer buffer = ByteBuffer.wrap(value);
    switch (type) {
      case BOOL:
        checkLength(number, value, 1);
        return value[0] != 0 ? "TRUE" : "FALSE";
      case INT2:
        checkLength(number, value, 2);
        return cast(buffer.getShort(), "SMALLINT");
      case INT4:
        checkLength(number, value, 4);
        return bare(Integer.toString(buffer.getInt()));
      case INT8:
        checkLength(number, value, 8);
        return cast(buffer.getLong(), "BIGINT");
      case FLOAT4:
        checkLength(number, value, 4);
        return floating(type, buffer.getFloat());
      case FLOAT8:
        checkLength(number, value, 8);
        return floating(type, buffer.getDouble());
      case NUMERIC:
        return numeric(PgNumeric.decode(value));
      case BYTEA:
        return blob(value);
      case UUID_OID:
        checkLength(number, value, 16);
        return cast(quote(new UUID(buffer.getLong(), buffer.getLong()).toString()), "UUID");
      case DATE:
        checkLength(number, value, 4);
        int days = buffer.getInt();
        return cast(quote(dateText(days)), "DATE");
      case TIME:
        checkLength(number, value, 8);
        return cast(quote(SqlValues.text(LocalTime.ofNanoOfDay(buffer.getLong() * 1000))), "TIME");
      case TIMESTAMP:
        checkLength(number, value, 8);
        return cast(quote(timestampText(buffer.getLong(), false)), "TIMESTAMP");
      case TIMESTAMPTZ:
        checkLength(number, value, 8);
        return cast(quote(timestampText(buffer.getLong(), true)), "TIMESTAMPTZ");
      default:
        if (STRING_TYPES.contains(type)) {
          return quote(new String(value, StandardCharsets.UTF_8));
        }
        throw PgErrors.unsupported(
            "Cannot bind parameter $"
                + number
                + ": the binary format of type OID "
                + type
                + " is not supported; send this parameter in text format");
    }
  }

  /** The DuckDB type a declared parameter type is cast to; null for string and unknown types. */
  private static String castType(int type) {
    switch (type) {
      case BOOL:
        return "BOOLEAN";
      case INT2:
        return "SMALLINT";
      case INT4:
        return "INTEGER";
      case INT8:
        return "BIGINT";
      case FLOAT4:
        return "REAL";
      case FLOAT8:
        return "DOUBLE";
      case NUMERIC:
        return "DECIMAL(38,10)";
      case DATE:
        return "DATE";
      case TIME:
        return "TIME";
      case TIMESTAMP:
        return "TIMESTAMP";
      case TIMESTAMPTZ:
        return "TIMESTAMPTZ";
      case INTERVAL:
        return "INTERVAL";
      case UUID_OID:
        return "UUID";
      case BYTEA:
        return "BLOB";
      default:
        return null;
    }
  }

  private static void checkLength(int number, byte[] value, int length) {
    if (value.length != length) {
      throw PgErrors.invalid(
          PgErrors.INVALID_BINARY_REPRESENTATION,
          "Cannot bind parameter $"
              + number
              + ": its binary value has "
              + value.length
              + " bytes where "
              + length
              + " were expected");
    }
  }

  private static String bool(int number, String text) {
    String word = text.toLowerCase(Locale.ROOT);
    if (TRUE_WORDS.contains(word)) {
      return "TRUE";
    }
    if (FALSE_WORDS.contains(word)) {
      return "FALSE";
    }
    throw invalidText(number, text, "boolean");
  }

  private static long parseInteger(int number, String text, long min, long max) {
    try {
      long value = Long.parseLong(text);
      if (value >= min && value <= max) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw invalidText(number, text, "integer between " + min + " and " + max);
  }

  private static double parseDouble(int number, String text) {
    String lower = text.toLowerCase(Locale.ROOT);
    if (lower.equals("nan")) {
      return Double.NaN;
    }
    if (lower.equals("infinity") || lower.equals("+infinity") || lower.equals("inf")) {
      return Double.POSITIVE_INFINITY;
    }
    if (lower.equals("-infinity") || lower.equals("-inf")) {
      return Double.NEGATIVE_INFINITY;
    }
    if (!text.isEmpty() && Character.isLetter(text.charAt(text.length() - 1))) {
      // Java accepts "1d" and "1f"; PostgreSQL does not.
      throw invalidText(number, text, "floating point number");
    }
    try {
      return Double.parseDouble(text);
    } catch (NumberFormatException e) {
      throw invalidText(number, text, "floating point number");
    }
  }

  /** The number, or null for NaN, which DuckDB's DECIMAL cannot hold. */
  private static BigDecimal parseNumeric(int number, String text) {
    if (text.equalsIgnoreCase("nan")) {
      return null;
    }
    try {
      return new BigDecimal(text);
    } catch (NumberFormatException e) {
      throw invalidText(number, text, "numeric");
    }
  }

  private static byte[] parseBytea(int number, String text) {
    if (text.startsWith("\\x")) {
      try {
        return HEX.parseHex(text.substring(2));
      } catch (IllegalArgumentException e) {
        throw invalidText(number, text, "bytea in hex format");
      }
    }
    // PostgreSQL's escape format: \\ is a backslash, \ooo an octal byte, anything else itself.
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    byte[] raw = text.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < raw.length; i++) {
      if (raw[i] != '\\') {
        bytes.write(raw[i]);
      } else if (i + 1 < raw.length && raw[i + 1] == '\\') {
        bytes.write('\\');
        i++;
      } else if (i + 3 < raw.length && isOctal(raw, i + 1)) {
        bytes.write(Integer.parseInt(new String(raw, i + 1, 3, StandardCharsets.US_ASCII), 8));
        i += 3;
      } else {
        throw invalidText(number, text, "bytea");
      }
    }
    return bytes.toByteArray();
  }

  private static boolean isOctal(byte[] raw, int from) {
    for (int i = from; i < from + 3; i++) {
      if (raw[i] < '0' || raw[i] > '7') {
        return false;
      }
    }
    return raw[from] <= '3';
  }

  private static RuntimeException invalidText(int number, String text, String expected) {
    return PgErrors.invalid(
        PgErrors.INVALID_TEXT_REPRESENTATION,
        "Cannot bind parameter $" + number + ": \"" + text + "\" is not a valid " + expected);
  }

  private static String floating(int type, double value) {
    String castType = type == FLOAT4 ? "REAL" : "DOUBLE";
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      String word = Double.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
      return cast(quote(word), castType);
    }
    return cast(Double.toString(value), castType);
  }

  private static String numeric(BigDecimal value) {
    return value == null ? "CAST('NaN' AS DOUBLE)" : bare(value.toPlainString());
  }

  private static String blob(byte[] bytes) {
    StringBuilder literal = new StringBuilder(bytes.length * 4 + 20).append("CAST('");
    for (byte b : bytes) {
      literal.append("\\x").append(HEX.toHexDigits(b));
    }
    return literal.append("' AS BLOB)").toString();
  }

  /** A number as written; negative numbers in parentheses so that "-$1" cannot become "--1". */
  private static String bare(String number) {
    return number.startsWith("-") ? "(" + number + ")" : number;
  }

  private static String cast(long value, String type) {
    return cast(Long.toString(value), type);
  }

  private static String cast(String literal, String type) {
    return "CAST(" + literal + " AS " + type + ")";
  }

  static String quote(String text) {
    return "'" + text.replace("'", "''") + "'";
  }

  private static String dateText(int days) {
    if (days == Integer.MAX_VALUE) {
      return "infinity";
    }
    if (days == Integer.MIN_VALUE) {
      return "-infinity";
    }
    LocalDate date = PgType.POSTGRES_EPOCH.plusDays(days);
    return date.getYear() > 0 ? date.toString() : PgType.dateText(date).replace(" BC", " (BC)");
  }

  private static String timestampText(long micros, boolean withTimeZone) {
    if (micros == Long.MAX_VALUE) {
      return "infinity";
    }
    if (micros == Long.MIN_VALUE) {
      return "-infinity";
    }
    return withTimeZone
        ? SqlValues.text(OffsetDateTime.ofInstant(PgType.instant(micros), ZoneOffset.UTC))
        : SqlValues.text(LocalDateTime.ofInstant(PgType.instant(micros), ZoneOffset.UTC));
  }
}
