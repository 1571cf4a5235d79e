package io.floe.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.FloeConfig;
import io.floe.core.config.FloeConfigLoader;
import io.floe.demo.EmbeddedPostgres;
import io.floe.maintenance.MaintenanceHistory;
import io.floe.maintenance.MaintenanceRun;
import io.floe.testing.S3Server;
import io.floe.testing.TypesWorkload;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end, as a team runs Floe: {@code floe run} in a child JVM replicates a randomized workload
 * into a warehouse in object storage (s3proxy on loopback), with the catalog in a shared PostgreSQL
 * database and table maintenance on; this process opens the same catalog from the same
 * configuration file and finds the tables equal to the source, through Iceberg's reader and through
 * {@code floe sql}, and the maintenance runs in the shared database.
 */
class S3ReplicationIT {
  @TempDir Path directory;

  @Test
  void replicatesIntoObjectStorageWithASharedCatalog() throws Exception {
    try (EmbeddedPostgres postgres = EmbeddedPostgres.start();
        S3Server s3 = S3Server.start("lake")) {
      postgres.createDatabase("shop");
      postgres.createDatabase("metastore");
      try (Connection setup = postgres.connect("shop")) {
        TypesWorkload.createTables(setup);
        TypesWorkload.initialLoad(setup, 800, 1);
      }
      Path config =
          FloeRunProcess.writeConfig(
              directory,
              List.of(
                  "warehouse: s3://lake/teams/floe",
                  "state-directory: ./state",
                  "storage:",
                  "  endpoint: " + s3.endpoint(),
                  "  path-style-access: true",
                  "  access-key-id: " + S3Server.ACCESS_KEY_ID,
                  "  secret-access-key: ${S3_TEST_SECRET:-" + S3Server.SECRET_ACCESS_KEY + "}",
                  "catalog:",
                  "  port: 0",
                  "  database: " + postgres.jdbcUrl("metastore"),
                  "  database-user: " + postgres.user(),
                  "  database-password: ${METASTORE_TEST_PASSWORD:-" + postgres.password() + "}"),
              postgres,
              "shop",
              "S3_REPLICATION_TEST_PASSWORD",
              "maintenance:",
              "  interval: 2s",
              "  retain-last: 3",
              "  expire-older-than: 1s",
              "  orphan-older-than: 1m",
              "  compact-min-input-files: 2");
      FloeConfig loaded = FloeConfigLoader.load(config);
      Process floe = FloeRunProcess.start(config, log());
      try (JdbcCatalog catalog = FloeCatalog.open(loaded.warehouse(), loaded.catalog());
          Connection connection = postgres.connect("shop")) {
        awaitOutput("LOADING -> STREAMING", Duration.ofMinutes(2));
        TypesWorkload workload = new TypesWorkload(connection, 5);
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < end) {
          assertThat(floe.isAlive()).as("floe run is alive: %s", output()).isTrue();
          workload.runTransactions(10);
          Thread.sleep(50);
        }
        ReplicationIT.awaitEqual(catalog, connection, Duration.ofMinutes(2));
        assertThat(catalog.loadTable(TableIdentifier.of("raw", "everything")).location())
            .isEqualTo("s3://lake/teams/floe/raw/everything");
        // floe sql with the same configuration file reads the same tables.
        assertThat(
                CanonicalRows.fromFloeSql(
                    List.of("-c", config.toString()),
                    "raw.pairs",
                    ReplicationIT.PAIRS_COLUMNS,
                    List.of("a", "b")))
            .isEqualTo(CanonicalRows.fromPostgres(connection, "public.pairs", List.of("a", "b")));
        awaitOutput("Expired", Duration.ofSeconds(60));
      } finally {
        floe.destroy(); // SIGTERM: a clean stop
        assertThat(floe.waitFor(60, TimeUnit.SECONDS)).isTrue();
      }
      String output = output();
      assertThat(output)
          .contains("s3://lake/teams/floe")
          // A compaction that the stop cuts short is logged with its exception; the secret never.
          .doesNotContain(S3Server.SECRET_ACCESS_KEY);
      // The runs of floe run are in the shared database; no catalog file was made locally.
      List<MaintenanceRun> runs =
          MaintenanceHistory.of(FloeCatalog.database(loaded.warehouse(), loaded.catalog()))
              .recent(null, 1000);
      assertThat(runs)
          .anySatisfy(
              run ->
                  assertThat(run.operation()).isEqualTo(MaintenanceRun.Operation.EXPIRE_SNAPSHOTS));
      assertThat(directory.resolve("state").resolve("catalog.db")).doesNotExist();
    }
  }

  private void awaitOutput(String text, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!output().contains(text)) {
      assertThat(System.nanoTime())
          .as("floe run logged '%s' within %s: %s", text, timeout, output())
          .isLessThan(deadline);
      Thread.sleep(200);
    }
  }

  private String output() throws Exception {
    return Files.readString(log().toPath());
  }

  private File log() {
    return directory.resolve("floe-run.log").toFile();
  }
}
