package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * Limits shared by the queries of a group of users. A {@code bytesScannedLimit} of {@link
 * Long#MAX_VALUE} means unlimited; a {@code resultReuse} of zero means results are never reused.
 */
public record WorkgroupConfig(String name, long bytesScannedLimit, Duration resultReuse) {
  public WorkgroupConfig {
    requireNonNull(name, "name is null");
    requireNonNull(resultReuse, "resultReuse is null");
  }

  /**
   * Whether queries are refused when their plan would scan more than {@link #bytesScannedLimit}.
   */
  public boolean limited() {
    return bytesScannedLimit != Long.MAX_VALUE;
  }
}
