package io.floe.bench;

import io.floe.sql.QueryEngine;
import java.util.List;

/**
 * One query timed through {@code floe sql} on two tables in turns: one warm-up run on each, then
 * {@code runs} runs alternating first / second. Each time is end to end as a {@code floe sql} user
 * sees it: catalog lookups, Iceberg scan planning, and DuckDB reading the files.
 */
final class QueryComparison {
  private final double[] firstMillis;
  private final double[] secondMillis;
  private final List<List<Object>> firstResult;
  private final List<List<Object>> secondResult;
  private final boolean firstRepeatable;
  private final boolean secondRepeatable;

  private QueryComparison(
      double[] firstMillis,
      double[] secondMillis,
      List<List<Object>> firstResult,
      List<List<Object>> secondResult,
      boolean firstRepeatable,
      boolean secondRepeatable) {
    this.firstMillis = firstMillis;
    this.secondMillis = secondMillis;
    this.firstResult = firstResult;
    this.secondResult = secondResult;
    this.firstRepeatable = firstRepeatable;
    this.secondRepeatable = secondRepeatable;
  }

  static QueryComparison run(QueryEngine engine, String firstSql, String secondSql, int runs) {
    List<List<Object>> firstResult = engine.queryAll(firstSql);
    List<List<Object>> secondResult = engine.queryAll(secondSql);
    double[] firstMillis = new double[runs];
    double[] secondMillis = new double[runs];
    boolean firstRepeatable = true;
    boolean secondRepeatable = true;
    for (int run = 0; run < runs; run++) {
      long started = System.nanoTime();
      firstRepeatable &= engine.queryAll(firstSql).equals(firstResult);
      firstMillis[run] = Bench.millis(System.nanoTime() - started);
      started = System.nanoTime();
      secondRepeatable &= engine.queryAll(secondSql).equals(secondResult);
      secondMillis[run] = Bench.millis(System.nanoTime() - started);
    }
    return new QueryComparison(
        firstMillis, secondMillis, firstResult, secondResult, firstRepeatable, secondRepeatable);
  }

  /** Times of the runs on the first table, in milliseconds, in the order they ran. */
  double[] firstMillis() {
    return firstMillis.clone();
  }

  double[] secondMillis() {
    return secondMillis.clone();
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
