package io.floe.core.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.CdcTableWriter;
import io.floe.core.writer.ParquetRows;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileMetadata;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.deletes.PositionDelete;
import org.apache.iceberg.deletes.PositionDeleteWriter;
import org.apache.iceberg.encryption.EncryptedFiles;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Plans advanced from an earlier snapshot, and filtered plans, against Iceberg's planning. */
class TableFilesTest {
  private static final Schema SCHEMA =
      new Schema(
          List.of(
              Types.NestedField.required(1, "id", Types.LongType.get()),
              Types.NestedField.optional(2, "region", Types.StringType.get())),
          Set.of(1));

  @TempDir Path warehouse;
  private JdbcCatalog catalog;

  @BeforeEach
  void setUp() {
    catalog = FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
    catalog.createNamespace(Namespace.of("raw"));
  }

  @AfterEach
  void tearDown() throws IOException {
    catalog.close();
  }

  @Test
  void advancesOverWriterCommitsAsPlanningDoes() {
    Table table =
        catalog.createTable(
            TableIdentifier.of("raw", "cdc"),
            SCHEMA,
            PartitionSpec.unpartitioned(),
            Map.of("format-version", "2", "commit.manifest.min-count-to-merge", "5"));
    CdcTableWriter writer = CdcTableWriter.open(table);
    Random random = new Random(42);
    List<Long> snapshots = new ArrayList<>();
    for (int commit = 0; commit < 40; commit++) {
      for (int change = 0; change < 15; change++) {
        long id = random.nextInt(120);
        if (random.nextInt(5) == 0) {
          writer.delete(key(id));
        } else {
          writer.upsert(row(id, "r" + random.nextInt(3)), null);
        }
      }
      writer.commit(Map.of());
      table.refresh();
      long current = table.currentSnapshot().snapshotId();
      TableFiles planned = TableFiles.load(table);
      for (int back : new int[] {1, 7}) {
        if (snapshots.size() >= back) {
          long base = snapshots.get(snapshots.size() - back);
          TableFiles advanced =
              planAt(table, base).advance(table, base, current, 100).orElseThrow();
          assertThat(describe(advanced))
              .as("commit %d advanced over %d snapshots", commit, back)
              .isEqualTo(describe(planned));
        }
      }
      snapshots.add(current);
    }
    assertThat(table.snapshots())
        .as("the writer's own tidying removed data and delete files on the way")
        .anyMatch(snapshot -> removed(snapshot, "deleted-data-files"))
        .anyMatch(snapshot -> removed(snapshot, "removed-delete-files"));

    long first = snapshots.get(0);
    long last = snapshots.get(snapshots.size() - 1);
    assertThat(planAt(table, first).advance(table, first, last, 10))
        .as("further than the bound")
        .isEmpty();
    table.manageSnapshots().rollbackTo(snapshots.get(20)).commit();
    assertThat(planAt(table, last).advance(table, last, table.currentSnapshot().snapshotId(), 100))
        .as("a rolled-back snapshot does not descend from the later one")
        .isEmpty();
  }

  @Test
  void advancesAndFiltersPartitionedFilesAsPlanningDoes() {
    PartitionSpec spec = PartitionSpec.builderFor(SCHEMA).identity("region").build();
    Table table =
        catalog.createTable(
            TableIdentifier.of("raw", "parted"), SCHEMA, spec, Map.of("format-version", "2"));
    List<DataFile> files = new ArrayList<>();
    for (String region : List.of("eu", "us", "ap")) {
      for (int part = 0; part < 2; part++) {
        long from = files.size() * 10L;
        files.add(dataFile(table, region, from, from + 10));
      }
    }
    org.apache.iceberg.AppendFiles append = table.newAppend();
    files.forEach(append::appendFile);
    append.commit();
    long base = table.currentSnapshot().snapshotId();

    // Deletes in each region name the files of every region: only the region's own apply.
    RowDelta delta = table.newRowDelta();
    for (String region : List.of("eu", "us")) {
      Map<String, List<Long>> positions = new TreeMap<>(); // sorted by path, as deletes must be
      files.forEach(file -> positions.put(file.location(), List.of(1L, 4L)));
      delta.addDeletes(deleteFile(table, region, positions));
    }
    delta.commit();
    DataFile late = dataFile(table, "eu", 100, 105);
    table.newAppend().appendFile(late).commit();
    table.refresh();

    TableFiles planned = TableFiles.load(table);
    assertThat(planned.deletesByDataFile().get(late.location()))
        .as("deletes older than the data file do not apply to it")
        .isEmpty();
    TableFiles advanced =
        planAt(table, base)
            .advance(table, base, table.currentSnapshot().snapshotId(), 100)
            .orElseThrow();
    assertThat(describe(advanced)).isEqualTo(describe(planned));

    for (Expression filter :
        List.of(
            Expressions.equal("region", "eu"),
            Expressions.lessThan("id", 15L),
            Expressions.greaterThan("id", 1000L),
            Expressions.or(Expressions.equal("region", "us"), Expressions.equal("id", 101L)),
            Expressions.alwaysTrue())) {
      TableFiles icebergFiltered =
          TableFiles.plan(table, Scans.scan(table).caseSensitive(false).filter(filter));
      assertThat(describe(advanced.filter(table, table.schema(), filter)))
          .as("filter %s", filter)
          .isEqualTo(describe(icebergFiltered));
    }
  }

