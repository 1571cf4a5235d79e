package io.floe.ingest;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Types;

/**
 * A table a source feeds, with the Iceberg schema it maps to.
 *
 * @param qualifiedName the table as the configuration names it: {@code schema.table} for a
 *     database, the topic or stream name for others; changes name their table by it
 * @param tableName the name of its Iceberg table in the pipeline's target namespace
 * @param icebergSchema the mapped schema; its identifier fields are the key changes apply by
 * @param estimatedRows about how many rows a full load reads, for progress; 0 when unknown
 */
public record SourceTable(
    String qualifiedName, String tableName, Schema icebergSchema, long estimatedRows) {
  public SourceTable {
    requireNonNull(qualifiedName, "qualifiedName is null");
    requireNonNull(tableName, "tableName is null");
    requireNonNull(icebergSchema, "icebergSchema is null");
    if (estimatedRows < 0) {
      throw new IllegalArgumentException("estimatedRows must not be negative: " + estimatedRows);
    }
  }

  /** Column names in table order. */
  public List<String> columns() {
    return icebergSchema.columns().stream().map(Types.NestedField::name).toList();
  }

  /** The same table with another row estimate. */
  public SourceTable withEstimatedRows(long rows) {
    return new SourceTable(qualifiedName, tableName, icebergSchema, rows);
  }
}
