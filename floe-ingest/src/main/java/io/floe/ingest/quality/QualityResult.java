package io.floe.ingest.quality;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.OptionalLong;

/**
 * What one quality rule found in the rows of one commit of a table (or in the rows it blocked).
 *
 * @param snapshotId the table's snapshot that committed the rows; empty for a blocked batch
 * @param rowsChecked rows the rule checked
 * @param rowsFailed rows that failed it
 * @param outcome {@code passed}, {@code warned}, {@code quarantined} or {@code blocked}
 * @param example a failing row's value and why it failed, or empty
 */
public record QualityResult(
    Instant recordedAt,
    String pipeline,
    String table,
    String rule,
    String check,
    String action,
    OptionalLong snapshotId,
    long rowsChecked,
    long rowsFailed,
    String outcome,
    String example) {
  public QualityResult {
    requireNonNull(recordedAt, "recordedAt is null");
    requireNonNull(pipeline, "pipeline is null");
    requireNonNull(table, "table is null");
    requireNonNull(rule, "rule is null");
    requireNonNull(check, "check is null");
    requireNonNull(action, "action is null");
    requireNonNull(snapshotId, "snapshotId is null");
    requireNonNull(outcome, "outcome is null");
    requireNonNull(example, "example is null");
  }
}
