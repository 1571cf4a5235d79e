package io.floe.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.FloeException;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.MariaDbSourceConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.PostgresSourceConfig;
import io.floe.core.config.SourceConfig;
import io.floe.core.config.SourceType;
import io.floe.core.config.TargetConfig;
import io.floe.core.config.UnboundedNumeric;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.demo.EmbeddedPostgres;
import io.floe.ingest.http.HttpStreams;
import io.floe.testing.MariaDbServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tables without a primary key, keyed by the columns {@code source.keys} names, replicate exactly
 * from PostgreSQL (with {@code REPLICA IDENTITY FULL}) and MariaDB: inserts, updates of other
 * columns and of key columns, deletes, several rows per statement. Without a key entry they are
 * refused with a message that names the option.
 */
class KeylessTablesIT {
  private static final String CREATE =
      "CREATE TABLE events (device INT NOT NULL, seq INT NOT NULL, reading VARCHAR(20))";

  private static final String LOG = "CREATE TABLE log (a INT, b VARCHAR(20))";

  private static EmbeddedPostgres postgres;
  private static MariaDbServer mariadb;

  @TempDir static Path directory;

  @BeforeAll
  static void startServers() throws Exception {
    postgres = EmbeddedPostgres.start();
    postgres.createDatabase("keyless");
    try (Connection connection = postgres.connect("keyless");
        Statement statement = connection.createStatement()) {
      statement.execute(CREATE);
      statement.execute("ALTER TABLE events REPLICA IDENTITY FULL");
      statement.execute("CREATE TABLE plain (a int, b text)");
      statement.execute(LOG);
      statement.execute("ALTER TABLE log REPLICA IDENTITY FULL");
      statement.execute("INSERT INTO log VALUES (1, 'x'), (2, 'y')");
    }
    mariadb = MariaDbServer.start(directory.resolve("mariadb"));
    mariadb.createDatabase("keyless");
    try (Connection connection = mariadb.connect("keyless");
        Statement statement = connection.createStatement()) {
      statement.execute(CREATE);
    }
  }

  @AfterAll
  static void stopServers() throws Exception {
    if (postgres != null) {
      postgres.close();
    }
    if (mariadb != null) {
      mariadb.close();
    }
  }

  @Test
  void replicatesAPostgresTableKeyedBySourceKeys() throws Exception {
    replicates(
        "pg",
        new PostgresSourceConfig(
            SourceType.POSTGRES,
            postgres.jdbcUrl("keyless"),
            postgres.user(),
            postgres.password(),
            List.of("public.events"),
            Map.of("public.events", List.of("device", "seq")),
            "floe_pg",
            "floe_pg",
            UnboundedNumeric.DECIMAL),
        () -> postgres.connect("keyless"));
  }

  @Test
  void replicatesAMariaDbTableKeyedBySourceKeys() throws Exception {
    replicates(
        "maria",
        new MariaDbSourceConfig(
            SourceType.MARIADB,
            mariadb.url("keyless"),
            "root",
            "",
            List.of("keyless.events"),
            Map.of("keyless.events", List.of("device", "seq")),
            4343),
        () -> mariadb.connect("keyless"));
  }

  @Test
  void writesAPostgresTableAsAChangeLog() throws Exception {
    writesAChangeLog(
        "pglog",
        new PostgresSourceConfig(
            SourceType.POSTGRES,
            postgres.jdbcUrl("keyless"),
            postgres.user(),
            postgres.password(),
            List.of("public.log"),
            Map.of(),
            List.of("public.log"),
            "floe_pglog",
            "floe_pglog",
            UnboundedNumeric.DECIMAL),
        () -> postgres.connect("keyless"));
  }

