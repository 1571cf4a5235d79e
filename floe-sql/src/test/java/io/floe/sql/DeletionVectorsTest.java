package io.floe.sql;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.catalog.Scans;
import io.floe.core.catalog.TableFiles;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Files;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.BaseDeleteLoader;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.deletes.BaseDVFileWriter;
import org.apache.iceberg.deletes.PositionDelete;
import org.apache.iceberg.deletes.PositionDeleteWriter;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.DeleteSchemaUtil;
import org.apache.iceberg.io.DeleteWriteResult;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;
import org.apache.iceberg.util.ContentFileUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Format-version 3 tables whose deletes are deletion vectors, written with Iceberg's own writers as
 * Spark's merge-on-read DELETE writes them: every query answers as Iceberg's reader does.
 */
class DeletionVectorsTest {
  private static final Namespace NAMESPACE = Namespace.of("lake");
  private static final Schema SCHEMA =
      new Schema(
          Types.NestedField.required(1, "id", Types.LongType.get()),
          Types.NestedField.required(2, "amount", Types.LongType.get()),
          Types.NestedField.required(3, "region", Types.StringType.get()));
  private static final PartitionSpec SPEC =
      PartitionSpec.builderFor(SCHEMA).identity("region").build();
  private static final int ROWS_PER_FILE = 500;

  @TempDir Path warehouse;
  private JdbcCatalog catalog;
  private int fileNumber;

  @BeforeEach
  void setUp() {
    catalog = FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
    catalog.createNamespace(NAMESPACE);
  }

  @AfterEach
  void tearDown() throws Exception {
    catalog.close();
  }

  private QueryEngine engine(long residentSize) {
    return TestEngines.open(
        catalog,
        warehouse,
        new QueryEngine.Settings(
            1_000_000, warehouse.resolve("work"), 64L << 20, residentSize, 100));
  }

  private Table create(String name, String formatVersion) {
    return catalog.createTable(
        TableIdentifier.of(NAMESPACE, name),
        SCHEMA,
        SPEC,
        Map.of(TableProperties.FORMAT_VERSION, formatVersion));
  }

  /** Appends one data file per region, of ids from {@code firstId} on. */
  private List<DataFile> append(Table table, long firstId, String... regions) throws IOException {
    OutputFileFactory files =
        OutputFileFactory.builderFor(table, 1, fileNumber++).format(FileFormat.PARQUET).build();
    List<DataFile> written = new ArrayList<>();
    long id = firstId;
    for (String region : regions) {
      GenericRecord record = GenericRecord.create(table.schema());
      PartitionKey partition = new PartitionKey(table.spec(), table.schema());
      partition.partition(record.copy(Map.of("id", 0L, "amount", 0L, "region", region)));
      DataWriter<Record> writer =
          Parquet.writeData(files.newOutputFile(table.spec(), partition))
              .schema(table.schema())
              .withSpec(table.spec())
              .withPartition(partition)
              .createWriterFunc(GenericParquetWriter::create)
              .overwrite()
              .build();
      try (writer) {
        for (int row = 0; row < ROWS_PER_FILE; row++, id++) {
          writer.write(record.copy(Map.of("id", id, "amount", id % 97, "region", region)));
        }
      }
      written.add(writer.toDataFile());
    }
    AppendFiles append = table.newAppend();
    written.forEach(append::appendFile);
    append.commit();
    return written;
  }

