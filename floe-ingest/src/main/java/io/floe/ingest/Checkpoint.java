package io.floe.ingest;

import java.util.Map;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.util.SnapshotUtil;

/**
 * The source position a table holds, read from the summary of the newest snapshot a pipeline
 * committed. Every pipeline commit records it, so the tables themselves say where to resume.
 *
 * @param offset Debezium's source offset (JSON) of the last change the table holds; null while a
 *     full load has only truncated the table
 * @param loadComplete whether the table holds a complete full load (and perhaps changes after it)
 * @param commitLsn the commit LSN of the last source transaction applied, or -1 if none yet
 * @param orderLsn a position to order checkpoints by: the commit LSN, or the snapshot's LSN
 */
record Checkpoint(String offset, boolean loadComplete, long commitLsn, long orderLsn) {
  static final String PIPELINE = "floe.pipeline";
  static final String OFFSET = "floe.source.offset";
  static final String PHASE = "floe.source.phase";
  static final String COMMIT_LSN = "floe.source.commit-lsn";
  static final String ORDER_LSN = "floe.source.lsn";
  static final String PHASE_LOADING = "loading";
  static final String PHASE_STREAMING = "streaming";

  /** The newest checkpoint of {@code pipeline} in the table's history, or null if none. */
  static Checkpoint read(Table table, String pipeline) {
    Snapshot current = table.currentSnapshot();
    if (current == null) {
      return null;
    }
    for (Snapshot snapshot : SnapshotUtil.ancestorsOf(current.snapshotId(), table::snapshot)) {
      Map<String, String> summary = snapshot.summary();
      if (pipeline.equals(summary.get(PIPELINE))) {
        return new Checkpoint(
            summary.get(OFFSET),
            PHASE_STREAMING.equals(summary.get(PHASE)),
            Long.parseLong(summary.getOrDefault(COMMIT_LSN, "-1")),
            Long.parseLong(summary.getOrDefault(ORDER_LSN, "-1")));
      }
    }
    return null;
  }
}
