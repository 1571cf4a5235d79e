package io.floe.bench;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.catalog.TableFiles;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.sql.QueryEngine;
import io.floe.sql.QueryExecution;
import io.floe.sql.QueryOptions;
import io.floe.sql.QueryStats;
import io.floe.sql.SqlValues;
import io.floe.sql.TableScan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.iceberg.Table;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * What Floe's SQL costs over reading the same Parquet files with DuckDB directly. A table of R
 * events partitioned by day (and a 100,000-row customers table) is written to Iceberg; five queries
 * then run through {@link QueryEngine} and through one plain in-memory DuckDB connection that reads
 * the tables' current data files with {@code read_parquet([...])}, as a DuckDB user without a
 * catalog would. Each query runs once to warm up, then {@code runs} times alternating between the
 * two; the medians, their ratio and the median ratio over the queries are reported.
 *
 * <p>Floe's time runs from {@link QueryEngine#start} to the last row, so it includes the catalog
 * lookups, Iceberg's scan planning and the fresh DuckDB instance each Floe query opens. DuckDB's
 * connection is opened and the file lists are planned before any timing. Both sides must return the
 * same rows (the tables have no delete files).
 *
 * <p>For the query on one day the benchmark also reports the bytes Floe's statistics say it
 * scanned, against the table's total: with the filter pushed into Iceberg's planning, only that
 * day's partition is read.
 *
 * <p>Arguments: {@code [rows=10000000] [days=31] [runs=7]} ({@code runs} also from system property
 * {@code floe.bench.runs}). With {@code -Dfloe.bench.keep=true} the tables are written to {@code
 * <java.io.tmpdir>/floe-bench-sql} and kept, and a later run of the same size reuses them.
 */
public final class SqlBenchmark {
  static final double TARGET_RATIO = 1.5;
  static final double TARGET_SCANNED_FRACTION = 0.1;
  private static final int COMMITS = 4;

  private SqlBenchmark() {}

  /** A benchmark query over {@code bench.events} and {@code bench.customers}. */
  private record Query(String name, String sql) {
    /** The same query over the tables' Parquet files. */
    String direct(String events, String customers) {
      return sql.replace(EventsTables.EVENTS.toString(), events)
          .replace(EventsTables.CUSTOMERS.toString(), customers);
    }
  }

