package io.floe.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.CatalogDatabase;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.catalog.TableFiles;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.demo.EmbeddedPostgres;
import io.floe.maintenance.MaintenanceHistory;
import io.floe.maintenance.MaintenanceRun;
import io.floe.maintenance.MaintenanceScheduler;
import io.floe.maintenance.TableMaintenance;
import io.floe.testing.TypesWorkload;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code floe run} with aggressive maintenance (every 2 s: compact files with 2% deleted rows, keep
 * 5 snapshots older than 1 s) while a randomized workload streams: the tables still equal the
 * source exactly, compactions are committed by the pipeline's writer, and snapshots are expired as
 * they go.
 */
class MaintenanceIT {
  private static final int RETAIN_LAST = 5;

  /** Data files a table may hold between two passes: the writer's own ones and one rewrite's. */
  private static final int MOST_DATA_FILES = 6;

  /** Commits that may land between the last pass and the count. */
  private static final int SLACK = 3;

  @TempDir Path directory;

  @Test
  void maintainsTablesWhileReplicating() throws Exception {
    try (EmbeddedPostgres postgres = EmbeddedPostgres.start()) {
      postgres.createDatabase("maintained");
      try (Connection setup = postgres.connect("maintained")) {
        TypesWorkload.createTables(setup);
        TypesWorkload.initialLoad(setup, 1000, 1);
      }
      Path warehouse = FloeRunProcess.warehouse(directory);
      Path config =
          FloeRunProcess.writeConfig(
              directory,
              postgres,
              "maintained",
              "MAINTENANCE_TEST_PASSWORD",
              "maintenance:",
              "  interval: 2s",
              "  retain-last: " + RETAIN_LAST,
              "  expire-older-than: 1s",
              "  orphan-older-than: 1m",
              "  rewrite-manifests-above: 4",
              "  compact-min-input-files: 2",
              "  compact-delete-ratio: 0.02");

      Process floe = startFloe(config);
      try (JdbcCatalog catalog =
              FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
          Connection connection = postgres.connect("maintained")) {
        TypesWorkload workload = new TypesWorkload(connection, 5);
        // 15 s of streaming commits, counted from the end of the full load: enough snapshots for
        // expiry to have work, however long the load took.
        awaitOutput("LOADING -> STREAMING", Duration.ofMinutes(2));
        long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < end) {
          assertThat(floe.isAlive()).as("floe run is alive: %s", output()).isTrue();
          workload.runTransactions(10);
          Thread.sleep(50);
        }
        ReplicationIT.awaitEqual(catalog, connection, Duration.ofMinutes(2));
        awaitSnapshotsAtMost(catalog, RETAIN_LAST + SLACK, Duration.ofSeconds(30));
        // Compaction keeps the files of each table few: 2 small files or 2% deleted rows are due.
        awaitFilesAtMost(catalog, MOST_DATA_FILES, Duration.ofSeconds(30));
        ReplicationIT.awaitEqual(catalog, connection, Duration.ofSeconds(30));
      } finally {
        floe.destroy(); // SIGTERM: a clean stop
        assertThat(floe.waitFor(60, TimeUnit.SECONDS)).isTrue();
      }
      String output = output();
      assertThat(output).contains("Maintenance scheduler CREATED -> RUNNING");
      assertThat(output).contains("Expired");
      assertThat(output).contains("Maintenance scheduler RUNNING -> CLOSED");
      // Compactions went through the pipeline's writer, which committed them among its changes.
      assertThat(output).contains("committed a compaction of");
      // The runs of floe run are in the warehouse's history, readable by another process.
      List<MaintenanceRun> runs =
          MaintenanceHistory.of(CatalogDatabase.embedded(warehouse)).recent(null, 1000);
      assertThat(runs)
          .anySatisfy(
              run -> {
                assertThat(run.operation()).isEqualTo(MaintenanceRun.Operation.EXPIRE_SNAPSHOTS);
                assertThat(run.failed()).isFalse();
                assertThat(run.before().snapshots()).isGreaterThan(run.after().snapshots());
              });
      assertThat(runs)
          .anySatisfy(
              run -> {
                assertThat(run.operation()).isEqualTo(MaintenanceRun.Operation.REWRITE_DATA_FILES);
                assertThat(run.failed()).isFalse();
                assertThat(run.after().deleteFiles()).isLessThan(run.before().deleteFiles());
              });
      // An operation that the stop above cut short says so; any other failure is a bug.
      assertThat(runs)
          .noneMatch(
              run ->
                  run.failed()
                      && !run.error().startsWith(MaintenanceScheduler.STOPPED_BY_SHUTDOWN));
    }
  }

  /**
   * A table is rolled back (from this process, as {@code floe maintain rollback} would) while
   * {@code floe run} replicates into it: the rollback restores the earlier rows, the pipeline's
   * writer notices and reloads its index, and the changes that follow apply on top. After the
   * source re-sends the rows the rollback undid, source and table are equal again while the
   * workload goes on.
   */
  @Test
  void pipelineContinuesAfterARollback() throws Exception {
    try (EmbeddedPostgres postgres = EmbeddedPostgres.start()) {
      postgres.createDatabase("rolled");
      try (Connection setup = postgres.connect("rolled")) {
        TypesWorkload.createTables(setup);
        TypesWorkload.initialLoad(setup, 500, 1);
      }
      Path warehouse = FloeRunProcess.warehouse(directory);
      Path config =
          FloeRunProcess.writeConfig(directory, postgres, "rolled", "MAINTENANCE_TEST_PASSWORD");
      TableIdentifier everything = TableIdentifier.of("raw", "everything");
      Process floe = startFloe(config);
      try (JdbcCatalog catalog =
              FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
          Connection connection = postgres.connect("rolled")) {
        TypesWorkload workload = new TypesWorkload(connection, 11);
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (!catalog.tableExists(everything)
            || !catalog.tableExists(TableIdentifier.of("raw", "pairs"))) {
          assertThat(System.nanoTime()).as("tables created: %s", output()).isLessThan(deadline);
          Thread.sleep(200);
        }
        workload.runTransactions(50);
        ReplicationIT.awaitEqual(catalog, connection, Duration.ofMinutes(2));
        long target = catalog.loadTable(everything).currentSnapshot().snapshotId();
        Map<String, List<String>> rowsAtTarget =
            CanonicalRows.fromIceberg(catalog.loadTable(everything), List.of("id"));

        workload.runTransactions(200);
        ReplicationIT.awaitEqual(catalog, connection, Duration.ofMinutes(2));
        new TableMaintenance(catalog).rollbackToSnapshot(everything, target);
        assertThat(CanonicalRows.fromIceberg(catalog.loadTable(everything), List.of("id")))
            .isEqualTo(rowsAtTarget);

        // The source sends the rows the rollback undid once more, in full.
        Map<String, List<String>> source =
            CanonicalRows.fromPostgres(connection, "public.everything", List.of("id"));
        List<Long> differing = new ArrayList<>();
        for (String key : source.keySet()) {
          if (!source.get(key).equals(rowsAtTarget.get(key))) {
            differing.add(Long.parseLong(key));
          }
        }
        List<Long> gone = new ArrayList<>();
        for (String key : rowsAtTarget.keySet()) {
          if (!source.containsKey(key)) {
            gone.add(Long.parseLong(key));
          }
        }
        assertThat(differing.size() + gone.size()).isPositive();
        resend(connection, differing, gone);
        // Then more changes, applied on top of the rolled-back table.
        workload.runTransactions(200);
        ReplicationIT.awaitEqual(catalog, connection, Duration.ofMinutes(2));
        assertThat(floe.isAlive()).isTrue();
      } finally {
        floe.destroy();
        assertThat(floe.waitFor(60, TimeUnit.SECONDS)).isTrue();
      }
      assertThat(output())
          .contains(
              "the writer moved its index onto the table's files and applied its changes on top");
    }
  }

  /**
   * Makes PostgreSQL send full rows for the given keys: rows it has are deleted and inserted again,
   * rows it lacks are inserted and deleted.
   */
  private static void resend(Connection connection, List<Long> present, List<Long> absent)
      throws Exception {
    connection.setAutoCommit(false);
    try (Statement statement = connection.createStatement()) {
      if (!present.isEmpty()) {
        String keys = present.stream().map(String::valueOf).collect(Collectors.joining(","));
        statement.execute(
            "CREATE TEMP TABLE resent AS SELECT * FROM public.everything WHERE id IN ("
                + keys
                + ")");
        statement.execute("DELETE FROM public.everything WHERE id IN (" + keys + ")");
        statement.execute("INSERT INTO public.everything SELECT * FROM resent");
        statement.execute("DROP TABLE resent");
      }
      for (long key : absent) {
        statement.execute("CREATE TEMP TABLE template AS SELECT * FROM public.everything LIMIT 1");
        statement.execute("UPDATE template SET id = " + key);
        statement.execute("INSERT INTO public.everything SELECT * FROM template");
        statement.execute("DELETE FROM public.everything WHERE id = " + key);
        statement.execute("DROP TABLE template");
      }
      connection.commit();
    } finally {
      connection.setAutoCommit(true);
    }
  }

  private static void awaitFilesAtMost(JdbcCatalog catalog, int most, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Map<String, Integer> counts = new TreeMap<>();
      for (String name : List.of("everything", "pairs")) {
        Table table = catalog.loadTable(TableIdentifier.of("raw", name));
        counts.put(name, TableFiles.load(table).dataFiles().size());
      }
      if (counts.values().stream().allMatch(count -> count <= most)) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("data files per table " + counts + ", over " + most);
      }
      Thread.sleep(500);
    }
  }

  private void awaitSnapshotsAtMost(JdbcCatalog catalog, int most, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      int largest = 0;
      for (String name : List.of("everything", "pairs")) {
        Table table = catalog.loadTable(TableIdentifier.of("raw", name));
        int count = 0;
        for (Snapshot ignored : table.snapshots()) {
          count++;
        }
        largest = Math.max(largest, count);
      }
      if (largest <= most) {
        return;
      }
      if (System.nanoTime() > deadline) {
        String output = output();
        throw new AssertionError(
            "a table still has "
                + largest
                + " snapshots, over "
                + most
                + "; the end of floe run's output:\n"
                + output.substring(Math.max(0, output.length() - 4000)));
      }
      Thread.sleep(500);
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

  private Process startFloe(Path config) throws Exception {
    return FloeRunProcess.start(config, log());
  }

  private String output() throws Exception {
    return Files.readString(log().toPath());
  }

  private File log() {
    return directory.resolve("floe-run.log").toFile();
  }
}
