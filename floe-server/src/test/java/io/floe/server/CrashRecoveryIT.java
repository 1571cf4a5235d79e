package io.floe.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.demo.EmbeddedPostgres;
import io.floe.testing.MariaDbServer;
import io.floe.testing.MariaDbWorkload;
import io.floe.testing.TypesWorkload;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kills {@code floe run} with SIGKILL at random moments, during the full load and while streaming a
 * randomized workload, restarting it each time; at the end the Iceberg tables must equal the source
 * exactly: nothing lost, nothing duplicated. Once with a PostgreSQL source, once with MariaDB.
 */
class CrashRecoveryIT {
  private static final Logger LOG = LoggerFactory.getLogger(CrashRecoveryIT.class);
  private static final int KILLS = 8;

  @TempDir Path directory;

  @Test
  void survivesRepeatedKills() throws Exception {
    try (EmbeddedPostgres postgres = EmbeddedPostgres.start()) {
      postgres.createDatabase("crash");
      try (Connection setup = postgres.connect("crash")) {
        TypesWorkload.createTables(setup);
        TypesWorkload.initialLoad(setup, 3000, 3);
      }
      Path warehouse = FloeRunProcess.warehouse(directory);
      Path config = FloeRunProcess.writeConfig(directory, postgres, "crash", "CRASH_TEST_PASSWORD");

      AtomicBoolean running = new AtomicBoolean(true);
      AtomicLong statements = new AtomicLong();
      Thread workload =
          new Thread(
              () -> {
                try (Connection connection = postgres.connect("crash")) {
                  TypesWorkload generator = new TypesWorkload(connection, 99);
                  while (running.get()) {
                    generator.runTransactions(3);
                    statements.set(generator.totalStatements());
                    Thread.sleep(20);
                  }
                } catch (Exception e) {
                  throw new IllegalStateException("workload failed", e);
                }
              },
              "crash-workload");
      workload.start();

      killRepeatedly(config, statements, 1000, 3000);
      running.set(false);
      workload.join();
      assertThat(workload.isAlive()).isFalse();

      Process last = startFloe(config, KILLS);
      try (JdbcCatalog catalog =
              FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
          Connection connection = postgres.connect("crash")) {
        ReplicationIT.awaitEqual(catalog, connection, Duration.ofMinutes(2));
      } finally {
        last.destroy(); // SIGTERM: a clean stop
        assertThat(last.waitFor(60, TimeUnit.SECONDS)).isTrue();
      }
      String output = Files.readString(log(KILLS).toPath());
      assertThat(output).contains("resuming");
      LOG.info(
          "After {} kills, {} source statements are in Iceberg exactly", KILLS, statements.get());
    }
  }

  @Test
  void survivesRepeatedKillsOfAMariaDbPipeline() throws Exception {
    try (MariaDbServer server = MariaDbServer.start(directory.resolve("mariadb"))) {
      server.createDatabase("crash");
      try (Connection setup = server.connect("crash")) {
        MariaDbWorkload.createTables(setup);
        zeroDatesAllowed(setup);
        MariaDbWorkload.initialLoad(setup, 3000, 3);
      }
      Path warehouse = FloeRunProcess.warehouse(directory);
      Path config =
          FloeRunProcess.writeConfig(
              directory,
              List.of("warehouse: " + warehouse),
              FloeRunProcess.mariaDbSource(server, "crash"));

      AtomicBoolean running = new AtomicBoolean(true);
      AtomicLong statements = new AtomicLong();
      Thread workload =
          new Thread(
              () -> {
                try (Connection connection = server.connect("crash")) {
                  zeroDatesAllowed(connection);
                  MariaDbWorkload generator = new MariaDbWorkload(connection, 99);
                  while (running.get()) {
                    generator.runTransactions(3);
                    statements.set(generator.statements());
                    Thread.sleep(20);
                  }
                } catch (Exception e) {
                  throw new IllegalStateException("workload failed", e);
                }
              },
              "crash-workload");
      workload.start();

      // A MariaDB full load of these tables takes about a second: kills come early in it.
      killRepeatedly(config, statements, 0, 800);
      running.set(false);
      workload.join();

      Process last = startFloe(config, KILLS);
      try (JdbcCatalog catalog =
              FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
          Connection connection = server.connect("crash")) {
        awaitEqualToMariaDb(catalog, connection, Duration.ofMinutes(2));
      } finally {
        last.destroy(); // SIGTERM: a clean stop
        assertThat(last.waitFor(60, TimeUnit.SECONDS)).isTrue();
      }
      assertThat(Files.readString(log(KILLS).toPath())).contains("resuming");
      LOG.info(
          "After {} kills, {} MariaDB statements are in Iceberg exactly", KILLS, statements.get());
    }
  }

