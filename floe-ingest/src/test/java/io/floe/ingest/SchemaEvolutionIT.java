package io.floe.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.catalog.SchemaHistory;
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
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.Table;
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
 * DDL interleaved with DML under a running pipeline, for PostgreSQL and MariaDB: a column added, a
 * type widened (int to bigint, real to double), a column dropped, two changes in a row, a change
 * inside a busy transaction, then a change a column cannot follow. Afterwards the Iceberg schema is
 * as described, every row matches the source, time travel to before a change reads the old schema
 * and rows, and the change that cannot be followed stops the pipeline with what to do.
 */
class SchemaEvolutionIT {
  private static EmbeddedPostgres postgres;
  private static MariaDbServer mariadb;

  @TempDir static Path directory;

  /** The statements of each step in one SQL dialect. */
  private record Dialect(
      String addColumn,
      String widenInt,
      String dropColumn,
      String addTwo,
      String widenFloat,
      String textToInt,
      boolean transactionalDdl) {}

  private static final Dialect POSTGRES =
      new Dialect(
          "ALTER TABLE evolving ADD COLUMN d int",
          "ALTER TABLE evolving ALTER COLUMN a TYPE bigint",
          "ALTER TABLE evolving DROP COLUMN b",
          "ALTER TABLE evolving ADD COLUMN e varchar(5), ADD COLUMN f double precision",
          "ALTER TABLE evolving ALTER COLUMN c TYPE double precision",
          "ALTER TABLE evolving ALTER COLUMN d TYPE varchar(10)",
          true);

  private static final Dialect MARIADB =
      new Dialect(
          "ALTER TABLE evolving ADD COLUMN d INT",
          "ALTER TABLE evolving MODIFY a BIGINT",
          "ALTER TABLE evolving DROP COLUMN b",
          "ALTER TABLE evolving ADD COLUMN e VARCHAR(5), ADD COLUMN f DOUBLE",
          "ALTER TABLE evolving MODIFY c DOUBLE",
          "ALTER TABLE evolving MODIFY d VARCHAR(10)",
          false);

