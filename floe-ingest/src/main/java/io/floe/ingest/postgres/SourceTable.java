package io.floe.ingest.postgres;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.apache.iceberg.Schema;

/**
 * A source table as inspected in PostgreSQL, with the Iceberg schema it maps to.
 *
 * @param schemaName PostgreSQL schema
 * @param tableName PostgreSQL table
 * @param columns columns in table order
 * @param icebergSchema the mapped schema; identifier fields are the primary key
 * @param estimatedRows PostgreSQL's row estimate, for load progress
 */
public record SourceTable(
    String schemaName,
    String tableName,
    List<String> columns,
    Schema icebergSchema,
    long estimatedRows) {
  public SourceTable {
    requireNonNull(schemaName, "schemaName is null");
    requireNonNull(tableName, "tableName is null");
    columns = List.copyOf(columns);
    requireNonNull(icebergSchema, "icebergSchema is null");
  }

  /** {@code schema.table}, as written in the configuration. */
  public String qualifiedName() {
    return schemaName + "." + tableName;
  }
}
