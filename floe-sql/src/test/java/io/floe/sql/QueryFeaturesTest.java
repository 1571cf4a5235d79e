package io.floe.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.CdcTableWriter;
import io.floe.testing.CdcTables;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Pruning, EXPLAIN, workgroups, result reuse, cancellation and refusals of the SQL engine. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class QueryFeaturesTest {
  private static final Schema SCHEMA =
      new Schema(
          List.of(
              Types.NestedField.required(1, "id", Types.LongType.get()),
              Types.NestedField.optional(2, "amount", Types.DecimalType.of(10, 2)),
              Types.NestedField.optional(3, "day", Types.DateType.get())),
          Set.of(1));

  @TempDir Path warehouse;
  private JdbcCatalog catalog;
  private QueryEngine engine;
  private CdcTableWriter writer;
  private final List<Long> snapshots = new ArrayList<>();

  @BeforeEach
  void setUp() {
    catalog = FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
    catalog.createNamespace(Namespace.of("raw"));
    Table table = CdcTables.create(catalog, TableIdentifier.of("raw", "sales"), SCHEMA);
    writer = CdcTableWriter.open(table);
    writer.setCompactionEnabled(false);
    for (int batch = 0; batch < 4; batch++) {
      for (long id = batch * 100L + 1; id <= batch * 100L + 100; id++) {
        writer.upsert(row(id, id), null);
      }
      commit();
    }
    writer.delete(row(150, 0));
    writer.upsert(row(250, 7), null);
    commit();
    engine = TestEngines.open(catalog, warehouse);
  }

  private void commit() {
    writer.commit(Map.of());
    snapshots.add(writer.table().currentSnapshot().snapshotId());
  }

  @AfterEach
  void tearDown() throws Exception {
    engine.close();
    catalog.close();
  }

  private static Record row(long id, long amount) {
    GenericRecord record = GenericRecord.create(SCHEMA);
    record.set(0, id);
    record.set(1, BigDecimal.valueOf(amount).setScale(2));
    record.set(2, java.time.LocalDate.of(2026, 1, 1).plusDays(id / 100));
    return record;
  }

  private QueryStats run(String sql, QueryOptions options, List<List<Object>> rows) {
    try (QueryExecution execution = engine.start(sql, options)) {
      for (Object[] row = execution.next(); row != null; row = execution.next()) {
        rows.add(List.of(row));
      }
      return execution.stats();
    }
  }

  @Test
  void prunesFilesWithTheQueryFilters() {
    List<List<Object>> rows = new ArrayList<>();
    QueryStats stats =
        run("SELECT id, amount FROM raw.sales WHERE id = 250", QueryOptions.local(), rows);
    assertThat(rows).containsExactly(List.of(250L, new BigDecimal("7.00")));
    TableScan scan = stats.scans().get(0);
    assertThat(scan.dataFiles()).isEqualTo(2); // the batch 201..300 and the file holding the update
    assertThat(scan.totalDataFiles()).isEqualTo(5);
    assertThat(scan.bytes()).isLessThan(scan.totalBytes());
    assertThat(stats.bytesScanned()).isEqualTo(scan.bytes());

    // A filter on another table's column, or under OR, does not prune; results stay exact.
    rows.clear();
    stats =
        run(
            "SELECT count(*) FROM raw.sales s LEFT JOIN raw.sales t ON s.id = t.id + 1"
                + " WHERE t.id BETWEEN 101 AND 120 OR s.id = 5",
            QueryOptions.local(),
            rows);
    assertThat(rows).containsExactly(List.of(21L));
    assertThat(stats.scans()).allSatisfy(s -> assertThat(s.dataFiles()).isEqualTo(5));

    rows.clear();
    stats =
        run(
            "SELECT count(*) FROM raw.sales s JOIN raw.sales t ON s.id = t.id"
                + " WHERE t.id BETWEEN 101 AND 120 AND s.day = DATE '2026-01-02'",
            QueryOptions.local(),
            rows);
    assertThat(rows).containsExactly(List.of(20L));
    assertThat(stats.scans().get(1).dataFiles()).isEqualTo(1);
  }

  @Test
  void travelsInTimeInEveryForm() {
    long first = snapshots.get(0);
    for (String form :
        List.of(
            "FOR VERSION AS OF " + first,
            "FOR SYSTEM_VERSION AS OF " + first,
            "VERSION AS OF " + first)) {
      assertThat(engine.queryAll("SELECT count(*), max(id) FROM raw.sales " + form))
          .as(form)
          .containsExactly(List.of(100L, 100L));
    }
    long time = writer.table().snapshot(snapshots.get(1)).timestampMillis();
    String timestamp = java.time.Instant.ofEpochMilli(time).toString().replace('T', ' ');
    for (String form :
        List.of(
            "FOR TIMESTAMP AS OF TIMESTAMP '" + timestamp + "'",
            "FOR SYSTEM_TIME AS OF '" + timestamp + "'",
            "TIMESTAMP AS OF '" + timestamp + "'")) {
      assertThat(engine.queryAll("SELECT count(*) FROM raw.sales " + form + " s WHERE s.id > 0"))
          .as(form)
          .containsExactly(List.of(200L));
    }
    writer.table().manageSnapshots().createTag("v3", snapshots.get(2)).commit();
    assertThat(engine.queryAll("SELECT count(*) FROM raw.sales FOR VERSION AS OF 'v3'"))
        .containsExactly(List.of(300L));
    assertThat(engine.queryAll("SELECT count(*) FROM raw.sales.tag_v3"))
        .containsExactly(List.of(300L));
    assertThat(
            engine.queryAll(
                "SELECT count(*) FROM raw.sales n JOIN raw.sales FOR VERSION AS OF "
                    + snapshots.get(3)
                    + " o ON n.id = o.id WHERE n.amount <> o.amount"))
        .containsExactly(List.of(1L));

    assertThatThrownBy(() -> engine.queryAll("SELECT * FROM raw.sales FOR VERSION AS OF 42"))
        .isInstanceOfSatisfying(
            QueryException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_VERSION_NOT_FOUND))
        .hasMessageContaining("has no snapshot 42; its latest snapshots are");
    assertThatThrownBy(
            () ->
                engine.queryAll(
                    "SELECT * FROM raw.sales FOR TIMESTAMP AS OF TIMESTAMP '2000-01-01 00:00:00'"))
        .hasMessageContaining("has no snapshot at or before 2000-01-01T00:00:00Z");
    assertThatThrownBy(() -> engine.queryAll("SELECT * FROM raw.sales FOR VERSION AS OF 'nope'"))
        .hasMessageContaining("has no branch or tag 'nope'; it has: main (branch), v3 (tag)");
  }

  @Test
  void readsMetadataTablesInTrinoAndSparkForms() {
    assertThat(engine.queryAll("SELECT count(*) FROM raw.\"sales$snapshots\""))
        .containsExactly(List.of(5L));
    assertThat(
            engine.queryAll(
                "SELECT snapshot_id FROM raw.sales.history WHERE is_current_ancestor"
                    + " ORDER BY made_current_at"))
        .extracting(row -> row.get(0))
        .containsExactlyElementsOf(snapshots);
    assertThat(engine.queryAll("SELECT sum(record_count) FROM raw.sales.files WHERE content = 0"))
        .containsExactly(List.of(java.math.BigInteger.valueOf(401)));
    assertThat(engine.queryAll("SELECT name, type FROM raw.\"sales$refs\""))
        .containsExactly(List.of("main", "BRANCH"));
    // Trino's extra columns in its form
    assertThat(
            engine.queryAll(
                "SELECT total_size = total_data_file_size_in_bytes, record_count"
                    + " FROM raw.\"sales$partitions\""))
        .containsExactly(List.of(true, 401L));
    long addedRows = 0;
    for (org.apache.iceberg.ManifestFile manifest :
        writer.table().currentSnapshot().dataManifests(writer.table().io())) {
      addedRows += manifest.addedRowsCount() + manifest.existingRowsCount();
    }
    assertThat(
            engine.queryAll(
                "SELECT sum(added_rows_count + existing_rows_count) FROM raw.\"sales$manifests\""
                    + " WHERE content = 0"))
        .containsExactly(List.of(java.math.BigInteger.valueOf(addedRows)));
    assertThatThrownBy(() -> engine.queryAll("SELECT total_size FROM raw.sales.partitions"))
        .hasMessageContaining("total_size");
    assertThatThrownBy(() -> engine.queryAll("SELECT * FROM raw.\"sales$nope\""))
        .hasMessageContaining("Cannot read metadata table 'nope'");
  }

  @Test
  void informationSchemaDescribesFloeTables() {
    assertThat(
            engine.queryAll(
                "SELECT column_name, data_type FROM information_schema.columns"
                    + " WHERE table_schema = 'raw' AND table_name = 'sales' ORDER BY ordinal_position"))
        .containsExactly(
            List.of("id", "BIGINT"), List.of("amount", "DECIMAL(10,2)"), List.of("day", "DATE"));
    assertThat(
            engine.queryAll(
                "SELECT count(*) FROM information_schema.tables t JOIN raw.sales s"
                    + " ON t.table_name = 'sales' WHERE t.table_schema = 'raw'"))
        .containsExactly(List.of(399L));
  }

  @Test
  void explainsThePlanWithPruning() {
    List<String> lines =
        engine.queryAll("EXPLAIN SELECT sum(amount) FROM raw.sales WHERE id >= 301").stream()
            .map(row -> (String) row.get(0))
            .toList();
    String plan = String.join("\n", lines);
    assertThat(plan)
        .contains("raw.sales")
        .contains("filter pushed to Iceberg: ref(name=\"id\") >= 301")
        .contains("data files: 1 of 5 planned")
        .contains("position delete files applied: 1")
        .contains("DuckDB plan:")
        .contains("READ_PARQUET")
        .doesNotContain("__floe_ref");
    String analyzed =
        engine.queryAll("EXPLAIN ANALYZE SELECT count(*) FROM raw.sales").stream()
            .map(row -> (String) row.get(0))
            .collect(Collectors.joining("\n"));
    assertThat(analyzed).contains("DuckDB plan, executed:").contains("Executed in");
  }

  @Test
  void workgroupLimitsRefuseBeforeRunningAndReuseResultsUntilTheTableChanges() {
    long total = totalBytes();
    Workgroup small = new Workgroup("adhoc", total / 2, Duration.ZERO);
    QueryOptions limited = new QueryOptions("ana", small, Duration.ofMinutes(1));
    assertThatThrownBy(() -> engine.start("SELECT count(*) FROM raw.sales", limited))
        .isInstanceOfSatisfying(
            QueryException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.SQL_LIMIT_EXCEEDED);
              assertThat(e.sqlState()).isEqualTo("54000");
            })
        .hasMessageContaining("per-query limit of workgroup adhoc (bytes-scanned-limit)");
    assertThat(run("SELECT count(*) FROM raw.sales WHERE id < 50", limited, new ArrayList<>()))
        .satisfies(stats -> assertThat(stats.bytesScanned()).isLessThanOrEqualTo(total / 2));

    QueryOptions reusing =
        new QueryOptions(
            "ana",
            new Workgroup("bi", Long.MAX_VALUE, Duration.ofMinutes(5)),
            Duration.ofMinutes(1));
    String sql = "SELECT count(*), sum(amount) FROM raw.sales";
    List<List<Object>> first = new ArrayList<>();
    assertThat(run(sql, reusing, first).reused()).isFalse();
    List<List<Object>> second = new ArrayList<>();
    QueryStats reused = run(sql, reusing, second);
    assertThat(reused.reused()).isTrue();
    assertThat(reused.bytesScanned()).isZero();
    assertThat(second).isEqualTo(first);
    // Another workgroup does not see it; a commit makes it miss.
    assertThat(run(sql, QueryOptions.local(), new ArrayList<>()).reused()).isFalse();
    writer.upsert(row(1000, 1), null);
    commit();
    List<List<Object>> third = new ArrayList<>();
    assertThat(run(sql, reusing, third).reused()).isFalse();
    assertThat(third.get(0).get(0)).isEqualTo(400L);
  }

  private long totalBytes() {
    return Long.parseLong(writer.table().currentSnapshot().summary().get("total-files-size"));
  }

  @Test
  void cancelsAndTimesOut() throws Exception {
    String slow = "SELECT count(*) FROM range(1000000000000) a WHERE a.range % 7 = 3";
    QueryExecution execution = engine.start(slow, QueryOptions.local());
    assertThat(engine.running()).extracting(QueryExecution::id).contains(execution.id());
    CompletableFuture<Throwable> failure =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                execution.next();
                return null;
              } catch (RuntimeException e) {
                return e;
              }
            });
    Thread.sleep(300);
    assertThat(engine.cancel(execution.id())).isTrue();
    assertThat(failure.get(30, TimeUnit.SECONDS))
        .isInstanceOfSatisfying(
            QueryException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.SQL_CANCELLED);
              assertThat(e.sqlState()).isEqualTo("57014");
            });
    execution.close();
    assertThat(engine.running()).isEmpty();

    QueryOptions quick = QueryOptions.local().withTimeout(Duration.ofMillis(300));
    long start = System.nanoTime();
    assertThatThrownBy(() -> engine.queryAll(slow, quick))
        .isInstanceOfSatisfying(
            QueryException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SQL_TIMEOUT))
        .hasMessageContaining("ran longer than its time limit of 0.3s");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
    assertThatThrownBy(() -> engine.queryAll("EXPLAIN ANALYZE " + slow, quick))
        .isInstanceOfSatisfying(
            QueryException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SQL_TIMEOUT));
  }

  @Test
  void refusesEverythingButReadsOfFloeTables() throws Exception {
    Path dataFile;
    try (Stream<Path> files = Files.walk(warehouse)) {
      dataFile = files.filter(p -> p.toString().endsWith(".parquet")).findFirst().orElseThrow();
    }
    for (String statement :
        List.of(
            "COPY (SELECT 1) TO '/tmp/x.csv'",
            "ATTACH '/tmp/x.db'",
            "INSTALL httpfs",
            "LOAD httpfs",
            "SET enable_external_access = true",
            "CREATE TABLE x AS SELECT 1",
            "EXPLAIN COPY (SELECT 1) TO '/tmp/x.csv'",
            "PRAGMA version")) {
      assertThatThrownBy(() -> engine.queryAll(statement))
          .as(statement)
          .isInstanceOfSatisfying(
              QueryException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SQL_NOT_ALLOWED))
          .hasMessageContaining("only queries");
    }
    for (String query :
        List.of(
            "SELECT * FROM read_csv('/etc/passwd')",
            "SELECT * FROM read_parquet('" + dataFile + "')",
            "SELECT * FROM glob('" + warehouse + "/*')",
            "SELECT * FROM read_text('" + warehouse.resolve("catalog.db") + "')",
            "SELECT count(*) FROM raw.sales, read_parquet('" + dataFile + "')",
            "SELECT (SELECT count(*) FROM read_csv('/etc/passwd')) FROM raw.sales")) {
      assertThatThrownBy(() -> engine.queryAll(query))
          .as(query)
          .isInstanceOfSatisfying(
              QueryException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SQL_NOT_ALLOWED))
          .hasMessageContaining("is not allowed; only Floe's tables (namespace.table)");
    }
    assertThatThrownBy(() -> engine.queryAll("SELECT * FROM '" + dataFile + "'"))
        .hasMessageContaining("names a file; only Floe's tables (namespace.table) can be read");
    QueryEngine strict =
        TestEngines.open(
            catalog, warehouse, new QueryEngine.Settings(100, warehouse.resolve("work"), 1 << 20));
    assertThatThrownBy(() -> strict.queryAll("SELECT 1 /*" + "x".repeat(200) + "*/"))
        .isInstanceOfSatisfying(
            QueryException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SQL_LIMIT_EXCEEDED))
        .hasMessageContaining("more than the limit of 100 (sql.max-query-length)");
  }

  @Test
  void reportsErrorsAtTheirPositionInTheQueryAsWritten() {
    String malformed = "SELECT id FROM raw.sales FOR VERSION AS OF 1 WHERE id = = 1";
    assertThatThrownBy(() -> engine.queryAll(malformed))
        .isInstanceOfSatisfying(
            QueryException.class,
            e -> {
              assertThat(e.sqlState()).isEqualTo("42601");
              assertThat(malformed.substring(e.position() - 1)).isEqualTo("= 1");
            })
        .hasMessageContaining("(at line 1, column 57)");
    assertThatThrownBy(() -> engine.queryAll("SELECT id,\n  nope FROM raw.sales s"))
        .isInstanceOfSatisfying(
            QueryException.class,
            e -> {
              assertThat(e.sqlState()).isEqualTo("42703");
              assertThat(e.position()).isEqualTo(14);
            })
        .hasMessageContaining("(at line 2, column 3)");
    assertThatThrownBy(() -> engine.queryAll("SELECT * FROM sales"))
        .isInstanceOfSatisfying(
            QueryException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_NOT_FOUND))
        .hasMessageContaining("available tables: raw.sales");
  }
}
