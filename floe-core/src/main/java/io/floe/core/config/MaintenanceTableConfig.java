package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;

/**
 * An entry of {@code maintenance.tables}: policy values for one table ({@code namespace.table}) or
 * for every table of a namespace ({@code namespace.*}). An empty value is inherited, see {@link
 * MaintenanceConfig#policy}.
 */
public record MaintenanceTableConfig(
    String name,
    Optional<Duration> expireOlderThan,
    Optional<Integer> retainLast,
    Optional<MaintenancePolicy.Milestones> milestones,
    Optional<Duration> orphanOlderThan,
    Optional<Integer> rewriteManifestsAbove) {

  /** The table name that stands for every table of a namespace. */
  public static final String ALL = "*";

  public MaintenanceTableConfig {
    requireNonNull(name, "name is null");
    requireNonNull(expireOlderThan, "expireOlderThan is null");
    requireNonNull(retainLast, "retainLast is null");
    requireNonNull(milestones, "milestones is null");
    requireNonNull(orphanOlderThan, "orphanOlderThan is null");
    requireNonNull(rewriteManifestsAbove, "rewriteManifestsAbove is null");
  }
}
