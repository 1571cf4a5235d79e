package io.floe.maintenance;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.TableWriterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.iceberg.ReachableFileUtil;
import org.apache.iceberg.Table;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Maintenance runs while the CDC writer commits to the same table, each through its own catalog
 * connection, as two processes would: every operation either lands or retries, and no file that a
 * snapshot references is deleted.
 */
class ConcurrentMaintenanceTest {
  @TempDir Path warehouse;

  @Test
  void maintenanceAlongsideCdcCommitsLosesNothing() throws Exception {
    try (CdcTable cdc = CdcTable.create(warehouse);
        JdbcCatalog maintenanceCatalog =
            FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults())) {
      cdc.commit(5, 20, 0);
      TableMaintenance maintenance = new TableMaintenance(maintenanceCatalog);
      AtomicBoolean writing = new AtomicBoolean(true);
      ExecutorService executor = Executors.newSingleThreadExecutor();
      List<ExpireResult> expiries = new ArrayList<>();
      List<RewriteManifestsResult> rewrites = new ArrayList<>();
      try {
        Future<?> writer =
            executor.submit(
                () -> {
                  try {
                    cdc.commit(40, 20, 2);
                  } finally {
                    writing.set(false);
                  }
                });
        while (writing.get()) {
          rewrites.add(maintenance.rewriteManifests(CdcTable.ID));
          // Everything but the current snapshot and the writer's base (the newest one that is
          // not a manifest rewrite), on which its next commit builds.
          expiries.add(
              maintenance.expireSnapshots(
                  CdcTable.ID,
                  new ExpirePolicy(Instant.now(), 1, ExpirePolicy.Milestones.NONE, false)));
          assertThat(
                  maintenance
                      .removeOrphanFiles(CdcTable.ID, Duration.ofMinutes(1), false)
                      .orphanFiles())
              .isEmpty();
        }
        writer.get(2, TimeUnit.MINUTES);
      } finally {
        executor.shutdownNow();
      }

      assertThat(rewrites).isNotEmpty();
      assertThat(expiries.stream().mapToInt(result -> result.expiredSnapshotIds().size()).sum())
          .isPositive();
      Table table = cdc.load();
      assertThat(CdcTable.read(table, table.currentSnapshot().snapshotId()))
          .isEqualTo(cdc.currentModel());
      cdc.assertEverySnapshotReadsItsRows();
      Set<String> referenced =
          new HashSet<>(CdcTable.referencedFiles(table, table.snapshots()).keySet());
      referenced.addAll(ReachableFileUtil.metadataFileLocations(table, false));
      for (String file : referenced) {
        assertThat(Path.of(file)).as("referenced file").exists();
      }

      // What conflicts leave behind (metadata files of commit attempts that lost, metadata files
      // older than the log) is orphaned; nothing referenced is.
      List<String> leftovers =
          maintenance.removeOrphanFiles(CdcTable.ID, Duration.ZERO, true).orphanFiles();
      assertThat(leftovers).doesNotContainAnyElementsOf(referenced);
      TableMaintenance dayLater =
          new TableMaintenance(
              maintenanceCatalog,
              new TableWriterRegistry(),
              Clock.offset(Clock.systemUTC(), Duration.ofDays(1)));
      assertThat(dayLater.removeOrphanFiles(CdcTable.ID, Duration.ofHours(1), false).orphanFiles())
          .isEqualTo(leftovers);
      for (String file : referenced) {
        assertThat(Path.of(file)).as("referenced file").exists();
      }
      cdc.assertEverySnapshotReadsItsRows();
    }
  }
}
