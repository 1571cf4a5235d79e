package io.floe.maintenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.CatalogDatabase;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runs kept in a warehouse's catalog database, as several processes read and write them. */
class MaintenanceHistoryTest {
  private static final TableIdentifier ORDERS = TableIdentifier.of("raw", "orders");
  private static final TableIdentifier ITEMS = TableIdentifier.of("raw", "items");

  @TempDir Path warehouse;

  @Test
  void keepsEveryFieldOfARunBesideTheCatalog() throws Exception {
    try (JdbcCatalog catalog =
        FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults())) {
      MaintenanceRun succeeded =
          new MaintenanceRun(
              ORDERS,
              MaintenanceRun.Operation.EXPIRE_SNAPSHOTS,
              Instant.parse("2026-11-21T10:15:30.123456Z"),
              42,
              new TableFigures(12, 3, 4_000_000_000L, 20),
              new TableFigures(12, 3, 3_900_000_000L, 5),
              "expired 15 snapshots, deleted 40 files (1.0 MiB)",
              null);
      MaintenanceRun failed =
          new MaintenanceRun(
              ITEMS,
              MaintenanceRun.Operation.REWRITE_DATA_FILES,
              Instant.parse("2026-11-21T10:16:00Z"),
              7,
              null,
              new TableFigures(-1, -1, -1, 1),
              "",
              "Cannot rewrite data files of table raw.items: it's 'quoted'");
      MaintenanceHistory history = MaintenanceHistory.of(CatalogDatabase.embedded(warehouse));
      history.record(succeeded);
      history.record(failed);

      // A second instance, as another process would open it.
      MaintenanceHistory reader = MaintenanceHistory.of(CatalogDatabase.embedded(warehouse));
      assertThat(reader.recent(null, 10)).containsExactly(failed, succeeded);
      assertThat(reader.recent(null, 1)).containsExactly(failed);
      assertThat(reader.recent(ORDERS, 10)).containsExactly(succeeded);
      assertThat(reader.recent(TableIdentifier.of("raw", "none"), 10)).isEmpty();
      assertThat(succeeded.startedAt()).isEqualTo(Instant.parse("2026-11-21T10:15:30.123Z"));
      // The catalog still works beside the history table.
      assertThat(catalog.listNamespaces()).isEmpty();
    }
  }

  @Test
  void keepsTheLatestRuns() {
    MaintenanceHistory history = MaintenanceHistory.keeping(CatalogDatabase.embedded(warehouse), 3);
    List<MaintenanceRun> runs = new ArrayList<>();
    for (int index = 0; index < 5; index++) {
      MaintenanceRun run =
          new MaintenanceRun(
              ORDERS,
              MaintenanceRun.Operation.REWRITE_MANIFESTS,
              Instant.ofEpochSecond(index),
              index,
              null,
              null,
              "run " + index,
              null);
      runs.add(run);
      history.record(run);
    }

    assertThat(history.recent(null, 10)).containsExactly(runs.get(4), runs.get(3), runs.get(2));
  }

  @Test
  void isEmptyBeforeTheFirstRunAndCreatesNothing() throws Exception {
    assertThat(MaintenanceHistory.of(CatalogDatabase.embedded(warehouse)).recent(null, 10))
        .isEmpty();
    assertThat(CatalogDatabase.embedded(warehouse).exists()).isFalse();
    FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults()).close();
    assertThat(MaintenanceHistory.of(CatalogDatabase.embedded(warehouse)).recent(ORDERS, 10))
        .isEmpty();
  }

  @Test
  void reportsADatabaseItCannotRead() throws Exception {
    Files.writeString(warehouse.resolve("catalog.db"), "not a database, but long enough to look");

    FloeException exception =
        catchThrowableOfType(
            FloeException.class,
            () -> MaintenanceHistory.of(CatalogDatabase.embedded(warehouse)).recent(null, 10));

    assertThat(exception.code()).isEqualTo(ErrorCode.CATALOG_FAILED);
    assertThat(exception.getMessage())
        .startsWith(
            "Cannot read the maintenance history in the catalog database jdbc:sqlite:"
                + warehouse.resolve("catalog.db")
                + ": ")
        .endsWith(
            "; check that "
                + warehouse.resolve("catalog.db")
                + " is the warehouse's catalog database, and that it and its directory are"
                + " readable and writable");
  }
}
