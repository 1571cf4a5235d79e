package io.floe.bench;

import io.floe.sql.QueryEngine;
import io.floe.sql.QueryOptions;
import io.floe.sql.QueryStats;
import io.floe.sql.SqlColumn;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One query timed through {@code floe sql} on two tables in turns: one warm-up run on each, then
 * {@code runs} runs alternating first / second. Each time is end to end as a {@code floe sql} user
 * sees it: catalog lookups, Iceberg scan planning, and DuckDB reading the files. The part spent
 * planning (loading the table, planning its files, preparing DuckDB) is kept apart too.
 */
final class QueryComparison {
  private final double[] firstMillis;
  private final double[] secondMillis;
  private final double[] firstPlanningMillis;
  private final double[] secondPlanningMillis;
  private final List<List<Object>> firstResult;
  private final List<List<Object>> secondResult;
  private final boolean firstRepeatable;
  private final boolean secondRepeatable;

  private QueryComparison(
      double[] firstMillis,
      double[] secondMillis,
      double[] firstPlanningMillis,
      double[] secondPlanningMillis,
      List<List<Object>> firstResult,
      List<List<Object>> secondResult,
      boolean firstRepeatable,
      boolean secondRepeatable) {
    this.firstMillis = firstMillis;
    this.secondMillis = secondMillis;
    this.firstPlanningMillis = firstPlanningMillis;
    this.secondPlanningMillis = secondPlanningMillis;
    this.firstResult = firstResult;
    this.secondResult = secondResult;
    this.firstRepeatable = firstRepeatable;
    this.secondRepeatable = secondRepeatable;
  }

  static QueryComparison run(QueryEngine engine, String firstSql, String secondSql, int runs) {
    List<List<Object>> firstResult = new Run(engine, firstSql).rows;
    List<List<Object>> secondResult = new Run(engine, secondSql).rows;
    double[] firstMillis = new double[runs];
    double[] secondMillis = new double[runs];
    double[] firstPlanningMillis = new double[runs];
    double[] secondPlanningMillis = new double[runs];
    boolean firstRepeatable = true;
    boolean secondRepeatable = true;
    for (int run = 0; run < runs; run++) {
      Run first = new Run(engine, firstSql);
      firstRepeatable &= first.rows.equals(firstResult);
      firstMillis[run] = first.millis;
      firstPlanningMillis[run] = first.planningMillis;
      Run second = new Run(engine, secondSql);
      secondRepeatable &= second.rows.equals(secondResult);
      secondMillis[run] = second.millis;
      secondPlanningMillis[run] = second.planningMillis;
    }
    return new QueryComparison(
        firstMillis,
        secondMillis,
        firstPlanningMillis,
        secondPlanningMillis,
        firstResult,
        secondResult,
        firstRepeatable,
        secondRepeatable);
  }

  /** One timed run of a query through {@link QueryEngine#execute}. */
  private static final class Run implements QueryEngine.ResultHandler {
    final List<List<Object>> rows = new ArrayList<>();
    final double millis;
    final double planningMillis;

    Run(QueryEngine engine, String sql) {
      long started = System.nanoTime();
      QueryStats stats = engine.execute(sql, QueryOptions.local(), this);
      millis = Bench.millis(System.nanoTime() - started);
      planningMillis = stats.planningMillis();
    }

    @Override
    public void columns(List<SqlColumn> columns) {}

    @Override
    public void row(Object[] values) {
      rows.add(Arrays.asList(values));
    }
  }

  /** Times of the runs on the first table, in milliseconds, in the order they ran. */
  double[] firstMillis() {
    return firstMillis.clone();
  }

  double[] secondMillis() {
    return secondMillis.clone();
  }

  /** Median time spent planning on the first table, in milliseconds. */
  double firstPlanningMedian() {
    return Bench.median(firstPlanningMillis);
  }

  double secondPlanningMedian() {
    return Bench.median(secondPlanningMillis);
  }

  double firstMedian() {
    return Bench.median(firstMillis);
  }

  double secondMedian() {
    return Bench.median(secondMillis);
  }

  /** Median on the first table over median on the second. */
  double ratio() {
    return firstMedian() / secondMedian();
  }

  /** Rows of the warm-up run on the first table. */
  List<List<Object>> firstResult() {
    return firstResult;
  }

  List<List<Object>> secondResult() {
    return secondResult;
  }

  /** Whether every run on the first table returned the rows of its warm-up run. */
  boolean firstRepeatable() {
    return firstRepeatable;
  }

  boolean secondRepeatable() {
    return secondRepeatable;
  }
}
