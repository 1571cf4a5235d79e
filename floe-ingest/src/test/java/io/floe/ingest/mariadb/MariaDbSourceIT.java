package io.floe.ingest.mariadb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.MariaDbSourceConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.SourceType;
import io.floe.core.config.TargetConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.ingest.ChangeSources;
import io.floe.ingest.Pipeline;
import io.floe.ingest.SourceContext;
import io.floe.ingest.http.HttpStreams;
import io.floe.testing.MariaDbServer;
import io.floe.testing.MariaDbWorkload;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The MariaDB source against a real MariaDB server: a full load and a randomized workload over
 * every mapped type replicate exactly, a restart resumes where the tables stand, and a server or
 * table that cannot feed a pipeline is refused before anything is written, with the fix.
 */
class MariaDbSourceIT {
  private static MariaDbServer server;

  @TempDir static Path directory;

  @BeforeAll
  static void startServer() throws Exception {
    server = MariaDbServer.start(directory.resolve("mariadb"));
    server.createDatabase("shop");
    try (Connection connection = server.connect("shop")) {
      MariaDbWorkload.createTables(connection);
      try (Statement statement = connection.createStatement()) {
        // Zero dates are written as they are, the way old applications do.
        statement.execute("SET SESSION sql_mode = ''");
      }
      MariaDbWorkload.initialLoad(connection, 300, 1);
    }
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private static PipelineConfig config(String name, String user, List<String> tables) {
    return new PipelineConfig(
        name,
        new MariaDbSourceConfig(
            SourceType.MARIADB,
            server.url("shop"),
            user,
            user.equals("root") ? "" : "secret",
            tables,
            4242),
        new TargetConfig(name),
        Duration.ofMillis(300));
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

  @Test
  void replicatesEveryTypeExactlyAndResumesAfterARestart() throws Exception {
    PipelineConfig config = config("types", "root", List.of("shop.everything", "shop.pairs"));
    try (JdbcCatalog catalog = catalog();
        Connection connection = server.connect("shop")) {
      try (Statement statement = connection.createStatement()) {
        statement.execute("SET SESSION sql_mode = ''");
      }
      MariaDbWorkload workload = new MariaDbWorkload(connection, 7);
      try (Pipeline pipeline = pipeline(catalog, config)) {
        pipeline.start();
        for (int round = 0; round < 10; round++) {
          workload.runTransactions(30);
          Thread.sleep(50);
        }
        awaitEqual(catalog, connection, "types", Duration.ofSeconds(90));
        assertThat(pipeline.state()).isEqualTo(Pipeline.State.STREAMING);
        // The workload runs during the full load: its snapshot holds what committed before it
        // began.
        assertThat(pipeline.stats().loadedRows()).isGreaterThanOrEqualTo(600);
        assertThat(pipeline.stats().changes()).isGreaterThan(300);
      }
      Table everything = catalog.loadTable(TableIdentifier.of("types", "everything"));
      assertThat(everything.schema().identifierFieldNames()).containsExactly("id");
      assertThat(everything.schema().findType("c_bigint_u")).isEqualTo(Types.DecimalType.of(20, 0));
      assertThat(everything.schema().findType("c_int_u")).isEqualTo(Types.LongType.get());
      assertThat(everything.schema().findType("c_timestamp"))
          .isEqualTo(Types.TimestampType.withZone());
      assertThat(everything.schema().findType("c_decimal_wide")).isEqualTo(Types.StringType.get());

      // Changes made while the pipeline is stopped arrive after the restart, once.
      workload.runTransactions(50);
      try (Pipeline restarted = pipeline(catalog, config)) {
        restarted.start();
        workload.runTransactions(50);
        awaitEqual(catalog, connection, "types", Duration.ofSeconds(90));
        assertThat(restarted.state()).isEqualTo(Pipeline.State.STREAMING);
        assertThat(restarted.stats().loadedRows()).isZero();
        assertThat(restarted.stats().changes()).isGreaterThan(50);
      }
    }
  }

  @Test
  void appliesTruncateAndMultiRowStatements() throws Exception {
    try (Connection connection = server.connect("shop");
        Statement statement = connection.createStatement()) {
      statement.execute("CREATE TABLE notes (id INT PRIMARY KEY, note VARCHAR(20))");
      statement.execute("INSERT INTO notes VALUES (1, 'one'), (2, 'two'), (3, 'three')");
    }
    PipelineConfig config = config("truncate", "root", List.of("shop.notes"));
    try (JdbcCatalog catalog = catalog();
        Pipeline pipeline = pipeline(catalog, config)) {
      pipeline.start();
      awaitRows(catalog, "truncate", "notes", 3);
      try (Connection connection = server.connect("shop");
          Statement statement = connection.createStatement()) {
        statement.execute("TRUNCATE TABLE notes");
        statement.execute("INSERT INTO notes VALUES (4, 'four'), (5, 'five')");
        statement.execute("UPDATE notes SET note = CONCAT(note, '!')");
        statement.execute("DELETE FROM notes WHERE id = 4");
      }
      awaitRows(catalog, "truncate", "notes", 1);
      Table notes = catalog.loadTable(TableIdentifier.of("truncate", "notes"));
      try (CloseableIterable<Record> rows = IcebergGenerics.read(notes).build()) {
        assertThat(rows)
            .singleElement()
            .satisfies(
                row -> {
                  assertThat(row.getField("id")).isEqualTo(5);
                  assertThat(row.getField("note")).isEqualTo("five!");
                });
      }
      assertThat(pipeline.state()).isEqualTo(Pipeline.State.STREAMING);
    }
  }

  @Test
  void refusesAPurgedBinlogPosition() throws Exception {
    try (Connection connection = server.connect("shop");
        Statement statement = connection.createStatement()) {
      statement.execute("CREATE TABLE purged (id INT PRIMARY KEY, note VARCHAR(20))");
      statement.execute("INSERT INTO purged VALUES (1, 'one')");
    }
    PipelineConfig config = config("purge", "root", List.of("shop.purged"));
    try (JdbcCatalog catalog = catalog()) {
      try (Pipeline pipeline = pipeline(catalog, config)) {
        pipeline.start();
        awaitRows(catalog, "purge", "purged", 1);
      }
      try (Connection connection = server.connect("shop");
          Statement statement = connection.createStatement()) {
        statement.execute("INSERT INTO purged VALUES (2, 'two')");
        statement.execute("FLUSH BINARY LOGS");
        statement.execute("FLUSH BINARY LOGS");
        String last;
        try (var result = statement.executeQuery("SHOW MASTER STATUS")) {
          result.next();
          last = result.getString(1);
        }
        // A binlog a replica still reads is kept: the stopped pipeline's reader may linger.
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
          statement.execute("PURGE BINARY LOGS TO '" + last + "'");
          try (var result = statement.executeQuery("SHOW BINARY LOGS")) {
            result.next();
            if (result.getString(1).equals(last)) {
              break;
            }
          }
          assertThat(System.nanoTime()).as("binlogs purged in time").isLessThan(deadline);
          Thread.sleep(200);
        }
      }
      try (Pipeline pipeline = pipeline(catalog, config)) {
        assertThatThrownBy(pipeline::start)
            .isInstanceOfSatisfying(
                FloeException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.SOURCE_NOT_READY))
            .hasMessageContaining("has purged")
            .hasMessageContaining("Drop the pipeline's Iceberg tables");
      }
    }
  }

