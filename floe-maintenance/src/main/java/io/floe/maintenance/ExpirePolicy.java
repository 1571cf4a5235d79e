package io.floe.maintenance;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Which snapshots {@link TableMaintenance#expireSnapshots} expires. A snapshot is expired when it
 * was committed before {@code olderThan}, is not among the {@code retainLast} most recent snapshots
 * of the main branch's history, is not a milestone, and is not the snapshot of any branch or tag.
 *
 * <p>The main branch's history down to its newest snapshot that is not a "replace" (a manifest
 * rewrite) is always kept too: a CDC writer's next commit is based on that snapshot, and Iceberg
 * refuses a commit whose base it cannot reach walking back from the current snapshot.
 *
 * @param olderThan only snapshots committed before this instant may be expired
 * @param retainLast how many of the main branch's most recent snapshots are always kept; at least 1
 * @param milestones which snapshots of the main branch's history are kept as milestones
 * @param dryRun report what would be expired and deleted, without changing anything
 */
public record ExpirePolicy(
    Instant olderThan, int retainLast, Milestones milestones, boolean dryRun) {

  /** Age after which {@link #defaults} lets snapshots expire, as Spark's expire_snapshots. */
  public static final Duration DEFAULT_MAX_AGE = Duration.ofDays(5);

  /**
   * Snapshots kept for time travel at a coarser grain: the first snapshot, by commit time, of each
   * UTC day or month of the main branch's history.
   */
  public enum Milestones {
    NONE,
    DAILY,
    MONTHLY
  }

  public ExpirePolicy {
    requireNonNull(olderThan, "olderThan is null");
    requireNonNull(milestones, "milestones is null");
    if (retainLast < 1) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Cannot expire snapshots with retain_last "
              + retainLast
              + ": the table's current snapshot is always kept; use 1 or more");
    }
  }

  /** Older than 5 days, keep the last snapshot, no milestones, not a dry run. */
  public static ExpirePolicy defaults(Clock clock) {
    requireNonNull(clock, "clock is null");
    return new ExpirePolicy(clock.instant().minus(DEFAULT_MAX_AGE), 1, Milestones.NONE, false);
  }
}
