package io.floe.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.catalog.TableFiles;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.PostgresSourceConfig;
import io.floe.core.config.SourceType;
import io.floe.core.config.StreamTableConfig.PartitionField;
import io.floe.core.config.TargetConfig;
import io.floe.core.config.UnboundedNumeric;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.demo.EmbeddedPostgres;
import io.floe.ingest.ChangeSources;
import io.floe.ingest.Pipeline;
import io.floe.ingest.SourceContext;
import io.floe.ingest.http.HttpStreams;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A CDC table partitioned by {@code day(ts)} and {@code bucket(16, id)}: a randomized workload
 * whose updates move rows between partitions (a new {@code ts} moves a row to another day, a new
 * {@code id} to another bucket) replicates exactly; a spec change between two runs of the pipeline
 * is a partition evolution (old files keep their spec, the snapshot before it still reads its
 * rows); a filter on {@code ts} plans only the matching days' files; and {@code rewrite_data_files}
 * moves the old spec's files to the new one.
 */
class PartitionedReplicationIT {
  private static final TableIdentifier EVENTS = TableIdentifier.of("raw", "events");
  private static final OffsetDateTime FIRST_DAY =
      OffsetDateTime.of(2026, 11, 1, 0, 0, 0, 0, ZoneOffset.UTC);
  private static final int DAYS = 10;

  @TempDir Path warehouse;

