package io.floe.sql;

import static java.util.Objects.requireNonNull;

/**
 * How one table reference of a query was planned: which snapshot is read, which files Iceberg's
 * planning kept out of how many, and the filter used to prune them.
 *
 * @param reference the reference as the query wrote it, such as {@code shop.orders FOR VERSION AS
 *     OF 42} or {@code shop."orders$snapshots"}
 * @param table the Iceberg table, {@code namespace.table}
 * @param snapshotId the snapshot read, or -1 for an empty table or a metadata table
 * @param filter the filter Iceberg pruned files with, or {@code true} when none applied
 * @param dataFiles data files planned
 * @param totalDataFiles data files of the snapshot
 * @param deleteFiles position-delete files and deletion vectors applied to the planned data files
 * @param bytes bytes of the planned data and delete files (of a deletion vector, its blob's)
 * @param totalBytes bytes of all data and delete files of the snapshot
 */
public record TableScan(
    String reference,
    String table,
    long snapshotId,
    String filter,
    int dataFiles,
    int totalDataFiles,
    int deleteFiles,
    long bytes,
    long totalBytes) {
  public TableScan {
    requireNonNull(reference, "reference is null");
    requireNonNull(table, "table is null");
    requireNonNull(filter, "filter is null");
  }
}
