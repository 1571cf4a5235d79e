package io.floe.ingest;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.util.SnapshotUtil;

/**
 * The source position a table holds, read from the summary of the newest snapshot its pipeline
 * committed. Every pipeline commit records it, so the tables themselves say where to resume.
 *
 * @param loadComplete whether the table holds a complete full load (and perhaps changes after it)
 * @param position where the source stood at the commit; empty while a full load has only emptied
 *     the table
 */
record Checkpoint(boolean loadComplete, Optional<SourcePosition> position) {
  static final String PIPELINE = "floe.pipeline";
  static final String PHASE = "floe.source.phase";
  static final String PHASE_LOADING = "loading";
  static final String PHASE_STREAMING = "streaming";

  /** The newest checkpoint of {@code pipeline} in the table's history, if any. */
  static Optional<Checkpoint> read(Table table, String pipeline, ChangeSource source) {
    Snapshot current = table.currentSnapshot();
    if (current == null) {
      return Optional.empty();
    }
    for (Snapshot snapshot : SnapshotUtil.ancestorsOf(current.snapshotId(), table::snapshot)) {
      Map<String, String> summary = snapshot.summary();
      if (pipeline.equals(summary.get(PIPELINE))) {
        boolean complete = PHASE_STREAMING.equals(summary.get(PHASE));
        Optional<SourcePosition> position = source.position(summary);
        if (complete && position.isEmpty()) {
          throw new FloeException(
              ErrorCode.TABLE_STATE_INVALID,
              "Cannot resume pipeline "
                  + pipeline
                  + ": snapshot "
                  + snapshot.snapshotId()
                  + " of table "
                  + table.name()
                  + " says its full load is complete but records no source position; drop the"
                  + " table to load it again, and report this with the table's snapshot summaries");
        }
        return Optional.of(new Checkpoint(complete, position));
      }
    }
    return Optional.empty();
  }

  /**
   * The snapshot summary of a commit of {@code pipeline} at {@code position}, or, when it is null,
   * of the commit that empties a table before its full load.
   */
  static Map<String, String> summary(String pipeline, SourcePosition position) {
    Map<String, String> summary = new HashMap<>();
    summary.put(PIPELINE, pipeline);
    if (position == null) {
      summary.put(PHASE, PHASE_LOADING);
      return summary;
    }
    summary.put(PHASE, position.loadComplete() ? PHASE_STREAMING : PHASE_LOADING);
    position
        .summary()
        .forEach(
            (key, value) -> {
              if (summary.containsKey(key)) {
                throw new IllegalArgumentException(
                    "A source position may not set the pipeline's own summary key " + key);
              }
              summary.put(key, value);
            });
    return summary;
  }
}