  @Test
  void replicatesUpdatesThatMoveRowsBetweenPartitionsAcrossASpecChange() throws Exception {
    try (EmbeddedPostgres postgres = EmbeddedPostgres.start()) {
      postgres.createDatabase("shop");
      try (Connection connection = postgres.connect("shop");
          JdbcCatalog catalog =
              FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults())) {
        try (Statement statement = connection.createStatement()) {
          statement.execute(
              "CREATE TABLE public.events (id bigint PRIMARY KEY, ts timestamptz NOT NULL,"
                  + " amount int, note text)");
        }
        Random random = new Random(17);
        connection.setAutoCommit(false);
        for (int id = 1; id <= 2000; id++) {
          insert(connection, id, random);
        }
        connection.commit();

        List<PartitionField> byDayAndBucket =
            List.of(new PartitionField("day", 0, "ts"), new PartitionField("bucket", 16, "id"));
        long beforeChange;
        Map<String, List<String>> rowsBeforeChange;
        try (Pipeline pipeline = pipeline(postgres, catalog, byDayAndBucket)) {
          pipeline.start();
          for (int round = 0; round < 15; round++) {
            runTransactions(connection, random, 30);
            Thread.sleep(100);
          }
          rowsBeforeChange = awaitEqual(catalog, connection);
          Table events = catalog.loadTable(EVENTS);
          assertThat(events.spec().fields())
              .extracting(field -> field.transform().toString())
              .containsExactly("day", "bucket[16]");
          assertThat(partitions(events)).hasSizeGreaterThan(DAYS * 8);
          ReplicationIT.assertNoEqualityDeletes(events);
          beforeChange = events.currentSnapshot().snapshotId();
          assertThat(pipeline.stats().changes()).isGreaterThan(300);
        }

        // Changes made while the pipeline is stopped, then a start with another spec.
        runTransactions(connection, random, 60);
        List<PartitionField> byMonthAndBucket =
            List.of(new PartitionField("month", 0, "ts"), new PartitionField("bucket", 4, "id"));
        try (Pipeline pipeline = pipeline(postgres, catalog, byMonthAndBucket)) {
          pipeline.start();
          for (int round = 0; round < 10; round++) {
            runTransactions(connection, random, 30);
            Thread.sleep(100);
          }
          awaitEqual(catalog, connection);
          assertThat(pipeline.state()).isEqualTo(Pipeline.State.STREAMING);
        }
        Table events = catalog.loadTable(EVENTS);
        assertThat(events.specs()).hasSize(2);
        assertThat(events.spec().fields())
            .extracting(field -> field.transform().toString())
            .containsExactly("month", "bucket[4]");
        Set<Integer> specs = new HashSet<>();
        TableFiles.load(events).dataFiles().values().forEach(file -> specs.add(file.specId()));
        assertThat(specs).as("files of both specs").hasSize(2);
        // Time travel to before the change reads the rows of then.
        assertThat(CanonicalRows.fromIceberg(events, beforeChange, List.of("id")))
            .isEqualTo(rowsBeforeChange);

        // A filter on the partition source column plans only the matching partitions' files.
        String day3 =
            " FROM raw.events WHERE ts >= TIMESTAMPTZ '2026-11-03 00:00:00+00'"
                + " AND ts < TIMESTAMPTZ '2026-11-04 00:00:00+00'";
        CommandRun explain =
            CommandRun.floe("sql", "-w", warehouse.toString(), "EXPLAIN SELECT count(*)" + day3);
        assertThat(explain.exitCode()).as(explain.err()).isZero();
        Matcher planned =
            Pattern.compile("data files: (\\d+) of (\\d+) planned").matcher(explain.out());
        assertThat(planned.find()).as(explain.out()).isTrue();
        int plannedFiles = Integer.parseInt(planned.group(1));
        int allFiles = Integer.parseInt(planned.group(2));
        assertThat(plannedFiles).as(explain.out()).isPositive();
        assertThat(plannedFiles * 3).as(explain.out()).isLessThan(allFiles);
        CommandRun count =
            CommandRun.floe(
                "sql", "-w", warehouse.toString(), "--format", "csv", "SELECT count(*)" + day3);
        assertThat(count.exitCode()).as(count.err()).isZero();
        assertThat(count.out().lines().toList().get(1))
            .isEqualTo(
                String.valueOf(
                    count(connection, "SELECT count(*)" + day3.replace("raw.", "public."))));

        // The old spec's files move to the current one.
        CommandRun rewrite =
            CommandRun.floe(
                "sql", "-w", warehouse.toString(), "CALL system.rewrite_data_files('raw.events')");
        assertThat(rewrite.exitCode()).as(rewrite.err()).isZero();
        events = catalog.loadTable(EVENTS);
        int current = events.spec().specId();
        assertThat(TableFiles.load(events).dataFiles().values())
            .allMatch(file -> file.specId() == current);
        assertThat(CanonicalRows.fromIceberg(events, List.of("id")))
            .isEqualTo(CanonicalRows.fromPostgres(connection, "public.events", List.of("id")));
      }
    }
  }

  private static Set<String> partitions(Table table) {
    Set<String> partitions = new HashSet<>();
    for (DataFile file : TableFiles.load(table).dataFiles().values()) {
      partitions.add(table.specs().get(file.specId()).partitionToPath(file.partition()));
    }
    return partitions;
  }

  private Pipeline pipeline(
      EmbeddedPostgres postgres, JdbcCatalog catalog, List<PartitionField> partitionBy) {
    PipelineConfig config =
        new PipelineConfig(
            "shop",
            new PostgresSourceConfig(
                SourceType.POSTGRES,
                postgres.jdbcUrl("shop"),
                postgres.user(),
                postgres.password(),
                List.of("public.events"),
                "floe_shop",
                "floe_shop",
                UnboundedNumeric.DECIMAL),
            new TargetConfig("raw", Optional.empty(), Map.of("public.events", partitionBy)),
            Duration.ofMillis(300));
    return new Pipeline(
        config,
        catalog,
        ChangeSources.of(
            config,
            new SourceContext(Path.of(System.getProperty("java.io.tmpdir")), new HttpStreams())),
        new TableWriterRegistry());
  }

  /**
   * Runs transactions of one to four statements each: inserts, updates of {@code ts} (another day),
   * of {@code amount}, of {@code id} (another bucket), and deletes.
   */
  private static void runTransactions(Connection connection, Random random, int count)
      throws SQLException {
    for (int transaction = 0; transaction < count; transaction++) {
      int statements = 1 + random.nextInt(4);
      for (int statement = 0; statement < statements; statement++) {
        long id = pickId(connection, random);
        switch (random.nextInt(10)) {
          case 0, 1 ->
              insert(
                  connection,
                  count(connection, "SELECT coalesce(max(id), 0) + 1 FROM public.events"),
                  random);
          case 2, 3, 4 ->
              update(
                  connection,
                  "UPDATE public.events SET ts = ? WHERE id = ?",
                  timestamp(random),
                  id);
          case 5, 6 ->
              update(
                  connection,
                  "UPDATE public.events SET amount = ? WHERE id = ?",
                  random.nextInt(1000),
                  id);
          case 7, 8 ->
              update(
                  connection,
                  "UPDATE public.events SET id = (SELECT max(id) + 1 FROM public.events), ts = ?"
                      + " WHERE id = ?",
                  timestamp(random),
                  id);
          default -> update(connection, "DELETE FROM public.events WHERE id = ?", null, id);
        }
      }
      connection.commit();
    }
  }

  private static long pickId(Connection connection, Random random) throws SQLException {
    try (PreparedStatement statement =
        connection.prepareStatement("SELECT id FROM public.events ORDER BY id OFFSET ? LIMIT 1")) {
      statement.setLong(
          1,
          random.nextInt(
              (int) Math.max(1, count(connection, "SELECT count(*) FROM public.events"))));
      try (ResultSet result = statement.executeQuery()) {
        return result.next() ? result.getLong(1) : 0;
      }
    }
  }

  private static void insert(Connection connection, long id, Random random) throws SQLException {
    try (PreparedStatement statement =
        connection.prepareStatement("INSERT INTO public.events VALUES (?, ?, ?, ?)")) {
      statement.setLong(1, id);
      statement.setObject(2, timestamp(random));
      statement.setInt(3, random.nextInt(1000));
      statement.setString(4, "note " + random.nextInt(100));
      statement.executeUpdate();
    }
  }

  private static OffsetDateTime timestamp(Random random) {
    return FIRST_DAY.plusSeconds((long) (random.nextDouble() * DAYS * 86_400));
  }

  /** Runs a statement of the row {@code id}, setting {@code value} first unless it is null. */
  private static void update(Connection connection, String sql, Object value, long id)
      throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      int parameter = 1;
      if (value != null) {
        statement.setObject(parameter++, value);
      }
      statement.setLong(parameter, id);
      statement.executeUpdate();
    }
  }

  private static long count(Connection connection, String sql) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery(sql)) {
      result.next();
      return result.getLong(1);
    }
  }

  /** Waits until the table read through Iceberg equals the source; returns its rows. */
  private static Map<String, List<String>> awaitEqual(JdbcCatalog catalog, Connection connection)
      throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (true) {
      Map<String, List<String>> source =
          CanonicalRows.fromPostgres(connection, "public.events", List.of("id"));
      connection.commit();
      Map<String, List<String>> lake =
          CanonicalRows.fromIceberg(catalog.loadTable(EVENTS), List.of("id"));
      if (source.equals(lake)) {
        return lake;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "Iceberg table never matched the source: " + CanonicalRows.differences(source, lake));
      }
      Thread.sleep(500);
    }
  }
}
