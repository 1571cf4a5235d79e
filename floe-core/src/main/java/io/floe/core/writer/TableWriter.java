package io.floe.core.writer;

import java.util.BitSet;
import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;

/**
 * Writes one table's rows in batches committed with a snapshot summary: {@link CdcTableWriter}
 * applies changes by key, {@link AppendTableWriter} appends. Not thread-safe.
 */
public interface TableWriter {
  Table table();

  /** The schema that records passed in must have. */
  Schema schema();

  /**
   * Adds a row: an insert, or for a keyed table an insert or replacement of the row with its key.
   *
   * @param unchanged positions of top-level fields to take from the row's previous version, or null
   *     (always null for an append writer)
   */
  void upsert(Record row, BitSet unchanged);

  /**
   * Applies an update whose before image has key {@code oldKeyRow}'s key.
   *
   * @throws UnsupportedOperationException for a writer without keys
   */
  void update(Record oldKeyRow, Record row, BitSet unchanged);

  /**
   * Deletes the row with the key of {@code keyRow}.
   *
   * @throws UnsupportedOperationException for a writer without keys
   */
  void delete(Record keyRow);

  /** Removes every row, committed and pending; later rows of this batch go into an empty table. */
  void truncate();

  /** Changes or rows added since the last commit. */
  long pendingChanges();

  /** Rows in the table once the pending batch is committed, or -1 when the writer does not know. */
  long liveRows();

  /**
   * Commits the pending batch as one snapshot carrying {@code summary}; commits nothing when there
   * is nothing to commit.
   *
   * @throws io.floe.core.FloeException if the commit failed; the writer cannot be used after that
   */
  Optional<CdcTableWriter.CommitResult> commit(Map<String, String> summary);

  /**
   * Commits a snapshot carrying {@code summary} even when nothing is pending: a checkpoint.
   *
   * @throws io.floe.core.FloeException if the commit failed; the writer cannot be used after that
   */
  CdcTableWriter.CommitResult checkpoint(Map<String, String> summary);

  /**
   * Drops the pending batch, for a writer given up without a commit (a pipeline that stops):
   * deletes the files written for it so far. Thread-safe, unlike the rest of the writer.
   */
  default void discard() {}

  /** Turns tidying of small files in the writer's own commits on or off, where it has any. */
  default void setCompactionEnabled(boolean enabled) {}

  /** Whether a compaction handed over by table maintenance waits for the writer's next commit. */
  default boolean rewriteSubmitted() {
    return false;
  }

  /** Values the source left out of updates that were taken from earlier row versions. */
  default long unchangedValuesFilled() {
    return 0;
  }
}