  /**
   * Deletes rows by position with Iceberg's DV writer in one commit, as Spark's merge-on-read
   * DELETE does: the new vector of a data file merges the positions deleted before (its previous
   * vector, or position-delete files of the table's format-version 2 past), and replaces the
   * previous vector.
   */
  private List<DeleteFile> deletePositions(Table table, Map<DataFile, Set<Long>> positions)
      throws IOException {
    table.refresh();
    TableFiles current = TableFiles.load(table);
    BaseDeleteLoader loader = new BaseDeleteLoader(file -> table.io().newInputFile(file));
    OutputFileFactory files =
        OutputFileFactory.builderFor(table, 1, fileNumber++).format(FileFormat.PUFFIN).build();
    BaseDVFileWriter writer =
        new BaseDVFileWriter(
            files,
            path -> {
              Set<DeleteFile> previous = current.deletesByDataFile().get(path);
              return previous == null || previous.isEmpty()
                  ? null
                  : loader.loadPositionDeletes(previous, path);
            });
    try (writer) {
      positions.forEach(
          (file, deleted) ->
              deleted.forEach(
                  position ->
                      writer.delete(
                          file.location(),
                          position,
                          table.specs().get(file.specId()),
                          file.partition())));
    }
    DeleteWriteResult result = writer.result();
    // As Spark's commit: the vectors replaced were read at this snapshot.
    RowDelta delta = table.newRowDelta().validateFromSnapshot(table.currentSnapshot().snapshotId());
    result.deleteFiles().forEach(delta::addDeletes);
    result.rewrittenDeleteFiles().forEach(delta::removeDeletes);
    delta.commit();
    return result.deleteFiles();
  }

  /** What Iceberg's own reader reads at a snapshot: id to row. */
  private static Map<Long, Record> icebergRows(Table table, long snapshotId) throws IOException {
    TreeMap<Long, Record> rows = new TreeMap<>();
    try (CloseableIterable<Record> records =
        IcebergGenerics.read(table).useSnapshot(snapshotId).build()) {
      for (Record record : records) {
        rows.put((Long) record.getField("id"), record.copy());
      }
    }
    return rows;
  }

  /** Checks counts, sums, a filter, a grouping and a join against Iceberg's reader. */
  private static void assertSameAsIceberg(
      QueryEngine engine, Table table, String reference, long snapshotId) throws IOException {
    Map<Long, Record> rows = icebergRows(table, snapshotId);
    long sum = rows.values().stream().mapToLong(row -> (Long) row.getField("amount")).sum();
    assertThat(engine.queryAll("SELECT count(*), sum(amount)::BIGINT FROM " + reference))
        .as("count and sum of %s", reference)
        .containsExactly(List.of((long) rows.size(), sum));
    assertThat(engine.queryAll("SELECT count(*) FROM " + reference + " WHERE amount >= 90"))
        .as("filtered %s", reference)
        .containsExactly(
            List.of(
                rows.values().stream().filter(row -> (Long) row.getField("amount") >= 90).count()));
    Map<String, List<Long>> byRegion = new TreeMap<>();
    rows.values()
        .forEach(
            row -> {
              List<Long> figures =
                  byRegion.computeIfAbsent(
                      (String) row.getField("region"), region -> new ArrayList<>(List.of(0L, 0L)));
              figures.set(0, figures.get(0) + 1);
              figures.set(1, figures.get(1) + (Long) row.getField("id"));
            });
    List<List<Object>> grouped = new ArrayList<>();
    byRegion.forEach(
        (region, figures) -> grouped.add(List.of(region, figures.get(0), figures.get(1))));
    assertThat(
            engine.queryAll(
                "SELECT region, count(*), sum(id)::BIGINT FROM "
                    + reference
                    + " GROUP BY region ORDER BY region"))
        .as("grouped %s", reference)
        .isEqualTo(grouped);
    long pairs = rows.keySet().stream().filter(id -> rows.containsKey(id - 1)).count();
    assertThat(
            engine.queryAll(
                "SELECT count(*) FROM "
                    + reference
                    + " a JOIN "
                    + reference
                    + " b ON a.id = b.id + 1"))
        .as("joined %s", reference)
        .containsExactly(List.of(pairs));
  }

  private static Set<Long> range(long from, long to) {
    Set<Long> positions = new HashSet<>();
    for (long position = from; position < to; position++) {
      positions.add(position);
    }
    return positions;
  }

