package io.floe.maintenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.IcebergFailures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.ManifestContent;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RewriteManifestsTest {
  @TempDir Path warehouse;
  private CdcTable cdc;

  @BeforeEach
  void setUp() {
    cdc = CdcTable.create(warehouse);
  }

  @AfterEach
  void tearDown() throws IOException {
    cdc.close();
  }

  @Test
  void rewritesTheManifestsOfManyCommitsIntoFewAndReadsTheSameRows() {
    cdc.commit(40, 20, 0);
    Table before = cdc.load();
    int manifests = before.currentSnapshot().allManifests(before.io()).size();
    int deleteManifests = before.currentSnapshot().deleteManifests(before.io()).size();
    Map<Long, List<String>> rows = CdcTable.read(before, before.currentSnapshot().snapshotId());
    assertThat(rows).isEqualTo(cdc.currentModel());

    RewriteManifestsResult result = cdc.maintenance.rewriteManifests(CdcTable.ID);

    Table after = cdc.load();
    assertThat(result.manifestsBefore()).isEqualTo(manifests);
    assertThat(result.manifestsAfter())
        .isEqualTo(after.currentSnapshot().allManifests(after.io()).size())
        .isLessThan(manifests);
    // Unpartitioned: every data file in one manifest; delete manifests are left as they are.
    assertThat(after.currentSnapshot().dataManifests(after.io())).hasSize(1);
    assertThat(after.currentSnapshot().deleteManifests(after.io())).hasSize(deleteManifests);
    assertThat(after.currentSnapshot().operation()).isEqualTo("replace");
    assertThat(CdcTable.read(after, after.currentSnapshot().snapshotId())).isEqualTo(rows);
    cdc.assertEverySnapshotReadsItsRows();

    RewriteManifestsResult again = cdc.maintenance.rewriteManifests(CdcTable.ID);
    assertThat(again.manifestsAfter()).isEqualTo(again.manifestsBefore());
    assertThat(cdc.load().currentSnapshot().snapshotId())
        .as("nothing to rewrite, nothing committed")
        .isEqualTo(after.currentSnapshot().snapshotId());
  }

  @Test
  void aMissingManifestIsReportedAsAStorageFailureAndAnythingElseAsABug() throws IOException {
    cdc.commit(3, 20, 0);
    Table table = cdc.load();
    ManifestFile manifest = table.currentSnapshot().dataManifests(table.io()).get(0);
    String location = manifest.path();
    Files.delete(location.startsWith("file:") ? Path.of(URI.create(location)) : Path.of(location));

    assertThatThrownBy(() -> cdc.maintenance.rewriteManifests(CdcTable.ID))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_WRITE_FAILED))
        .hasMessageStartingWith(
            "Cannot rewrite manifests of table floe.raw.orders: reading or writing its files"
                + " failed (")
        .hasMessageContaining(manifest.path())
        .hasMessageEndingWith("); check that the table's storage is reachable and run it again");
    assertThat(IcebergFailures.storageFailure(new IllegalStateException("a bug"))).isFalse();
    assertThat(
            IcebergFailures.storageFailure(
                new IllegalStateException(
                    "wrapped", new UncheckedIOException(new IOException("disk")))))
        .isTrue();
  }

  @Test
  void clustersDataFilesByPartition() throws IOException {
    TableIdentifier id = TableIdentifier.of("raw", "events");
    PartitionSpec spec = PartitionSpec.builderFor(CdcTable.SCHEMA).bucket("id", 3).build();
    Table table = cdc.catalog.createTable(id, CdcTable.SCHEMA, spec);
    // Metadata only: the data files need not exist to rewrite manifests.
    for (int commit = 0; commit < 12; commit++) {
      AppendFiles append = table.newAppend();
      for (int bucket = 0; bucket < 3; bucket++) {
        append.appendFile(
            DataFiles.builder(spec)
                .withPath(
                    table.location() + "/data/id_bucket=" + bucket + "/f" + commit + ".parquet")
                .withPartitionPath("id_bucket=" + bucket)
                .withFileSizeInBytes(100)
                .withRecordCount(1)
                .build());
      }
      append.commit();
    }
    table.refresh();
    assertThat(table.currentSnapshot().allManifests(table.io())).hasSize(12);

    RewriteManifestsResult result = cdc.maintenance.rewriteManifests(id);

    assertThat(result.manifestsBefore()).isEqualTo(12);
    assertThat(result.manifestsAfter()).isEqualTo(3);
    table.refresh();
    Set<Integer> buckets = new HashSet<>();
    int files = 0;
    for (ManifestFile manifest : table.currentSnapshot().allManifests(table.io())) {
      assertThat(manifest.content()).isEqualTo(ManifestContent.DATA);
      Set<Integer> inManifest = new HashSet<>();
      try (ManifestReader<DataFile> reader =
          ManifestFiles.read(manifest, table.io(), table.specs())) {
        for (DataFile file : reader) {
          inManifest.add(file.partition().get(0, Integer.class));
          files++;
        }
      }
      assertThat(inManifest).as("partitions of %s", manifest.path()).hasSize(1);
      buckets.addAll(inManifest);
    }
    assertThat(buckets).containsExactlyInAnyOrder(0, 1, 2);
    assertThat(files).isEqualTo(36);
  }

  @Test
  void tableWithoutSnapshotsHasNothingToRewrite() {
    RewriteManifestsResult result = cdc.maintenance.rewriteManifests(CdcTable.ID);
    assertThat(result.manifestsBefore()).isZero();
    assertThat(result.manifestsAfter()).isZero();
    assertThat(cdc.load().currentSnapshot()).isNull();
  }
}