  private static void zeroDatesAllowed(Connection connection) throws Exception {
    try (Statement statement = connection.createStatement()) {
      statement.execute("SET SESSION sql_mode = ''");
    }
  }

  /** Waits until both MariaDB workload tables in namespace raw equal the source. */
  private static void awaitEqualToMariaDb(
      JdbcCatalog catalog, Connection connection, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      StringBuilder differences = new StringBuilder();
      for (String table : List.of("everything", "pairs")) {
        TableIdentifier identifier = TableIdentifier.of("raw", table);
        Map<String, List<String>> source = MariaDbWorkload.sourceRows(connection, table);
        Map<String, List<String>> lake =
            catalog.tableExists(identifier)
                ? MariaDbWorkload.icebergRows(catalog.loadTable(identifier))
                : Map.of();
        if (!source.equals(lake)) {
          differences.append(table).append(": ").append(MariaDbWorkload.differences(source, lake));
        }
      }
      if (differences.length() == 0) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("Iceberg tables never matched MariaDB: " + differences);
      }
      Thread.sleep(500);
    }
  }

  /**
   * Starts {@code floe run} {@link #KILLS} times and kills each with SIGKILL: the first two during
   * the full load, the third right after it, the others at any moment of streaming.
   */
  private void killRepeatedly(
      Path config, AtomicLong statements, int loadKillMillis, int loadKillSpreadMillis)
      throws Exception {
    Random random = new Random(2024);
    for (int kill = 0; kill < KILLS; kill++) {
      Process process = startFloe(config, kill);
      long started = System.nanoTime();
      if (kill < 2) {
        // Killed while the full load is under way.
        awaitLog(kill, "STARTING -> LOADING", Duration.ofMinutes(1));
        Thread.sleep(loadKillMillis + random.nextInt(loadKillSpreadMillis));
      } else if (kill == 2) {
        // Killed right after the full load completed.
        awaitLog(kill, "full load complete", Duration.ofMinutes(2));
        Thread.sleep(random.nextInt(1000));
      } else {
        // Killed at any moment of streaming, including during start-up.
        Thread.sleep(1000 + random.nextInt(8000));
      }
      long delay = (System.nanoTime() - started) / 1_000_000;
      if (!process.isAlive()) {
        throw new AssertionError(
            "floe run " + kill + " exited early:\n" + Files.readString(log(kill).toPath()));
      }
      process.destroyForcibly(); // SIGKILL
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      String output = Files.readString(log(kill).toPath());
      LOG.info(
          "Killed floe run #{} after {} ms, {}; source statements so far: {}",
          kill,
          delay,
          output.contains("full load complete")
              ? "streaming"
              : output.contains("STARTING -> LOADING") ? "during the full load" : "starting",
          statements.get());
    }
  }

  private void awaitLog(int run, String text, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!Files.readString(log(run).toPath()).contains(text)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "'"
                + text
                + "' never appeared in the log of floe run "
                + run
                + ":\n"
                + Files.readString(log(run).toPath()));
      }
      Thread.sleep(100);
    }
  }

  private Process startFloe(Path config, int run) throws Exception {
    return FloeRunProcess.start(config, log(run));
  }

  private File log(int run) {
    return directory.resolve("floe-run-" + run + ".log").toFile();
  }
}
