package io.floe.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunningQueriesTest {
  private static final String HTTP = "http-test";
  private static final String POSTGRES = "postgres-test";

  private final RunningQueries running = new RunningQueries();
  private int queryNumber;

  private QueryExecution started(String user, String session) {
    QueryExecution execution =
        new QueryExecution(
            "SELECT 1",
            List.of(new SqlColumn("one", "INTEGER")),
            new QueryStats("q-test-" + ++queryNumber, List.of(), 0, 0, false),
            "SELECT",
            new HeldRows(List.of(new Object[] {1}, new Object[] {1})),
            e -> new FloeException(ErrorCode.SQL_FAILED, e.getMessage()));
    running.add(
        execution, new QueryOptions(user, Workgroup.PRIMARY, Duration.ofMinutes(1), session));
    return execution;
  }

  @Test
  void aUserFindsOnlyTheirOwnQueriesOfTheSession() {
    QueryExecution alices = started("alice", HTTP);
    QueryExecution bobs = started("bob", HTTP);
    QueryExecution alicesOverPostgres = started("alice", POSTGRES);

    assertThat(running.of(HTTP, "alice")).containsExactly(alices);
    assertThat(running.of(HTTP, "bob")).containsExactly(bobs);
    assertThat(running.ofSession(POSTGRES)).containsExactly(alicesOverPostgres);
    assertThat(running.all()).containsExactlyInAnyOrder(alices, bobs, alicesOverPostgres);

    assertThat(running.find(HTTP, "alice", alices.id())).containsSame(alices);
    assertThat(running.find(HTTP, "bob", alices.id())).as("another user's query").isEmpty();
    assertThat(running.find(HTTP, "alice", alicesOverPostgres.id()))
        .as("a query of another session")
        .isEmpty();
    assertThat(running.find(HTTP, "alice", "q-unknown")).isEmpty();
  }

  @Test
  void cancelAllCancelsTheSessionsQueriesOnly() {
    QueryExecution alices = started("alice", HTTP);
    QueryExecution bobs = started("bob", HTTP);
    QueryExecution overPostgres = started("carol", POSTGRES);

    assertThat(running.cancelAll(HTTP)).isEqualTo(2);

    assertThat(alices.cancelled()).isTrue();
    assertThat(bobs.cancelled()).isTrue();
    assertThat(overPostgres.cancelled()).isFalse();
    assertThatThrownBy(alices::next)
        .isInstanceOfSatisfying(
            QueryException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SQL_CANCELLED));
  }

  @Test
  void aClosedQueryIsNoLongerRunning() {
    QueryExecution execution = started("alice", HTTP);
    running.remove(execution);

    assertThat(running.all()).isEmpty();
    assertThat(running.find(HTTP, "alice", execution.id())).isEmpty();
    assertThat(running.cancel(execution.id())).isFalse();
  }

  @Test
  void theEngineRecordsEachQueryWithItsUserAndSessionUntilItIsClosed(@TempDir Path warehouse)
      throws Exception {
    try (JdbcCatalog catalog =
            FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
        QueryEngine engine = TestEngines.open(catalog, warehouse)) {
      QueryOptions alice =
          new QueryOptions("alice", Workgroup.PRIMARY, Duration.ofMinutes(1), HTTP);
      try (QueryExecution execution = engine.start("SELECT 42 AS answer", alice)) {
        assertThat(engine.runningQueries().of(HTTP, "alice")).containsExactly(execution);
        assertThat(engine.runningQueries().find(HTTP, "bob", execution.id())).isEmpty();
        assertThat(engine.running()).containsExactly(execution);
      }
      assertThat(engine.runningQueries().all()).isEmpty();

      try (QueryExecution explained =
          engine.start("EXPLAIN SELECT 1", alice.withTimeout(Duration.ofSeconds(30)))) {
        assertThat(engine.runningQueries().of(HTTP, "alice"))
            .as("the session is kept by withTimeout")
            .containsExactly(explained);
      }
    }
  }
}
