package io.floe.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.demo.EmbeddedPostgres;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.NotAuthorizedException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real engine against Floe's REST catalog: Apache Spark in local mode, given only the catalog's
 * URI and a principal's credentials ({@link SparkSessions}), writes and maintains Iceberg tables
 * through {@code floe run}, which at the same time replicates a PostgreSQL table, answers SQL and
 * compacts the tables Spark writes.
 */
// Each test, and the start of PostgreSQL, floe run and Spark, well inside the limit on a 2-core CI
// machine; a hung statement fails the test instead of the build's time budget.
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class SparkRestCatalogIT {
  private static final Logger LOG = LoggerFactory.getLogger(SparkRestCatalogIT.class);
  private static final String SPARK_SECRET = "spark-secret-of-the-test";
  private static final String ANALYST_PASSWORD = "analyst-password";
  private static final int SOURCE_ROWS = 300;
  private static final int LEDGER_INSERTS = 12;
  private static final Duration REPLICATION_TIMEOUT = Duration.ofSeconds(90);
  private static final String MERGE_ON_READ =
      "'format-version'='2', 'write.delete.mode'='merge-on-read',"
          + " 'write.update.mode'='merge-on-read', 'write.merge.mode'='merge-on-read'";

  @TempDir static Path directory;

  private static EmbeddedPostgres postgres;
  private static FloeRun floe;
  private static SparkSession spark;
  private static FloeSql floeSql;

  @BeforeAll
  static void start() throws Exception {
    postgres = EmbeddedPostgres.start();
    postgres.createDatabase("shop");
    try (Connection connection = postgres.connect("shop");
        Statement statement = connection.createStatement()) {
      statement.execute(
          "CREATE TABLE public.orders (id bigint PRIMARY KEY, customer text NOT NULL,"
              + " amount numeric(12,2), status text, placed date)");
      statement.execute(
          "INSERT INTO public.orders SELECT g, 'customer-' || (g % 17), (g * 7 % 1000) / 4.0,"
              + " CASE WHEN g % 3 = 0 THEN 'shipped' ELSE 'open' END,"
              + " DATE '2026-11-01' + (g % 30) FROM generate_series(1, "
              + SOURCE_ROWS
              + ") g");
    }
    Path config = directory.resolve("floe.yaml");
    Files.writeString(
        config,
        String.join(
            "\n",
            "warehouse: " + directory.resolve("warehouse"),
            "pipelines:",
            "  - name: shop",
            "    source:",
            "      type: postgres",
            "      url: " + postgres.jdbcUrl("shop"),
            "      user: " + postgres.user(),
            "      password: " + postgres.password(),
            "      tables: [public.orders]",
            "    target:",
            "      namespace: raw",
            "    commit-interval: 300ms",
            // Maintenance runs when the tests call it; no scheduled pass races their counts.
            "maintenance:",
            "  interval: 1h",
            "catalog:",
            "  port: 0",
            "principals:",
            "  - name: spark",
            "    secret: ${SPARK_SECRET:-spark-secret}",
            "sql:",
            "  postgres-port: 0",
            "  http-port: 0",
            "  users:",
            "    - name: analyst",
            "      password: " + ANALYST_PASSWORD,
            ""),
        StandardCharsets.UTF_8);
    floe =
        FloeRun.start(
            config, directory.resolve("floe-run.log"), List.of("SPARK_SECRET=" + SPARK_SECRET));
    floeSql = new FloeSql(floe.queryUrl(), "analyst", ANALYST_PASSWORD);
    LOG.info("floe run serves the REST catalog on {}", floe.catalogUri());
    Map<String, String> settings =
        new TreeMap<>(SparkSessions.restCatalog(floe.catalogUri(), "spark:" + SPARK_SECRET));
    settings.putAll(
        SparkSessions.explicitRestCatalog(
            "floe_explicit", floe.catalogUri(), "spark:" + SPARK_SECRET));
    settings.putAll(
        SparkSessions.explicitRestCatalog(
            "floe_wrong_secret", floe.catalogUri(), "spark:not-the-secret"));
    spark = SparkSessions.local("floe-spark-tests", settings);
    spark.sql("CREATE NAMESPACE IF NOT EXISTS floe.spark");
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (spark != null) {
        spark.stop();
      }
    } finally {
      try {
        if (floe != null) {
          floe.close();
          LOG.info("floe run's log:\n{}", floe.output());
        }
      } finally {
        if (postgres != null) {
          postgres.close();
        }
      }
    }
  }

  /**
   * Spark creates a partitioned merge-on-read table, inserts, merges, updates and deletes, reads
   * back, travels in time by snapshot id and by timestamp, and expires the older snapshots with
   * Iceberg's own procedure: every commit goes through the REST catalog.
   */
  @Test
  void sparkWritesAndMaintainsAPartitionedTable() {
    sql(
        "CREATE TABLE floe.spark.events (id bigint, region string, amount decimal(10,2), ordered"
            + " date) USING iceberg PARTITIONED BY (region, bucket(4, id)) TBLPROPERTIES ("
            + MERGE_ON_READ
            + ")");
    sql(
        "INSERT INTO floe.spark.events VALUES (1, 'eu', 10.00, DATE '2026-12-01'),"
            + " (2, 'us', 20.50, DATE '2026-12-01'), (3, 'eu', 30.25, DATE '2026-12-02'),"
            + " (4, 'ap', 40.00, DATE '2026-12-03')");
    Row inserted = sql("SELECT snapshot_id, committed_at FROM floe.spark.events.snapshots").first();
    long insertedSnapshot = inserted.getLong(0);
    Instant insertedAt = inserted.getTimestamp(1).toInstant();

    sql(
        "MERGE INTO floe.spark.events t USING (SELECT * FROM VALUES (2L, 'us', 21.50, DATE"
            + " '2026-12-04'), (5L, 'ap', 50.00, DATE '2026-12-04') AS s(id, region, amount,"
            + " ordered)) s ON t.id = s.id WHEN MATCHED THEN UPDATE SET t.amount = s.amount WHEN"
            + " NOT MATCHED THEN INSERT *");
    sql("UPDATE floe.spark.events SET amount = amount + 1 WHERE id = 1");
    sql("DELETE FROM floe.spark.events WHERE id = 3");

    List<String> expected =
        List.of(
            "1|eu|11.00|2026-12-01",
            "2|us|21.50|2026-12-01",
            "4|ap|40.00|2026-12-03",
            "5|ap|50.00|2026-12-04");
    assertThat(rows("SELECT id, region, amount, ordered FROM floe.spark.events ORDER BY id"))
        .isEqualTo(expected);
    // Merge-on-read: the merge, the update and the delete left position delete files.
    assertThat(count("SELECT count(*) FROM floe.spark.events.delete_files")).isPositive();
    assertThat(count("SELECT count(*) FROM floe.spark.events.partitions")).isGreaterThan(2);
    assertThat(count("SELECT count(*) FROM floe.spark.events.snapshots")).isEqualTo(4);

    List<String> original =
        List.of(
            "1|eu|10.00|2026-12-01",
            "2|us|20.50|2026-12-01",
            "3|eu|30.25|2026-12-02",
            "4|ap|40.00|2026-12-03");
    assertThat(
            rows(
                "SELECT id, region, amount, ordered FROM floe.spark.events VERSION AS OF "
                    + insertedSnapshot
                    + " ORDER BY id"))
        .isEqualTo(original);
    assertThat(
            rows(
                "SELECT id, region, amount, ordered FROM floe.spark.events TIMESTAMP AS OF '"
                    + timestamp(insertedAt)
                    + "' ORDER BY id"))
        .isEqualTo(original);

    Row expired =
        sql("CALL floe.system.expire_snapshots(table => 'floe.spark.events', older_than => TIMESTAMP '"
                + timestamp(Instant.now().plusSeconds(1))
                + "', retain_last => 1)")
            .first();
    LOG.info("expire_snapshots through the REST catalog: {}", expired);
    assertThat(expired.getLong(expired.fieldIndex("deleted_manifest_lists_count"))).isEqualTo(3);
    assertThat(count("SELECT count(*) FROM floe.spark.events.snapshots")).isEqualTo(1);
    assertThat(rows("SELECT id, region, amount, ordered FROM floe.spark.events ORDER BY id"))
        .isEqualTo(expected);
  }

  /**
   * Iceberg's recommended settings (explicit OAuth2 endpoint and auth type, the warehouse {@code
   * floe}) reach the same catalog; a wrong secret is refused before any table is listed.
   */
  @Test
  void credentialsDecideWhoConnects() throws Exception {
    floe.awaitOutput("LOADING -> STREAMING", Duration.ofMinutes(2));
    assertThat(rows("SHOW NAMESPACES IN floe_explicit")).contains("raw", "spark");
    assertThat(rows("SHOW TABLES IN floe_explicit.raw"))
        .anySatisfy(row -> assertThat(row).startsWith("raw|orders|"));

    assertThatThrownBy(() -> sql("SHOW NAMESPACES IN floe_wrong_secret").collectAsList())
        .satisfies(
            failure ->
                assertThat(causes(failure))
                    .anySatisfy(
                        cause -> assertThat(cause).isInstanceOf(NotAuthorizedException.class)));
  }

  /**
   * Floe's SQL reads a merge-on-read table that Spark wrote through the REST catalog, applying
   * Spark's position deletes, and sees each of Spark's commits as it lands.
   */
  @Test
  void floeReadsWhatSparkWrote() throws Exception {
    sql(
        "CREATE TABLE floe.spark.returns (id bigint, reason string, refund decimal(10,2), received"
            + " date) USING iceberg PARTITIONED BY (reason) TBLPROPERTIES ("
            + MERGE_ON_READ
            + ")");
    sql(
        "INSERT INTO floe.spark.returns SELECT id, CASE WHEN id % 3 = 0 THEN 'damaged' WHEN id %"
            + " 3 = 1 THEN 'late' ELSE 'other' END, CAST(id * 1.5 AS decimal(10,2)), date_add(DATE"
            + " '2026-11-01', CAST(id % 28 AS int)) FROM range(1, 201) AS r(id)");
    String query = "SELECT id, reason, refund, received FROM spark.returns ORDER BY id";
    assertThat(floeRows(query)).hasSize(200).isEqualTo(rows(sparkQuery(query)));

    sql("DELETE FROM floe.spark.returns WHERE id % 10 = 0");
    sql("UPDATE floe.spark.returns SET refund = refund + 100 WHERE reason = 'late' AND id < 50");
    sql(
        "MERGE INTO floe.spark.returns t USING (SELECT id, 'other' AS reason, CAST(0 AS"
            + " decimal(10,2)) AS refund, DATE '2026-12-06' AS received FROM range(195, 211) AS"
            + " r(id)) s ON t.id = s.id WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT *");
    assertThat(count("SELECT count(*) FROM floe.spark.returns.delete_files")).isPositive();
    List<String> spark = rows(sparkQuery(query));
    assertThat(spark).hasSize(200 - 20 - 5 + 10 + 1);
    assertThat(floeRows(query)).isEqualTo(spark);
  }

  /**
   * Floe's compaction ({@code CALL system.rewrite_data_files} through its SQL) runs again and again
   * while Spark inserts, updates and deletes in the same table through the REST catalog. A Spark
   * statement that loses to a compaction fails with Iceberg's conflict and is run again, as an
   * application would; at the end both engines read exactly the rows of every statement Spark was
   * told had committed, and compactions committed in between.
   */
  @Test
  void floeCompactsWhileSparkCommits() throws Exception {
    sql(
        "CREATE TABLE floe.spark.ledger (id bigint, account string, amount decimal(10,2)) USING"
            + " iceberg TBLPROPERTIES ("
            + MERGE_ON_READ
            + ")");
    String compaction =
        "CALL system.rewrite_data_files(table => 'spark.ledger', options => map('min-input-files',"
            + " '2', 'delete-ratio', '0.01'))";
    AtomicBoolean sparkDone = new AtomicBoolean();
    AtomicInteger compactions = new AtomicInteger();
    AtomicInteger rewrittenFiles = new AtomicInteger();
    List<String> refusals = new CopyOnWriteArrayList<>();
    List<Throwable> compactorFailures = new CopyOnWriteArrayList<>();
    Thread compactor =
        new Thread(
            () -> {
              try {
                while (!sparkDone.get()) {
                  try {
                    List<String> result = floeSql.query(compaction).get(0);
                    int rewritten = Integer.parseInt(result.get(0));
                    if (rewritten > 0) {
                      compactions.incrementAndGet();
                      rewrittenFiles.addAndGet(rewritten);
                    }
                  } catch (AssertionError refused) {
                    // A compaction that lost to one of Spark's commits: Floe says so and retries
                    // on the next pass.
                    refusals.add(refused.getMessage());
                  }
                  // Room on a 2-core machine for Spark, whose statements take about a second.
                  Thread.sleep(250);
                }
              } catch (Exception | AssertionError e) {
                compactorFailures.add(e);
              }
            },
            "floe-compactor");

    Map<Long, LedgerRow> model = new TreeMap<>();
    AtomicInteger sparkRetries = new AtomicInteger();
    compactor.start();
    long started = System.nanoTime();
    try {
      for (long id = 1; id <= LEDGER_INSERTS; id++) {
        String account = "acct-" + (id % 3);
        BigDecimal amount = BigDecimal.valueOf(id * 125, 2);
        sqlRetryingConflicts(
            "INSERT INTO floe.spark.ledger VALUES (" + id + ", '" + account + "', " + amount + ")",
            sparkRetries);
        model.put(id, new LedgerRow(id, account, amount));
        if (id % 4 == 0) {
          long gone = id - 2;
          sqlRetryingConflicts("DELETE FROM floe.spark.ledger WHERE id = " + gone, sparkRetries);
          model.remove(gone);
        }
        if (id % 5 == 0) {
          long changed = id - 1;
          sqlRetryingConflicts(
              "UPDATE floe.spark.ledger SET amount = amount + 100 WHERE id = " + changed,
              sparkRetries);
          model.computeIfPresent(changed, (key, row) -> row.plus(BigDecimal.valueOf(100)));
        }
      }
    } finally {
      sparkDone.set(true);
      compactor.join(Duration.ofMinutes(2).toMillis());
    }
    long sparkMillis = (System.nanoTime() - started) / 1_000_000;
    assertThat(compactor.isAlive()).isFalse();
    assertThat(compactorFailures).isEmpty();
    LOG.info(
        "Spark committed {} inserts, {} deletes and {} updates in {} ms ({} retried after a"
            + " conflict) while Floe committed {} compactions of {} files ({} refused: {})",
        LEDGER_INSERTS,
        LEDGER_INSERTS / 4,
        LEDGER_INSERTS / 5,
        sparkMillis,
        sparkRetries.get(),
        compactions.get(),
        rewrittenFiles.get(),
        refusals.size(),
        refusals.stream().map(SparkRestCatalogIT::firstLine).distinct().toList());
    assertThat(compactions.get()).as("compactions committed while Spark wrote").isPositive();

    List<String> expected = model.values().stream().map(LedgerRow::text).toList();
    String query = "SELECT id, account, amount FROM spark.ledger ORDER BY id";
    assertThat(rows(sparkQuery(query))).isEqualTo(expected);
    assertThat(floeRows(query)).isEqualTo(expected);
    assertThat(
            count("SELECT count(*) FROM floe.spark.ledger.snapshots WHERE operation = 'replace'"))
        .isEqualTo(compactions.get());

    // One last compaction folds every delete in; the rows stay the same.
    floeSql.query(compaction);
    assertThat(count("SELECT count(*) FROM floe.spark.ledger.delete_files")).isZero();
    assertThat(rows(sparkQuery(query))).isEqualTo(expected);
    assertThat(floeRows(query)).isEqualTo(expected);
  }

  /**
   * Spark reads, through the REST catalog, the table that the running pipeline replicates from
   * PostgreSQL, and finds exactly the source's rows after inserts, updates and deletes.
   */
  @Test
  void sparkReadsATableThePipelineReplicates() throws Exception {
    floe.awaitOutput("LOADING -> STREAMING", Duration.ofMinutes(2));
    try (Connection connection = postgres.connect("shop")) {
      awaitSparkEqualsSource(connection);
      assertThat(count("SELECT count(*) FROM floe.raw.orders")).isEqualTo(SOURCE_ROWS);

      Random random = new Random(14);
      connection.setAutoCommit(false);
      try (PreparedStatement insert =
              connection.prepareStatement(
                  "INSERT INTO public.orders VALUES (?, ?, ?, 'open', DATE '2026-12-06')");
          PreparedStatement update =
              connection.prepareStatement(
                  "UPDATE public.orders SET status = 'shipped', amount = amount + 1 WHERE id = ?");
          PreparedStatement delete =
              connection.prepareStatement("DELETE FROM public.orders WHERE id = ?")) {
        long next = SOURCE_ROWS + 1;
        for (int transaction = 0; transaction < 20; transaction++) {
          for (int change = 0; change < 5; change++) {
            insert.setLong(1, next++);
            insert.setString(2, "customer-" + random.nextInt(17));
            insert.setBigDecimal(3, BigDecimal.valueOf(random.nextInt(100_000), 2));
            insert.executeUpdate();
            update.setLong(1, 1 + random.nextInt(SOURCE_ROWS));
            update.executeUpdate();
            delete.setLong(1, 1 + random.nextInt(SOURCE_ROWS));
            delete.executeUpdate();
          }
          connection.commit();
        }
      }
      connection.setAutoCommit(true);
      awaitSparkEqualsSource(connection);
    }
  }

  /** A row of {@code spark.ledger} as the test expects it. */
  private record LedgerRow(long id, String account, BigDecimal amount) {
    LedgerRow plus(BigDecimal change) {
      return new LedgerRow(id, account, amount.add(change));
    }

    String text() {
      return id + "|" + account + "|" + amount.toPlainString();
    }
  }

  private static void awaitSparkEqualsSource(Connection connection) throws Exception {
    long deadline = System.nanoTime() + REPLICATION_TIMEOUT.toNanos();
    while (true) {
      List<String> source = sourceRows(connection);
      List<String> lake = List.of();
      if (tableExists("raw", "orders")) {
        lake = rows("SELECT id, customer, amount, status, placed FROM floe.raw.orders ORDER BY id");
        if (lake.equals(source)) {
          return;
        }
      }
      if (System.nanoTime() > deadline) {
        assertThat(lake).as("Spark's read of raw.orders, against PostgreSQL").isEqualTo(source);
      }
      Thread.sleep(500);
    }
  }

  private static List<String> sourceRows(Connection connection) throws Exception {
    List<String> rows = new ArrayList<>();
    try (Statement statement = connection.createStatement();
        ResultSet result =
            statement.executeQuery(
                "SELECT id, customer, amount, status, placed FROM public.orders ORDER BY id")) {
      while (result.next()) {
        rows.add(
            String.join(
                "|",
                String.valueOf(result.getLong(1)),
                result.getString(2),
                text(result.getBigDecimal(3)),
                String.valueOf(result.getString(4)),
                String.valueOf(result.getObject(5, LocalDate.class))));
      }
    }
    return rows;
  }

  private static boolean tableExists(String namespace, String table) {
    return !spark
        .sql("SHOW TABLES IN floe." + namespace + " LIKE '" + table + "'")
        .collectAsList()
        .isEmpty();
  }

  /** Runs a Spark statement, again after Iceberg's commit conflict (a compaction won). */
  private static void sqlRetryingConflicts(String statement, AtomicInteger retries) {
    for (int attempt = 1; ; attempt++) {
      try {
        sql(statement);
        return;
      } catch (RuntimeException e) {
        if (attempt >= 10 || !isConflict(e)) {
          throw e;
        }
        retries.incrementAndGet();
        LOG.info("Spark lost a commit to a compaction, running it again: {}", firstLine(e));
      }
    }
  }

  private static List<Throwable> causes(Throwable failure) {
    List<Throwable> causes = new ArrayList<>();
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      causes.add(cause);
    }
    return causes;
  }

  private static boolean isConflict(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof ValidationException || cause instanceof CommitFailedException) {
        return true;
      }
    }
    return false;
  }

  private static org.apache.spark.sql.Dataset<Row> sql(String statement) {
    return spark.sql(statement);
  }

  private static long count(String query) {
    return sql(query).first().getLong(0);
  }

  /** The same query in Spark, whose catalog is {@code floe}. */
  private static String sparkQuery(String floeQuery) {
    return floeQuery.replace(" FROM spark.", " FROM floe.spark.");
  }

  /** Spark's rows, each value in one text form: plain decimals, ISO dates, {@code null}. */
  private static List<String> rows(String query) {
    return sql(query).collectAsList().stream()
        .map(
            row -> {
              List<String> values = new ArrayList<>();
              for (int i = 0; i < row.length(); i++) {
                values.add(text(row.get(i)));
              }
              return String.join("|", values);
            })
        .collect(Collectors.toList());
  }

  /** Floe's rows, in the same text form as {@link #rows}. */
  private static List<String> floeRows(String query) throws Exception {
    return floeSql.query(query).stream()
        .map(
            row ->
                row.stream()
                    .map(value -> value == null ? "null" : value)
                    .collect(Collectors.joining("|")))
        .collect(Collectors.toList());
  }

  private static String text(Object value) {
    if (value instanceof BigDecimal decimal) {
      return decimal.toPlainString();
    }
    return String.valueOf(value);
  }

  private static String timestamp(Instant instant) {
    return DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS")
        .withZone(ZoneOffset.UTC)
        .format(instant);
  }

  private static String firstLine(Throwable failure) {
    return firstLine(String.valueOf(failure.getMessage()));
  }

  private static String firstLine(String text) {
    int newline = text.indexOf('\n');
    return newline < 0 ? text : text.substring(0, newline);
  }
}
