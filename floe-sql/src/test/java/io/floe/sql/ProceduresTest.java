package io.floe.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.catalog.CatalogDatabase;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.CdcTableWriter;
import io.floe.maintenance.MaintenanceHistory;
import io.floe.maintenance.MaintenanceRun;
import io.floe.testing.CdcTables;
import io.floe.testing.SalesTable;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code CALL system.*} maintenance procedures through the SQL engine. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ProceduresTest {
  @TempDir Path warehouse;
  private JdbcCatalog catalog;
  private QueryEngine engine;
  private CdcTableWriter writer;
  private final List<Long> snapshots = new ArrayList<>();

  @BeforeEach
  void setUp() {
    catalog = FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
    Table table = SalesTable.createEmpty(catalog, SalesTable.ID);
    writer = CdcTableWriter.open(table);
    for (int commit = 0; commit < 6; commit++) {
      for (long id = 1; id <= 20; id++) {
        writer.upsert(SalesTable.row(id, id * 10 + commit), null);
      }
      writer.commit(Map.of());
      snapshots.add(writer.table().currentSnapshot().snapshotId());
    }
    engine = TestEngines.open(catalog, warehouse);
  }

  @AfterEach
  void tearDown() throws Exception {
    engine.close();
    catalog.close();
  }

  private static String timestampAfterLastCommit(Table table) {
    Instant after = Instant.ofEpochMilli(table.currentSnapshot().timestampMillis()).plusMillis(1);
    return "TIMESTAMP '" + after.toString().replace('T', ' ').replace("Z", "") + "'";
  }

  @Test
  void expiresSnapshotsWithSparkArguments() {
    List<List<Object>> result =
        engine.queryAll(
            "CALL system.expire_snapshots(table => 'raw.sales', older_than => "
                + timestampAfterLastCommit(writer.table())
                + ", retain_last => 2)");
    assertThat(result).hasSize(1);
    assertThat(result.get(0).get(5)).isEqualTo(4L);
    assertThat(engine.queryAll("SELECT snapshot_id FROM raw.sales.snapshots ORDER BY committed_at"))
        .extracting(r -> r.get(0))
        .containsExactly(snapshots.get(4), snapshots.get(5));
    assertThat(
            engine.queryAll(
                "SELECT sum(amount) FROM raw.sales FOR VERSION AS OF " + snapshots.get(4)))
        .containsExactly(List.of(new BigDecimal("2180.00")));
    assertThatThrownBy(
            () -> engine.queryAll("SELECT * FROM raw.sales FOR VERSION AS OF " + snapshots.get(0)))
        .isInstanceOfSatisfying(
            QueryException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_VERSION_NOT_FOUND));

    // positional arguments, in Spark's order; nothing left to expire
    assertThat(
            engine.queryAll(
                "CALL system.expire_snapshots('raw.sales', "
                    + timestampAfterLastCommit(writer.table())
                    + ", 2)"))
        .extracting(r -> r.get(5))
        .containsExactly(0L);
  }

  @Test
  void rollsBackAndRemovesOrphans() throws Exception {
    assertThat(
            engine.queryAll(
                "CALL system.rollback_to_snapshot('raw.sales', " + snapshots.get(1) + ")"))
        .containsExactly(List.of(snapshots.get(5), snapshots.get(1)));
    assertThat(engine.queryAll("SELECT sum(amount) FROM raw.sales"))
        .containsExactly(List.of(new BigDecimal("2120.00")));
    assertThat(
            engine.queryAll(
                "CALL system.set_current_snapshot(table => 'raw.sales', snapshot_id => "
                    + snapshots.get(5)
                    + ")"))
        .containsExactly(List.of(snapshots.get(1), snapshots.get(5)));

    Path orphan =
        Files.writeString(
            warehouse.resolve("raw").resolve("sales").resolve("data").resolve("stray.parquet"),
            "not referenced");
    Files.setLastModifiedTime(orphan, FileTime.from(Instant.now().minus(10, ChronoUnit.DAYS)));
    assertThat(
            engine.queryAll(
                "CALL system.remove_orphan_files(table => 'raw.sales', dry_run => true)"))
        .containsExactly(List.of(orphan.toString()));
    assertThat(orphan).exists();
    assertThat(engine.queryAll("CALL system.remove_orphan_files('raw.sales')"))
        .containsExactly(List.of(orphan.toString()));
    assertThat(orphan).doesNotExist();
    assertThat(engine.queryAll("SELECT count(*) FROM raw.sales")).containsExactly(List.of(20L));
    assertThat(engine.queryAll("CALL system.rewrite_manifests('raw.sales')")).hasSize(1);
    assertThat(engine.queryAll("SELECT count(*) FROM raw.sales")).containsExactly(List.of(20L));
  }

  @Test
  void rewritesDataFilesWithSparkArguments() {
    // Small files with deletes: the same values written again, five times.
    writer.setCompactionEnabled(false);
    for (int commit = 0; commit < 5; commit++) {
      for (long id = 1; id <= 10; id++) {
        writer.upsert(SalesTable.row(id, id * 10 + 5), null);
      }
      writer.commit(Map.of());
    }
    assertThat((Long) engine.queryAll("SELECT count(*) FROM raw.sales.files").get(0).get(0))
        .isGreaterThan(5L);
    List<List<Object>> result =
        engine.queryAll(
            "CALL system.rewrite_data_files(table => 'raw.sales',"
                + " options => map('min-input-files', '2', 'target-file-size-bytes', '1048576'))");
    assertThat(result).hasSize(1);
    assertThat((Integer) result.get(0).get(0)).isPositive();
    assertThat(result.get(0).get(1)).isEqualTo(1);
    assertThat((Long) result.get(0).get(2)).isPositive();
    assertThat(engine.queryAll("SELECT count(*), sum(amount) FROM raw.sales"))
        .containsExactly(List.of(20L, new BigDecimal("2200.00")));
    assertThat(engine.queryAll("SELECT count(*) FROM raw.sales.files"))
        .containsExactly(List.of(1L));
    assertThat(
            engine.queryAll(
                "SELECT sum(amount) FROM raw.sales FOR VERSION AS OF " + snapshots.get(4)))
        .containsExactly(List.of(new BigDecimal("2180.00")));

    // Recorded in the warehouse's maintenance history, as floe maintain history shows it.
    assertThat(
            MaintenanceHistory.of(CatalogDatabase.embedded(warehouse))
                .recent(TableIdentifier.of("raw", "sales"), 10))
        .extracting(MaintenanceRun::operation)
        .containsExactly(MaintenanceRun.Operation.REWRITE_DATA_FILES);

    // positional, sorted: the single file is rewritten only when deletes make it worth it
    assertThat(
            engine.queryAll("CALL system.rewrite_data_files('raw.sales', 'sort', 'amount DESC')"))
        .containsExactly(List.of(0, 0, 0L, 0, 0));
  }

  /** Spark's where: only the files that may hold matching rows are rewritten. */
  @Test
  void rewritesOnlyTheFilesThatMayMatchWhere() {
    Schema schema =
        new Schema(
            List.of(
                Types.NestedField.required(1, "id", Types.LongType.get()),
                Types.NestedField.optional(2, "region", Types.StringType.get())),
            Set.of(1));
    Table table = CdcTables.create(catalog, TableIdentifier.of("raw", "events"), schema);
    CdcTableWriter events = CdcTableWriter.open(table);
    events.setCompactionEnabled(false);
    // Three files: ids 1-10, 11-20 and 21-30.
    for (int commit = 0; commit < 3; commit++) {
      for (long id = 1; id <= 10; id++) {
        GenericRecord event = GenericRecord.create(schema);
        event.set(0, commit * 10L + id);
        event.set(1, id % 2 == 0 ? "eu" : "us");
        events.upsert(event, null);
      }
      events.commit(Map.of());
    }
    String files = "SELECT record_count FROM raw.events.files ORDER BY record_count";
    assertThat(engine.queryAll(files)).containsExactly(List.of(10L), List.of(10L), List.of(10L));

    assertThat(
            engine.queryAll(
                "CALL system.rewrite_data_files(table => 'raw.events', where => 'id <= 20',"
                    + " options => map('min-input-files', '2'))"))
        .extracting(row -> row.subList(0, 2))
        .containsExactly(List.of(2, 1));
    assertThat(engine.queryAll(files)).containsExactly(List.of(10L), List.of(20L));
    assertThat(engine.queryAll("SELECT count(*), count(DISTINCT id) FROM raw.events"))
        .containsExactly(List.of(30L, 30L));
    // No file holds an id above 100, nor a null region.
    assertThat(
            engine.queryAll(
                "CALL system.rewrite_data_files('raw.events', where => 'id > 100 OR region IS NULL',"
                    + " options => map('min-input-files', '1'))"))
        .containsExactly(List.of(0, 0, 0L, 0, 0));

    String call = "CALL system.rewrite_data_files('raw.events', where => '%s')";
    assertThatThrownBy(() -> engine.queryAll(String.format(call, "nope = 1")))
        .hasMessageContaining(
            "Cannot call system.rewrite_data_files with where: the table has no column nope of a"
                + " primitive type; its columns: id, region");
    assertThatThrownBy(() -> engine.queryAll(String.format(call, "id > region")))
        .hasMessageContaining("'id' and 'region': compare one column with a constant");
    assertThatThrownBy(() -> engine.queryAll(String.format(call, "id > ''x''")))
        .hasMessageContaining("cannot compare column id (long) with 'x'");
    assertThatThrownBy(() -> engine.queryAll(String.format(call, "length(region) > 2")))
        .hasMessageContaining("compare one column with a constant");
    assertThatThrownBy(() -> engine.queryAll(String.format(call, "id >")))
        .hasMessageContaining("'id >' is not a SQL condition");
    assertThatThrownBy(() -> engine.queryAll(String.format(call, "id > 1 GROUP BY id")))
        .hasMessageContaining("is not one condition on the table's columns");
    assertThatThrownBy(() -> engine.queryAll(String.format(call, "id IN (SELECT 1)")))
        .hasMessageContaining(
            "'subquery' is not a condition on the table's files; use comparisons");
  }

  @Test
  void refusesBadCalls() {
    assertThatThrownBy(() -> engine.queryAll("CALL system.nope('raw.sales')"))
        .hasMessageContaining("unknown procedure system.nope; available: expire_snapshots");
    assertThatThrownBy(() -> engine.queryAll("CALL system.expire_snapshots(tabel => 'raw.sales')"))
        .hasMessageContaining("has no parameter tabel; its parameters: table, older_than");
    assertThatThrownBy(() -> engine.queryAll("CALL system.rewrite_manifests()"))
        .hasMessageContaining("argument table is required");
    assertThatThrownBy(() -> engine.queryAll("CALL system.rewrite_manifests('sales')"))
        .hasMessageContaining("table must be 'namespace.table'");
    assertThatThrownBy(() -> engine.queryAll("CALL system.rewrite_manifests('raw.nope')"))
        .isInstanceOfSatisfying(
            io.floe.core.FloeException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_NOT_FOUND));
    assertThatThrownBy(
            () -> engine.queryAll("CALL system.rewrite_data_files('raw.sales', 'zorder')"))
        .hasMessageContaining("unknown strategy 'zorder'; use 'binpack' or 'sort'");
    assertThatThrownBy(
            () ->
                engine.queryAll(
                    "CALL system.rewrite_data_files('raw.sales', options => map('max-x', '1'))"))
        .hasMessageContaining(
            "unknown option 'max-x'; supported: target-file-size-bytes, min-input-files");
    assertThatThrownBy(
            () -> engine.queryAll("CALL system.rewrite_data_files('raw.sales', 'sort', 'nope')"))
        .hasMessageContaining("no column nope in the table");
    assertThatThrownBy(() -> engine.queryAll("CALL system.rollback_to_snapshot('raw.sales', 42)"))
        .isInstanceOfSatisfying(
            io.floe.core.FloeException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_VERSION_NOT_FOUND));
  }
}
