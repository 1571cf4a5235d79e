package io.floe.sql;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * A named group of users with cost controls: queries whose plan scans more than {@code
 * bytesScannedLimit} bytes are refused before they run, and an identical query over unchanged
 * tables within {@code resultReuse} is answered from the stored result.
 */
public record Workgroup(String name, long bytesScannedLimit, Duration resultReuse) {
  /** The default workgroup: no limit, no reuse. */
  public static final Workgroup PRIMARY = new Workgroup("primary", Long.MAX_VALUE, Duration.ZERO);

  public Workgroup {
    requireNonNull(name, "name is null");
    requireNonNull(resultReuse, "resultReuse is null");
    if (bytesScannedLimit < 0) {
      throw new IllegalArgumentException("bytesScannedLimit is negative: " + bytesScannedLimit);
    }
  }

  public boolean limited() {
    return bytesScannedLimit != Long.MAX_VALUE;
  }

  public boolean reusesResults() {
    return resultReuse.compareTo(Duration.ZERO) > 0;
  }
}
