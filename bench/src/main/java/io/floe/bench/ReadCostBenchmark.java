package io.floe.bench;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.sql.QueryEngine;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Arrays;
import java.util.List;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * What merge-on-read costs a reader: a table of R rows loaded by a pipeline, then U source
 * transactions of K updates of random rows each, every one landing in its own Iceberg commit (a
 * data file with the new row versions plus a position-delete file). The same aggregate is then run
 * through {@code floe sql} on that table and on a freshly rewritten copy of its rows (one data
 * file, written in one commit: {@link LakeTables#rewriteCopy}); runs alternate between the two
 * tables after one warm-up each, and the medians and their ratio are reported, with the median time
 * Iceberg takes to plan each scan.
 *
 * <p>The full load runs with a 1 s commit interval; the pipeline is then restarted (it resumes from
 * the table) with a 100 ms interval, and each update transaction is sent only after the previous
 * one was committed.
 *
 * <p>Arguments: {@code [commits=100] [rows=100000] [updates-per-commit=1000] [runs=7]}.
 */
public final class ReadCostBenchmark {
  static final double TARGET_RATIO = 2.0;
  static final String QUERY = "SELECT count(*), sum(qty) FROM ";
  private static final String PIPELINE = "readcost";
  private static final TableIdentifier ITEMS = MergedItemsTable.ITEMS;
  private static final TableIdentifier REWRITTEN = TableIdentifier.of("bench", "items_rewritten");

  private ReadCostBenchmark() {}

  public static void main(String[] args) throws Exception {
    int commits = (int) Bench.argument(args, 0, 100);
    long rows = Bench.argument(args, 1, 100_000);
    int updatesPerCommit = (int) Bench.argument(args, 2, 1_000);
    int runs = (int) Bench.argument(args, 3, 7);
    if (updatesPerCommit > rows) {
      throw new IllegalArgumentException("Cannot update more rows per commit than the table has");
    }
    try (BenchEnvironment environment = BenchEnvironment.start()) {
      try (Connection connection = environment.connect()) {
        ItemsTable.createFilled(connection, rows);
      }
      Path warehouse = environment.newWarehouse(PIPELINE);
      try (JdbcCatalog catalog =
          FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults())) {
        MergedItemsTable.load(environment, catalog, PIPELINE, rows);
        MergedItemsTable.updateCommits(
            environment, catalog, PIPELINE, commits, rows, updatesPerCommit);
        environment.dropSlot(PIPELINE);

        long started = System.nanoTime();
        LakeTables.rewriteCopy(catalog, catalog.loadTable(ITEMS), REWRITTEN);
        Bench.info(
            "rewrote the rows into %s in %.1f s",
            REWRITTEN, Bench.seconds(System.nanoTime() - started));

        ItemsTable.Checksum source;
        try (Connection connection = environment.connect()) {
          source = ItemsTable.checksum(connection);
        }
        compare(catalog, warehouse, runs, source, commits, updatesPerCommit);
      }
    }
  }

  private static void compare(
      JdbcCatalog catalog,
      Path warehouse,
      int runs,
      ItemsTable.Checksum source,
      int commits,
      int updatesPerCommit) {
    String merged = QUERY + ITEMS;
    String fresh = QUERY + REWRITTEN;
    QueryComparison comparison;
    try (QueryEngine engine = Bench.queryEngine(catalog, warehouse)) {
      comparison = QueryComparison.run(engine, merged, fresh, runs);
    }
    double[] mergedPlanMillis = new double[runs];
    double[] freshPlanMillis = new double[runs];
    for (int run = 0; run < runs; run++) {
      mergedPlanMillis[run] = LakeTables.planMillis(catalog.loadTable(ITEMS));
      freshPlanMillis[run] = LakeTables.planMillis(catalog.loadTable(REWRITTEN));
    }
    LakeTables.FileCounts mergedFiles = LakeTables.files(catalog.loadTable(ITEMS));
    LakeTables.FileCounts freshFiles = LakeTables.files(catalog.loadTable(REWRITTEN));
    double ratio = comparison.ratio();
    Bench.info("query: %s / %s", merged, fresh);
    Bench.info("merged runs (ms): %s", Arrays.toString(comparison.firstMillis()));
    Bench.info("fresh runs (ms):  %s", Arrays.toString(comparison.secondMillis()));
    Bench.result(
        "read-cost commits=%d updates_per_commit=%d runs=%d merged_ms=%.1f fresh_ms=%.1f"
            + " ratio=%.2f target<=%.1f %s",
        commits,
        updatesPerCommit,
        runs,
        comparison.firstMedian(),
        comparison.secondMedian(),
        ratio,
        TARGET_RATIO,
        Bench.verdict(ratio <= TARGET_RATIO));
    Bench.result(
        "read-cost-detail merged: %d data files, %d position-delete files, %d bytes, plan %.1f ms;"
            + " fresh: %d data files, %d delete files, %d bytes, plan %.1f ms",
        mergedFiles.data(),
        mergedFiles.deletes(),
        mergedFiles.bytes(),
        Bench.median(mergedPlanMillis),
        freshFiles.data(),
        freshFiles.deletes(),
        freshFiles.bytes(),
        Bench.median(freshPlanMillis));
    List<List<Object>> mergedResult = comparison.firstResult();
    List<List<Object>> freshResult = comparison.secondResult();
    boolean identical =
        mergedResult.equals(freshResult)
            && comparison.firstRepeatable()
            && comparison.secondRepeatable();
    boolean matchesSource =
        mergedResult.size() == 1
            && ((Number) mergedResult.get(0).get(0)).longValue() == source.rows()
            && ((Number) mergedResult.get(0).get(1)).longValue() == source.qtySum();
    Bench.result(
        "read-cost-verify merged=%s fresh=%s source=[%s] identical=%s %s",
        mergedResult, freshResult, source, identical, Bench.verdict(identical && matchesSource));
  }
}
