package io.floe.ingest;

import java.util.Map;

/**
 * A point in a source's history, as a {@link ChangeSource} reports it with each event and as a
 * table's checkpoint records it. Every event carries the position up to which the source has
 * delivered everything, so the position of the last event a commit holds is where the table stands;
 * positions are values: immutable and safe to keep.
 */
public interface SourcePosition {
  /** The prefix of the keys a position's {@link #summary} has of the source's own. */
  String SUMMARY_PREFIX = "floe.source.";

  /**
   * The snapshot summary properties that record this position in a table's checkpoint (keys of the
   * source's own under {@code floe.source.}); {@link ChangeSource#position} reads them back.
   */
  Map<String, String> summary();

  /** Whether the source's full load is complete at this position: all later events are changes. */
  boolean loadComplete();

  /**
   * Whether a table whose checkpoint is this position already holds the source transaction
   * committed at {@code commit} (or the change outside a transaction at {@code commit}): a replay
   * of it is skipped for that table. A checkpoint of an incomplete full load holds none.
   *
   * @param commit a position this source reported, of a {@link SourceEvent.TransactionCommit} or a
   *     {@link SourceEvent.Change} outside a transaction
   */
  boolean holds(SourcePosition commit);

  /**
   * The checkpoint of a table that held {@code checkpoint} and now holds everything up to this
   * position too. This position itself where positions are ordered, a later one holding all an
   * earlier one holds (a log sequence number); a source whose position has several parts that
   * tables can hold to different points (a Kafka offset per partition) keeps, per part, the further
   * of the two, since a pipeline resumes each part from the table furthest behind.
   */
  default SourcePosition including(SourcePosition checkpoint) {
    return this;
  }
}
