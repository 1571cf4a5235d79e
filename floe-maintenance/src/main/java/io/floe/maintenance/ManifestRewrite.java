package io.floe.maintenance;

import io.floe.core.catalog.Scans;
import io.floe.core.catalog.TableFiles;
import java.util.Map;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;

/**
 * Rewrites the data manifests of a table's current snapshot, clustered by partition, into as few
 * manifests as Iceberg's target manifest size (commit.manifest.target-size-bytes) allows. A CDC
 * table gathers one data manifest and one delete manifest per commit until Iceberg merges them;
 * every query plans over all of them. Delete manifests are left as they are, and so is a snapshot
 * with at most one data manifest (nothing to merge).
 */
final class ManifestRewrite {
  private ManifestRewrite() {}

  static RewriteManifestsResult run(Table table) {
    long started = System.nanoTime();
    Snapshot current = table.currentSnapshot();
    if (current == null) {
      return new RewriteManifestsResult(0, 0, SnapshotExpiry.millisSince(started));
    }
    int before = current.allManifests(table.io()).size();
    if (current.dataManifests(table.io()).size() <= 1) {
      return new RewriteManifestsResult(before, before, SnapshotExpiry.millisSince(started));
    }
    Map<Integer, PartitionSpec> specs = table.specs();
    table
        .rewriteManifests()
        .scanManifestsWith(Scans.callerThread())
        // A key that outlives the file object: manifest readers reuse their records.
        .clusterBy(file -> TableFiles.partitionKey(specs, file))
        .commit();
    table.refresh();
    int after = table.currentSnapshot().allManifests(table.io()).size();
    return new RewriteManifestsResult(before, after, SnapshotExpiry.millisSince(started));
  }
}
