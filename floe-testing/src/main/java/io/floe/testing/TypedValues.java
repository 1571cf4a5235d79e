package io.floe.testing;

import static java.util.Objects.requireNonNull;

import io.floe.demo.RandomText;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Random;
import java.util.UUID;

/**
 * The columns of {@link TypesWorkload}'s {@code everything} table, one per PostgreSQL type, and the
 * random values it writes into them, which cover the edges of each type.
 */
final class TypedValues {
  private static final ZoneOffset[] OFFSETS = {
    ZoneOffset.UTC,
    ZoneOffset.ofHours(1),
    ZoneOffset.ofHours(-8),
    ZoneOffset.ofHoursMinutes(5, 30),
    ZoneOffset.ofHoursMinutes(5, 45),
    ZoneOffset.ofHoursMinutes(-9, -30),
    ZoneOffset.ofHours(14),
    ZoneOffset.ofHours(-12),
  };
  private static final String[] MOODS = {"sad", "ok", "happy"};
  private static final long FIRST_DAY = LocalDate.of(1900, 1, 1).toEpochDay();
  private static final long LAST_DAY = LocalDate.of(2100, 12, 31).toEpochDay();
  private static final long MICROS_PER_DAY = 86_400_000_000L;

  /** Every column of {@code everything} but {@code id}, in table order. */
  static final List<Column> COLUMNS =
      List.of(
          new Column("c_smallint", "?", TypedValues::setSmallint),
          new Column("c_int", "?", TypedValues::setInt),
          new Column("c_bigint", "?", TypedValues::setBigint),
          new Column("c_numeric", "?", TypedValues::setNumeric),
          new Column("c_numeric_unbounded", "?", TypedValues::setNumericUnbounded),
          new Column("c_real", "?", TypedValues::setReal),
          new Column("c_double", "?", TypedValues::setDouble),
          new Column(
              "c_bool",
              "?",
              (statement, index, random, connection) ->
                  statement.setBoolean(index, random.nextBoolean())),
          new Column(
              "c_text",
              "?",
              (statement, index, random, connection) ->
                  statement.setString(index, RandomText.anyText(random))),
          new Column(
              "c_varchar",
              "?",
              (statement, index, random, connection) ->
                  statement.setString(index, RandomText.codePoints(random, 50))),
          new Column(
              "c_char",
              "?",
              (statement, index, random, connection) ->
                  statement.setString(index, RandomText.codePoints(random, 5))),
          new Column("c_bytea", "?", TypedValues::setBytea),
          new Column(
              "c_date",
              "?",
              (statement, index, random, connection) ->
                  statement.setObject(index, randomDate(random))),
          new Column(
              "c_time",
              "?",
              (statement, index, random, connection) ->
                  statement.setObject(index, randomTime(random))),
          new Column(
              "c_timestamp",
              "?",
              (statement, index, random, connection) ->
                  statement.setObject(index, randomTimestamp(random))),
          new Column("c_timestamptz", "?", TypedValues::setTimestamptz),
          new Column("c_uuid", "?", TypedValues::setUuid),
          new Column(
              "c_json",
              "?::json",
              (statement, index, random, connection) ->
                  statement.setString(index, RandomJson.document(random))),
          new Column(
              "c_jsonb",
              "?::jsonb",
              (statement, index, random, connection) ->
                  statement.setString(index, RandomJson.document(random))),
          new Column(
              "c_mood",
              "?::public.mood",
              (statement, index, random, connection) ->
                  statement.setString(index, pick(random, MOODS))),
          new Column("c_int_array", "?", TypedValues::setIntArray),
          new Column("c_text_array", "?", TypedValues::setTextArray),
          new Column(
              "c_big",
              "?",
              (statement, index, random, connection) ->
                  statement.setString(index, bigText(random))));

  /** Binds a value for one column; the caller decides about NULL. */
  @FunctionalInterface
  interface ValueBinder {
    void bind(PreparedStatement statement, int index, Random random, Connection connection)
        throws SQLException;
  }

  /** A column of {@code everything}: its name, its SQL placeholder and how to bind a value. */
  record Column(String name, String placeholder, ValueBinder binder) {
    Column {
      requireNonNull(name, "name is null");
      requireNonNull(placeholder, "placeholder is null");
      requireNonNull(binder, "binder is null");
    }
  }

