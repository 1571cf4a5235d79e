package io.floe.testing;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;

/**
 * A randomized, reproducible workload over every MariaDB type Floe maps, for end-to-end tests of
 * the MariaDB source, with both sides of the comparison: {@link #sourceRows} reads a table from
 * MariaDB and {@link #icebergRows} its Iceberg copy, each as canonical text per column, so that
 * replication is exact when the two maps are equal.
 *
 * <p>Tables ({@link #createTables}) in the given database: {@code everything}, a {@code bigint} key
 * and one column per type (signed and unsigned integers, decimals, floats, bits, strings, binaries,
 * date and time types, year, json, enum, set, and a {@code datetime} that is sometimes the zero
 * date, which replicates as null); {@code pairs}, a composite key {@code (a int, b varchar)} and a
 * payload. Each transaction of {@link #runTransactions} holds 1 to 6 operations: inserts, updates
 * of a few columns, deletes, key changes, statements that change many rows, and the same on {@code
 * pairs}. Not thread-safe; use one instance per connection.
 */
public final class MariaDbWorkload {
  private static final int NULL_PERCENT = 15;
  private static final DateTimeFormatter DATETIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS");
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS");
  private static final String[] MOODS = {"sad", "ok", "happy"};
  private static final String[] LETTERS = {"a", "b", "c"};

  /**
   * A column of {@code everything}: its DDL, the SQL that reads it from MariaDB as canonical text,
   * how an Iceberg value of it reads as that text, and how a random value is bound.
   */
  private record Column(
      String name,
      String type,
      String canonicalSql,
      java.util.function.Function<Object, String> iceberg,
      BiConsumer<Bound, Random> bind) {}

