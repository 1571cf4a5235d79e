package io.floe.maintenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.storage.LocalFileIO;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.ReachableFileUtil;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RemoveOrphanFilesTest {
  private static final Duration THREE_DAYS = Duration.ofDays(3);

  @TempDir Path warehouse;
  private CdcTable cdc;

  @AfterEach
  void tearDown() throws IOException {
    if (cdc != null) {
      cdc.close();
    }
  }

  @Test
  void removesOnlyOldUnreferencedFiles() throws IOException {
    cdc = CdcTable.create(warehouse);
    cdc.commit(20, 25, 0);
    // Expired snapshots' files are deleted, so every reachable file is checked below.
    cdc.maintenance.expireSnapshots(
        CdcTable.ID,
        new ExpirePolicy(
            Instant.ofEpochMilli(cdc.load().snapshot(cdc.commits().get(8)).timestampMillis()),
            1,
            ExpirePolicy.Milestones.NONE,
            false));
    Path location = Path.of(cdc.load().location());
    List<Path> planted =
        List.of(
            plantOld(location.resolve("data/00000-99-0f0f0f0f-0001.parquet"), "PAR1 not really"),
            plantOld(location.resolve("data/junk.txt"), "junk"),
            plantOld(location.resolve("data/id_bucket=3/stray.parquet"), "PAR1"),
            plantOld(location.resolve("metadata/00042-abandoned.metadata.json"), "{}"),
            plantOld(location.resolve("metadata/snap-1-1-abandoned.avro"), "Obj"),
            plantOld(location.resolve("metadata/abandoned-m0.avro"), "Obj"));
    Path recent = location.resolve("data/00001-5-in-flight.parquet");
    Files.writeString(recent, "a writer is still writing this");
    // A neighbouring table's directory shares the prefix "orders" but is not under it.
    Path neighbour = location.resolveSibling(location.getFileName() + "_archive/data/old.parquet");
    plantOld(neighbour, "PAR1");
    List<String> expected = new ArrayList<>();
    long expectedBytes = 0;
    for (Path file : planted) {
      expected.add(file.toString());
      expectedBytes += Files.size(file);
    }
    expected.sort(null);
    Map<String, String> reachable = reachableFiles(cdc.load());

    OrphanResult dryRun = cdc.maintenance.removeOrphanFiles(CdcTable.ID, THREE_DAYS, true);

    assertThat(dryRun.dryRun()).isTrue();
    assertThat(dryRun.orphanFiles()).containsExactlyElementsOf(expected);
    assertThat(dryRun.orphanBytes()).isEqualTo(expectedBytes);
    planted.forEach(file -> assertThat(file).exists());

    OrphanResult run = cdc.maintenance.removeOrphanFiles(CdcTable.ID, THREE_DAYS, false);

    assertThat(run.dryRun()).isFalse();
    assertThat(run.orphanFiles()).isEqualTo(dryRun.orphanFiles());
    assertThat(run.orphanBytes()).isEqualTo(dryRun.orphanBytes());
    planted.forEach(file -> assertThat(file).doesNotExist());
    assertThat(recent).as("inside the age window").exists();
    assertThat(neighbour).as("outside the table's directory").exists();
    assertThat(reachable).isNotEmpty();
    reachable.keySet().forEach(file -> assertThat(Path.of(file)).as("reachable file").exists());
    cdc.assertEverySnapshotReadsItsRows();
    assertThat(CdcTable.read(cdc.load(), cdc.load().currentSnapshot().snapshotId()))
        .isEqualTo(cdc.currentModel());

    OrphanResult again = cdc.maintenance.removeOrphanFiles(CdcTable.ID, THREE_DAYS, false);
    assertThat(again.orphanFiles()).isEmpty();
  }

  @Test
  void oldFilesOfAbandonedMetadataVersionsAreOrphansButTheLogIsKept() throws IOException {
    cdc = CdcTable.create(warehouse);
    cdc.commit(5, 10, 0);
    Table table = cdc.load();
    List<String> metadataLog =
        new ArrayList<>(ReachableFileUtil.metadataFileLocations(table, false));
    for (String metadata : metadataLog) {
      Files.setLastModifiedTime(
          Path.of(metadata), FileTime.from(Instant.now().minus(Duration.ofDays(30))));
    }

    OrphanResult result = cdc.maintenance.removeOrphanFiles(CdcTable.ID, THREE_DAYS, false);

    assertThat(result.orphanFiles()).isEmpty();
    metadataLog.forEach(metadata -> assertThat(Path.of(metadata)).exists());
  }

  @Test
  void windowOfZeroInADryRunListsEveryUnreferencedFile() throws IOException {
    cdc = CdcTable.create(warehouse);
    cdc.commit(5, 10, 0);
    Path recent = Path.of(cdc.load().location()).resolve("data/just-written.parquet");
    Files.writeString(recent, "PAR1");
    CdcTable.pause(5);

    OrphanResult result = cdc.maintenance.removeOrphanFiles(CdcTable.ID, Duration.ZERO, true);

    assertThat(result.orphanFiles()).containsExactly(recent.toString());
    assertThat(recent).exists();
  }

  @Test
  void refusesWindowsShorterThanAMinuteUnlessDryRun() {
    cdc = CdcTable.create(warehouse);
    cdc.commit(2, 5, 0);
    assertThatThrownBy(
            () -> cdc.maintenance.removeOrphanFiles(CdcTable.ID, Duration.ofSeconds(30), false))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CONFIG_INVALID))
        .hasMessage(
            "Cannot remove orphan files of table floe.raw.orders older than PT30S: files younger"
                + " than 1 minute may belong to a commit in progress; use a longer window (3 days"
                + " is usual) or a dry run");
    assertThatThrownBy(
            () -> cdc.maintenance.removeOrphanFiles(CdcTable.ID, Duration.ofSeconds(-1), true))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CONFIG_INVALID));
    assertThat(
            cdc.maintenance
                .removeOrphanFiles(CdcTable.ID, Duration.ofMinutes(1), false)
                .orphanFiles())
        .isEmpty();
  }

  @Test
  void comparesFileUriLocationsWithListedPaths() throws IOException {
    cdc = CdcTable.createWithUriLocation(warehouse);
    cdc.commit(12, 20, 0);
    Table table = cdc.load();
    assertThat(table.location()).startsWith("file:");
    // Files another writer committed with file: URIs, old enough to be orphans if misread.
    Path single = plantOld(warehouse.resolve("uri-table/data/imported-1.parquet"), "PAR1");
    Path triple = plantOld(warehouse.resolve("uri-table/data/imported-2.parquet"), "PAR1");
    table
        .newAppend()
        .appendFile(imported("file:" + single, table))
        .appendFile(imported(triple.toUri().toString(), table))
        .commit();
    Path stray = plantOld(warehouse.resolve("uri-table/data/stray.parquet"), "PAR1");

    OrphanResult dryRun = cdc.maintenance.removeOrphanFiles(CdcTable.ID, Duration.ZERO, true);

    assertThat(dryRun.orphanFiles()).containsExactly(stray.toString());
    cdc.maintenance.removeOrphanFiles(CdcTable.ID, THREE_DAYS, false);
    assertThat(stray).doesNotExist();
    assertThat(single).exists();
    assertThat(triple).exists();
    cdc.assertEverySnapshotReadsItsRows();
  }

  private static DataFile imported(String location, Table table) {
    return DataFiles.builder(table.spec())
        .withPath(location)
        .withFileSizeInBytes(4)
        .withRecordCount(1)
        .withFormat(FileFormat.PARQUET)
        .build();
  }

  @Test
  void refusesStorageThatCannotList() throws IOException {
    Map<String, String> properties = new HashMap<>();
    properties.put(CatalogProperties.URI, "jdbc:sqlite:" + warehouse.resolve("plain.db"));
    properties.put(CatalogProperties.WAREHOUSE_LOCATION, warehouse.toString());
    properties.put(CatalogProperties.FILE_IO_IMPL, UnlistableFileIO.class.getName());
    properties.put("jdbc.schema-version", "V1");
    try (JdbcCatalog catalog = new JdbcCatalog()) {
      catalog.initialize(FloeCatalog.NAME, properties);
      catalog.createNamespace(org.apache.iceberg.catalog.Namespace.of("raw"));
      catalog.createTable(CdcTable.ID, CdcTable.SCHEMA);
      assertThatThrownBy(
              () -> new TableMaintenance(catalog).removeOrphanFiles(CdcTable.ID, THREE_DAYS, true))
          .isInstanceOfSatisfying(
              FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CONFIG_INVALID))
          .hasMessageContaining("cannot list files");
    }
  }

  @Test
  void refusesTablesWhoseGarbageCollectionIsOff() {
    cdc = CdcTable.create(warehouse);
    cdc.commit(2, 5, 0);
    cdc.load().updateProperties().set(TableProperties.GC_ENABLED, "false").commit();
    assertThatThrownBy(() -> cdc.maintenance.removeOrphanFiles(CdcTable.ID, THREE_DAYS, true))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CONFIG_INVALID))
        .hasMessageContaining("gc.enabled is false");
  }

  /** Every file the table's metadata references, computed with Iceberg's utilities. */
  private static Map<String, String> reachableFiles(Table table) {
    Map<String, String> files = new HashMap<>(CdcTable.referencedFiles(table, table.snapshots()));
    ReachableFileUtil.metadataFileLocations(table, false)
        .forEach(file -> files.put(file, "metadata"));
    return files;
  }

  private static Path plantOld(Path file, String content) {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, content, StandardCharsets.UTF_8);
      Files.setLastModifiedTime(file, FileTime.from(Instant.now().minus(Duration.ofDays(10))));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  /** Local storage without listing, as some object stores' FileIOs are. */
  public static final class UnlistableFileIO implements FileIO {
    private static final long serialVersionUID = 1L;
    private final LocalFileIO local = new LocalFileIO();

    @Override
    public InputFile newInputFile(String path) {
      return local.newInputFile(path);
    }

    @Override
    public OutputFile newOutputFile(String path) {
      return local.newOutputFile(path);
    }

    @Override
    public void deleteFile(String path) {
      local.deleteFile(path);
    }
  }
}
