package io.floe.maintenance;

/**
 * Outcome of {@link TableMaintenance#rewriteDataFiles}, with the counts Spark's procedure returns.
 *
 * @param rewrittenDataFiles data files replaced
 * @param addedDataFiles data files written in their place
 * @param rewrittenBytes size of the replaced data files
 * @param addedBytes size of the written data files
 * @param removedDeleteFiles position-delete files dropped because every row they deleted was folded
 * @param foldedDeletes deleted rows left out of the rewritten files
 * @param rowsChangedMeanwhile rows of the rewritten files that the table's writer updated or
 *     deleted while the rewrite ran, which became position deletes on the new files
 * @param snapshotId the snapshot that committed the rewrite (the last, when several file groups
 *     were committed), or -1 if nothing was rewritten
 */
public record RewriteDataFilesResult(
    int rewrittenDataFiles,
    int addedDataFiles,
    long rewrittenBytes,
    long addedBytes,
    int removedDeleteFiles,
    long foldedDeletes,
    long rowsChangedMeanwhile,
    long snapshotId,
    long durationMillis) {}