  @Test
  void appliesDeletionVectorsOfSeveralFilesAndTheirReplacements() throws Exception {
    Table table = create("events", "3");
    List<DataFile> files = append(table, 0, "eu", "us", "ap");
    long beforeDeletes = table.currentSnapshot().snapshotId();
    Map<DataFile, Set<Long>> first = new LinkedHashMap<>();
    first.put(files.get(0), Set.of(0L, 1L, 2L, 250L, 499L));
    first.put(files.get(1), range(100, 300));
    first.put(files.get(2), Set.of(7L));
    List<DeleteFile> vectors = deletePositions(table, first);
    assertThat(vectors).hasSize(3).allMatch(ContentFileUtil::isDV);
    assertThat(vectors.stream().map(ContentFile::location).distinct())
        .as("one Puffin file holds the three vectors")
        .hasSize(1)
        .allMatch(location -> location.endsWith(".puffin"));
    long afterFirst = table.currentSnapshot().snapshotId();

    try (QueryEngine engine = engine(0)) {
      assertSameAsIceberg(engine, table, "lake.events", afterFirst);

      // A second delete replaces the vector of one file only; the others stay in the first Puffin
      // file. The engine plans this snapshot by advancing its plan of the last one.
      deletePositions(table, Map.of(files.get(0), Set.of(3L, 4L, 250L)));
      table.refresh();
      long afterSecond = table.currentSnapshot().snapshotId();
      assertThat(TableFiles.load(table).deletionVectors()).isEqualTo(3);
      assertSameAsIceberg(engine, table, "lake.events", afterSecond);
      assertThat(icebergRows(table, afterSecond)).hasSize(3 * ROWS_PER_FILE - 7 - 200 - 1);

      // Time travel: before any delete, and to the first delete.
      assertSameAsIceberg(
          engine, table, "lake.events FOR VERSION AS OF " + beforeDeletes, beforeDeletes);
      assertSameAsIceberg(engine, table, "lake.events FOR VERSION AS OF " + afterFirst, afterFirst);
      assertThat(
              engine.queryAll(
                  "SELECT count(*) FROM lake.events FOR VERSION AS OF " + beforeDeletes))
          .containsExactly(List.of(3L * ROWS_PER_FILE));
    }
  }

  @Test
  void advancingAPlanOverReplacedVectorsPlansAsIcebergDoes() throws Exception {
    Table table = create("events", "3");
    List<DataFile> files = append(table, 0, "eu", "us");
    deletePositions(table, Map.of(files.get(0), Set.of(1L), files.get(1), Set.of(2L)));
    table.refresh();
    long base = table.currentSnapshot().snapshotId();
    TableFiles basePlan =
        TableFiles.plan(table, Scans.scan(table).useSnapshot(base).includeColumnStats());
    deletePositions(table, Map.of(files.get(0), Set.of(5L)));
    append(table, 10_000, "eu");
    table.refresh();
    long current = table.currentSnapshot().snapshotId();

    TableFiles advanced = basePlan.advance(table, base, current, 10).orElseThrow();
    TableFiles planned = TableFiles.load(table);
    assertThat(advanced.deleteFiles().keySet()).isEqualTo(planned.deleteFiles().keySet());
    planned
        .dataFiles()
        .keySet()
        .forEach(
            location ->
                assertThat(advanced.deleteLocations(location))
                    .as("deletes of %s", location)
                    .isEqualTo(planned.deleteLocations(location)));
    assertThat(planned.deletionVectors()).isEqualTo(2);
  }

