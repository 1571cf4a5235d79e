package io.floe.maintenance;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * What {@link TableMaintenance#expireSnapshots} did, or in a dry run would do. Deleted bytes count
 * every deleted file, including statistics files, which have no count of their own.
 *
 * @param expiredSnapshotIds expired snapshots, oldest first
 */
public record ExpireResult(
    List<Long> expiredSnapshotIds,
    int deletedDataFiles,
    int deletedDeleteFiles,
    int deletedManifests,
    int deletedManifestLists,
    long deletedBytes,
    boolean dryRun,
    long durationMillis) {

  public ExpireResult {
    expiredSnapshotIds =
        List.copyOf(requireNonNull(expiredSnapshotIds, "expiredSnapshotIds is null"));
  }
}