  public static void main(String[] args) throws Exception {
    long rows = Bench.argument(args, 0, 10_000_000);
    int days = (int) Bench.argument(args, 1, 31);
    int runs = (int) Bench.argument(args, 2, Long.getLong("floe.bench.runs", 7));
    if (days < 1 || rows < days || runs < 1) {
      throw new IllegalArgumentException(
          "Cannot run benchmark: need rows >= days >= 1 and runs >= 1, got rows="
              + rows
              + " days="
              + days
              + " runs="
              + runs);
    }
    boolean keep = Boolean.getBoolean("floe.bench.keep");
    Path warehouse =
        keep
            ? Path.of(System.getProperty("java.io.tmpdir"), "floe-bench-sql")
            : Files.createTempDirectory("floe-bench-sql-");
    Bench.info("warehouse %s; load average at start: %s", warehouse, MachineLoad.loadAverage());
    try (JdbcCatalog catalog =
        FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults())) {
      run(catalog, warehouse, rows, days, runs);
    } finally {
      if (keep) {
        System.out.println("Kept warehouse in " + warehouse);
      } else {
        BenchEnvironment.deleteRecursively(warehouse);
      }
    }
  }

  private static void run(JdbcCatalog catalog, Path warehouse, long rows, int days, int runs)
      throws SQLException {
    EventsTables.Built built = EventsTables.ensure(catalog, rows, days, COMMITS);
    Table events = catalog.loadTable(EventsTables.EVENTS);
    Table customers = catalog.loadTable(EventsTables.CUSTOMERS);
    TableFiles eventsFiles = TableFiles.load(events);
    TableFiles customersFiles = TableFiles.load(customers);
    if (!eventsFiles.deleteFiles().isEmpty() || !customersFiles.deleteFiles().isEmpty()) {
      throw new IllegalStateException(
          "Cannot compare with DuckDB directly: the benchmark tables have delete files");
    }
    if (built.reused()) {
      Bench.result(
          "sql-build reused the tables of an earlier run: bench.events %d rows, %d days, %d data"
              + " files, %d bytes; bench.customers %d rows",
          rows,
          days,
          eventsFiles.dataFiles().size(),
          eventsFiles.bytes(),
          EventsTables.CUSTOMER_COUNT);
    } else {
      Bench.result(
          "sql-build rows=%d (bench.events %d over %d days + bench.customers %d) commits=%d"
              + " seconds=%.1f rows_per_s=%.0f; bench.events: %d data files, %d bytes",
          built.rows(),
          rows,
          days,
          EventsTables.CUSTOMER_COUNT,
          built.commits(),
          built.seconds(),
          built.rowsPerSecond(),
          eventsFiles.dataFiles().size(),
          eventsFiles.bytes());
    }

    LocalDate day = EventsTables.FIRST_DAY.plusDays(days / 2);
    List<Query> queries =
        List.of(
            new Query("a", "SELECT count(*) FROM bench.events"),
            new Query(
                "b", "SELECT count(*), sum(amount) FROM bench.events WHERE customer_id = 4242"),
            new Query(
                "c",
                "SELECT category, count(*), sum(amount), avg(qty) FROM bench.events"
                    + " GROUP BY category ORDER BY category"),
            new Query(
                "d",
                "SELECT c.region, sum(e.amount) FROM bench.events e JOIN bench.customers c"
                    + " ON e.customer_id = c.customer_id GROUP BY c.region ORDER BY 1"),
            new Query(
                "e",
                "SELECT count(*), sum(amount) FROM bench.events WHERE day = DATE '" + day + "'"));
    String eventsDirect = readParquet(eventsFiles);
    String customersDirect = readParquet(customersFiles);

    QueryEngine engine = Bench.queryEngine(catalog, warehouse);
    List<Measured> measured = new ArrayList<>();
    MachineLoad load = MachineLoad.start();
    try (Connection duckdb = DriverManager.getConnection("jdbc:duckdb:")) {
      try (Statement statement = duckdb.createStatement()) {
        // As QueryEngine sets it; none of the queries depends on it.
        statement.execute("SET TimeZone = 'UTC'");
      }
      for (Query query : queries) {
        Measured result =
            measure(engine, duckdb, query, query.direct(eventsDirect, customersDirect), runs);
        measured.add(result);
        Bench.info(
            "query %s: %s -> %s", query.name(), query.sql(), abbreviate(result.floeRows, 200));
        Bench.info("  floe runs (ms):   %s", format(result.floeMillis));
        Bench.info("  duckdb runs (ms): %s", format(result.duckdbMillis));
        Bench.info(
            "  floe: start() returned after %.1f ms (median), planningMillis %.0f ms (median);"
                + " same rows as DuckDB: %s",
            Bench.median(result.startMillis),
            Bench.median(result.planningMillis),
            result.identical);
      }
    }
    String cpu = load.summary();
    Overheads overheads = overheads(catalog, events, customers, runs);

    double[] ratios = new double[measured.size()];
    boolean identical = true;
    for (int i = 0; i < measured.size(); i++) {
      Measured result = measured.get(i);
      ratios[i] = result.ratio();
      identical &= result.identical;
      Bench.result(
          "sql-query %s floe_ms=%.1f duckdb_ms=%.1f ratio=%.2f floe_planning_ms=%.0f"
              + " floe_after_planning_ms=%.1f \"%s\"",
          result.query.name(),
          Bench.median(result.floeMillis),
          Bench.median(result.duckdbMillis),
          ratios[i],
          Bench.median(result.planningMillis),
          Bench.median(result.afterPlanningMillis),
          result.query.sql());
    }
    double medianRatio = Bench.median(ratios);
    Bench.result(
        "sql rows=%d runs=%d queries=%d median_ratio=%.2f (max %.2f) target<=%.1f %s",
        rows,
        runs,
        measured.size(),
        medianRatio,
        Arrays.stream(ratios).max().orElse(Double.NaN),
        TARGET_RATIO,
        Bench.verdict(medianRatio <= TARGET_RATIO));
    Bench.result(
        "sql-overhead load_table_ms=%.1f iceberg_plan_ms events=%.1f customers=%.1f"
            + " new_duckdb_open_ms=%.1f close_ms=%.1f (medians, measured apart from the query runs;"
            + " a Floe query pays one load and one plan per table and one fresh DuckDB)",
        overheads.loadTableMillis,
        overheads.eventsPlanMillis,
        overheads.customersPlanMillis,
        overheads.duckdbOpenMillis,
        overheads.duckdbCloseMillis);
    pruning(measured.get(measured.size() - 1), day, eventsFiles);
    Bench.result(
        "sql-verify floe and duckdb returned the same rows for every query and run: %s %s",
        identical, Bench.verdict(identical));
    Bench.result("sql-cpu over all query runs: %s", cpu);
    Bench.info("load average at end: %s", MachineLoad.loadAverage());
  }

  /** Reports what Floe's statistics say the one-day query scanned. */
  private static void pruning(Measured dayQuery, LocalDate day, TableFiles eventsFiles) {
    QueryStats stats = dayQuery.lastStats;
    Optional<TableScan> scan =
        stats.scans().stream()
            .filter(candidate -> candidate.table().equals(EventsTables.EVENTS.toString()))
            .findFirst();
    long total = scan.map(TableScan::totalBytes).orElse(eventsFiles.bytes());
    long scanned = scan.map(TableScan::bytes).orElse(stats.bytesScanned());
    double fraction = (double) scanned / total;
    String verdict;
    if (scan.isEmpty()) {
      verdict = "FAIL (the engine reported no scan statistics; pruning not measurable)";
    } else if (scan.get().bytes() >= total) {
      verdict = "FAIL (no pruning: Floe read every file)";
    } else {
      verdict = Bench.verdict(fraction <= TARGET_SCANNED_FRACTION);
    }
    Bench.result(
        "sql-pruning query=%s day=%s bytes_scanned=%d total_bytes=%d scanned/total=%.3f"
            + " data_files=%s filter=%s target<=%.2f %s",
        dayQuery.query.name(),
        day,
        scanned,
        total,
        fraction,
        scan.map(value -> value.dataFiles() + "/" + value.totalDataFiles())
            .orElse("?/" + eventsFiles.dataFiles().size()),
        scan.map(TableScan::filter).orElse("n/a"),
        TARGET_SCANNED_FRACTION,
        verdict);
  }

  /** The runs of one query on both sides. */
  private static final class Measured {
    final Query query;
    final double[] floeMillis;
    final double[] duckdbMillis;
    final double[] startMillis;
    final double[] planningMillis;
    final double[] afterPlanningMillis;
    List<List<Object>> floeRows;
    QueryStats lastStats;
    boolean identical = true;

    Measured(Query query, int runs) {
      this.query = query;
      this.floeMillis = new double[runs];
      this.duckdbMillis = new double[runs];
      this.startMillis = new double[runs];
      this.planningMillis = new double[runs];
      this.afterPlanningMillis = new double[runs];
    }

    double ratio() {
      return Bench.median(floeMillis) / Bench.median(duckdbMillis);
    }
  }

  private static Measured measure(
      QueryEngine engine, Connection duckdb, Query query, String direct, int runs)
      throws SQLException {
    Measured measured = new Measured(query, runs);
    FloeRun warmUp = runFloe(engine, query.sql());
    measured.floeRows = warmUp.rows;
    measured.identical = warmUp.rows.equals(runDuckdb(duckdb, direct).rows);
    for (int run = 0; run < runs; run++) {
      FloeRun floe = runFloe(engine, query.sql());
      if (floe.stats.reused()) {
        throw new IllegalStateException(
            "Cannot measure query " + query.name() + ": Floe answered it from a stored result");
      }
      DirectRun plain = runDuckdb(duckdb, direct);
      measured.floeMillis[run] = floe.millis;
      measured.startMillis[run] = floe.startMillis;
      measured.planningMillis[run] = floe.stats.planningMillis();
      measured.afterPlanningMillis[run] = floe.millis - floe.stats.planningMillis();
      measured.duckdbMillis[run] = plain.millis;
      measured.lastStats = floe.stats;
      measured.identical &= floe.rows.equals(measured.floeRows) && plain.rows.equals(floe.rows);
    }
    return measured;
  }

  private record FloeRun(
      List<List<Object>> rows, double millis, double startMillis, QueryStats stats) {}

  /** One query through Floe, timed from {@code start()} to the last row. */
  private static FloeRun runFloe(QueryEngine engine, String sql) {
    long started = System.nanoTime();
    try (QueryExecution execution = engine.start(sql, QueryOptions.local())) {
      long startReturned = System.nanoTime();
      List<List<Object>> rows = new ArrayList<>();
      for (Object[] row = execution.next(); row != null; row = execution.next()) {
        rows.add(Arrays.asList(row));
      }
      long finished = System.nanoTime();
      return new FloeRun(
          rows,
          Bench.millis(finished - started),
          Bench.millis(startReturned - started),
          execution.stats());
    }
  }

  private record DirectRun(List<List<Object>> rows, double millis) {}

  /** One query through the open DuckDB connection, values converted as Floe converts them. */
  private static DirectRun runDuckdb(Connection duckdb, String sql) throws SQLException {
    long started = System.nanoTime();
    List<List<Object>> rows = new ArrayList<>();
    try (Statement statement = duckdb.createStatement();
        ResultSet result = statement.executeQuery(sql)) {
      int columns = result.getMetaData().getColumnCount();
      while (result.next()) {
        Object[] values = new Object[columns];
        for (int i = 0; i < columns; i++) {
          values[i] = SqlValues.normalize(result.getObject(i + 1));
        }
        rows.add(Arrays.asList(values));
      }
    }
    return new DirectRun(rows, Bench.millis(System.nanoTime() - started));
  }

  private record Overheads(
      double loadTableMillis,
      double eventsPlanMillis,
      double customersPlanMillis,
      double duckdbOpenMillis,
      double duckdbCloseMillis) {}

  /**
   * Fixed costs a Floe query pays before DuckDB reads anything: loading a table's metadata through
   * the catalog, Iceberg planning of each table, and opening and closing a fresh in-memory DuckDB.
   */
  private static Overheads overheads(JdbcCatalog catalog, Table events, Table customers, int runs)
      throws SQLException {
    double[] loadTable = new double[runs];
    double[] eventsPlan = new double[runs];
    double[] customersPlan = new double[runs];
    double[] open = new double[runs];
    double[] close = new double[runs];
    for (int run = 0; run < runs; run++) {
      long started = System.nanoTime();
      catalog.loadTable(EventsTables.EVENTS);
      loadTable[run] = Bench.millis(System.nanoTime() - started);
      started = System.nanoTime();
      TableFiles.load(events);
      eventsPlan[run] = Bench.millis(System.nanoTime() - started);
      started = System.nanoTime();
      TableFiles.load(customers);
      customersPlan[run] = Bench.millis(System.nanoTime() - started);
      started = System.nanoTime();
      Connection connection = DriverManager.getConnection("jdbc:duckdb:");
      open[run] = Bench.millis(System.nanoTime() - started);
      started = System.nanoTime();
      connection.close();
      close[run] = Bench.millis(System.nanoTime() - started);
    }
    return new Overheads(
        Bench.median(loadTable),
        Bench.median(eventsPlan),
        Bench.median(customersPlan),
        Bench.median(open),
        Bench.median(close));
  }

  /** {@code read_parquet([...])} over a table's current data files. */
  private static String readParquet(TableFiles files) {
    return files.dataFiles().keySet().stream()
        .map(path -> "'" + path.replace("'", "''") + "'")
        .collect(Collectors.joining(", ", "read_parquet([", "])"));
  }

  private static String format(double[] millis) {
    return Arrays.stream(millis)
        .mapToObj(value -> Bench.format("%.1f", value))
        .collect(Collectors.joining(", "));
  }

  private static String abbreviate(Object value, int length) {
    String text = String.valueOf(value);
    return text.length() <= length ? text : text.substring(0, length) + "...";
  }
}
