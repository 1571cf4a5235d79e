package io.floe.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.Schema;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code system.<name>} reads a {@link SystemTable}'s rows afresh for every query. */
class SystemTablesTest {
  @TempDir Path warehouse;
  private JdbcCatalog catalog;
  private QueryEngine engine;
  private final List<Object[]> rows = new ArrayList<>();

  @BeforeEach
  void open() {
    catalog = FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
    engine = TestEngines.open(catalog, warehouse);
    engine.addSystemTable(
        new SystemTable() {
          @Override
          public String name() {
            return "reports";
          }

          @Override
          public Schema schema() {
            return new Schema(
                Types.NestedField.required(1, "table_name", Types.StringType.get()),
                Types.NestedField.optional(2, "snapshot_id", Types.LongType.get()));
          }

          @Override
          public List<Object[]> rows() {
            return List.copyOf(rows);
          }
        });
  }

  @AfterEach
  void close() throws Exception {
    engine.close();
    catalog.close();
  }

  @Test
  void readsTheRowsOfEachQuery() {
    assertThat(engine.queryAll("SELECT count(*) FROM system.reports")).containsExactly(List.of(0L));

    rows.add(new Object[] {"raw.orders", 7L});
    rows.add(new Object[] {"raw.items", null});

    assertThat(
            engine.queryAll(
                "SELECT table_name, snapshot_id FROM system.reports ORDER BY table_name"))
        .containsExactly(java.util.Arrays.asList("raw.items", null), List.of("raw.orders", 7L));
    assertThat(engine.queryAll("EXPLAIN SELECT * FROM system.reports").toString())
        .contains("system table system.reports: 2 rows");
  }

  @Test
  void refusesTimeTravel() {
    assertThatThrownBy(() -> engine.queryAll("SELECT * FROM system.reports FOR VERSION AS OF 1"))
        .isInstanceOf(QueryException.class)
        .hasMessageContaining("system tables have no history");
  }
}