  @Test
  void explainNamesDeletionVectorsAndStatsCountTheirBlobs() throws Exception {
    Table table = create("events", "3");
    List<DataFile> files = append(table, 0, "eu", "us");
    List<DeleteFile> vectors =
        deletePositions(table, Map.of(files.get(0), Set.of(1L, 2L), files.get(1), Set.of(9L)));
    table.refresh();
    long expectedBytes = 0;
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      for (FileScanTask task : tasks) {
        expectedBytes += task.file().fileSizeInBytes();
      }
    }
    for (DeleteFile vector : vectors) {
      expectedBytes += vector.contentSizeInBytes();
    }
    try (QueryEngine engine = engine(0)) {
      String plan =
          engine.queryAll("EXPLAIN SELECT count(*) FROM lake.events").stream()
              .map(row -> String.valueOf(row.get(0)))
              .collect(Collectors.joining("\n"));
      assertThat(plan).contains("position delete files applied: 0; deletion vectors applied: 2");
      QueryStats stats =
          engine.execute(
              "SELECT count(*) FROM lake.events",
              QueryOptions.local(),
              new QueryEngine.ResultHandler() {
                @Override
                public void columns(List<SqlColumn> columns) {}

                @Override
                public void row(Object[] values) {
                  assertThat(values[0]).isEqualTo(2L * ROWS_PER_FILE - 3);
                }
              });
      assertThat(stats.bytesScanned()).isEqualTo(expectedBytes);
      assertThat(stats.scans().get(0).deleteFiles()).isEqualTo(2);

      // The files metadata table lists the vectors as Puffin delete files.
      assertThat(
              engine.queryAll(
                  "SELECT count(*), sum(record_count)::BIGINT FROM lake.events.files"
                      + " WHERE content = 1 AND file_format = 'PUFFIN'"))
          .containsExactly(List.of(2L, 3L));
      assertThat(engine.queryAll("SELECT count(*) FROM lake.\"events$files\""))
          .containsExactly(List.of(4L));
    }
  }

  /**
   * A table written as format version 2, with a position-delete file spanning two data files, then
   * upgraded to version 3: a data file given a vector reads only the vector (which merged the
   * earlier positions), the other still reads the position-delete file.
   */
  @Test
  void appliesVectorsBesidePositionDeleteFilesOfAnUpgradedTable() throws Exception {
    Table table = create("upgraded", "2");
    List<DataFile> files = append(table, 0, "eu");
    files.addAll(append(table, 1_000, "eu"));
    PartitionKey partition = new PartitionKey(table.spec(), table.schema());
    partition.partition(
        GenericRecord.create(table.schema()).copy(Map.of("id", 0L, "amount", 0L, "region", "eu")));
    PositionDeleteWriter<Record> positions =
        Parquet.writeDeletes(
                table.io().newOutputFile(table.locationProvider().newDataLocation("v2-deletes")))
            .withSpec(table.spec())
            .withPartition(partition)
            .createWriterFunc(GenericParquetWriter::create)
            .overwrite()
            .buildPositionWriter();
    PositionDelete<Record> delete = PositionDelete.create();
    List<String> ordered =
        files.stream().map(DataFile::location).sorted().collect(Collectors.toList());
    try (positions) {
      for (String location : ordered) {
        for (long position : List.of(10L, 11L, 12L)) {
          positions.write(delete.set(location, position));
        }
      }
    }
    table.newRowDelta().addDeletes(positions.toDeleteFile()).commit();
    table.updateProperties().set(TableProperties.FORMAT_VERSION, "3").commit();
    long beforeVector = table.currentSnapshot().snapshotId();

    deletePositions(table, Map.of(files.get(0), Set.of(20L, 21L)));
    table.refresh();
    long afterVector = table.currentSnapshot().snapshotId();
    TableFiles planned = TableFiles.load(table);
    assertThat(planned.deletesByDataFile().get(files.get(0).location()))
        .singleElement()
        .matches(ContentFileUtil::isDV);
    assertThat(planned.deletesByDataFile().get(files.get(1).location()))
        .singleElement()
        .matches(file -> file.format() == FileFormat.PARQUET);

    try (QueryEngine engine = engine(0)) {
      assertSameAsIceberg(engine, table, "lake.upgraded", afterVector);
      assertSameAsIceberg(
          engine, table, "lake.upgraded FOR VERSION AS OF " + beforeVector, beforeVector);
      assertThat(engine.queryAll("SELECT count(*) FROM lake.upgraded"))
          .containsExactly(List.of(2L * ROWS_PER_FILE - 3 - 3 - 2));
    }
  }

  /**
   * Large data files with vectors are held resident with the vectors' positions deleted, and kept
   * in step as vectors are replaced.
   */
  @Test
  void residentFilesApplyDeletionVectors() throws Exception {
    Table table = create("events", "3");
    List<DataFile> files = append(table, 0, "eu", "us");
    deletePositions(table, Map.of(files.get(0), range(0, 50), files.get(1), Set.of(3L)));
    try (QueryEngine engine = engine(64L << 20)) {
      table.refresh();
      assertSameAsIceberg(engine, table, "lake.events", table.currentSnapshot().snapshotId());
      await(() -> engine.residentFileCount() == 2, "both data files resident");
      for (int commit = 0; commit < 3; commit++) {
        deletePositions(
            table, Map.of(files.get(commit % 2), range(100 + commit * 10, 105 + commit * 10)));
        table.refresh();
        long snapshot = table.currentSnapshot().snapshotId();
        assertSameAsIceberg(engine, table, "lake.events", snapshot);
        long reads = engine.residentQueries();
        String query = "SELECT count(*) FROM lake.events";
        await(
            () -> {
              engine.queryAll(query);
              return engine.residentQueries() > reads;
            },
            "a query of snapshot " + snapshot + " reading the resident files");
        assertSameAsIceberg(engine, table, "lake.events", snapshot);
      }
    }
  }

  /**
   * Above {@link TableScanSql#PER_FILE_JOINS} data files with deletes, the vectors' Parquet copies
   * are joined at once on (file name, position).
   */
  @Test
  void appliesVectorsOfManyDataFilesInOneJoin() throws Exception {
    Table table = create("wide", "3");
    String[] regions = new String[TableScanSql.PER_FILE_JOINS + 6];
    for (int region = 0; region < regions.length; region++) {
      regions[region] = "r" + region;
    }
    List<DataFile> files = append(table, 0, regions);
    Map<DataFile, Set<Long>> positions = new LinkedHashMap<>();
    for (int file = 0; file < files.size(); file++) {
      positions.put(files.get(file), Set.of((long) file, file + 100L));
    }
    deletePositions(table, positions);
    table.refresh();
    try (QueryEngine engine = engine(0)) {
      assertSameAsIceberg(engine, table, "lake.wide", table.currentSnapshot().snapshotId());
      assertThat(engine.queryAll("SELECT count(*) FROM lake.wide"))
          .containsExactly(List.of((long) files.size() * (ROWS_PER_FILE - 2)));
    }
  }

  /** A vector's Parquet copy is written into the file cache and holds the vector's positions. */
  @Test
  void writesEachVectorOnceAsAParquetPositionDeleteFile() throws Exception {
    Table table = create("events", "3");
    List<DataFile> files = append(table, 0, "eu");
    DeleteFile vector = deletePositions(table, Map.of(files.get(0), Set.of(4L, 8L, 15L))).get(0);
    Path cache = warehouse.resolve("cache");
    try (LocalPaths paths = new LocalPaths(cache, 1 << 20);
        LocalFiles first = paths.of(table, List.of(vector));
        LocalFiles second = paths.of(table, List.of(vector))) {
      String local = first.path(TableFiles.deleteKey(vector));
      assertThat(second.path(TableFiles.deleteKey(vector))).isEqualTo(local);
      assertThat(Path.of(local)).startsWith(cache).hasExtension("parquet");
      List<Long> positions = new ArrayList<>();
      try (CloseableIterable<Record> rows =
          Parquet.read(Files.localInput(local))
              .project(DeleteSchemaUtil.pathPosSchema())
              .createReaderFunc(
                  schema ->
                      GenericParquetReaders.buildReader(DeleteSchemaUtil.pathPosSchema(), schema))
              .build()) {
        for (Record row : rows) {
          assertThat(row.getField("file_path")).isEqualTo(files.get(0).location());
          positions.add((Long) row.getField("pos"));
        }
      }
      assertThat(positions).containsExactly(4L, 8L, 15L);
    }
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 30 s: " + what);
      }
      Thread.sleep(20);
    }
  }
}
