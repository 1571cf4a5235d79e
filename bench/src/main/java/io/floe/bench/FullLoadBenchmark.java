package io.floe.bench;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.ingest.Pipeline;
import io.floe.sql.QueryEngine;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * Full load: a fresh pipeline copies a PostgreSQL table of N rows into an empty warehouse.
 *
 * <p>Measured from {@link Pipeline#start()} until the pipeline is STREAMING with all N rows loaded
 * (the full load is committed), and separately from the moment the first row was loaded (which
 * leaves out source inspection, table creation and Debezium's start). Each run uses a fresh
 * warehouse and replication slot; the figures are medians over the runs.
 *
 * <p>Arguments: {@code [rows=1000000] [runs=3]}.
 */
public final class FullLoadBenchmark {
  static final double TARGET_ROWS_PER_SECOND = 50_000;
  private static final Duration COMMIT_INTERVAL = Duration.ofSeconds(1);

  private FullLoadBenchmark() {}

  public static void main(String[] args) throws Exception {
    long rows = Bench.argument(args, 0, 1_000_000);
    int runs = (int) Bench.argument(args, 1, 3);
    try (BenchEnvironment environment = BenchEnvironment.start()) {
      ItemsTable.Checksum source;
      try (Connection connection = environment.connect()) {
        ItemsTable.create(connection);
        long started = System.nanoTime();
        ItemsTable.fill(connection, 1, rows);
        ItemsTable.analyze(connection);
        source = ItemsTable.checksum(connection);
        Bench.info(
            "source: %d rows inserted in %.1f s", rows, Bench.seconds(System.nanoTime() - started));
      }
      double[] totalSeconds = new double[runs];
      double[] fromFirstRowSeconds = new double[runs];
      boolean verified = true;
      List<String> rates = new ArrayList<>();
      MachineLoad load = environment.measureLoad();
      for (int run = 0; run < runs; run++) {
        Run result = runOnce(environment, "load" + (run + 1), rows);
        totalSeconds[run] = Bench.seconds(result.totalNanos);
        fromFirstRowSeconds[run] = Bench.seconds(result.fromFirstRowNanos);
        boolean matches = result.lake.equals(source);
        verified &= matches;
        rates.add(Bench.format("%.0f", rows / totalSeconds[run]));
        Bench.info(
            "run %d: %.2f s total (%.0f rows/s), %.2f s from first row (%.0f rows/s),"
                + " %d commits; raw.items %s vs source %s %s; cpu: %s",
            run + 1,
            totalSeconds[run],
            rows / totalSeconds[run],
            fromFirstRowSeconds[run],
            rows / fromFirstRowSeconds[run],
            result.commits,
            result.lake,
            source,
            matches ? "OK" : "MISMATCH",
            result.cpu);
      }
      String cpu = load.summary();
      double seconds = Bench.median(totalSeconds);
      double fromFirstRow = Bench.median(fromFirstRowSeconds);
      double rate = rows / seconds;
      Bench.result(
          "full-load rows=%d runs=%d seconds=%.2f rows_per_s=%.0f target>=%.0f %s"
              + " (rows_per_s of each run: %s)",
          rows,
          runs,
          seconds,
          rate,
          TARGET_ROWS_PER_SECOND,
          Bench.verdict(rate >= TARGET_ROWS_PER_SECOND),
          String.join(", ", rates));
      Bench.result(
          "full-load-from-first-row rows=%d seconds=%.2f rows_per_s=%.0f startup_seconds=%.2f",
          rows, fromFirstRow, rows / fromFirstRow, seconds - fromFirstRow);
      Bench.result(
          "full-load-verify query=\"SELECT count(*), sum(qty) FROM raw.items\" expected_rows=%d"
              + " expected_sum_qty=%d all_runs_equal=%s %s",
          source.rows(),
          source.qtySum(),
          verified,
          Bench.verdict(verified && source.rows() == rows));
      Bench.result("full-load-cpu over all runs: %s", cpu);
    }
  }

  private record Run(
      long totalNanos,
      long fromFirstRowNanos,
      long commits,
      ItemsTable.Checksum lake,
      String cpu) {}

  private static Run runOnce(BenchEnvironment environment, String name, long rows)
      throws Exception {
    Path warehouse = environment.newWarehouse(name);
    Run run;
    try (JdbcCatalog catalog =
            FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
        Pipeline pipeline = environment.pipeline(name, COMMIT_INTERVAL, catalog)) {
      long[] firstRow = {-1};
      MachineLoad load = environment.measureLoad();
      long started = System.nanoTime();
      pipeline.start();
      long done =
          Bench.await(
              pipeline,
              "the full load of " + rows + " rows",
              Duration.ofSeconds(120 + rows / 5_000),
              () -> {
                long loaded = pipeline.stats().loadedRows();
                if (firstRow[0] < 0 && loaded > 0) {
                  firstRow[0] = System.nanoTime();
                }
                return pipeline.state() == Pipeline.State.STREAMING && loaded >= rows;
              });
      long commits = pipeline.stats().commits();
      String cpu = load.summary();
      QueryEngine engine = Bench.queryEngine(catalog, warehouse);
      run =
          new Run(
              done - started,
              done - firstRow[0],
              commits,
              Bench.lakeChecksum(engine, BenchEnvironment.NAMESPACE + "." + ItemsTable.NAME),
              cpu);
    }
    environment.dropSlot(name);
    return run;
  }
}
