package io.floe.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.PostgresSourceConfig;
import io.floe.core.config.SourceType;
import io.floe.core.config.TargetConfig;
import io.floe.core.config.UnboundedNumeric;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.demo.EmbeddedPostgres;
import io.floe.ingest.ChangeSources;
import io.floe.ingest.Pipeline;
import io.floe.ingest.SourceContext;
import io.floe.ingest.http.HttpStreams;
import io.floe.testing.TypesWorkload;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end: a randomized workload over every mapped type runs against an embedded PostgreSQL
 * while a pipeline replicates it; afterwards the Iceberg tables equal the source row for row, read
 * through Iceberg's own reader and through {@code floe sql}.
 */
class ReplicationIT {
  static final Map<String, String> EVERYTHING_COLUMNS = new LinkedHashMap<>();
  static final Map<String, String> PAIRS_COLUMNS = new LinkedHashMap<>();

  static {
    for (String plain : List.of("id", "c_smallint", "c_int", "c_bigint")) {
      EVERYTHING_COLUMNS.put(plain, "plain");
    }
    EVERYTHING_COLUMNS.put("c_numeric", "decimal");
    EVERYTHING_COLUMNS.put("c_numeric_unbounded", "decimal");
    EVERYTHING_COLUMNS.put("c_real", "float");
    EVERYTHING_COLUMNS.put("c_double", "double");
    for (String plain : List.of("c_bool", "c_text", "c_varchar", "c_char")) {
      EVERYTHING_COLUMNS.put(plain, "plain");
    }
    EVERYTHING_COLUMNS.put("c_bytea", "bytes");
    EVERYTHING_COLUMNS.put("c_date", "plain");
    EVERYTHING_COLUMNS.put("c_time", "time");
    EVERYTHING_COLUMNS.put("c_timestamp", "timestamp");
    EVERYTHING_COLUMNS.put("c_timestamptz", "timestamptz");
    for (String plain : List.of("c_uuid", "c_json", "c_jsonb", "c_mood")) {
      EVERYTHING_COLUMNS.put(plain, "plain");
    }
    EVERYTHING_COLUMNS.put("c_int_array", "list");
    EVERYTHING_COLUMNS.put("c_text_array", "list");
    EVERYTHING_COLUMNS.put("c_big", "plain");
    PAIRS_COLUMNS.put("a", "plain");
    PAIRS_COLUMNS.put("b", "plain");
    PAIRS_COLUMNS.put("payload", "plain");
  }

  private static EmbeddedPostgres postgres;

  @TempDir static Path warehouse;

  @BeforeAll
  static void startPostgres() throws Exception {
    postgres = EmbeddedPostgres.start();
    postgres.createDatabase("types");
    try (Connection connection = postgres.connect("types")) {
      TypesWorkload.createTables(connection);
      TypesWorkload.initialLoad(connection, 1500, 1);
      try (java.sql.Statement statement = connection.createStatement()) {
        // A table that never changes after the full load: its checkpoint stays behind the slot.
        statement.execute("CREATE TABLE public.still (id int PRIMARY KEY, note text)");
        statement.execute(
            "INSERT INTO public.still SELECT g, 'row ' || g FROM generate_series(1, 50) g");
      }
    }
  }

  @AfterAll
  static void stopPostgres() {
    if (postgres != null) {
      postgres.close();
    }
  }

  static PipelineConfig pipelineConfig(
      EmbeddedPostgres postgres, String database, Duration interval) {
    return new PipelineConfig(
        "types",
        new PostgresSourceConfig(
            SourceType.POSTGRES,
            postgres.jdbcUrl(database),
            postgres.user(),
            postgres.password(),
            List.of("public.everything", "public.pairs", "public.still"),
            "floe_types",
            "floe_types",
            UnboundedNumeric.DECIMAL),
        new TargetConfig("raw"),
        interval);
  }

  private static Pipeline pipeline(JdbcCatalog catalog) {
    PipelineConfig config = pipelineConfig(postgres, "types", Duration.ofMillis(300));
    return new Pipeline(
        config,
        catalog,
        ChangeSources.of(
            config,
            new SourceContext(Path.of(System.getProperty("java.io.tmpdir")), new HttpStreams())),
        new TableWriterRegistry());
  }

