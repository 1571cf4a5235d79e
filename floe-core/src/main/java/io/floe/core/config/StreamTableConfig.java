package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.apache.iceberg.types.Type;

/**
 * The Iceberg table a stream pipeline writes, and its dead-letter table.
 *
 * @param key the columns whose latest value per key an upsert table holds; empty in append mode
 * @param columns the declared schema, in order; empty to infer it from the records
 * @param partitionBy partition transforms such as {@code day(event_time)}, in order
 */
public record StreamTableConfig(
    String table,
    WriteMode mode,
    List<String> key,
    List<Column> columns,
    List<PartitionField> partitionBy,
    UnknownFields unknownFields,
    String deadLetterTable) {
  /** How records become rows. */
  public enum WriteMode {
    /** Every record is a new row. */
    APPEND,
    /**
     * A record replaces the row with its key; a record without a value (a tombstone) deletes it.
     */
    UPSERT
  }

  /** What happens to a record's field that the table has no column for. */
  public enum UnknownFields {
    /** A new column is added, of the type of the field's value. */
    ADD,
    /** The record goes to the dead-letter table. */
    REJECT,
    /** The field is left out. */
    IGNORE
  }

  /**
   * A partition field: {@code transform} is identity, year, month, day, hour, bucket or truncate;
   * {@code argument} the bucket count or truncation width, else 0.
   */
  public record PartitionField(String transform, int argument, String column) {
    public PartitionField {
      requireNonNull(transform, "transform is null");
      requireNonNull(column, "column is null");
    }
  }

  /** A declared column: {@code json} columns hold a field's JSON text as a string. */
  public record Column(String name, Type.PrimitiveType type, boolean json) {
    public Column {
      requireNonNull(name, "name is null");
      requireNonNull(type, "type is null");
    }
  }

  public StreamTableConfig {
    requireNonNull(table, "table is null");
    requireNonNull(mode, "mode is null");
    key = List.copyOf(requireNonNull(key, "key is null"));
    columns = List.copyOf(requireNonNull(columns, "columns is null"));
    partitionBy = List.copyOf(requireNonNull(partitionBy, "partitionBy is null"));
    requireNonNull(unknownFields, "unknownFields is null");
    requireNonNull(deadLetterTable, "deadLetterTable is null");
  }
}