  /**
   * The full load's rows, then every change, each appended once with its operation: an update's new
   * values, a delete's old ones, identical rows twice, a truncate; a restart appends nothing again,
   * and goes on.
   */
  private static void writesAChangeLog(String name, SourceConfig source, Source database)
      throws Exception {
    TableIdentifier identifier = TableIdentifier.of(name, "log");
    try (Connection connection = database.connect();
        Statement statement = connection.createStatement();
        JdbcCatalog catalog = catalog()) {
      List<String> expected = new ArrayList<>(List.of("read 1 x", "read 2 y"));
      try (Pipeline pipeline = pipeline(catalog, config(name, source))) {
        pipeline.start();
        awaitLog(catalog, identifier, expected);
        statement.execute("INSERT INTO log VALUES (3, 'z')");
        statement.execute("UPDATE log SET b = 'z2' WHERE a = 3");
        statement.execute("DELETE FROM log WHERE a = 1");
        statement.execute("INSERT INTO log VALUES (4, 'w'), (4, 'w')");
        statement.execute("TRUNCATE TABLE log");
        expected.addAll(
            List.of(
                "insert 3 z",
                "update 3 z2",
                "delete 1 x",
                "insert 4 w",
                "insert 4 w",
                "truncate null null"));
        awaitLog(catalog, identifier, expected);
        Table table = catalog.loadTable(identifier);
        assertThat(table.schema().identifierFieldIds()).isEmpty();
        assertThat(table.schema().findField(ChangeLog.POSITION)).isNotNull();
        assertThat(pipeline.state()).isEqualTo(Pipeline.State.STREAMING);
      }
      try (Pipeline restarted = pipeline(catalog, config(name, source))) {
        restarted.start();
        statement.execute("INSERT INTO log VALUES (5, 'v')");
        expected.add("insert 5 v");
        awaitLog(catalog, identifier, expected);
      }
    }
  }

  /** Waits until the change log holds exactly {@code expected} ("op a b"), in any order. */
  private static void awaitLog(
      JdbcCatalog catalog, TableIdentifier identifier, List<String> expected) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    List<String> lake = new ArrayList<>();
    while (System.nanoTime() < deadline) {
      lake.clear();
      if (catalog.tableExists(identifier)) {
        try (CloseableIterable<Record> records =
            IcebergGenerics.read(catalog.loadTable(identifier)).build()) {
          for (Record record : records) {
            assertThat(record.getField(ChangeLog.COMMITTED_AT)).isNotNull();
            // The source's position, key=value pairs without the summary's prefix.
            assertThat((String) record.getField(ChangeLog.POSITION))
                .matches("[\\w.-]+=\\S*( [\\w.-]+=\\S*)*")
                .doesNotContain("floe.source.");
            lake.add(
                record.getField(ChangeLog.OPERATION)
                    + " "
                    + record.getField("a")
                    + " "
                    + record.getField("b"));
          }
        }
      }
      if (lake.size() >= expected.size()) {
        break;
      }
      Thread.sleep(300);
    }
    assertThat(lake).containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void refusesTablesWithoutAKeyNamingTheOption() throws Exception {
    try (JdbcCatalog catalog = catalog()) {
      PipelineConfig pg =
          config(
              "refused",
              new PostgresSourceConfig(
                  SourceType.POSTGRES,
                  postgres.jdbcUrl("keyless"),
                  postgres.user(),
                  postgres.password(),
                  List.of("public.plain", "public.events"),
                  Map.of("public.plain", List.of("a"), "public.events", List.of("device", "nope")),
                  "floe_refused",
                  "floe_refused",
                  UnboundedNumeric.DECIMAL));
      try (Pipeline pipeline = pipeline(catalog, pg)) {
        assertThatThrownBy(pipeline::start)
            .isInstanceOf(FloeException.class)
            .hasMessageContaining(
                "public.plain: a table keyed by source.keys needs the old values of updated and"
                    + " deleted rows: run ALTER TABLE \"public\".\"plain\" REPLICA IDENTITY FULL;")
            .hasMessageContaining(
                "public.events: source.keys names nope, which the table does not have");
      }
      PipelineConfig maria =
          config(
              "refused2",
              new MariaDbSourceConfig(
                  SourceType.MARIADB,
                  mariadb.url("keyless"),
                  "root",
                  "",
                  List.of("keyless.events"),
                  4444));
      try (Pipeline pipeline = pipeline(catalog, maria)) {
        assertThatThrownBy(pipeline::start)
            .isInstanceOf(FloeException.class)
            .hasMessageContaining("keyless.events: it has no primary key")
            .hasMessageContaining(
                "name columns you vouch are unique and never null in source.keys (keys:"
                    + " [\"keyless.events (column, ...)\"])");
      }
    }
  }

