package io.floe.sql;

import static java.util.Objects.requireNonNull;

import java.util.List;

/** Rows held in memory: EXPLAIN output, procedure results and reused results. */
final class HeldRows implements QueryExecution.Rows {
  private final List<Object[]> rows;
  private int next;

  HeldRows(List<Object[]> rows) {
    this.rows = requireNonNull(rows, "rows is null");
  }

  @Override
  public Object[] next() {
    return next < rows.size() ? rows.get(next++) : null;
  }

  @Override
  public void interrupt() {}

  @Override
  public void close() {}
}
