package io.floe.ingest;

import static java.util.Objects.requireNonNull;

/**
 * What a {@link ChangeSource} delivers, in source order: changes, grouped into source transactions
 * by {@link TransactionBegin} and {@link TransactionCommit} where the source has transactions, and
 * heartbeats that move the position on while nothing the pipeline replicates changes.
 */
public sealed interface SourceEvent {
  /** A source transaction begins; its changes follow, then its {@link TransactionCommit}. */
  record TransactionBegin() implements SourceEvent {}

  /**
   * The end of a source transaction: all of its changes were delivered since its {@link
   * TransactionBegin}.
   *
   * @param position where the source stands once the transaction is applied; tables whose
   *     checkpoint {@link SourcePosition#holds holds} it skip its changes (a replay)
   */
  record TransactionCommit(SourcePosition position) implements SourceEvent {
    public TransactionCommit {
      requireNonNull(position, "position is null");
    }
  }

  /**
   * Nothing the pipeline replicates happened up to {@code position}; lets an idle pipeline move the
   * source on (and, after a full load of empty tables, record where the load ended).
   */
  record Heartbeat(SourcePosition position) implements SourceEvent {
    public Heartbeat {
      requireNonNull(position, "position is null");
    }
  }

  /**
   * One row change of a source table.
   *
   * @param table the {@link SourceTable#qualifiedName} of the table
   * @param operation what happened to the row
   * @param row the row after the change for {@link Operation#READ}, {@link Operation#INSERT} and
   *     {@link Operation#UPDATE}; the deleted row's key for {@link Operation#DELETE}; null for
   *     {@link Operation#TRUNCATE}
   * @param oldKey for an update that changed the row's key, the key before it; else null
   * @param sourceMillis when the source committed the change (epoch milliseconds), for freshness
   * @param position where the source stands once this change is applied; a change outside a
   *     transaction is skipped by tables whose checkpoint holds it
   */
  record Change(
      String table,
      Operation operation,
      RowImage row,
      RowImage oldKey,
      long sourceMillis,
      SourcePosition position)
      implements SourceEvent {
    public Change {
      requireNonNull(table, "table is null");
      requireNonNull(operation, "operation is null");
      requireNonNull(position, "position is null");
      if (row == null && operation != Operation.TRUNCATE) {
        throw new IllegalArgumentException("A " + operation + " change needs a row image");
      }
    }
  }

  /** What a change did to its row. */
  enum Operation {
    /** A row read by the full load. */
    READ,
    INSERT,
    UPDATE,
    DELETE,
    /** Every row of the table was removed. */
    TRUNCATE
  }
}
