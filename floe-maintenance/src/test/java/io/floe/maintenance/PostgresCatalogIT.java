package io.floe.maintenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.CatalogDatabase;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.FloeConfig;
import io.floe.core.config.FloeConfigLoader;
import io.floe.core.writer.CdcTableWriter;
import io.floe.demo.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalog on a shared PostgreSQL database ({@code catalog.database}), as a team runs it: tables
 * created, committed and read through it, several processes' catalogs on one database, the
 * maintenance history beside the catalog's tables, and the errors of a database that cannot be
 * opened. Each test has a database of its own on one embedded PostgreSQL.
 */
class PostgresCatalogIT {
  private static final AtomicInteger DATABASES = new AtomicInteger();
  private static final String PASSWORD = "catalog-s3cr3t";

  private static EmbeddedPostgres postgres;

  @TempDir Path warehouse;
  private FloeConfig config;

  @BeforeAll
  static void startPostgres() {
    postgres = EmbeddedPostgres.start();
  }

  @AfterAll
  static void stopPostgres() {
    if (postgres != null) {
      postgres.close();
    }
  }

  @BeforeEach
  void createDatabase() throws Exception {
    String name = "catalog_" + DATABASES.incrementAndGet();
    postgres.createDatabase(name);
    config = configuration(postgres.jdbcUrl(name));
  }

  /** The configuration of a local warehouse whose catalog is in the database at {@code url}. */
  private FloeConfig configuration(String url) {
    return FloeConfigLoader.parse(
        """
        warehouse: ./lake
        catalog:
          database: %s
          database-user: %s
          database-password: ${CATALOG_PASSWORD}
        """
            .formatted(url, postgres.user()),
        warehouse,
        // The server trusts every login; the password is still passed, and must never show.
        Map.of("CATALOG_PASSWORD", PASSWORD),
        "floe.yaml");
  }

  @Test
  void tablesAreCreatedCommittedAndReadThroughPostgres() throws IOException, SQLException {
    try (CdcTable cdc = CdcTable.create(config.warehouse(), config.catalog())) {
      cdc.commit(12, 20, 0);
      cdc.assertEverySnapshotReadsItsRows();
      RewriteDataFilesResult compaction =
          cdc.maintenance.rewriteDataFiles(
              CdcTable.ID, RewriteDataFilesOptions.defaults(), RewriteProgress.NONE);
      assertThat(compaction.rewrittenDataFiles()).isPositive();
      assertThat(CdcTable.read(cdc.load(), cdc.load().currentSnapshot().snapshotId()))
          .isEqualTo(cdc.currentModel());
    }
    // The catalog lives in PostgreSQL: its tables are there, no catalog.db in the warehouse.
    assertThat(config.warehouse().stateDirectory().resolve("catalog.db")).doesNotExist();
    assertThat(Files.exists(config.warehouse().stateDirectory().resolve("raw"))).isTrue();
    try (Connection connection = postgres.connect(databaseName());
        Statement statement = connection.createStatement();
        ResultSet rows =
            statement.executeQuery(
                "SELECT table_namespace, table_name FROM iceberg_tables ORDER BY table_name")) {
      assertThat(rows.next()).isTrue();
      assertThat(rows.getString(1) + "." + rows.getString(2)).isEqualTo("raw.customers");
      assertThat(rows.next()).isTrue();
      assertThat(rows.getString(1) + "." + rows.getString(2)).isEqualTo("raw.orders");
      assertThat(rows.next()).isFalse();
    }
  }

  @Test
  void twoCatalogsOnOneDatabaseSeeEachOthersCommitsAtOnce() throws IOException {
    try (CdcTable cdc = CdcTable.create(config.warehouse(), config.catalog());
        JdbcCatalog other = FloeCatalog.open(config.warehouse(), config.catalog())) {
      cdc.commit(3, 10, 0);
      Table seen = other.loadTable(CdcTable.ID);
      assertThat(seen.currentSnapshot().snapshotId())
          .isEqualTo(cdc.load().currentSnapshot().snapshotId());
      assertThat(CdcTable.read(seen, seen.currentSnapshot().snapshotId()))
          .isEqualTo(cdc.currentModel());

      // The other process writes: the first sees its commit on the next load, without a restart.
      CdcTableWriter writer = CdcTableWriter.open(seen);
      writer.upsert(CdcTable.row(1000, "from-other", "big-1000"), null);
      long otherSnapshot = writer.commit(Map.of()).orElseThrow().snapshotId().orElseThrow();
      assertThat(cdc.load().currentSnapshot().snapshotId()).isEqualTo(otherSnapshot);
      assertThat(CdcTable.read(cdc.load(), otherSnapshot))
          .containsEntry(1000L, List.of("from-other", "big-1000"));

      // And the first writer catches up with the foreign commit before its own.
      cdc.commitUpserts(1, 2);
      Table latest = other.loadTable(CdcTable.ID);
      assertThat(latest.currentSnapshot().parentId()).isEqualTo(otherSnapshot);
      assertThat(CdcTable.read(latest, latest.currentSnapshot().snapshotId()))
          .containsEntry(1000L, List.of("from-other", "big-1000"))
          .containsAllEntriesOf(cdc.currentModel());

      other.dropTable(TableIdentifier.of("raw", "customers"));
      assertThat(cdc.catalog.tableExists(TableIdentifier.of("raw", "customers"))).isFalse();
    }
  }

