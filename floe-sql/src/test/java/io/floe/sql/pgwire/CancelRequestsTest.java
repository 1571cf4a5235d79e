package io.floe.sql.pgwire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.sql.QueryEngine;
import io.floe.sql.QueryException;
import io.floe.sql.QueryExecution;
import io.floe.sql.QueryOptions;
import io.floe.sql.TestEngines;
import io.floe.sql.Workgroup;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CancelRequestsTest {
  private static final String SESSION = "postgres-test";
  private static final QueryOptions OPTIONS =
      new QueryOptions("analyst", Workgroup.PRIMARY, Duration.ofMinutes(1), SESSION);

  @TempDir Path warehouse;
  private JdbcCatalog catalog;
  private QueryEngine engine;
  private CancelRequests requests;

  @BeforeEach
  void setUp() {
    catalog = FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
    engine = TestEngines.open(catalog, warehouse);
    requests = new CancelRequests(engine.runningQueries(), SESSION);
  }

  @AfterEach
  void tearDown() throws Exception {
    engine.close();
    catalog.close();
  }

  private QueryExecution start(String sql, QueryOptions options) {
    requests.checkNotCancelled();
    QueryExecution execution = engine.start(sql, options);
    requests.started(execution);
    return execution;
  }

  private static void assertCancelled(QueryExecution execution) {
    assertThatThrownBy(execution::next)
        .isInstanceOfSatisfying(
            QueryException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SQL_CANCELLED));
  }

  @Test
  void aRequestWhileIdleIsIgnored() {
    assertThat(requests.cancel()).isFalse();
    requests.busy();
    try (QueryExecution execution = start("SELECT 1", OPTIONS)) {
      assertThat(execution.next()).containsExactly(1);
    }
  }

  @Test
  void aRequestCancelsTheOpenQueriesOfTheSessionOnly() {
    requests.busy();
    try (QueryExecution mine = start("SELECT 1", OPTIONS);
        QueryExecution other =
            engine.start(
                "SELECT 2",
                new QueryOptions("analyst", Workgroup.PRIMARY, Duration.ofMinutes(1), "other"))) {
      assertThat(requests.anyOpen()).isTrue();
      assertThat(requests.cancel()).isTrue();
      assertCancelled(mine);
      assertThat(other.next()).containsExactly(2);
    }
    assertThat(requests.anyOpen()).isFalse();
  }

  @Test
  void aRequestAppliesToAQueryNotStartedYetUntilReadyForQuery() {
    requests.busy();
    assertThat(requests.cancel()).isTrue();
    assertThatThrownBy(() -> start("SELECT 1", OPTIONS))
        .isInstanceOfSatisfying(
            QueryException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SQL_CANCELLED));

    requests.idle();
    requests.busy();
    try (QueryExecution execution = start("SELECT 1", OPTIONS)) {
      assertThat(execution.next()).containsExactly(1);
    }
  }

  @Test
  void aQueryStartedAsTheRequestArrivesIsCancelled() {
    requests.busy();
    requests.checkNotCancelled();
    // The request lands after the check and before the engine recorded the query.
    assertThat(requests.cancel()).isTrue();
    try (QueryExecution execution = engine.start("SELECT 1", OPTIONS)) {
      requests.started(execution);
      assertCancelled(execution);
    }
  }

  @Test
  void theEndOfTheSessionCancelsItsQueriesAndLetsNoOtherStart() {
    requests.busy();
    try (QueryExecution execution = start("SELECT 1", OPTIONS)) {
      requests.end();
      assertCancelled(execution);
      assertThat(requests.anyOpen()).isFalse();
    }
    assertThatThrownBy(() -> start("SELECT 1", OPTIONS)).isInstanceOf(QueryException.class);
  }
}
