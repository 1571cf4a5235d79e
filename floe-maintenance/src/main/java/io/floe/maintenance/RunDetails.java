package io.floe.maintenance;

import io.floe.core.Bytes;

/** What an operation did, in the words {@link MaintenanceRun#details()} keeps. */
public final class RunDetails {
  private RunDetails() {}

  static String of(RewriteDataFilesResult result) {
    if (result.snapshotId() < 0) {
      return "nothing to rewrite";
    }
    return "rewrote "
        + result.rewrittenDataFiles()
        + " data files into "
        + result.addedDataFiles()
        + " ("
        + Bytes.format(result.rewrittenBytes())
        + " into "
        + Bytes.format(result.addedBytes())
        + "), removed "
        + result.removedDeleteFiles()
        + " delete files, folded "
        + result.foldedDeletes()
        + " deleted rows"
        + changedMeanwhile(result);
  }

  /**
   * How many rows of the rewritten files were changed while the rewrite ran, and so became deletes
   * of the new files; empty for none.
   */
  public static String changedMeanwhile(RewriteDataFilesResult result) {
    return result.rowsChangedMeanwhile() == 0
        ? ""
        : ", carried over " + result.rowsChangedMeanwhile() + " rows changed meanwhile";
  }

  static String of(RewriteManifestsResult result) {
    return "rewrote " + result.manifestsBefore() + " manifests into " + result.manifestsAfter();
  }

  static String of(ExpireResult result) {
    int files =
        result.deletedDataFiles()
            + result.deletedDeleteFiles()
            + result.deletedManifests()
            + result.deletedManifestLists();
    return "expired "
        + result.expiredSnapshotIds().size()
        + " snapshots, deleted "
        + files
        + " files ("
        + Bytes.format(result.deletedBytes())
        + ")";
  }

  static String of(OrphanResult result) {
    return "deleted "
        + result.orphanFiles().size()
        + " orphan files ("
        + Bytes.format(result.orphanBytes())
        + ")";
  }

  static String of(RollbackResult result) {
    return "current snapshot "
        + result.currentSnapshotId()
        + " (was "
        + result.previousSnapshotId()
        + ")";
  }
}