  @Test
  void maintenanceHistoryIsKeptInPostgres() {
    CatalogDatabase database = FloeCatalog.database(config.warehouse(), config.catalog());
    assertThat(database.embedded()).isFalse();
    // Nothing recorded yet: no table, no runs.
    assertThat(MaintenanceHistory.of(database).recent(null, 10)).isEmpty();
    MaintenanceRun succeeded =
        new MaintenanceRun(
            CdcTable.ID,
            MaintenanceRun.Operation.EXPIRE_SNAPSHOTS,
            Instant.parse("2026-11-21T10:15:30.123Z"),
            42,
            new TableFigures(12, 3, 4_000_000_000L, 20),
            new TableFigures(12, 3, 3_900_000_000L, 5),
            "expired 15 snapshots",
            null);
    MaintenanceRun failed =
        new MaintenanceRun(
            TableIdentifier.of("raw", "items"),
            MaintenanceRun.Operation.REWRITE_DATA_FILES,
            Instant.parse("2026-11-21T10:16:00Z"),
            7,
            null,
            new TableFigures(-1, -1, -1, 1),
            "",
            "Cannot rewrite data files of table raw.items: it's 'quoted'");
    MaintenanceHistory history = MaintenanceHistory.of(database);
    history.record(succeeded);
    history.record(failed);

    // Another process, with a catalog database of its own configuration.
    MaintenanceHistory reader =
        MaintenanceHistory.of(
            FloeCatalog.database(
                configuration(config.catalog().database().orElseThrow()).warehouse(),
                config.catalog()));
    assertThat(reader.recent(null, 10)).containsExactly(failed, succeeded);
    assertThat(reader.recent(CdcTable.ID, 10)).containsExactly(succeeded);

    MaintenanceHistory keepingThree = MaintenanceHistory.keeping(database, 3);
    for (int run = 0; run < 5; run++) {
      keepingThree.record(
          new MaintenanceRun(
              CdcTable.ID,
              MaintenanceRun.Operation.REMOVE_ORPHAN_FILES,
              Instant.parse("2026-11-22T00:00:00Z").plus(Duration.ofMinutes(run)),
              run,
              null,
              null,
              "run " + run,
              null));
    }
    assertThat(reader.recent(null, 10))
        .extracting(MaintenanceRun::details)
        .containsExactly("run 4", "run 3", "run 2");
  }

  @Test
  void aDatabaseThatRefusesFailsWithWhatToCheck() {
    String url = config.catalog().database().orElseThrow().replaceAll("/catalog_\\d+$", "/nosuch");
    FloeConfig missing = configuration(url);

    FloeException exception =
        catchThrowableOfType(
            FloeException.class,
            () -> FloeCatalog.open(missing.warehouse(), missing.catalog()).close());

    assertThat(exception.code()).isEqualTo(ErrorCode.CATALOG_FAILED);
    assertThat(exception.getMessage())
        .startsWith("Cannot open the catalog database " + url + " (user postgres) of warehouse ")
        .contains("database \"nosuch\" does not exist")
        .endsWith(
            "; check that PostgreSQL runs at "
                + url
                + ", that the database exists and that user 'postgres' may log in with the"
                + " configured password (catalog.database, catalog.database-user,"
                + " catalog.database-password) and create tables")
        .doesNotContain(PASSWORD);
  }

  @Test
  void anUnreachableDatabaseFailsWithWhatToCheck() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    String url = "jdbc:postgresql://127.0.0.1:" + port + "/floe";
    FloeConfig unreachable = configuration(url);

    FloeException exception =
        catchThrowableOfType(
            FloeException.class,
            () -> FloeCatalog.open(unreachable.warehouse(), unreachable.catalog()).close());

    assertThat(exception.code()).isEqualTo(ErrorCode.CATALOG_FAILED);
    assertThat(exception.getMessage())
        .startsWith("Cannot open the catalog database " + url)
        .contains("Connection to 127.0.0.1:" + port + " refused")
        .contains("check that PostgreSQL runs at " + url);
    FloeException history =
        catchThrowableOfType(
            FloeException.class,
            () ->
                MaintenanceHistory.of(
                        FloeCatalog.database(unreachable.warehouse(), unreachable.catalog()))
                    .recent(null, 10));
    assertThat(history.code()).isEqualTo(ErrorCode.CATALOG_FAILED);
    assertThat(history.getMessage())
        .startsWith("Cannot read the maintenance history in the catalog database " + url)
        .contains("check that PostgreSQL runs at " + url);
    assertThat(CatalogConfig.defaults().database()).isEmpty();
  }

  private String databaseName() {
    String url = config.catalog().database().orElseThrow();
    return url.substring(url.lastIndexOf('/') + 1);
  }
}
