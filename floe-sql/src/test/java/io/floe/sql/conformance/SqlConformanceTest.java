package io.floe.sql.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.sql.QueryEngine;
import io.floe.sql.QueryException;
import io.floe.sql.QueryExecution;
import io.floe.sql.QueryOptions;
import io.floe.sql.SqlValues;
import io.floe.sql.TestEngines;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * SQL conformance: every query of {@code conformance/queries.sql} runs through Floe's {@link
 * QueryEngine} over tables written by Floe's CDC writer, and its rows are compared with what a
 * plain DuckDB returns over a plain copy of the expected data (see {@link ShopFixture}).
 */
class SqlConformanceTest {
  private static final String QUERIES = "/conformance/queries.sql";

  @TempDir static Path warehouse;

  private static ShopFixture fixture;
  private static QueryEngine engine;

  @BeforeAll
  static void setUp() throws Exception {
    fixture = new ShopFixture(warehouse);
    engine = TestEngines.open(fixture.catalog, warehouse);
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (fixture != null) {
      fixture.close();
    }
  }

  @TestFactory
  Stream<DynamicTest> queries() {
    Map<String, String> placeholders = fixture.placeholders();
    return ConformanceCase.load(QUERIES).stream()
        .map(c -> DynamicTest.dynamicTest(c.displayName(), () -> run(c.bind(placeholders))));
  }

  private static void run(ConformanceCase c) throws SQLException {
    List<List<Object>> expected = new ArrayList<>();
    int expectedColumns;
    try (Statement statement = fixture.expected.createStatement();
        ResultSet result = statement.executeQuery(c.expectedSql())) {
      expectedColumns = result.getMetaData().getColumnCount();
      while (result.next()) {
        List<Object> row = new ArrayList<>(expectedColumns);
        for (int i = 1; i <= expectedColumns; i++) {
          row.add(SqlValues.normalize(result.getObject(i)));
        }
        expected.add(row);
      }
    } catch (SQLException e) {
      throw new AssertionError(
          "The expected side of " + c.displayName() + " failed (fix the case): " + e.getMessage(),
          e);
    }
    if (!c.mayBeEmpty()) {
      assertThat(expected)
          .as(
              "expected result of %s (a case that compares nothing proves nothing)",
              c.displayName())
          .isNotEmpty();
    }
    List<List<Object>> actual = new ArrayList<>();
    int actualColumns;
    try (QueryExecution execution = engine.start(c.floeSql(), QueryOptions.local())) {
      actualColumns = execution.columns().size();
      for (Object[] row = execution.next(); row != null; row = execution.next()) {
        actual.add(Arrays.asList(row));
      }
    } catch (FloeException e) {
      throw new AssertionError(
          "Floe failed on "
              + c.displayName()
              + " ["
              + e.code()
              + "]: "
              + e.getMessage()
              + "\nquery: "
              + c.floeSql(),
          e);
    }
    assertThat(actualColumns)
        .as("number of columns of %s", c.displayName())
        .isEqualTo(expectedColumns);
    String differences = ResultComparison.differences(expected, actual, c.ordered());
    if (differences != null) {
      fail(
          "%s: %s\nquery:    %s\nexpected: %s",
          c.displayName(), differences, c.floeSql(), c.expectedSql());
    }
  }

  @Test
  void modelAgreesWithIcebergsReaderAtEveryCommit() throws Exception {
    assertThat(fixture.modelMismatches()).isEmpty();
  }

  @Test
  void caseFileHasEnoughCases() {
    assertThat(ConformanceCase.load(QUERIES)).hasSizeGreaterThanOrEqualTo(60);
  }

  @Test
  void missingTableIsNamedAndTheNamespaceListed() {
    assertThatThrownBy(() -> engine.queryAll("SELECT count(*) FROM shop.order"))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_NOT_FOUND))
        .hasMessageContaining("shop.order")
        .hasMessageContaining("customers, items, orders");
  }

  @Test
  void missingVersionIsNamed() {
    long missing = 1234567890123L;
    assertThatThrownBy(
            () -> engine.queryAll("SELECT count(*) FROM shop.orders FOR VERSION AS OF " + missing))
        .isInstanceOfSatisfying(
            FloeException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_VERSION_NOT_FOUND))
        .hasMessageContaining("shop.orders")
        .hasMessageContaining(Long.toString(missing));
  }

  @Test
  void missingTagIsNamed() {
    assertThatThrownBy(
            () -> engine.queryAll("SELECT count(*) FROM shop.orders FOR VERSION AS OF 'nope'"))
        .isInstanceOfSatisfying(
            FloeException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_VERSION_NOT_FOUND))
        .hasMessageContaining("shop.orders")
        .hasMessageContaining("nope")
        .hasMessageContaining("audit")
        .hasMessageContaining("v2");
  }

  @Test
  void timestampBeforeFirstSnapshotIsRefused() {
    String before = fixture.placeholders().get("orders.before_first");
    assertThatThrownBy(
            () ->
                engine.queryAll(
                    "SELECT count(*) FROM shop.orders FOR TIMESTAMP AS OF TIMESTAMP '"
                        + before
                        + "'"))
        .isInstanceOfSatisfying(
            FloeException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_VERSION_NOT_FOUND))
        .hasMessageContaining("shop.orders")
        .hasMessageContaining(before.substring(0, 10));
  }

  @Test
  void malformedSqlPointsAtTheError() {
    String sql = "SELECT id, amount FROM shop.orders WHERE amount > ORDER BY id";
    assertThatThrownBy(() -> engine.queryAll(sql))
        .isInstanceOfSatisfying(
            QueryException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.SQL_INVALID);
              assertThat(e.position()).isGreaterThan(0).isLessThanOrEqualTo(sql.length());
              assertThat(e.sqlState()).isEqualTo(QueryException.SqlState.SYNTAX_ERROR);
            })
        .hasMessageContaining("syntax error");
  }

  @Test
  void unknownColumnIsNamed() {
    assertThatThrownBy(() -> engine.queryAll("SELECT o.amout FROM shop.orders o"))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SQL_INVALID))
        .hasMessageContaining("amout");
  }
}
