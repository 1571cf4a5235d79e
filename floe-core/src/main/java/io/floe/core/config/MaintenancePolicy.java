package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * How one table is maintained: snapshots committed more than {@code expireOlderThan} ago expire,
 * except the {@code retainLast} most recent and the milestones; the current snapshot's data
 * manifests are rewritten when there are more than {@code rewriteManifestsAbove}; unreferenced
 * files older than {@code orphanOlderThan} are deleted.
 */
public record MaintenancePolicy(
    Duration expireOlderThan,
    int retainLast,
    Milestones milestones,
    Duration orphanOlderThan,
    int rewriteManifestsAbove) {

  /**
   * Snapshots kept for time travel at a coarser grain: the first snapshot of each UTC day or month.
   */
  public enum Milestones {
    NONE,
    DAILY,
    MONTHLY
  }

  public MaintenancePolicy {
    requireNonNull(expireOlderThan, "expireOlderThan is null");
    requireNonNull(milestones, "milestones is null");
    requireNonNull(orphanOlderThan, "orphanOlderThan is null");
  }
}