  @Test
  void refusesMisconfiguredServersBeforeWritingAnything() throws Exception {
    try (Connection connection = server.connect("shop");
        Statement statement = connection.createStatement()) {
      statement.execute("CREATE USER IF NOT EXISTS 'weak'@'%' IDENTIFIED BY 'secret'");
      statement.execute("GRANT SELECT ON shop.* TO 'weak'@'%'");
      statement.execute("CREATE TABLE IF NOT EXISTS nokey (a INT, b INT)");
      statement.execute("CREATE TABLE IF NOT EXISTS shapes (id INT PRIMARY KEY, g GEOMETRY)");
      assertRefused(
          config("weak", "weak", List.of("shop.pairs")),
          "user weak lacks REPLICATION SLAVE, BINLOG MONITOR, RELOAD",
          "GRANT REPLICATION SLAVE, BINLOG MONITOR, RELOAD ON *.* TO 'weak'@'%'");
      assertRefused(
          config("tables", "root", List.of("shop.nokey", "shop.shapes", "shop.missing")),
          "shop.nokey: it has no primary key",
          "ALTER TABLE `shop`.`nokey` ADD PRIMARY KEY",
          "shop.shapes: column g has type geometry, which Floe cannot map yet",
          "shop.missing: no such table");
      try {
        statement.execute("SET GLOBAL binlog_format = 'STATEMENT'");
        statement.execute("SET GLOBAL binlog_row_image = 'MINIMAL'");
        assertRefused(
            config("formats", "root", List.of("shop.pairs")),
            "binlog_format is STATEMENT",
            "SET GLOBAL binlog_format = 'ROW'",
            "binlog_row_image is MINIMAL",
            "SET GLOBAL binlog_row_image = 'FULL'");
      } finally {
        statement.execute("SET GLOBAL binlog_format = 'ROW'");
        statement.execute("SET GLOBAL binlog_row_image = 'FULL'");
      }
    }
  }

  private static void assertRefused(PipelineConfig config, String... messages) throws Exception {
    try (JdbcCatalog catalog = catalog();
        Pipeline pipeline = pipeline(catalog, config)) {
      assertThatThrownBy(pipeline::start)
          .isInstanceOf(FloeException.class)
          .satisfies(
              e -> {
                for (String message : messages) {
                  assertThat(e).hasMessageContaining(message);
                }
              });
      assertThat(
              catalog.namespaceExists(Namespace.of(config.name()))
                  && !catalog.listTables(Namespace.of(config.name())).isEmpty())
          .as("tables written for a refused pipeline")
          .isFalse();
    }
  }

  private static void awaitRows(JdbcCatalog catalog, String namespace, String table, int rows)
      throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      if (catalog.tableExists(TableIdentifier.of(namespace, table))) {
        Table loaded = catalog.loadTable(TableIdentifier.of(namespace, table));
        if (MariaDbWorkload.icebergRowCount(loaded) == rows) {
          return;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(namespace + "." + table + " never had " + rows + " rows");
      }
      Thread.sleep(200);
    }
  }

  /** Waits until both tables read through Iceberg equal the source; fails with the differences. */
  static void awaitEqual(
      JdbcCatalog catalog, Connection connection, String namespace, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String differences = "";
      for (String table : List.of("everything", "pairs")) {
        Map<String, List<String>> source = MariaDbWorkload.sourceRows(connection, table);
        Map<String, List<String>> lake =
            MariaDbWorkload.icebergRows(catalog.loadTable(TableIdentifier.of(namespace, table)));
        if (!source.equals(lake)) {
          differences += table + ": " + MariaDbWorkload.differences(source, lake) + "\n";
        }
      }
      if (differences.isEmpty()) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("Iceberg tables never matched MariaDB:\n" + differences);
      }
      Thread.sleep(500);
    }
  }
}