  @Test
  void replicatesRandomizedWorkloadExactly() throws Exception {
    try (JdbcCatalog catalog =
            FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
        Pipeline pipeline = pipeline(catalog);
        Connection connection = postgres.connect("types")) {
      pipeline.start();
      TypesWorkload workload = new TypesWorkload(connection, 11);
      for (int round = 0; round < 20; round++) {
        workload.runTransactions(40);
        Thread.sleep(100);
      }
      assertThat(pipeline.state()).isNotEqualTo(Pipeline.State.FAILED);
      awaitEqual(catalog, connection, Duration.ofSeconds(90));
      // Let the slot's restart position move on, as PostgreSQL does every 15 s on a busy server.
      try (java.sql.Statement statement = connection.createStatement()) {
        statement.execute("CHECKPOINT");
        statement.execute("SELECT pg_log_standby_snapshot()");
      }
      workload.runTransactions(40);
      awaitEqual(catalog, connection, Duration.ofSeconds(90));
      Thread.sleep(1000);
      pipeline.close();
      assertThat(pipeline.state()).isEqualTo(Pipeline.State.STOPPED);

      // Restart: the unchanged table's checkpoint is older than the slot; replication resumes.
      try (Pipeline restarted = pipeline(catalog)) {
        restarted.start();
        for (int round = 0; round < 5; round++) {
          workload.runTransactions(40);
          Thread.sleep(100);
        }
        awaitEqual(catalog, connection, Duration.ofSeconds(90));
        assertThat(restarted.state()).isEqualTo(Pipeline.State.STREAMING);
        assertThat(restarted.stats().changes()).isGreaterThan(50);
      }
      assertThat(
              CanonicalRows.fromIceberg(
                  catalog.loadTable(TableIdentifier.of("raw", "still")), List.of("id")))
          .isEqualTo(CanonicalRows.fromPostgres(connection, "public.still", List.of("id")))
          .hasSize(50);

      Table everything = catalog.loadTable(TableIdentifier.of("raw", "everything"));
      assertThat(everything.schema().identifierFieldNames()).containsExactly("id");
      assertNoEqualityDeletes(everything);
      assertThat(pipeline.stats().changes()).isGreaterThan(500);
      // The workload leaves c_big unchanged in many updates: those values came from earlier
      // versions.
      assertThat(pipeline.tables())
          .filteredOn(table -> table.source().equals("public.everything"))
          .singleElement()
          .satisfies(table -> assertThat(table.unchangedValuesFilled()).isGreaterThan(10));
      // Read through floe sql as well.
      assertThat(
              CanonicalRows.fromFloeSql(
                  warehouse.toString(), "raw.everything", EVERYTHING_COLUMNS, List.of("id")))
          .isEqualTo(CanonicalRows.fromPostgres(connection, "public.everything", List.of("id")));
      assertThat(
              CanonicalRows.fromFloeSql(
                  warehouse.toString(), "raw.pairs", PAIRS_COLUMNS, List.of("a", "b")))
          .isEqualTo(CanonicalRows.fromPostgres(connection, "public.pairs", List.of("a", "b")));
    }
  }

  /** Waits until both tables read through Iceberg equal the source; fails with the differences. */
  static void awaitEqual(JdbcCatalog catalog, Connection connection, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "";
    while (true) {
      Map<String, List<String>> sourceEverything =
          CanonicalRows.fromPostgres(connection, "public.everything", List.of("id"));
      Map<String, List<String>> sourcePairs =
          CanonicalRows.fromPostgres(connection, "public.pairs", List.of("a", "b"));
      Map<String, List<String>> lakeEverything =
          CanonicalRows.fromIceberg(
              catalog.loadTable(TableIdentifier.of("raw", "everything")), List.of("id"));
      Map<String, List<String>> lakePairs =
          CanonicalRows.fromIceberg(
              catalog.loadTable(TableIdentifier.of("raw", "pairs")), List.of("a", "b"));
      if (sourceEverything.equals(lakeEverything) && sourcePairs.equals(lakePairs)) {
        return;
      }
      last =
          "everything: "
              + CanonicalRows.differences(sourceEverything, lakeEverything)
              + "\npairs: "
              + CanonicalRows.differences(sourcePairs, lakePairs);
      if (System.nanoTime() > deadline) {
        throw new AssertionError("Iceberg tables never matched the source: " + last);
      }
      Thread.sleep(500);
    }
  }

  static void assertNoEqualityDeletes(Table table) throws Exception {
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      for (FileScanTask task : tasks) {
        DataFile file = task.file();
        assertThat(file.content()).isEqualTo(FileContent.DATA);
        task.deletes()
            .forEach(
                delete -> assertThat(delete.content()).isEqualTo(FileContent.POSITION_DELETES));
      }
    }
  }
}
