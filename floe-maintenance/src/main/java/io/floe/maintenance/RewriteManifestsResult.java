package io.floe.maintenance;

/**
 * What {@link TableMaintenance#rewriteManifests} did: the number of manifests (data and delete) of
 * the table's current snapshot before and after.
 */
public record RewriteManifestsResult(
    int manifestsBefore, int manifestsAfter, long durationMillis) {}
