package io.floe.bench;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.catalog.TableFiles;
import io.floe.core.writer.CdcTableWriter;
import io.floe.ingest.Pipeline;
import io.floe.sql.QueryEngine;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.StreamSupport;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * What merge-on-read costs a reader: a table of R rows loaded by a pipeline, then U source
 * transactions of K updates of random rows each, every one landing in its own Iceberg commit (a
 * data file with the new row versions plus a position-delete file). The same aggregate is then run
 * through {@code floe sql} on that table and on a freshly rewritten copy of its rows (one data
 * file, written in one commit with {@link CdcTableWriter}); runs alternate between the two tables
 * after one warm-up each, and the medians and their ratio are reported, with the median time
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
  private static final TableIdentifier ITEMS =
      TableIdentifier.of(BenchEnvironment.NAMESPACE, ItemsTable.NAME);
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
      try (JdbcCatalog catalog = FloeCatalog.open(warehouse)) {
        load(environment, catalog, rows);
        long started = System.nanoTime();
        update(environment, catalog, commits, rows, updatesPerCommit);
        Bench.info(
            "%d update commits of %d rows in %.1f s",
            commits, updatesPerCommit, Bench.seconds(System.nanoTime() - started));
        environment.dropSlot(PIPELINE);

        started = System.nanoTime();
        rewrite(catalog);
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

  private static void load(BenchEnvironment environment, JdbcCatalog catalog, long rows)
      throws Exception {
    try (Pipeline pipeline =
        new Pipeline(environment.pipelineConfig(PIPELINE, Duration.ofSeconds(1)), catalog)) {
      pipeline.start();
      Bench.awaitFullLoad(pipeline, rows);
    }
    Bench.info("full load of %d rows committed", rows);
  }

  private static void update(
      BenchEnvironment environment,
      JdbcCatalog catalog,
      int commits,
      long rows,
      int updatesPerCommit)
      throws Exception {
    Duration interval = Duration.ofMillis(100);
    ThreadLocalRandom random = ThreadLocalRandom.current();
    try (Pipeline pipeline = new Pipeline(environment.pipelineConfig(PIPELINE, interval), catalog);
        Connection connection = environment.connect();
        PreparedStatement update =
            connection.prepareStatement("UPDATE items SET qty = qty + 1 WHERE id = ANY(?)")) {
      pipeline.start();
      long snapshotsBefore = snapshotCount(catalog.loadTable(ITEMS));
      for (int commit = 0; commit < commits; commit++) {
        Set<Long> ids = new HashSet<>();
        while (ids.size() < updatesPerCommit) {
          ids.add(random.nextLong(1, rows + 1));
        }
        Array array = connection.createArrayOf("bigint", ids.toArray());
        update.setArray(1, array);
        long target = pipeline.stats().changes() + update.executeUpdate();
        array.free();
        Bench.awaitCommitted(pipeline, target, interval.plusSeconds(2), Duration.ofMinutes(2));
      }
      long added = snapshotCount(catalog.loadTable(ITEMS)) - snapshotsBefore;
      if (added != commits) {
        throw new IllegalStateException(
            "Cannot measure read cost: expected "
                + commits
                + " update commits but the table gained "
                + added
                + " snapshots");
      }
    }
  }

  private static long snapshotCount(Table table) {
    return StreamSupport.stream(table.snapshots().spliterator(), false).count();
  }

  /** Writes the current rows of raw.items into a new table in one commit. */
  private static void rewrite(JdbcCatalog catalog) throws IOException {
    Table items = catalog.loadTable(ITEMS);
    if (!catalog.namespaceExists(REWRITTEN.namespace())) {
      catalog.createNamespace(REWRITTEN.namespace());
    }
    Map<String, String> properties = new HashMap<>();
    properties.put(TableProperties.FORMAT_VERSION, "2");
    properties.put(
        TableProperties.PARQUET_COMPRESSION,
        items.properties().getOrDefault(TableProperties.PARQUET_COMPRESSION, "zstd"));
    Table rewritten =
        catalog.createTable(REWRITTEN, items.schema(), PartitionSpec.unpartitioned(), properties);
    CdcTableWriter writer = CdcTableWriter.open(rewritten);
    try (CloseableIterable<Record> records = IcebergGenerics.read(items).build()) {
      for (Record record : records) {
        writer.upsert(record, null);
      }
    }
    writer.commit(Map.of("floe.bench", "rewrite of " + ITEMS), false);
  }

  private static void compare(
      JdbcCatalog catalog,
      Path warehouse,
      int runs,
      ItemsTable.Checksum source,
      int commits,
      int updatesPerCommit) {
    QueryEngine engine = new QueryEngine(catalog, warehouse);
    String merged = QUERY + ITEMS;
    String fresh = QUERY + REWRITTEN;
    List<List<Object>> mergedResult = engine.queryAll(merged);
    List<List<Object>> freshResult = engine.queryAll(fresh);
    double[] mergedMillis = new double[runs];
    double[] freshMillis = new double[runs];
    double[] mergedPlanMillis = new double[runs];
    double[] freshPlanMillis = new double[runs];
    boolean identical = mergedResult.equals(freshResult);
    for (int run = 0; run < runs; run++) {
      long started = System.nanoTime();
      identical &= engine.queryAll(merged).equals(mergedResult);
      mergedMillis[run] = Bench.millis(System.nanoTime() - started);
      started = System.nanoTime();
      identical &= engine.queryAll(fresh).equals(freshResult);
      freshMillis[run] = Bench.millis(System.nanoTime() - started);
      mergedPlanMillis[run] = planMillis(catalog.loadTable(ITEMS));
      freshPlanMillis[run] = planMillis(catalog.loadTable(REWRITTEN));
    }
    FileCounts mergedFiles = files(catalog.loadTable(ITEMS));
    FileCounts freshFiles = files(catalog.loadTable(REWRITTEN));
    double mergedMedian = Bench.median(mergedMillis);
    double freshMedian = Bench.median(freshMillis);
    double ratio = mergedMedian / freshMedian;
    Bench.info("query: %s / %s", merged, fresh);
    Bench.info("merged runs (ms): %s", Arrays.toString(mergedMillis));
    Bench.info("fresh runs (ms):  %s", Arrays.toString(freshMillis));
    Bench.result(
        "read-cost commits=%d updates_per_commit=%d runs=%d merged_ms=%.1f fresh_ms=%.1f"
            + " ratio=%.2f target<=%.1f %s",
        commits,
        updatesPerCommit,
        runs,
        mergedMedian,
        freshMedian,
        ratio,
        TARGET_RATIO,
        Bench.verdict(ratio <= TARGET_RATIO));
    Bench.result(
        "read-cost-detail merged: %d data files, %d position-delete files, %d bytes, plan %.1f ms;"
            + " fresh: %d data files, %d delete files, %d bytes, plan %.1f ms",
        mergedFiles.data,
        mergedFiles.deletes,
        mergedFiles.bytes,
        Bench.median(mergedPlanMillis),
        freshFiles.data,
        freshFiles.deletes,
        freshFiles.bytes,
        Bench.median(freshPlanMillis));
    boolean matchesSource =
        mergedResult.size() == 1
            && ((Number) mergedResult.get(0).get(0)).longValue() == source.rows()
            && ((Number) mergedResult.get(0).get(1)).longValue() == source.qtySum();
    Bench.result(
        "read-cost-verify merged=%s fresh=%s source=[%s] identical=%s %s",
        mergedResult, freshResult, source, identical, Bench.verdict(identical && matchesSource));
  }

  private record FileCounts(int data, int deletes, long bytes) {}

  private static FileCounts files(Table table) {
    TableFiles files = TableFiles.load(table);
    return new FileCounts(files.dataFiles().size(), files.deleteFiles().size(), files.bytes());
  }

  private static double planMillis(Table table) {
    long started = System.nanoTime();
    files(table);
    return Bench.millis(System.nanoTime() - started);
  }
}
