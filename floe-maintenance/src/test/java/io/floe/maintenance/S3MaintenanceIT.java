package io.floe.maintenance;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.TableFiles;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.testing.S3Server;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.SupportsPrefixOperations;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Maintenance of a table in a warehouse in object storage (s3proxy on loopback): compaction,
 * snapshot expiry and orphan removal, which lists the table's files with {@link
 * SupportsPrefixOperations#listPrefix} on Iceberg's S3FileIO.
 */
class S3MaintenanceIT {
  private static S3Server s3;

  @TempDir Path state;

  @BeforeAll
  static void startStorage() throws Exception {
    s3 = S3Server.start("lake");
  }

  @AfterAll
  static void stopStorage() throws Exception {
    if (s3 != null) {
      s3.close();
    }
  }

  @Test
  void compactsExpiresAndRemovesOrphansInObjectStorage() throws IOException {
    WarehouseConfig warehouse = s3.warehouse("floe/prod", state);
    try (CdcTable cdc = CdcTable.create(warehouse, CatalogConfig.defaults())) {
      Table table = cdc.load();
      assertThat(table.location()).isEqualTo("s3://lake/floe/prod/raw/orders");
      assertThat(table.io().getClass().getName()).isEqualTo("org.apache.iceberg.aws.s3.S3FileIO");
      cdc.commit(15, 20, 0);
      TableFiles before = TableFiles.load(cdc.load());
      // The writer compacts on its own as it goes; what is left is enough for a rewrite.
      int dataFiles = before.dataFiles().size();
      assertThat(dataFiles).isGreaterThanOrEqualTo(RewriteDataFilesOptions.DEFAULT_MIN_INPUT_FILES);
      assertThat(before.deleteFiles()).isNotEmpty();
      assertThat(before.dataFiles().keySet()).allMatch(location -> location.startsWith("s3://"));

      RewriteDataFilesResult compaction =
          cdc.maintenance.rewriteDataFiles(
              CdcTable.ID, RewriteDataFilesOptions.defaults(), RewriteProgress.NONE);

      assertThat(compaction.rewrittenDataFiles()).isEqualTo(dataFiles);
      assertThat(compaction.addedDataFiles()).isEqualTo(1);
      TableFiles compacted = TableFiles.load(cdc.load());
      assertThat(compacted.dataFiles()).hasSize(1);
      assertThat(compacted.deleteFiles()).isEmpty();
      // One slash between the data directory and the name: object storage keeps keys as written.
      assertThat(compacted.dataFiles().keySet())
          .allMatch(file -> file.startsWith(table.location() + "/data/"))
          .noneMatch(file -> file.substring("s3://".length()).contains("//"));
      cdc.commitPending();
      assertThat(CdcTable.read(cdc.load(), cdc.load().currentSnapshot().snapshotId()))
          .isEqualTo(cdc.currentModel());

      int snapshots = snapshotCount(cdc.load());
      ExpireResult expiry =
          cdc.maintenance.expireSnapshots(
              CdcTable.ID,
              new ExpirePolicy(
                  Instant.now().plusSeconds(60), 1, ExpirePolicy.Milestones.NONE, false));

      assertThat(expiry.expiredSnapshotIds()).isNotEmpty();
      assertThat(snapshotCount(cdc.load()))
          .isEqualTo(snapshots - expiry.expiredSnapshotIds().size());
      assertThat(expiry.deletedDataFiles()).isPositive();
      FileIO io = cdc.load().io();
      // The files of the expired snapshots are gone from object storage, those still referenced
      // are there.
      Map<String, String> referenced = CdcTable.referencedFiles(cdc.load(), cdc.load().snapshots());
      Stream.concat(before.dataFiles().keySet().stream(), before.deleteFiles().keySet().stream())
          .forEach(
              location ->
                  assertThat(io.newInputFile(location).exists())
                      .as(location)
                      .isEqualTo(referenced.containsKey(location)));
      cdc.assertEverySnapshotReadsItsRows();

      // Orphans: an abandoned data file and metadata file, and a neighbouring table's file whose
      // key shares the prefix "orders" but is not under the table's directory.
      String location = cdc.load().location();
      List<String> planted =
          List.of(
              write(io, location + "/data/00000-99-abandoned.parquet", "PAR1 not really"),
              write(io, location + "/metadata/00042-abandoned.metadata.json", "{}"));
      String neighbour = write(io, location + "_archive/data/old.parquet", "PAR1");
      // S3 keeps no modification time a test can set: judge ages from an hour ahead instead.
      Clock later = Clock.offset(Clock.systemUTC(), Duration.ofHours(1));

      OrphanResult dryRun = OrphanFiles.run(cdc.load(), Duration.ofMinutes(1), true, later);

      assertThat(dryRun.orphanFiles()).containsExactlyElementsOf(planted);
      planted.forEach(file -> assertThat(io.newInputFile(file).exists()).isTrue());

      OrphanResult removal = OrphanFiles.run(cdc.load(), Duration.ofMinutes(1), false, later);

      assertThat(removal.orphanFiles()).containsExactlyElementsOf(planted);
      planted.forEach(file -> assertThat(io.newInputFile(file).exists()).as(file).isFalse());
      assertThat(io.newInputFile(neighbour).exists()).isTrue();
      cdc.assertEverySnapshotReadsItsRows();
      assertThat(OrphanFiles.run(cdc.load(), Duration.ofMinutes(1), false, later).orphanFiles())
          .isEmpty();
      // Nothing of a table's in object storage is left that its metadata does not reference.
      List<String> listed = new ArrayList<>();
      for (FileInfo file : ((SupportsPrefixOperations) io).listPrefix(location + "/")) {
        listed.add(file.location());
      }
      assertThat(listed)
          .isNotEmpty()
          .containsAll(CdcTable.referencedFiles(cdc.load(), cdc.load().snapshots()).keySet())
          .allMatch(file -> file.startsWith(location + "/"));
    }
    // The local state directory holds only the embedded catalog database.
    try (Stream<Path> files = Files.list(state)) {
      assertThat(files.map(file -> file.getFileName().toString()))
          .allMatch(name -> name.startsWith("catalog.db"))
          .contains("catalog.db");
    }
  }

  private static int snapshotCount(Table table) {
    List<Snapshot> snapshots = new ArrayList<>();
    table.snapshots().forEach(snapshots::add);
    return snapshots.size();
  }

  private static String write(FileIO io, String location, String content) throws IOException {
    try (OutputStream out = io.newOutputFile(location).createOrOverwrite()) {
      out.write(content.getBytes(StandardCharsets.UTF_8));
    }
    return location;
  }
}
