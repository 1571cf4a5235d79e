package io.floe.sql;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * What a query read and cost. Bytes scanned are the bytes of the data and delete files planned for
 * the query (what Athena bills); a reused result scans nothing.
 *
 * @param queryId the query's id, such as {@code q-000042}
 * @param scans one entry per table reference
 * @param bytesScanned bytes of all planned files
 * @param planningMillis time spent planning with Iceberg and preparing DuckDB
 * @param reused whether the result came from the workgroup's result reuse
 */
public record QueryStats(
    String queryId, List<TableScan> scans, long bytesScanned, long planningMillis, boolean reused) {
  public QueryStats {
    requireNonNull(queryId, "queryId is null");
    scans = List.copyOf(requireNonNull(scans, "scans is null"));
  }
}