  /** A statement parameter to bind. */
  private record Bound(PreparedStatement statement, int index) {
    void set(Object value) {
      try {
        statement.setObject(index, value);
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  static final List<Column> COLUMNS =
      List.of(
          integer("c_tinyint", "TINYINT", -128, 127),
          integer("c_tinyint_u", "TINYINT UNSIGNED", 0, 255),
          integer("c_smallint", "SMALLINT", -32768, 32767),
          integer("c_mediumint", "MEDIUMINT", -8388608, 8388607),
          integer("c_int", "INT", Integer.MIN_VALUE, Integer.MAX_VALUE),
          integer("c_int_u", "INT UNSIGNED", 0, 4294967295L),
          integer("c_bigint", "BIGINT", Long.MIN_VALUE, Long.MAX_VALUE),
          new Column(
              "c_bigint_u",
              "BIGINT UNSIGNED",
              "CAST(c_bigint_u AS CHAR)",
              value -> ((BigDecimal) value).toPlainString(),
              (bound, random) ->
                  bound.set(
                      random.nextInt(4) == 0
                          ? new BigInteger("18446744073709551615")
                          : BigInteger.valueOf(random.nextLong() & Long.MAX_VALUE))),
          integer("c_bool", "BOOL", 0, 1),
          new Column(
              "c_decimal",
              "DECIMAL(12,3)",
              "CAST(c_decimal AS CHAR)",
              value -> ((BigDecimal) value).toPlainString(),
              (bound, random) ->
                  bound.set(BigDecimal.valueOf(random.nextLong() % 1_000_000_000_000L, 3))),
          new Column(
              "c_decimal_wide",
              "DECIMAL(50,10)",
              "CAST(c_decimal_wide AS CHAR)",
              Object::toString,
              (bound, random) ->
                  bound.set(
                      new BigDecimal(
                          new BigInteger(130, random)
                              .multiply(BigInteger.valueOf(random.nextBoolean() ? 1 : -1)),
                          10))),
          new Column(
              "c_float",
              "FLOAT",
              "CAST(c_float AS CHAR)",
              value -> Float.toString((Float) value),
              (bound, random) -> bound.set((float) (random.nextInt(2_000_000) - 1_000_000) / 100)),
          new Column(
              "c_double",
              "DOUBLE",
              "CAST(c_double AS CHAR)",
              value -> Double.toString((Double) value),
              // At most 15 significant digits, which MariaDB prints exactly.
              (bound, random) -> bound.set((random.nextLong() % 100_000_000_000_000L) / 1000.0)),
          new Column(
              "c_bit1",
              "BIT(1)",
              "CASE WHEN c_bit1 IS NULL THEN NULL WHEN c_bit1 = b'1' THEN 'true' ELSE 'false' END",
              Object::toString,
              (bound, random) -> bound.set(random.nextBoolean())),
          new Column(
              "c_bits",
              "BIT(12)",
              "LPAD(HEX(c_bits), 4, '0')",
              MariaDbWorkload::hex,
              (bound, random) -> bound.set(random.nextInt(4096))),
          text("c_char", "CHAR(5)", 5),
          text("c_varchar", "VARCHAR(40)", 40),
          text("c_text", "TEXT", 300),
          new Column(
              "c_binary",
              "BINARY(4)",
              "HEX(c_binary)",
              MariaDbWorkload::hex,
              (bound, random) -> bound.set(bytes(random, 4))),
          new Column(
              "c_varbinary",
              "VARBINARY(16)",
              "HEX(c_varbinary)",
              MariaDbWorkload::hex,
              (bound, random) -> bound.set(bytes(random, random.nextInt(17)))),
          new Column(
              "c_blob",
              "BLOB",
              "HEX(c_blob)",
              MariaDbWorkload::hex,
              (bound, random) -> bound.set(bytes(random, random.nextInt(2000)))),
          new Column(
              "c_date",
              "DATE",
              "DATE_FORMAT(c_date, '%Y-%m-%d')",
              Object::toString,
              (bound, random) -> bound.set(LocalDate.ofEpochDay(random.nextInt(80_000) - 25_000))),
          new Column(
              "c_time",
              "TIME(6)",
              "TIME_FORMAT(c_time, '%H:%i:%s.%f')",
              value -> TIME.format((LocalTime) value),
              (bound, random) ->
                  bound.set(
                      LocalTime.ofNanoOfDay(
                          (random.nextLong() & Long.MAX_VALUE) % 86_400_000_000L * 1000))),
          new Column(
              "c_datetime",
              "DATETIME(3)",
              "DATE_FORMAT(c_datetime, '%Y-%m-%dT%H:%i:%s.%f')",
              value -> DATETIME.format((LocalDateTime) value),
              (bound, random) ->
                  bound.set(
                      LocalDateTime.ofEpochSecond(
                          random.nextInt(2_000_000_000) - 500_000_000L,
                          random.nextInt(1000) * 1_000_000,
                          ZoneOffset.UTC))),
          new Column(
              "c_timestamp",
              "TIMESTAMP(6) NULL",
              "DATE_FORMAT(CONVERT_TZ(c_timestamp, @@session.time_zone, '+00:00'),"
                  + " '%Y-%m-%dT%H:%i:%s.%f')",
              value ->
                  DATETIME.format(((OffsetDateTime) value).withOffsetSameInstant(ZoneOffset.UTC)),
              (bound, random) ->
                  bound.set(
                      LocalDateTime.ofEpochSecond(
                          100_000 + random.nextInt(2_000_000_000),
                          random.nextInt(1_000_000) * 1000,
                          ZoneOffset.ofHours(2)))),
          integer("c_year", "YEAR", 1901, 2155),
          new Column(
              "c_json",
              "JSON",
              "c_json",
              Object::toString,
              (bound, random) ->
                  bound.set(
                      "{\"n\": " + random.nextInt(1000) + ", \"s\": \"" + word(random) + "\"}")),
          new Column(
              "c_enum",
              "ENUM('sad','ok','happy')",
              "c_enum",
              Object::toString,
              (bound, random) -> bound.set(MOODS[random.nextInt(MOODS.length)])),
          new Column(
              "c_set",
              "SET('a','b','c')",
              "c_set",
              Object::toString,
              (bound, random) -> {
                List<String> members = new ArrayList<>();
                for (String letter : LETTERS) {
                  if (random.nextBoolean()) {
                    members.add(letter);
                  }
                }
                bound.set(String.join(",", members));
              }),
          new Column(
              "c_zero",
              "DATETIME",
              "IF(c_zero = '0000-00-00 00:00:00', NULL,"
                  + " DATE_FORMAT(c_zero, '%Y-%m-%dT%H:%i:%s.%f'))",
              value -> DATETIME.format((LocalDateTime) value),
              (bound, random) ->
                  bound.set(
                      random.nextBoolean()
                          ? "0000-00-00 00:00:00"
                          : "20" + (10 + random.nextInt(20)) + "-06-15 12:34:56")));

  private static final String ALL_COLUMNS =
      COLUMNS.stream().map(Column::name).collect(Collectors.joining(", "));

  private final Connection connection;
  private final Random random;
  private long statements;

  /** A workload on {@code connection}, whose tables {@link #createTables} has created. */
  public MariaDbWorkload(Connection connection, long seed) {
    this.connection = requireNonNull(connection, "connection is null");
    this.random = new Random(seed);
  }

  /** Creates {@code everything} and {@code pairs} in the connection's database. */
  public static void createTables(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute(
          "CREATE TABLE everything (id BIGINT PRIMARY KEY, "
              + COLUMNS.stream()
                  .map(column -> column.name() + " " + column.type())
                  .collect(Collectors.joining(", "))
              + ")");
      statement.execute(
          "CREATE TABLE pairs (a INT, b VARCHAR(20), payload VARCHAR(100), PRIMARY KEY (a, b))");
    }
  }

  /** Inserts {@code rows} rows into each table, in autocommit batches. */
  public static void initialLoad(Connection connection, int rows, long seed) throws SQLException {
    MariaDbWorkload workload = new MariaDbWorkload(connection, seed);
    for (int id = 1; id <= rows; id++) {
      workload.insertEverything(id);
      workload.insertPair(id, "b" + id);
    }
  }

  /** Runs {@code count} transactions of random changes. */
  public void runTransactions(int count) throws SQLException {
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(false);
    try {
      for (int i = 0; i < count; i++) {
        int operations = 1 + random.nextInt(6);
        for (int j = 0; j < operations; j++) {
          operation();
        }
        connection.commit();
      }
    } catch (SQLException e) {
      connection.rollback();
      throw e;
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }

  /** Statements run so far by {@link #runTransactions}. */
  public long statements() {
    return statements;
  }

  private void operation() throws SQLException {
    int kind = random.nextInt(100);
    Long id = pickId();
    if (kind < 25 || id == null) {
      insertEverything(maxId() + 1);
    } else if (kind < 50) {
      Column column = COLUMNS.get(random.nextInt(COLUMNS.size()));
      try (PreparedStatement statement =
          connection.prepareStatement(
              "UPDATE everything SET " + column.name() + " = ? WHERE id = ?")) {
        bind(column, new Bound(statement, 1));
        statement.setLong(2, id);
        execute(statement);
      }
    } else if (kind < 60) {
      try (PreparedStatement statement =
          connection.prepareStatement("DELETE FROM everything WHERE id = ?")) {
        statement.setLong(1, id);
        execute(statement);
      }
    } else if (kind < 66) {
      try (PreparedStatement statement =
          connection.prepareStatement("UPDATE everything SET id = ? WHERE id = ?")) {
        statement.setLong(1, maxId() + 1 + random.nextInt(3));
        statement.setLong(2, id);
        execute(statement);
      }
    } else if (kind < 70) {
      try (PreparedStatement statement =
          connection.prepareStatement(
              "UPDATE everything SET c_int = IFNULL(c_int, 0) DIV 2 + 1 WHERE id % 11 = ?")) {
        statement.setInt(1, random.nextInt(11));
        execute(statement);
      }
    } else {
      pairOperation();
    }
  }

  private void pairOperation() throws SQLException {
    int kind = random.nextInt(4);
    Object[] pair = pickPair();
    if (kind == 0 || pair == null) {
      insertPair(random.nextInt(100_000), "b" + random.nextInt(1000));
      return;
    }
    String sql =
        switch (kind) {
          case 1 -> "UPDATE pairs SET payload = ? WHERE a = ? AND b = ?";
          case 2 -> "UPDATE IGNORE pairs SET b = ? WHERE a = ? AND b = ?";
          default -> "DELETE FROM pairs WHERE ? IS NOT NULL AND a = ? AND b = ?";
        };
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setString(1, kind == 2 ? "b" + random.nextInt(1000) : word(random));
      statement.setInt(2, (Integer) pair[0]);
      statement.setString(3, (String) pair[1]);
      execute(statement);
    }
  }

  private void insertEverything(long id) throws SQLException {
    try (PreparedStatement statement =
        connection.prepareStatement(
            "INSERT INTO everything (id, "
                + ALL_COLUMNS
                + ") VALUES (?"
                + ", ?".repeat(COLUMNS.size())
                + ")")) {
      statement.setLong(1, id);
      for (int i = 0; i < COLUMNS.size(); i++) {
        bind(COLUMNS.get(i), new Bound(statement, i + 2));
      }
      execute(statement);
    }
  }

  private void insertPair(int a, String b) throws SQLException {
    try (PreparedStatement statement =
        connection.prepareStatement("INSERT IGNORE INTO pairs (a, b, payload) VALUES (?, ?, ?)")) {
      statement.setInt(1, a);
      statement.setString(2, b);
      statement.setString(3, random.nextInt(100) < NULL_PERCENT ? null : word(random));
      execute(statement);
    }
  }

  private void bind(Column column, Bound bound) {
    if (random.nextInt(100) < NULL_PERCENT) {
      bound.set(null);
    } else {
      column.bind().accept(bound, random);
    }
  }

  private void execute(PreparedStatement statement) throws SQLException {
    statement.executeUpdate();
    statements++;
  }

  private long maxId() throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery("SELECT IFNULL(MAX(id), 0) FROM everything")) {
      result.next();
      return result.getLong(1);
    }
  }

