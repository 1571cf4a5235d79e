package io.floe.bench;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.CdcTableWriter;
import io.floe.maintenance.ExpirePolicy;
import io.floe.maintenance.TableMaintenance;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;

/**
 * What keeping snapshots costs a CDC table: the writer commits one small change per commit (as a
 * pipeline does every {@code commit-interval} when changes arrive), snapshots pile up with no
 * expiry, and at each mark the benchmark reports the size of the table's metadata file (which every
 * commit rewrites and every query reads), the mean time of the writer's commits since the previous
 * mark, and the median time to load the table from the catalog. At the end, Floe's snapshot expiry
 * keeps the latest {@code keep} snapshots and the same figures are measured again.
 *
 * <p>At one commit a second, N snapshots are N seconds of time travel: the marks 600, 1800 and 3600
 * are 10 minutes, half an hour and an hour ({@code maintenance.expire-older-than}).
 *
 * <p>Arguments: {@code [snapshots=3600] [keep=600] [loads=15]}.
 */
public final class SnapshotGrowthBenchmark {
  private static final Schema SCHEMA =
      new Schema(
          List.of(
              Types.NestedField.required(1, "id", Types.LongType.get()),
              Types.NestedField.optional(2, "qty", Types.IntegerType.get())),
          Set.of(1));
  private static final TableIdentifier TABLE = TableIdentifier.of("raw", "growth");
  private static final int KEYS = 1_000;
  private static final int COMMITS_AFTER_EXPIRY = 100;

  private SnapshotGrowthBenchmark() {}

  public static void main(String[] args) throws Exception {
    int snapshots = (int) Bench.argument(args, 0, 3_600);
    int keep = (int) Bench.argument(args, 1, 600);
    int loads = (int) Bench.argument(args, 2, 15);
    if (snapshots < 2 || keep < 1 || keep >= snapshots || loads < 1) {
      throw new IllegalArgumentException(
          "Cannot grow "
              + snapshots
              + " snapshots and keep "
              + keep
              + " with "
              + loads
              + " loads: make 2 snapshots or more, keep at least 1 and fewer than made, load once"
              + " or more");
    }
    Path warehouse = Files.createTempDirectory("floe-bench-snapshots");
    List<Integer> marks = new ArrayList<>();
    for (int mark : new int[] {100, 600, 1_800, 3_600, 7_200}) {
      if (mark < snapshots) {
        marks.add(mark);
      }
    }
    marks.add(snapshots);
    try (JdbcCatalog catalog =
        FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults())) {
      catalog.createNamespace(Namespace.of("raw"));
      Table table =
          catalog.createTable(
              TABLE,
              SCHEMA,
              PartitionSpec.unpartitioned(),
              Map.of("format-version", "2", "write.metadata.delete-after-commit.enabled", "true"));
      CdcTableWriter writer = CdcTableWriter.open(table);
      Random random = new Random(42);
      int next = 0;
      for (int mark : marks) {
        double commitMillis = commit(writer, random, mark - next);
        next = mark;
        report("snapshot-growth", catalog, writer.table(), mark, commitMillis, loads);
      }
      List<Snapshot> history = new ArrayList<>();
      writer.table().snapshots().forEach(history::add);
      Instant olderThan =
          Instant.ofEpochMilli(history.get(history.size() - keep).timestampMillis());
      long started = System.nanoTime();
      new TableMaintenance(catalog)
          .expireSnapshots(
              TABLE, new ExpirePolicy(olderThan, keep, ExpirePolicy.Milestones.NONE, false));
      Bench.info(
          "expired down to %d snapshots in %.1f s",
          keep, Bench.seconds(System.nanoTime() - started));
      double commitMillis = commit(writer, random, COMMITS_AFTER_EXPIRY);
      report(
          "snapshot-growth-after-expiry",
          catalog,
          writer.table(),
          keep + COMMITS_AFTER_EXPIRY,
          commitMillis,
          loads);
    } finally {
      if (!Boolean.getBoolean("floe.bench.keep")) {
        BenchEnvironment.deleteRecursively(warehouse);
      } else {
        Bench.info("kept warehouse %s", warehouse);
      }
    }
  }

  /** Commits {@code count} single-row changes; the mean milliseconds per commit. */
  private static double commit(CdcTableWriter writer, Random random, int count) {
    long started = System.nanoTime();
    for (int i = 0; i < count; i++) {
      GenericRecord row = GenericRecord.create(SCHEMA);
      row.set(0, (long) random.nextInt(KEYS));
      row.set(1, random.nextInt(100));
      writer.upsert(row, null);
      // A pipeline's commit carries its source position, as this one does.
      writer.commit(Map.of("floe.source.offset", "{\"lsn\":" + i + ",\"txId\":" + i + "}"));
    }
    return Bench.millis(System.nanoTime() - started) / count;
  }

  private static void report(
      String name, JdbcCatalog catalog, Table table, int snapshots, double commitMillis, int loads)
      throws IOException {
    double[] loadMillis = new double[loads];
    for (int i = 0; i < loads; i++) {
      long started = System.nanoTime();
      catalog.loadTable(TABLE);
      loadMillis[i] = Bench.millis(System.nanoTime() - started);
    }
    String location = ((HasTableOperations) table).operations().current().metadataFileLocation();
    long metadataBytes =
        Files.size(
            location.startsWith("file:")
                ? Path.of(java.net.URI.create(location))
                : Path.of(location));
    Bench.result(
        "%s snapshots=%d metadata_bytes=%d commit_ms_mean=%.1f load_table_ms_median=%.1f",
        name, snapshots, metadataBytes, commitMillis, Bench.median(loadMillis));
  }
}