  private TypedValues() {}

  private static <T> T pick(Random random, T[] values) {
    return values[random.nextInt(values.length)];
  }

  private static void setSmallint(
      PreparedStatement statement, int index, Random random, Connection connection)
      throws SQLException {
    short[] edges = {Short.MIN_VALUE, Short.MAX_VALUE, 0, -1, 1};
    statement.setShort(
        index,
        random.nextInt(4) == 0
            ? edges[random.nextInt(edges.length)]
            : (short) (random.nextInt(1 << 16) + Short.MIN_VALUE));
  }

  private static void setInt(
      PreparedStatement statement, int index, Random random, Connection connection)
      throws SQLException {
    int[] edges = {Integer.MIN_VALUE, Integer.MAX_VALUE, 0, -1, 1};
    statement.setInt(
        index,
        random.nextInt(4) == 0
            ? edges[random.nextInt(edges.length)]
            : random.nextBoolean() ? random.nextInt() : random.nextInt(2001) - 1000);
  }

  private static void setBigint(
      PreparedStatement statement, int index, Random random, Connection connection)
      throws SQLException {
    long[] edges = {Long.MIN_VALUE, Long.MAX_VALUE, 0, -1, 1};
    statement.setLong(
        index,
        random.nextInt(4) == 0
            ? edges[random.nextInt(edges.length)]
            : random.nextBoolean() ? random.nextLong() : random.nextInt(2_000_001) - 1_000_000L);
  }

  /** numeric(12,4): up to 8 integer digits and exactly 4 decimal places. */
  private static void setNumeric(
      PreparedStatement statement, int index, Random random, Connection connection)
      throws SQLException {
    BigDecimal value;
    int kind = random.nextInt(8);
    if (kind == 0) {
      String[] edges = {"0.0000", "99999999.9999", "-99999999.9999", "0.0001", "-0.0001"};
      value = new BigDecimal(pick(random, edges));
    } else {
      long bound = pow10(1 + random.nextInt(12));
      long unscaled = Math.floorMod(random.nextLong(), bound);
      value = BigDecimal.valueOf(random.nextBoolean() ? unscaled : -unscaled, 4);
    }
    statement.setBigDecimal(index, value);
  }

  /** Unbounded numeric: up to 20 integer digits and 0 to 10 decimal places (scale is kept). */
  private static void setNumericUnbounded(
      PreparedStatement statement, int index, Random random, Connection connection)
      throws SQLException {
    int kind = random.nextInt(10);
    String text;
    if (kind == 0) {
      String[] edges = {
        "0",
        "0.0000000001",
        "-0.0000000001",
        "99999999999999999999.9999999999",
        "-99999999999999999999.9999999999",
        "1.50",
        "100",
        "-42.0000000000"
      };
      text = pick(random, edges);
    } else {
      StringBuilder digits = new StringBuilder();
      if (random.nextBoolean()) {
        digits.append('-');
      }
      int integerDigits = 1 + random.nextInt(20);
      digits.append(integerDigits == 1 ? random.nextInt(10) : 1 + random.nextInt(9));
      for (int i = 1; i < integerDigits; i++) {
        digits.append(random.nextInt(10));
      }
      int scale = random.nextInt(11);
      if (scale > 0) {
        digits.append('.');
        for (int i = 0; i < scale; i++) {
          digits.append(random.nextInt(10));
        }
      }
      text = digits.toString();
    }
    statement.setBigDecimal(index, new BigDecimal(text));
  }

  private static void setReal(
      PreparedStatement statement, int index, Random random, Connection connection)
      throws SQLException {
    float[] edges = {0f, -1.5f, 1.0e-30f, -3.25e-10f, Float.MAX_VALUE, -Float.MAX_VALUE};
    float value =
        random.nextInt(6) == 0
            ? edges[random.nextInt(edges.length)]
            : (float)
                ((random.nextBoolean() ? 1 : -1)
                    * random.nextFloat()
                    * Math.pow(10, random.nextInt(16) - 5));
    statement.setFloat(index, value);
  }