  @Test
  void refusesATableWithEqualityDeletes() {
    PartitionSpec spec = PartitionSpec.builderFor(SCHEMA).identity("region").build();
    Table table =
        catalog.createTable(
            TableIdentifier.of("raw", "equality"), SCHEMA, spec, Map.of("format-version", "2"));
    table.newAppend().appendFile(dataFile(table, "eu", 0, 10)).commit();
    DeleteFile equalityDeletes =
        FileMetadata.deleteFileBuilder(table.spec())
            .ofEqualityDeletes(1)
            .withPath(table.locationProvider().newDataLocation("equality-deletes.parquet"))
            .withFormat(FileFormat.PARQUET)
            .withPartitionPath("region=eu")
            .withFileSizeInBytes(100)
            .withRecordCount(1)
            .build();
    table.newRowDelta().addDeletes(equalityDeletes).commit();

    assertThatThrownBy(() -> TableFiles.load(table))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_UNSUPPORTED))
        .hasMessageContaining("it has equality delete file " + equalityDeletes.location());
  }

  private static boolean removed(Snapshot snapshot, String property) {
    return Long.parseLong(snapshot.summary().getOrDefault(property, "0")) > 0;
  }

  private static TableFiles planAt(Table table, long snapshotId) {
    return TableFiles.plan(table, Scans.scan(table).useSnapshot(snapshotId).includeColumnStats());
  }

  /** Data files by location, each with the locations of the delete files applying to it. */
  private static Map<String, Set<String>> describe(TableFiles files) {
    Map<String, Set<String>> described = new TreeMap<>();
    files
        .dataFiles()
        .keySet()
        .forEach(
            location -> {
              Set<String> deletes = new TreeSet<>();
              files
                  .deletesByDataFile()
                  .getOrDefault(location, Set.of())
                  .forEach(delete -> deletes.add(delete.location()));
              described.put(location, deletes);
            });
    described.put("delete files", new TreeSet<>(files.deleteFiles().keySet()));
    return described;
  }

  private static DataFile dataFile(Table table, String region, long fromId, long toId) {
    PartitionKey partition = new PartitionKey(table.spec(), table.schema());
    partition.partition(row(fromId, region));
    DataWriter<Record> writer =
        ParquetRows.dataWriter(
            table,
            EncryptedFiles.plainAsEncryptedOutput(
                table
                    .io()
                    .newOutputFile(table.locationProvider().newDataLocation(region + fromId))),
            table.spec(),
            partition);
    try (writer) {
      for (long id = fromId; id < toId; id++) {
        writer.write(row(id, region));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return writer.toDataFile();
  }

  private static DeleteFile deleteFile(
      Table table, String region, Map<String, List<Long>> positions) {
    PartitionKey partition = new PartitionKey(table.spec(), table.schema());
    partition.partition(row(0, region));
    try {
      PositionDeleteWriter<Record> writer =
          Parquet.writeDeletes(
                  table.io().newOutputFile(table.locationProvider().newDataLocation("d" + region)))
              .withSpec(table.spec())
              .withPartition(partition)
              .createWriterFunc(GenericParquetWriter::create)
              .overwrite()
              .buildPositionWriter();
      PositionDelete<Record> delete = PositionDelete.create();
      try (writer) {
        positions.forEach(
            (location, rows) -> rows.forEach(row -> writer.write(delete.set(location, row))));
      }
      return writer.toDeleteFile();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Record row(long id, String region) {
    GenericRecord record = GenericRecord.create(SCHEMA);
    record.set(0, id);
    record.set(1, region);
    return record;
  }

  private static Record key(long id) {
    return row(id, null);
  }
}