  /** A connection to the source database. */
  private interface Source {
    Connection connect() throws Exception;
  }

  private static void replicates(String name, SourceConfig source, Source database)
      throws Exception {
    try (JdbcCatalog catalog = catalog();
        Connection connection = database.connect();
        Statement statement = connection.createStatement()) {
      for (int device = 1; device <= 5; device++) {
        for (int seq = 1; seq <= 20; seq++) {
          statement.execute(
              "INSERT INTO events VALUES (" + device + ", " + seq + ", 'r" + device * seq + "')");
        }
      }
      try (Pipeline pipeline = pipeline(catalog, config(name, source))) {
        pipeline.start();
        Random random = new Random(5);
        for (int i = 0; i < 200; i++) {
          int device = 1 + random.nextInt(6);
          int seq = 1 + random.nextInt(25);
          switch (random.nextInt(5)) {
            case 0 ->
                statement.execute(
                    "INSERT INTO events SELECT "
                        + device
                        + ", "
                        + (100 + i)
                        + ", 'new' WHERE NOT EXISTS (SELECT 1 FROM events WHERE device = "
                        + device
                        + " AND seq = "
                        + (100 + i)
                        + ")");
            case 1 ->
                statement.execute(
                    "UPDATE events SET reading = 'u" + i + "' WHERE device = " + device);
            case 2 ->
                statement.execute(
                    "UPDATE events SET seq = seq + 1000 WHERE device = "
                        + device
                        + " AND seq = "
                        + seq);
            case 3 ->
                statement.execute(
                    "DELETE FROM events WHERE device = " + device + " AND seq = " + seq);
            default ->
                statement.execute(
                    "UPDATE events SET reading = NULL WHERE seq % 7 = " + random.nextInt(7));
          }
        }
        awaitEqual(catalog, name, connection);
        assertThat(pipeline.state()).isEqualTo(Pipeline.State.STREAMING);
        Table table = catalog.loadTable(TableIdentifier.of(name, "events"));
        assertThat(table.schema().identifierFieldNames())
            .containsExactlyInAnyOrder("device", "seq");
      } finally {
        statement.execute("DELETE FROM events");
      }
    }
  }

  private static void awaitEqual(JdbcCatalog catalog, String namespace, Connection connection)
      throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    TreeSet<String> source = new TreeSet<>();
    TreeSet<String> lake = new TreeSet<>();
    while (System.nanoTime() < deadline) {
      source.clear();
      try (Statement statement = connection.createStatement();
          ResultSet result = statement.executeQuery("SELECT device, seq, reading FROM events")) {
        while (result.next()) {
          source.add(result.getInt(1) + "|" + result.getInt(2) + "|" + result.getString(3));
        }
      }
      lake.clear();
      TableIdentifier identifier = TableIdentifier.of(namespace, "events");
      if (catalog.tableExists(identifier)) {
        Table table = catalog.loadTable(identifier);
        try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
          for (Record record : records) {
            lake.add(
                record.getField("device")
                    + "|"
                    + record.getField("seq")
                    + "|"
                    + record.getField("reading"));
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      if (source.equals(lake)) {
        return;
      }
      Thread.sleep(300);
    }
    assertThat(lake).as("the Iceberg table of %s", namespace).isEqualTo(source);
  }

  private static PipelineConfig config(String name, SourceConfig source) {
    return new PipelineConfig(name, source, new TargetConfig(name), Duration.ofMillis(300));
  }

  private static Pipeline pipeline(JdbcCatalog catalog, PipelineConfig config) {
    return new Pipeline(
        config,
        catalog,
        ChangeSources.of(config, new SourceContext(directory.resolve("state"), new HttpStreams())),
        new TableWriterRegistry());
  }

  private static JdbcCatalog catalog() {
    return FloeCatalog.open(
        WarehouseConfig.local(directory.resolve("warehouse")), CatalogConfig.defaults());
  }
}