  private static void setDouble(
      PreparedStatement statement, int index, Random random, Connection connection)
      throws SQLException {
    double[] edges = {0d, -2.5d, 1.0e-300d, -7.0e-12d, Double.MAX_VALUE, -Double.MAX_VALUE};
    double value =
        random.nextInt(6) == 0
            ? edges[random.nextInt(edges.length)]
            : (random.nextBoolean() ? 1 : -1)
                * random.nextDouble()
                * Math.pow(10, random.nextInt(31) - 10);
    statement.setDouble(index, value);
  }

  private static void setBytea(
      PreparedStatement statement, int index, Random random, Connection connection)
      throws SQLException {
    int kind = random.nextInt(5);
    byte[] value;
    if (kind == 0) {
      value = new byte[0];
    } else if (kind == 1) {
      value = new byte[1 + random.nextInt(16)]; // all zero bytes
    } else {
      value = new byte[1 + random.nextInt(200)];
      random.nextBytes(value);
      value[random.nextInt(value.length)] = 0;
    }
    statement.setBytes(index, value);
  }

  private static LocalDate randomDate(Random random) {
    int kind = random.nextInt(10);
    if (kind == 0) {
      LocalDate[] edges = {
        LocalDate.of(1900, 1, 1),
        LocalDate.of(2100, 12, 31),
        LocalDate.of(1970, 1, 1),
        LocalDate.of(2000, 2, 29),
        LocalDate.of(1969, 12, 31)
      };
      return pick(random, edges);
    }
    return LocalDate.ofEpochDay(FIRST_DAY + (long) (random.nextDouble() * (LAST_DAY - FIRST_DAY)));
  }

  private static LocalTime randomTime(Random random) {
    int kind = random.nextInt(10);
    if (kind == 0) {
      LocalTime[] edges = {
        LocalTime.MIDNIGHT, LocalTime.of(23, 59, 59, 999_999_000), LocalTime.of(12, 0, 0, 1_000)
      };
      return pick(random, edges);
    }
    long micros = (long) (random.nextDouble() * MICROS_PER_DAY);
    return LocalTime.ofNanoOfDay(micros * 1_000);
  }

  private static LocalDateTime randomTimestamp(Random random) {
    return LocalDateTime.of(randomDate(random), randomTime(random));
  }

  private static void setTimestamptz(
      PreparedStatement statement, int index, Random random, Connection connection)
      throws SQLException {
    statement.setObject(index, OffsetDateTime.of(randomTimestamp(random), pick(random, OFFSETS)));
  }

  private static void setUuid(
      PreparedStatement statement, int index, Random random, Connection connection)
      throws SQLException {
    int kind = random.nextInt(10);
    UUID value =
        kind == 0
            ? new UUID(0, 0)
            : kind == 1 ? new UUID(-1, -1) : new UUID(random.nextLong(), random.nextLong());
    statement.setObject(index, value);
  }

  private static void setIntArray(
      PreparedStatement statement, int index, Random random, Connection connection)
      throws SQLException {
    Integer[] values = new Integer[random.nextInt(5) == 0 ? 0 : 1 + random.nextInt(8)];
    int[] edges = {Integer.MIN_VALUE, Integer.MAX_VALUE, 0, -1};
    for (int i = 0; i < values.length; i++) {
      int kind = random.nextInt(6);
      values[i] =
          kind == 0 ? null : kind == 1 ? edges[random.nextInt(edges.length)] : random.nextInt(1000);
    }
    statement.setArray(index, connection.createArrayOf("int4", values));
  }

  private static void setTextArray(
      PreparedStatement statement, int index, Random random, Connection connection)
      throws SQLException {
    String[] values = new String[random.nextInt(5) == 0 ? 0 : 1 + random.nextInt(6)];
    for (int i = 0; i < values.length; i++) {
      int kind = random.nextInt(6);
      values[i] =
          kind == 0
              ? null
              : kind <= 2 ? RandomText.awkward(random) : RandomText.codePoints(random, 20);
    }
    statement.setArray(index, connection.createArrayOf("text", values));
  }

  /** 3 to 20 KB of incompressible text: always stored out of line. */
  private static String bigText(Random random) {
    return RandomText.incompressible(random, 3_000 + random.nextInt(17_001));
  }

  private static long pow10(int exponent) {
    long value = 1;
    for (int i = 0; i < exponent; i++) {
      value *= 10;
    }
    return value;
  }
}
