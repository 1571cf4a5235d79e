package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One enrichment of a stream pipeline's records: the columns of the row of a reference table whose
 * key equals the record's fields, added to the record before it is transformed and written.
 *
 * @param table the reference table, {@code namespace.table}
 * @param key the reference table's key columns
 * @param on the record's fields matched to {@code key}, in order
 * @param columns the reference columns added to the record
 * @param missing what a record without a matching reference row does
 * @param holdFor how long a {@code hold} record waits for its reference row
 * @param snapshotColumn the column that gets the id of the reference snapshot used, if any
 * @param memory the memory budget of the reference's lookup index, half of it on the Java heap;
 *     beyond it the index is on disk
 */
public record EnrichConfig(
    String table,
    List<String> key,
    List<String> on,
    List<Column> columns,
    Missing missing,
    Duration holdFor,
    Optional<String> snapshotColumn,
    long memory) {
  /** What a record does when no reference row has its key. */
  public enum Missing {
    /** The record is written with null in the added columns. */
    NULLS,
    /** The record goes to the dead-letter table as {@code reference_missing}. */
    DEAD_LETTER,
    /**
     * The record waits in the dead-letter table as {@code reference_pending} and is replayed when
     * the reference changes, for at most {@code hold-for}; then it stays there as {@code
     * reference_missing}.
     */
    HOLD
  }

  /** A reference column added to the record as {@code alias}. */
  public record Column(String name, String alias) {
    public Column {
      requireNonNull(name, "name is null");
      requireNonNull(alias, "alias is null");
    }
  }

  public EnrichConfig {
    requireNonNull(table, "table is null");
    key = List.copyOf(requireNonNull(key, "key is null"));
    on = List.copyOf(requireNonNull(on, "on is null"));
    columns = List.copyOf(requireNonNull(columns, "columns is null"));
    requireNonNull(missing, "missing is null");
    requireNonNull(holdFor, "holdFor is null");
    requireNonNull(snapshotColumn, "snapshotColumn is null");
    if (key.isEmpty() || key.size() != on.size()) {
      throw new IllegalArgumentException("key and on must be non-empty and of one size");
    }
  }

  /** The reference table's namespace. */
  public String namespace() {
    return table.substring(0, table.indexOf('.'));
  }

  /** The reference table's name in its namespace. */
  public String tableName() {
    return table.substring(table.indexOf('.') + 1);
  }
}