  @BeforeAll
  static void startServers() throws Exception {
    postgres = EmbeddedPostgres.start();
    postgres.createDatabase("evolve");
    mariadb = MariaDbServer.start(directory.resolve("mariadb"));
    mariadb.createDatabase("evolve");
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
  void followsPostgresSchemaChanges() throws Exception {
    follows(
        "pg",
        new PostgresSourceConfig(
            SourceType.POSTGRES,
            postgres.jdbcUrl("evolve"),
            postgres.user(),
            postgres.password(),
            List.of("public.evolving"),
            "floe_pg",
            "floe_pg",
            UnboundedNumeric.DECIMAL),
        postgres.connect("evolve"),
        POSTGRES);
  }

  @Test
  void followsMariaDbSchemaChanges() throws Exception {
    follows(
        "maria",
        new MariaDbSourceConfig(
            SourceType.MARIADB,
            mariadb.url("evolve"),
            "root",
            "",
            List.of("evolve.evolving"),
            4545),
        mariadb.connect("evolve"),
        MARIADB);
  }

  private static void follows(String name, SourceConfig source, Connection connection, Dialect sql)
      throws Exception {
    TableIdentifier identifier = TableIdentifier.of(name, "evolving");
    try (connection;
        Statement statement = connection.createStatement();
        JdbcCatalog catalog =
            FloeCatalog.open(
                WarehouseConfig.local(directory.resolve("warehouse")), CatalogConfig.defaults())) {
      statement.execute("CREATE TABLE evolving (id INT PRIMARY KEY, a INT, b VARCHAR(10), c REAL)");
      statement.execute(
          "INSERT INTO evolving VALUES (1, 1, 'one', 1.5), (2, 2, 'two', 2.5),"
              + " (3, 3, 'three', 3.5)");
      PipelineConfig config =
          new PipelineConfig(name, source, new TargetConfig(name), Duration.ofMillis(300));
      try (Pipeline pipeline = pipeline(config, catalog)) {
        pipeline.start();
        awaitEqual(catalog, identifier, statement);
        long beforeAdd = catalog.loadTable(identifier).currentSnapshot().snapshotId();

        statement.execute(sql.addColumn());
        statement.execute("INSERT INTO evolving (id, a, b, c, d) VALUES (4, 4, 'four', 4.5, 40)");
        statement.execute("UPDATE evolving SET d = 10 WHERE id = 1");
        awaitEqual(catalog, identifier, statement);

        statement.execute(sql.widenInt());
        statement.execute(
            "INSERT INTO evolving (id, a, b, c) VALUES (5, 1099511627776, 'five', 5.5)");
        awaitEqual(catalog, identifier, statement);
        long beforeDrop = catalog.loadTable(identifier).currentSnapshot().snapshotId();

        statement.execute(sql.dropColumn());
        statement.execute("INSERT INTO evolving (id, a, c) VALUES (6, 6, 6.5)");
        statement.execute("UPDATE evolving SET a = 20 WHERE id = 2");
        // Two changes in a row, then rows.
        statement.execute(sql.addTwo());
        statement.execute("INSERT INTO evolving (id, a, e, f) VALUES (7, 7, 'seven', 7.25)");
        awaitEqual(catalog, identifier, statement);

        // A change inside a busy transaction (MariaDB commits the transaction at DDL).
        connection.setAutoCommit(false);
        statement.execute("INSERT INTO evolving (id, a) VALUES (8, 8)");
        statement.execute("UPDATE evolving SET a = 30 WHERE id = 3");
        statement.execute("ALTER TABLE evolving ADD COLUMN g INT");
        statement.execute("INSERT INTO evolving (id, a, g) VALUES (9, 9, 9)");
        statement.execute("UPDATE evolving SET g = 8 WHERE id = 8");
        connection.commit();
        connection.setAutoCommit(true);
        statement.execute(sql.widenFloat());
        statement.execute("INSERT INTO evolving (id, a, c) VALUES (10, 10, 1.0000000001)");
        awaitEqual(catalog, identifier, statement);

        Table table = catalog.loadTable(identifier);
        assertThat(table.schema().findType("a")).isEqualTo(Types.LongType.get());
        assertThat(table.schema().findType("c")).isEqualTo(Types.DoubleType.get());
        assertThat(table.schema().findType("d")).isEqualTo(Types.IntegerType.get());
        assertThat(table.schema().findType("f")).isEqualTo(Types.DoubleType.get());
        // A dropped column stays, null in rows written since.
        assertThat(table.schema().findType("b")).isEqualTo(Types.StringType.get());
        // d; a; e and f; g; c (PostgreSQL: MariaDB's REAL is a DOUBLE already).
        assertThat(pipeline.stats().schemaChanges()).isGreaterThanOrEqualTo(4);
        assertThat(pipeline.state()).isEqualTo(Pipeline.State.STREAMING);
        // Listed, in order, from the table's metadata (floe schema-history).
        assertThat(
                SchemaHistory.of(table).stream()
                    .flatMap(entry -> entry.changes().stream())
                    .toList())
            .containsSubsequence(
                "added d int",
                "changed a from int to long",
                "added e string",
                "added f double",
                "added g int");

        // Time travel reads each snapshot with its own schema and rows.
        List<Record> before = read(table, beforeAdd);
        assertThat(before).hasSize(3);
        assertThat(before.get(0).struct().field("d")).isNull();
        assertThat(read(table, beforeDrop))
            .hasSize(5)
            .allSatisfy(row -> assertThat(row.getField("b")).isNotNull());

        // A type Iceberg cannot promote the column's to (int to text) takes the safe path: the old
        // column keeps its values under another name, a new column of the new type takes the name.
        long beforeRetype = catalog.loadTable(identifier).currentSnapshot().snapshotId();
        statement.execute(sql.textToInt());
        statement.execute("INSERT INTO evolving (id, a, d) VALUES (11, 11, 'eleven')");
        statement.execute("UPDATE evolving SET d = 'ten' WHERE id = 1");
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Map<String, String> retyped = Map.of();
        while (System.nanoTime() < deadline) {
          retyped = rows(catalog.loadTable(identifier), List.of("d", "d__int"));
          if ("d__int=null d=ten".equals(retyped.get("1"))) {
            break;
          }
          Thread.sleep(200);
        }
        assertThat(pipeline.state()).isEqualTo(Pipeline.State.STREAMING);
        assertThat(retyped)
            .containsEntry("1", "d__int=null d=ten")
            .containsEntry("4", "d__int=40 d=null")
            .containsEntry("11", "d__int=null d=eleven");
        table = catalog.loadTable(identifier);
        assertThat(table.schema().findType("d")).isEqualTo(Types.StringType.get());
        assertThat(table.schema().findType("d__int")).isEqualTo(Types.IntegerType.get());
        assertThat(SchemaHistory.of(table).get(SchemaHistory.of(table).size() - 1).changes())
            .containsExactly("added d string");
        assertThat(
                SchemaHistory.of(table).stream()
                    .flatMap(entry -> entry.changes().stream())
                    .toList())
            .contains("renamed d to d__int");
        // Time travel to before the change reads d as it was.
        assertThat(read(table, beforeRetype))
            .filteredOn(row -> row.getField("id").equals(4))
            .singleElement()
            .satisfies(row -> assertThat(row.getField("d")).isEqualTo(40));

        // A dropped source table: the pipeline goes on, the Iceberg table keeps its rows.
        int kept = rows(catalog.loadTable(identifier), null).size();
        statement.execute("DROP TABLE evolving");
        Thread.sleep(2000);
        assertThat(pipeline.state()).isEqualTo(Pipeline.State.STREAMING);
        assertThat(rows(catalog.loadTable(identifier), null)).hasSize(kept);
      }
      // The next start is refused, before anything is written, until the table leaves
      // source.tables (or is created again).
      try (Pipeline restarted = pipeline(config, catalog)) {
        assertThatThrownBy(restarted::start).hasMessageContaining("evolving: no such table");
      }
    }
  }

  private static Pipeline pipeline(PipelineConfig config, JdbcCatalog catalog) {
    return new Pipeline(
        config,
        catalog,
        ChangeSources.of(config, new SourceContext(directory.resolve("state"), new HttpStreams())),
        new TableWriterRegistry());
  }

  private static List<Record> read(Table table, long snapshotId) throws IOException {
    List<Record> rows = new ArrayList<>();
    try (CloseableIterable<Record> records =
        IcebergGenerics.read(table).useSnapshot(snapshotId).build()) {
      records.forEach(record -> rows.add(record.copy()));
    }
    rows.sort((x, y) -> Integer.compare((Integer) x.getField("id"), (Integer) y.getField("id")));
    return rows;
  }

  /**
   * The rows by id, each as its columns' values in text, of the columns {@code columns} names (the
   * source's; all when null).
   */
  private static Map<String, String> rows(Table table, List<String> columns) {
    table.refresh();
    Map<String, String> rows = new TreeMap<>();
    try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
      for (Record record : records) {
        StringBuilder text = new StringBuilder();
        for (Types.NestedField field : table.schema().columns()) {
          if (columns == null || columns.contains(field.name())) {
            text.append(field.name()).append('=').append(record.getField(field.name())).append(' ');
          }
        }
        rows.put(record.getField("id").toString(), text.toString().trim());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }

  private static void awaitEqual(
      JdbcCatalog catalog, TableIdentifier identifier, Statement statement) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    Map<String, String> source = new TreeMap<>();
    Map<String, String> lake = new TreeMap<>();
    while (System.nanoTime() < deadline) {
      source.clear();
      List<String> columns = new ArrayList<>();
      try (ResultSet result = statement.executeQuery("SELECT * FROM evolving")) {
        ResultSetMetaData metadata = result.getMetaData();
        for (int i = 1; i <= metadata.getColumnCount(); i++) {
          columns.add(metadata.getColumnName(i));
        }
        while (result.next()) {
          StringBuilder text = new StringBuilder();
          for (int i = 1; i <= columns.size(); i++) {
            Object value = result.getObject(i);
            if (value instanceof Float floatValue) {
              value = floatValue.doubleValue() == floatValue ? floatValue.doubleValue() : value;
            }
            text.append(columns.get(i - 1)).append('=').append(value).append(' ');
          }
          source.put(result.getString("id"), text.toString().trim());
        }
      }
      lake.clear();
      if (catalog.tableExists(identifier)) {
        lake.putAll(rows(catalog.loadTable(identifier), columns));
      }
      if (normalized(source).equals(normalized(lake))) {
        return;
      }
      Thread.sleep(300);
    }
    assertThat(normalized(lake)).as("the Iceberg table").isEqualTo(normalized(source));
  }

  /** Rows with column names in one order, so that the source's column order does not matter. */
  private static Map<String, List<String>> normalized(Map<String, String> rows) {
    Map<String, List<String>> sorted = new TreeMap<>();
    rows.forEach(
        (id, text) -> {
          List<String> values = new ArrayList<>(List.of(text.split(" ")));
          values.sort(null);
          sorted.put(id, values);
        });
    return sorted;
  }
}
