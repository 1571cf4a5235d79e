package io.floe.sql;

import static java.util.Objects.requireNonNull;

import io.floe.core.catalog.TableFiles;
import java.util.Optional;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;

/**
 * One table reference of a query, planned. A reference reads either the table's rows at one
 * snapshot ({@link DataScan}), through data and delete files, or one of its metadata tables ({@link
 * MetadataScan}), whose rows come from the table's metadata and which reads no file of the table's,
 * or one of Floe's {@link SystemTable}s ({@link SystemScan}).
 */
sealed interface ScanPlan permits ScanPlan.DataScan, ScanPlan.MetadataScan, ScanPlan.SystemScan {
  /** The reference as the query wrote it. */
  TableReference reference();

  /** Bytes of the data and delete files read. */
  long bytes();

  /** What was planned, as {@link QueryStats} reports it. */
  TableScan describe();

  /**
   * Names the version of the table the reference reads, so that a result is reused only while every
   * table it read is as it was.
   */
  String version();

  /**
   * The table's rows at one snapshot.
   *
   * @param snapshot the snapshot read; empty for a table that has none yet, which has no rows
   * @param schema the snapshot's schema (the table's when there is no snapshot)
   * @param filter the filter Iceberg pruned files with, {@code true} when none applied
   * @param files the data files left after pruning and the delete files that apply to them
   * @param totalDataFiles data files of the snapshot
   * @param totalBytes bytes of all data and delete files of the snapshot
   */
  record DataScan(
      TableReference reference,
      Table table,
      Optional<Snapshot> snapshot,
      Schema schema,
      Expression filter,
      TableFiles files,
      int totalDataFiles,
      long totalBytes)
      implements ScanPlan {
    public DataScan {
      requireNonNull(reference, "reference is null");
      requireNonNull(table, "table is null");
      requireNonNull(snapshot, "snapshot is null");
      requireNonNull(schema, "schema is null");
      requireNonNull(filter, "filter is null");
      requireNonNull(files, "files is null");
    }

    /** The scan of a table without snapshots: no files, nothing to filter. */
    static DataScan empty(TableReference reference, Table table) {
      return new DataScan(
          reference,
          table,
          Optional.empty(),
          table.schema(),
          Expressions.alwaysTrue(),
          TableFiles.plan(table, null),
          0,
          0);
    }

    /** Whether this reads the snapshot that is the table's current one. */
    boolean readsCurrentSnapshot() {
      Snapshot current = table.currentSnapshot();
      return current != null
          && snapshot.isPresent()
          && snapshot.get().snapshotId() == current.snapshotId();
    }

    @Override
    public long bytes() {
      return files.bytes();
    }

    @Override
    public TableScan describe() {
      return new TableScan(
          reference.written(),
          reference.table().toString(),
          publicSnapshotId(snapshot),
          filter.toString(),
          files.dataFiles().size(),
          totalDataFiles,
          files.deleteFiles().size(),
          bytes(),
          totalBytes);
    }

    @Override
    public String version() {
      return snapshot.map(read -> Long.toString(read.snapshotId())).orElse("none")
          + "@"
          + metadataLocation(table);
    }
  }

  /**
   * One of the table's metadata tables ({@code snapshots}, {@code files}, ...), read from its
   * current metadata; time travel does not apply.
   *
   * @param contents the metadata table's rows
   */
  record MetadataScan(TableReference reference, Table table, MetadataTables.Contents contents)
      implements ScanPlan {
    public MetadataScan {
      requireNonNull(reference, "reference is null");
      requireNonNull(table, "table is null");
      requireNonNull(contents, "contents is null");
      if (reference.metadata() == null) {
        throw new IllegalArgumentException(reference.written() + " is not a metadata table");
      }
    }

    @Override
    public long bytes() {
      return 0;
    }

    @Override
    public TableScan describe() {
      return new TableScan(
          reference.written(),
          reference.table().toString(),
          publicSnapshotId(Optional.empty()),
          Expressions.alwaysTrue().toString(),
          0,
          0,
          0,
          0,
          0);
    }

    @Override
    public String version() {
      Snapshot current = table.currentSnapshot();
      return "metadata@"
          + (current == null ? "none" : Long.toString(current.snapshotId()))
          + "@"
          + metadataLocation(table);
    }
  }

  /** A {@link SystemTable}'s rows, read for this query; a result over them is never reused. */
  record SystemScan(TableReference reference, MetadataTables.Contents contents)
      implements ScanPlan {
    public SystemScan {
      requireNonNull(reference, "reference is null");
      requireNonNull(contents, "contents is null");
    }

    @Override
    public long bytes() {
      return 0;
    }

    @Override
    public TableScan describe() {
      return new TableScan(
          reference.written(),
          reference.table().toString(),
          -1,
          Expressions.alwaysTrue().toString(),
          0,
          0,
          0,
          0,
          0);
    }

    @Override
    public String version() {
      return "system@" + System.nanoTime() + "@" + java.util.UUID.randomUUID();
    }
  }

  /** The table's metadata file, which every commit replaces; empty for a table without one. */
  private static String metadataLocation(Table table) {
    return table instanceof HasTableOperations
        ? ((HasTableOperations) table).operations().current().metadataFileLocation()
        : "";
  }

  /**
   * The snapshot id as {@link TableScan} has it, the form users see in query statistics: -1 when no
   * snapshot is read (an empty table, a metadata table).
   */
  private static long publicSnapshotId(Optional<Snapshot> snapshot) {
    return snapshot.map(Snapshot::snapshotId).orElse(-1L);
  }
}