  private Long pickId() throws SQLException {
    try (PreparedStatement statement =
        connection.prepareStatement(
            "SELECT id FROM everything WHERE id >= ? ORDER BY id LIMIT 1")) {
      statement.setLong(1, 1 + (long) (random.nextDouble() * maxId()));
      try (ResultSet result = statement.executeQuery()) {
        return result.next() ? result.getLong(1) : null;
      }
    }
  }

  private Object[] pickPair() throws SQLException {
    try (PreparedStatement statement =
        connection.prepareStatement("SELECT a, b FROM pairs WHERE a >= ? ORDER BY a, b LIMIT 1")) {
      statement.setInt(1, random.nextInt(100_000));
      try (ResultSet result = statement.executeQuery()) {
        return result.next() ? new Object[] {result.getInt(1), result.getString(2)} : null;
      }
    }
  }

  /**
   * A table's rows read from MariaDB, by key ({@code |}-joined canonical key values): each the
   * canonical text of every column in table order, null for SQL NULL.
   */
  public static Map<String, List<String>> sourceRows(Connection connection, String table)
      throws SQLException {
    boolean everything = table.equals("everything");
    String select =
        everything
            ? "SELECT CAST(id AS CHAR), "
                + COLUMNS.stream().map(Column::canonicalSql).collect(Collectors.joining(", "))
                + " FROM everything"
            : "SELECT CAST(a AS CHAR), b, payload FROM pairs";
    Map<String, List<String>> rows = new TreeMap<>();
    try (Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery(select)) {
      int count = result.getMetaData().getColumnCount();
      while (result.next()) {
        List<String> values = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
          String value = result.getString(i);
          if (value != null && everything && i > 1) {
            value = normalize(COLUMNS.get(i - 2), value);
          }
          values.add(value);
        }
        rows.put(everything ? values.get(0) : values.get(0) + "|" + values.get(1), values);
      }
    }
    return rows;
  }

  /** The same from the table's Iceberg copy. */
  public static Map<String, List<String>> icebergRows(Table table) {
    table.refresh();
    boolean everything = table.name().endsWith("everything");
    Map<String, List<String>> rows = new TreeMap<>();
    try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
      for (Record record : records) {
        List<String> values = new ArrayList<>();
        values.add(record.getField(everything ? "id" : "a").toString());
        if (everything) {
          for (Column column : COLUMNS) {
            Object value = record.getField(column.name());
            values.add(value == null ? null : column.iceberg().apply(value));
          }
        } else {
          values.add((String) record.getField("b"));
          values.add((String) record.getField("payload"));
        }
        rows.put(everything ? values.get(0) : values.get(0) + "|" + values.get(1), values);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }

  /** How many rows a table's Iceberg copy has. */
  public static long icebergRowCount(Table table) {
    table.refresh();
    long count = 0;
    try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
      for (Record ignored : records) {
        count++;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return count;
  }

  /** The first few rows that differ between two tables' rows, for a failure message. */
  public static String differences(
      Map<String, List<String>> expected, Map<String, List<String>> actual) {
    List<String> lines = new ArrayList<>();
    for (Map.Entry<String, List<String>> row : expected.entrySet()) {
      List<String> other = actual.get(row.getKey());
      if (!row.getValue().equals(other)) {
        lines.add(
            "key "
                + row.getKey()
                + ": source "
                + abbreviate(row.getValue())
                + " lake "
                + abbreviate(other));
      }
    }
    for (String key : actual.keySet()) {
      if (!expected.containsKey(key)) {
        lines.add("key " + key + ": only in the lake " + actual.get(key));
      }
    }
    return lines.size()
        + " rows differ ("
        + expected.size()
        + " in the source, "
        + actual.size()
        + " in the lake), first: "
        + String.join("\n  ", lines.subList(0, Math.min(5, lines.size())));
  }

  private static List<String> abbreviate(List<String> values) {
    if (values == null) {
      return null;
    }
    List<String> shortened = new ArrayList<>();
    for (String value : values) {
      shortened.add(value == null || value.length() <= 40 ? value : value.substring(0, 37) + "...");
    }
    return shortened;
  }

  /** Floats and doubles as Java prints them, from MariaDB's shortest text. */
  private static String normalize(Column column, String value) {
    return switch (column.name()) {
      case "c_float" -> Float.toString(Float.parseFloat(value));
      case "c_double" -> Double.toString(Double.parseDouble(value));
      case "c_binary", "c_varbinary", "c_blob", "c_bits" -> value.toUpperCase(Locale.ROOT);
      default -> value;
    };
  }

  private static Column integer(String name, String type, long min, long max) {
    return new Column(
        name,
        type,
        "CAST(" + name + " AS CHAR)",
        Object::toString,
        (bound, random) -> {
          int edge = random.nextInt(10);
          long span = max - min + 1; // 0 for the whole range of long
          long value =
              edge == 0
                  ? min
                  : edge == 1
                      ? max
                      : span <= 0
                          ? random.nextLong()
                          : min + Math.floorMod(random.nextLong(), span);
          bound.set(value);
        });
  }

  private static Column text(String name, String type, int maxLength) {
    return new Column(
        name,
        type,
        name,
        Object::toString,
        (bound, random) -> {
          StringBuilder text = new StringBuilder();
          int length = random.nextInt(maxLength + 1);
          while (text.length() < length) {
            text.append(word(random));
          }
          String value = text.substring(0, length);
          // CHAR drops trailing spaces: none are written.
          bound.set(value.stripTrailing());
        });
  }

  private static String word(Random random) {
    String[] words = {"floe", "ice", "berg", "naïve", "Zürich", "日本", "lake", "🐧", "a b"};
    return words[random.nextInt(words.length)];
  }

  private static byte[] bytes(Random random, int length) {
    byte[] bytes = new byte[length];
    random.nextBytes(bytes);
    return bytes;
  }

  private static String hex(Object value) {
    ByteBuffer buffer = ((ByteBuffer) value).duplicate();
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(bytes);
    return HexFormat.of().withUpperCase().formatHex(bytes);
  }
}
