package io.floe.maintenance;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * What {@link TableMaintenance#removeOrphanFiles} deleted, or in a dry run would delete.
 *
 * @param orphanFiles locations of the orphan files, sorted
 */
public record OrphanResult(
    List<String> orphanFiles, long orphanBytes, boolean dryRun, long durationMillis) {

  public OrphanResult {
    orphanFiles = List.copyOf(requireNonNull(orphanFiles, "orphanFiles is null"));
  }
}
