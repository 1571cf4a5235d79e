package io.floe.sql.pgwire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.sql.SqlUsers;
import io.floe.sql.TestEngines;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.PGStatement;
import org.postgresql.util.PSQLException;

/** The PostgreSQL endpoint as pgJDBC sees it. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class PgWireServerIT {
  private static final String ORDERS_QUERY =
      "SELECT id, customer, ordered, amount FROM raw.orders"
          + " WHERE id > ? AND customer <> ? AND ordered >= ? AND amount < ? ORDER BY id";

  @TempDir static Path warehouse;
  private static PgWireFixture fixture;
  private static RecordingProxy proxy;

  @BeforeAll
  static void startServer() throws Exception {
    fixture = PgWireFixture.start(warehouse, Duration.ofMinutes(1));
    proxy = new RecordingProxy(fixture.port());
  }

  @AfterAll
  static void stopServer() throws Exception {
    proxy.close();
    fixture.close();
  }

  @BeforeEach
  void clearRecording() {
    proxy.clear();
  }

  private static Connection connect(String... properties) throws SQLException {
    Properties extra = new Properties();
    for (int i = 0; i < properties.length; i += 2) {
      extra.setProperty(properties[i], properties[i + 1]);
    }
    return fixture.connect(extra);
  }

  /** A connection through the recording proxy. */
  private static Connection connectThroughProxy(String... properties) throws SQLException {
    Properties all = new Properties();
    all.setProperty("user", PgWireFixture.USER);
    all.setProperty("password", PgWireFixture.PASSWORD);
    for (int i = 0; i < properties.length; i += 2) {
      all.setProperty(properties[i], properties[i + 1]);
    }
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + proxy.port() + "/floe?sslmode=disable", all);
  }

  @ParameterizedTest
  @ValueSource(strings = {"extended", "simple"})
  void answersQueriesAfterScramAuthentication(String queryMode) throws Exception {
    try (Connection connection = connect("preferQueryMode", queryMode, "sslmode", "prefer");
        Statement statement = connection.createStatement()) {
      ResultSet result =
          statement.executeQuery("SELECT count(*) AS n, sum(amount) AS total FROM raw.sales");
      assertThat(result.next()).isTrue();
      assertThat(result.getLong("n")).isEqualTo(9);
      assertThat(result.getBigDecimal("total")).isEqualByComparingTo("1480.00");
      assertThat(result.next()).isFalse();
      ResultSetMetaData metadata = result.getMetaData();
      assertThat(metadata.getColumnName(1)).isEqualTo("n");
      assertThat(metadata.getColumnTypeName(1)).isEqualTo("int8");
      assertThat(metadata.getColumnTypeName(2)).isEqualTo("numeric");
      assertThat(connection.getMetaData().getDatabaseProductVersion()).isEqualTo("16.0 (Floe)");

      assertThat(statement.execute("SELECT 1 AS a; SELECT 'two' AS b")).isTrue();
      assertThat(single(statement.getResultSet())).isEqualTo("1");
      assertThat(statement.getMoreResults()).isTrue();
      assertThat(single(statement.getResultSet())).isEqualTo("two");
      assertThat(statement.getMoreResults()).isFalse();
    }
  }

  @Test
  void refusesWrongPasswordsAndUnknownUsersAlike() {
    Properties wrongPassword = new Properties();
    wrongPassword.setProperty("user", PgWireFixture.USER);
    wrongPassword.setProperty("password", "not-the-password");
    assertThatThrownBy(() -> DriverManager.getConnection(fixture.jdbcUrl(), wrongPassword))
        .isInstanceOfSatisfying(
            SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"))
        .hasMessageContaining("password authentication failed for user \"analyst\"");
    Properties unknownUser = new Properties();
    unknownUser.setProperty("user", "mallory");
    unknownUser.setProperty("password", PgWireFixture.PASSWORD);
    assertThatThrownBy(() -> DriverManager.getConnection(fixture.jdbcUrl(), unknownUser))
        .isInstanceOfSatisfying(
            SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"))
        .hasMessageContaining("password authentication failed for user \"mallory\"");
  }

  @Test
  void refusesEveryoneWhenNoUsersAreConfigured() throws Exception {
    Path empty = warehouse.resolve("no-users");
    try (JdbcCatalog catalog =
            FloeCatalog.open(WarehouseConfig.local(empty), CatalogConfig.defaults());
        PgWireServer server =
            new PgWireServer(
                TestEngines.open(catalog, empty),
                new SqlUsers(List.of()),
                "127.0.0.1",
                0,
                Duration.ofMinutes(1))) {
      server.start();
      Properties properties = new Properties();
      properties.setProperty("user", PgWireFixture.USER);
      properties.setProperty("password", PgWireFixture.PASSWORD);
      assertThatThrownBy(
              () ->
                  DriverManager.getConnection(
                      "jdbc:postgresql://127.0.0.1:" + server.port() + "/floe", properties))
          .isInstanceOfSatisfying(
              SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28000"))
          .hasMessageContaining("no SQL users are configured")
          .hasMessageContaining("sql.users");
    }
  }

  @Test
  void preparedStatementsSwitchToBinaryTransferAfterThePrepareThreshold() throws Exception {
    try (Connection connection = connectThroughProxy();
        PreparedStatement statement = connection.prepareStatement(ORDERS_QUERY)) {
      for (int run = 0; run < 8; run++) {
        long minimumId = run * 7L;
        String customer = "c" + (run % 7);
        LocalDate from = LocalDate.of(2024, 1, 1).plusDays(run * 3L);
        BigDecimal below = new BigDecimal("60.25").add(BigDecimal.valueOf(run * 5L));
        statement.setInt(1, (int) minimumId);
        statement.setString(2, customer);
        // pgJDBC sends a java.sql.Date untyped, with a time zone: "2024-01-04 +00".
        statement.setDate(3, Date.valueOf(from));
        statement.setBigDecimal(4, below);
        List<String> rows = new ArrayList<>();
        try (ResultSet result = statement.executeQuery()) {
          while (result.next()) {
            rows.add(
                result.getLong(1)
                    + " "
                    + result.getString(2)
                    + " "
                    + result.getObject(3, LocalDate.class)
                    + " "
                    + result.getBigDecimal(4));
          }
        }
        assertThat(rows)
            .as("run %d", run)
            .isEqualTo(expectedOrders(minimumId, customer, from, below));
      }
      assertThat(statement.unwrap(PGStatement.class).isUseServerPrepare()).isTrue();
    }
    // After the threshold pgJDBC asks for int8, date and numeric columns in binary.
    assertThat(proxy.bindResultFormats()).anySatisfy(formats -> assertThat(formats).contains(1));
  }

  /**
   * The orders the fixture wrote that match {@link #ORDERS_QUERY}, as "id customer date amount".
   */
  private static List<String> expectedOrders(
      long minimumId, String customer, LocalDate from, BigDecimal below) {
    List<String> rows = new ArrayList<>();
    for (long id = 1; id <= 100; id++) {
      BigDecimal amount = id <= 5 ? new BigDecimal("999.99") : new BigDecimal(id + ".50");
      LocalDate ordered = LocalDate.of(2024, 1, 1).plusDays(id - 1);
      String orderCustomer = "c" + (id % 7);
      if (id % 10 != 0
          && id > minimumId
          && !orderCustomer.equals(customer)
          && !ordered.isBefore(from)
          && amount.compareTo(below) < 0) {
        rows.add(id + " " + orderCustomer + " " + ordered + " " + amount);
      }
    }
    return rows;
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -1})
  void readsEveryMappedTypeInTextAndBinaryFormat(int prepareThreshold) throws Exception {
    // prepareThreshold 0: text format; -1: pgJDBC asks for binary wherever it can decode it.
    String sql =
        "SELECT true AS b, CAST(-7 AS TINYINT) AS tiny, CAST(-300 AS SMALLINT) AS small,"
            + " CAST(250 AS UTINYINT) AS utiny, -70000 AS int, CAST(65000 AS USMALLINT) AS usmall,"
            + " CAST(-5000000000 AS BIGINT) AS big, CAST(4000000000 AS UINTEGER) AS uint,"
            + " CAST('170141183460469231731687303715884105727' AS HUGEINT) AS huge,"
            + " CAST('18446744073709551615' AS UBIGINT) AS ubig, CAST(1.5 AS FLOAT) AS f4,"
            + " CAST(-2.25e-7 AS DOUBLE) AS f8,"
            + " CAST('-12345678901234567890.123456789' AS DECIMAL(38,9)) AS dec,"
            + " CAST(0.0001 AS DECIMAL(10,4)) AS tiny_dec, 'héllo ''quoted''' AS txt,"
            + " DATE '2024-02-29' AS d, TIME '23:59:58.123456' AS t,"
            + " TIMESTAMP '2024-01-01 10:00:00.123456' AS ts,"
            + " TIMESTAMPTZ '2024-01-01 10:00:00.5+02' AS tstz,"
            + " CAST('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' AS UUID) AS u,"
            + " CAST('\\xDE\\xAD\\x00' AS BLOB) AS bytes, INTERVAL 3 DAY AS iv, [1, 2, NULL] AS list,"
            + " {'a': 1, 'b': 'x'} AS struct, MAP {'k': 1} AS map, CAST(NULL AS INTEGER) AS nothing";
    try (Connection connection =
            connectThroughProxy("prepareThreshold", Integer.toString(prepareThreshold));
        PreparedStatement statement = connection.prepareStatement(sql);
        ResultSet result = statement.executeQuery()) {
      assertThat(result.next()).isTrue();
      assertThat(result.getBoolean("b")).isTrue();
      assertThat(result.getShort("tiny")).isEqualTo((short) -7);
      assertThat(result.getShort("small")).isEqualTo((short) -300);
      assertThat(result.getShort("utiny")).isEqualTo((short) 250);
      assertThat(result.getInt("int")).isEqualTo(-70000);
      assertThat(result.getInt("usmall")).isEqualTo(65000);
      assertThat(result.getLong("big")).isEqualTo(-5_000_000_000L);
      assertThat(result.getLong("uint")).isEqualTo(4_000_000_000L);
      assertThat(result.getBigDecimal("huge"))
          .isEqualTo(new BigDecimal("170141183460469231731687303715884105727"));
      assertThat(result.getBigDecimal("ubig")).isEqualTo(new BigDecimal("18446744073709551615"));
      assertThat(result.getFloat("f4")).isEqualTo(1.5f);
      assertThat(result.getDouble("f8")).isEqualTo(-2.25e-7);
      assertThat(result.getBigDecimal("dec"))
          .isEqualTo(new BigDecimal("-12345678901234567890.123456789"));
      assertThat(result.getBigDecimal("tiny_dec")).isEqualTo(new BigDecimal("0.0001"));
      assertThat(result.getString("txt")).isEqualTo("héllo 'quoted'");
      assertThat(result.getObject("d", LocalDate.class)).isEqualTo(LocalDate.of(2024, 2, 29));
      assertThat(result.getObject("t", LocalTime.class))
          .isEqualTo(LocalTime.parse("23:59:58.123456"));
      assertThat(result.getObject("ts", LocalDateTime.class))
          .isEqualTo(LocalDateTime.parse("2024-01-01T10:00:00.123456"));
      assertThat(result.getObject("tstz", OffsetDateTime.class).toInstant())
          .isEqualTo(
              OffsetDateTime.of(2024, 1, 1, 8, 0, 0, 500_000_000, ZoneOffset.UTC).toInstant());
      assertThat(result.getObject("u", UUID.class))
          .isEqualTo(UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
      assertThat(result.getBytes("bytes")).containsExactly(0xDE, 0xAD, 0x00);
      assertThat(result.getString("iv")).isEqualTo("3 days");
      assertThat(result.getString("list")).isEqualTo("[1, 2, NULL]");
      assertThat(result.getString("struct")).isEqualTo("{'a': 1, 'b': 'x'}");
      assertThat(result.getString("map")).isEqualTo("{k=1}");
      assertThat(result.getObject("nothing")).isNull();
      assertThat(result.wasNull()).isTrue();
      // pgJDBC knows the names of most types without asking; uuid and interval it looks up in
      // pg_catalog.pg_type, which the endpoint serves.
      ResultSetMetaData metadata = result.getMetaData();
      List<String> types = new ArrayList<>();
      for (int i = 1; i <= metadata.getColumnCount(); i++) {
        types.add(metadata.getColumnName(i) + " " + metadata.getColumnTypeName(i));
      }
      assertThat(types)
          .containsExactly(
              "b bool",
              "tiny int2",
              "small int2",
              "utiny int2",
              "int int4",
              "usmall int4",
              "big int8",
              "uint int8",
              "huge numeric",
              "ubig numeric",
              "f4 float4",
              "f8 float8",
              "dec numeric",
              "tiny_dec numeric",
              "txt text",
              "d date",
              "t time",
              "ts timestamp",
              "tstz timestamptz",
              "u uuid",
              "bytes bytea",
              "iv interval",
              "list text",
              "struct text",
              "map text",
              "nothing int4");
    }
    // The query's own Bind (pgJDBC's later pg_type lookups bind in text).
    List<List<Integer>> binds = proxy.bindResultFormats();
    if (prepareThreshold == -1) {
      assertThat(binds).anySatisfy(formats -> assertThat(formats).contains(1));
    } else {
      assertThat(binds).allSatisfy(formats -> assertThat(formats).doesNotContain(1));
    }
  }

  @Test
  void streamsLargeResultsInBatchesOfTheFetchSize() throws Exception {
    long rows = 0;
    long idSum = 0;
    long rangeSum = 0;
    try (Connection connection = connectThroughProxy()) {
      connection.setAutoCommit(false);
      try (Statement statement = connection.createStatement()) {
        statement.setFetchSize(1000);
        try (ResultSet result =
            statement.executeQuery(
                "SELECT o.id, r.range FROM raw.orders o CROSS JOIN range(11112) r")) {
          while (result.next()) {
            rows++;
            idSum += result.getLong(1);
            rangeSum += result.getLong(2);
          }
        }
      }
      connection.commit();
    }
    assertThat(rows).isEqualTo(90L * 11112);
    assertThat(idSum).isEqualTo(4500L * 11112);
    assertThat(rangeSum).isEqualTo(90L * (11111L * 11112 / 2));
    // The server sent the rows in batches the driver asked for, not all at once.
    assertThat(proxy.executeRowLimits().stream().filter(limit -> limit == 1000).count())
        .isGreaterThanOrEqualTo(rows / 1000);
  }

  @Test
  void cancelsARunningQueryAndStaysUsable() throws Exception {
    ScheduledExecutorService canceller = Executors.newSingleThreadScheduledExecutor();
    try (Connection connection = connect();
        Statement statement = connection.createStatement()) {
      Future<Object> cancellation =
          canceller.schedule(
              () -> {
                statement.cancel();
                return null;
              },
              1,
              TimeUnit.SECONDS);
      long start = System.nanoTime();
      assertThatThrownBy(
              () -> statement.executeQuery("SELECT count(*) FROM range(1000000000000) a"))
          .isInstanceOfSatisfying(
              SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("57014"));
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
      cancellation.get();
      assertThat(single(statement.executeQuery("SELECT 42"))).isEqualTo("42");
    } finally {
      canceller.shutdownNow();
    }
  }

  @Test
  void cancelsQueriesThatRunPastTheTimeout() throws Exception {
    try (PgWireServer server =
        new PgWireServer(
            fixture.engine(), PgWireFixture.users(), "127.0.0.1", 0, Duration.ofSeconds(1))) {
      server.start();
      Properties properties = new Properties();
      properties.setProperty("user", PgWireFixture.USER);
      properties.setProperty("password", PgWireFixture.PASSWORD);
      try (Connection connection =
              DriverManager.getConnection(
                  "jdbc:postgresql://127.0.0.1:" + server.port() + "/floe", properties);
          Statement statement = connection.createStatement()) {
        long start = System.nanoTime();
        assertThatThrownBy(
                () -> statement.executeQuery("SELECT count(*) FROM range(1000000000000) a"))
            .isInstanceOfSatisfying(
                SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("57014"))
            .hasMessageContaining("time limit");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(single(statement.executeQuery("SELECT 1"))).isEqualTo("1");
      }
    }
  }

  @Test
  void reportsErrorsWithSqlStateAndPositionAndStaysUsable() throws Exception {
    try (Connection connection = connect();
        Statement statement = connection.createStatement()) {
      String syntaxError = "SELECT id FROM raw.sales WHERE id = = 1";
      assertThatThrownBy(() -> statement.executeQuery(syntaxError))
          .isInstanceOfSatisfying(
              PSQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("42601");
                assertThat(e.getServerErrorMessage().getPosition())
                    .isEqualTo(syntaxError.indexOf("= 1") + 1);
                assertThat(e.getServerErrorMessage().getDetail()).startsWith("FLOE-300");
              });
      assertThatThrownBy(() -> statement.executeQuery("SELECT * FROM raw.missing"))
          .isInstanceOfSatisfying(
              SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42P01"))
          .hasMessageContaining("tables in namespace raw: orders, sales");
      assertThatThrownBy(() -> statement.executeQuery("SELECT * FROM read_csv('/etc/passwd')"))
          .isInstanceOfSatisfying(
              SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"))
          .hasMessageContaining("read_csv");
      assertThatThrownBy(() -> statement.executeQuery("DELETE FROM raw.sales"))
          .isInstanceOfSatisfying(
              SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
      assertThat(single(statement.executeQuery("SELECT 'still here'"))).isEqualTo("still here");
    }
  }

  @Test
  void pointsErrorsOfPreparedStatementsAtTheTextAsWritten() throws Exception {
    String sql = "SELECT id FROM raw.sales WHERE amount > ? AND nope = ?";
    try (Connection connection = connect();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setBigDecimal(1, new BigDecimal("12345.678"));
      statement.setString(2, "a much longer string value than the placeholder");
      assertThatThrownBy(statement::executeQuery)
          .isInstanceOfSatisfying(
              PSQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("42703");
                // Positions refer to the text the server received, where pgJDBC wrote $1 for ?.
                String received = sql.replaceFirst("\\?", "\\$1").replaceFirst("\\?", "\\$2");
                assertThat(e.getServerErrorMessage().getPosition())
                    .isEqualTo(received.indexOf("nope") + 1);
              });
    }
  }

  @Test
  void bindsParametersOfEveryTypeAsLiterals() throws Exception {
    String sql =
        "SELECT ? AS b, ? AS s, ? AS i, ? AS l, ? AS f, ? AS d, ? AS n, ? AS t, ? AS dt,"
            + " ? AS u, ? AS bytes, ? IS NULL AS missing, ? AS ts";
    try (Connection connection = connect("prepareThreshold", "-1");
        PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setBoolean(1, true);
      statement.setShort(2, (short) -12);
      statement.setInt(3, -5);
      statement.setLong(4, Long.MIN_VALUE);
      statement.setFloat(5, 0.1f);
      statement.setDouble(6, -1.5e300);
      statement.setBigDecimal(7, new BigDecimal("-0.000123"));
      statement.setString(8, "it's -- not a comment /* nor this */ $1");
      statement.setObject(9, LocalDate.of(1999, 12, 31));
      statement.setObject(10, UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
      statement.setBytes(11, new byte[] {0, 39, 92, (byte) 255});
      statement.setNull(12, java.sql.Types.INTEGER);
      statement.setObject(13, LocalDateTime.of(2024, 5, 6, 7, 8, 9, 123_456_000));
      try (ResultSet result = statement.executeQuery()) {
        assertThat(result.next()).isTrue();
        assertThat(result.getBoolean("b")).isTrue();
        assertThat(result.getShort("s")).isEqualTo((short) -12);
        assertThat(result.getInt("i")).isEqualTo(-5);
        assertThat(result.getLong("l")).isEqualTo(Long.MIN_VALUE);
        assertThat(result.getFloat("f")).isEqualTo(0.1f);
        assertThat(result.getDouble("d")).isEqualTo(-1.5e300);
        assertThat(result.getBigDecimal("n")).isEqualByComparingTo("-0.000123");
        assertThat(result.getString("t")).isEqualTo("it's -- not a comment /* nor this */ $1");
        assertThat(result.getObject("dt", LocalDate.class)).isEqualTo(LocalDate.of(1999, 12, 31));
        assertThat(result.getObject("u", UUID.class))
            .isEqualTo(UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
        assertThat(result.getBytes("bytes")).containsExactly(0, 39, 92, 255);
        assertThat(result.getBoolean("missing")).isTrue();
        assertThat(result.getObject("ts", LocalDateTime.class))
            .isEqualTo(LocalDateTime.of(2024, 5, 6, 7, 8, 9, 123_456_000));
      }
    }
  }

  @Test
  void answersSessionCommandsItself() throws Exception {
    try (Connection connection = connect("ApplicationName", "floe-it");
        Statement statement = connection.createStatement()) {
      assertThat(single(statement.executeQuery("SHOW application_name"))).isEqualTo("floe-it");
      statement.execute("SET application_name = 'renamed'");
      assertThat(single(statement.executeQuery("SHOW application_name"))).isEqualTo("renamed");
      statement.execute("SET extra_float_digits = 3");
      assertThat(single(statement.executeQuery("SHOW extra_float_digits"))).isEqualTo("3");
      statement.execute("SET DateStyle = 'German'");
      assertThat(single(statement.executeQuery("SHOW DateStyle"))).isEqualTo("ISO, MDY");
      assertThat(single(statement.executeQuery("SHOW TIME ZONE"))).isEqualTo("UTC");
      assertThat(connection.getTransactionIsolation())
          .isEqualTo(Connection.TRANSACTION_READ_COMMITTED);
      connection.setReadOnly(true);
      connection.setAutoCommit(false);
      assertThat(single(statement.executeQuery("SELECT count(*) FROM raw.sales"))).isEqualTo("9");
      connection.rollback();
      assertThat(single(statement.executeQuery("SELECT count(*) FROM raw.orders"))).isEqualTo("90");
      connection.commit();
      connection.setAutoCommit(true);
      statement.execute("BEGIN");
      statement.execute("COMMIT");
      statement.execute("DISCARD ALL");
      assertThatThrownBy(() -> statement.executeQuery("SHOW extra_float_digits"))
          .isInstanceOfSatisfying(
              SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42704"));
    }
  }

  @Test
  void refusesCatalogQueriesClearly() throws Exception {
    try (Connection connection = connect()) {
      assertThatThrownBy(() -> connection.getMetaData().getTables(null, null, "%", null))
          .isInstanceOfSatisfying(
              SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("0A000"))
          .hasMessageContaining("system catalogs (pg_catalog) are not available");
      try (Statement statement = connection.createStatement()) {
        assertThat(single(statement.executeQuery("SELECT 1"))).isEqualTo("1");
        // information_schema describes Floe's tables
        List<String> columns = new ArrayList<>();
        try (ResultSet rows =
            statement.executeQuery(
                "SELECT table_schema || '.' || table_name || '.' || column_name || ' ' || data_type"
                    + " FROM information_schema.columns WHERE table_schema = 'raw'"
                    + " AND table_name = 'orders' ORDER BY ordinal_position")) {
          while (rows.next()) {
            columns.add(rows.getString(1));
          }
        }
        assertThat(columns).isNotEmpty().allSatisfy(c -> assertThat(c).startsWith("raw.orders."));
      }
    }
  }

  @Test
  void failsTheBindWhenBinaryIsRequestedForATypeSentAsTextOnly() throws Exception {
    try (Connection connection =
            connect("prepareThreshold", "-1", "binaryTransferEnable", "INTERVAL");
        Statement statement = connection.createStatement()) {
      assertThatThrownBy(() -> statement.executeQuery("SELECT INTERVAL 1 DAY AS iv"))
          .isInstanceOfSatisfying(
              SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("0A000"))
          .hasMessageContaining("Cannot send column \"iv\" in binary format");
      assertThat(single(statement.executeQuery("SELECT 7"))).isEqualTo("7");
    }
  }

  private static String single(ResultSet result) throws SQLException {
    try (result) {
      assertThat(result.next()).isTrue();
      String value = result.getString(1);
      assertThat(result.next()).isFalse();
      return value;
    }
  }
}
