package io.floe.bench;

import io.floe.core.catalog.TableFiles;
import io.floe.core.writer.CdcTableWriter;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.IcebergGenerics.ScanBuilder;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * The Iceberg side of the read benchmarks: a freshly rewritten copy of a table (the baseline a
 * merged table is compared with), and what a table's current snapshot holds.
 */
final class LakeTables {
  private LakeTables() {}

  /**
   * Writes the current rows of {@code source} (as of its loaded snapshot, deletes applied, read
   * with Iceberg's generic reader) into a new unpartitioned table {@code copy} in one commit with
   * {@link CdcTableWriter}: the layout a freshly compacted table has.
   */
  static void rewriteCopy(JdbcCatalog catalog, Table source, TableIdentifier copy)
      throws IOException {
    if (!catalog.namespaceExists(copy.namespace())) {
      catalog.createNamespace(copy.namespace());
    }
    Map<String, String> properties = new HashMap<>();
    properties.put(TableProperties.FORMAT_VERSION, "2");
    properties.put(
        TableProperties.PARQUET_COMPRESSION,
        source.properties().getOrDefault(TableProperties.PARQUET_COMPRESSION, "zstd"));
    Table rewritten =
        catalog.createTable(copy, source.schema(), PartitionSpec.unpartitioned(), properties);
    CdcTableWriter writer = CdcTableWriter.open(rewritten);
    ScanBuilder scan = IcebergGenerics.read(source);
    if (source.currentSnapshot() != null) {
      scan = scan.useSnapshot(source.currentSnapshot().snapshotId());
    }
    try (CloseableIterable<Record> records = scan.build()) {
      for (Record record : records) {
        writer.upsert(record, null);
      }
    }
    writer.commit(Map.of("floe.bench", "rewrite of " + source.name()));
  }

  /** Drops a table and deletes its files. */
  static void drop(JdbcCatalog catalog, TableIdentifier table) {
    if (!catalog.dropTable(table, true)) {
      throw new IllegalStateException("Cannot drop table " + table + ": it does not exist");
    }
  }

  /** Live files of a table's current snapshot. */
  record FileCounts(int data, int deletes, long bytes) {}

  static FileCounts files(Table table) {
    TableFiles files = TableFiles.load(table);
    return new FileCounts(files.dataFiles().size(), files.deleteFiles().size(), files.bytes());
  }

  static long snapshotCount(Table table) {
    return StreamSupport.stream(table.snapshots().spliterator(), false).count();
  }

  /** How long Iceberg takes to plan a full scan of the table's current snapshot. */
  static double planMillis(Table table) {
    long started = System.nanoTime();
    files(table);
    return Bench.millis(System.nanoTime() - started);
  }
}
