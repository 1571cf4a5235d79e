package io.floe.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.demo.EmbeddedPostgres;
import io.floe.testing.TypesWorkload;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kills {@code floe run} with SIGKILL at random moments, during the full load and while streaming a
 * randomized workload, restarting it each time; at the end the Iceberg tables must equal the source
 * exactly: nothing lost, nothing duplicated.
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

      Random random = new Random(2024);
      for (int kill = 0; kill < KILLS; kill++) {
        Process process = startFloe(config, kill);
        long started = System.nanoTime();
        if (kill < 2) {
          // Killed while the full load is under way.
          awaitLog(kill, "STARTING -> LOADING", Duration.ofMinutes(1));
          Thread.sleep(1000 + random.nextInt(3000));
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
        LOG.info(
            "Killed floe run #{} after {} ms; source statements so far: {}",
            kill,
            delay,
            statements.get());
      }
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
