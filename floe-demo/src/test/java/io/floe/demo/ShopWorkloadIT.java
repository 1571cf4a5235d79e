package io.floe.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShopWorkloadIT {
  @TempDir Path temporaryDirectory;

  @Test
  void createsAndSeedsIdempotently() throws SQLException {
    try (EmbeddedPostgres postgres = EmbeddedPostgres.start()) {
      postgres.createDatabase("shop");
      try (Connection connection = postgres.connect("shop");
          Statement statement = connection.createStatement()) {
        ShopDatabase.create(connection);
        ShopDatabase.create(connection);
        ShopDatabase.seed(connection, 100, 20, 1);
        ShopDatabase.seed(connection, 500, 50, 2); // tables not empty: no-op
        assertThat(count(statement, "SELECT count(*) FROM countries")).isBetween(18L, 25L);
        assertThat(count(statement, "SELECT count(*) FROM customers")).isEqualTo(100);
        assertThat(count(statement, "SELECT count(*) FROM products")).isEqualTo(20);
        assertThat(count(statement, "SELECT count(*) FROM orders")).isEqualTo(200);
        assertThat(
                count(
                    statement,
                    "SELECT count(*) FROM orders o JOIN products p ON p.id = o.product_id"
                        + " WHERE o.total <> p.price * o.quantity"))
            .isZero();
        assertThat(connection.getAutoCommit()).isTrue();
      }
    }
  }

  @Test
  void runsAtTargetRateAndSurvivesRestart() throws Exception {
    Path dataDirectory = temporaryDirectory.resolve("shop-data");
    EmbeddedPostgres postgres = EmbeddedPostgres.start(dataDirectory);
    int port = postgres.port();
    try {
      postgres.createDatabase("shop");
      try (Connection connection = postgres.connect("shop")) {
        ShopDatabase.create(connection);
        ShopDatabase.seed(connection, 50, 10, 3);
      }

      ShopWorkload workload =
          new ShopWorkload(postgres.jdbcUrl("shop"), postgres.user(), postgres.password(), 200, 3);
      Thread thread = new Thread(workload, "shop-workload");
      long startNanos = System.nanoTime();
      thread.start();
      try {
        awaitTrue(() -> workload.transactions() >= 30, Duration.ofSeconds(30));
        long changes = workload.inserts() + workload.updates() + workload.deletes();
        double elapsedSeconds = (System.nanoTime() - startNanos) / 1e9;
        // Paced: never more than the rate allows plus the one-second catch-up window.
        assertThat(changes).isLessThanOrEqualTo((long) (200 * (elapsedSeconds + 1)) + 5);

        // A hiccup: the workload's session is killed.
        try (Connection connection = postgres.connect("shop");
            Statement statement = connection.createStatement()) {
          statement.execute(
              "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                  + " WHERE application_name = 'floe-shop-workload'");
        }
        awaitTrue(() -> workload.errors() >= 1, Duration.ofSeconds(30));
        long afterKill = workload.transactions();
        awaitTrue(() -> workload.transactions() > afterKill + 10, Duration.ofSeconds(30));

        // A restart: the server is down for a moment and comes back on the same port.
        postgres.close();
        long errorsBeforeRestart = workload.errors();
        awaitTrue(() -> workload.errors() > errorsBeforeRestart, Duration.ofSeconds(30));
        postgres = EmbeddedPostgres.start(dataDirectory, port);
        long afterRestart = workload.transactions();
        awaitTrue(() -> workload.transactions() > afterRestart + 10, Duration.ofSeconds(30));
      } finally {
        workload.close();
      }
      // close() returned, so run() has finished; the thread itself ends right after.
      thread.join(5_000);
      assertThat(thread.isAlive()).isFalse();
      assertThat(workload.inserts()).isPositive();
      assertThat(workload.updates()).isPositive();
      assertThat(workload.deletes()).isPositive();
      assertThat(workload.lastCommitTime()).isNotNull();

      long transactions = workload.transactions();
      Thread.sleep(100);
      assertThat(workload.transactions()).isEqualTo(transactions);
      workload.close(); // idempotent
    } finally {
      postgres.close();
    }
  }

  @Test
  void cannotRunAfterClose() {
    ShopWorkload workload =
        new ShopWorkload("jdbc:postgresql://127.0.0.1:1/none", "postgres", null, 10, 1);
    workload.close();
    assertThatThrownBy(workload::run)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("STOPPED");
    assertThat(workload.lastCommitTime()).isNull();
  }

  private static void awaitTrue(BooleanSupplier condition, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waited %s", timeout).isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  private static long count(Statement statement, String sql) throws SQLException {
    try (ResultSet result = statement.executeQuery(sql)) {
      assertThat(result.next()).isTrue();
      return result.getLong(1);
    }
  }
}
