package io.floe.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.catalog.TableFiles;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.CdcTableWriter;
import io.floe.core.writer.ParquetRows;
import io.floe.testing.SalesTable;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.deletes.PositionDelete;
import org.apache.iceberg.deletes.PositionDeleteWriter;
import org.apache.iceberg.encryption.EncryptedFiles;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.parquet.Parquet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QueryEngineTest {
  @TempDir Path warehouse;
  private JdbcCatalog catalog;
  private QueryEngine engine;

  @BeforeEach
  void setUp() {
    catalog = FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
    CdcTableWriter writer = SalesTable.create(catalog);
    SalesTable.createEmpty(catalog, TableIdentifier.of("raw", "empty"));
    writer.delete(SalesTable.key(3));
    writer.upsert(SalesTable.row(4, 1000), null);
    writer.commit(Map.of());
    engine = TestEngines.open(catalog, warehouse);
  }

  @AfterEach
  void tearDown() throws Exception {
    engine.close();
    catalog.close();
  }

  @Test
  void readsCurrentSnapshotWithPositionDeletesApplied() {
    assertThat(engine.queryAll("SELECT count(*), sum(amount) FROM raw.sales"))
        .containsExactly(List.of(9L, new BigDecimal("1480.00")));
    assertThat(engine.queryAll("SELECT amount FROM raw.sales WHERE id = 4"))
        .containsExactly(List.of(new BigDecimal("1000.00")));
    assertThat(engine.queryAll("SELECT count(*) FROM raw.empty")).containsExactly(List.of(0L));
    assertThat(
            engine.queryAll(
                "WITH s AS (SELECT * FROM raw.sales) SELECT count(*) FROM s JOIN raw.empty e ON s.id = e.id"))
        .containsExactly(List.of(0L));
  }

  /**
   * Each query of a table that keeps committing plans the new snapshot from the files planned for
   * the last one; filtered queries too. The writer's commits merge small files and delete files on
   * the way, which later plans must drop.
   */
  @Test
  void readsEachNewSnapshotOfATableThatKeepsCommitting() {
    Map<Long, Long> model = new HashMap<>();
    for (long id = 1; id <= 10; id++) {
      model.put(id, id * 10);
    }
    model.remove(3L);
    model.put(4L, 1000L);
    Table table = catalog.loadTable(TableIdentifier.of("raw", "sales"));
    CdcTableWriter writer = CdcTableWriter.open(table);
    Random random = new Random(7);
    for (int commit = 0; commit < 15; commit++) {
      for (int change = 0; change < 4; change++) {
        long id = 1L + random.nextInt(20);
        if (random.nextBoolean() && model.containsKey(id)) {
          writer.delete(SalesTable.key(id));
          model.remove(id);
        } else {
          long amount = random.nextInt(1000);
          writer.upsert(SalesTable.row(id, amount), null);
          model.put(id, amount);
        }
      }
      writer.commit(Map.of());
      long sum = model.values().stream().mapToLong(Long::longValue).sum();
      assertThat(engine.queryAll("SELECT count(*), sum(amount) FROM raw.sales"))
          .as("after commit %d", commit)
          .containsExactly(List.of((long) model.size(), BigDecimal.valueOf(sum).setScale(2)));
      assertThat(engine.queryAll("SELECT count(*) FROM raw.sales WHERE id > 15"))
          .as("after commit %d, filtered", commit)
          .containsExactly(List.of(model.keySet().stream().filter(id -> id > 15).count()));
    }
  }

  /**
   * A snapshot between the last planned one and the current one whose files an expiry deleted after
   * the query loaded the table: the query plans the current snapshot in full.
   */
  @Test
  void plansInFullWhenASnapshotInBetweenLostItsFiles() throws Exception {
    assertThat(engine.queryAll("SELECT count(*) FROM raw.sales")).containsExactly(List.of(9L));
    Table table = catalog.loadTable(SalesTable.ID);
    CdcTableWriter writer = CdcTableWriter.open(table);
    writer.upsert(SalesTable.row(11, 110), null);
    writer.commit(Map.of());
    Snapshot between = writer.table().currentSnapshot();
    writer.upsert(SalesTable.row(12, 120), null);
    writer.commit(Map.of());
    Files.delete(Path.of(between.manifestListLocation().replaceFirst("^file:", "")));

    assertThat(engine.queryAll("SELECT count(*), sum(amount) FROM raw.sales"))
        .containsExactly(List.of(11L, new BigDecimal("1710.00")));
  }

  /**
   * Above {@link TableScanSql#PER_FILE_JOINS} data files with deletes, deleted rows are removed by
   * one join on (file name, position) instead of one join per file; both give the table's rows.
   */
  @Test
  void appliesPositionDeletesOfManyDataFilesInOneJoin() throws Exception {
    Table table = SalesTable.createEmpty(catalog, TableIdentifier.of("raw", "many"));
    int files = TableScanSql.PER_FILE_JOINS + 6;
    int rowsPerFile = 10;
    AppendFiles append = table.newAppend();
    List<DataFile> written = new ArrayList<>();
    for (int file = 0; file < files; file++) {
      DataWriter<Record> writer =
          ParquetRows.dataWriter(
              table,
              EncryptedFiles.plainAsEncryptedOutput(
                  table.io().newOutputFile(table.locationProvider().newDataLocation("d" + file))),
              table.spec(),
              null);
      try (writer) {
        for (int i = 0; i < rowsPerFile; i++) {
          long id = (long) file * rowsPerFile + i;
          writer.write(SalesTable.row(id, id));
        }
      }
      written.add(writer.toDataFile());
      append.appendFile(writer.toDataFile());
    }
    append.commit();
    PositionDeleteWriter<Record> deletes =
        Parquet.writeDeletes(
                table.io().newOutputFile(table.locationProvider().newDataLocation("deletes")))
            .withSpec(table.spec())
            .createWriterFunc(GenericParquetWriter::create)
            .overwrite()
            .buildPositionWriter();
    PositionDelete<Record> delete = PositionDelete.create();
    long liveRows = 0;
    long liveSum = 0;
    try (deletes) {
      for (int file = 0; file < files; file++) {
        // Two rows of each file, at positions that differ from file to file.
        Set<Long> deleted = Set.of((long) file % rowsPerFile, (file + 3L) % rowsPerFile);
        for (long position : new TreeSet<>(deleted)) {
          deletes.write(delete.set(written.get(file).location(), position));
        }
        for (int i = 0; i < rowsPerFile; i++) {
          if (!deleted.contains((long) i)) {
            liveRows++;
            liveSum += (long) file * rowsPerFile + i;
          }
        }
      }
    }
    table.newRowDelta().addDeletes(deletes.toDeleteFile()).commit();

    TableFiles planned = TableFiles.load(catalog.loadTable(TableIdentifier.of("raw", "many")));
    assertThat(TableScanSql.sql(table.schema(), planned, location -> location))
        .as("more than %d data files with deletes are read through one join", files - 6)
        .contains("filename = true");
    assertThat(engine.queryAll("SELECT count(*), sum(amount) FROM raw.many"))
        .containsExactly(List.of(liveRows, BigDecimal.valueOf(liveSum).setScale(2)));
    assertThat(engine.queryAll("SELECT count(*) FROM raw.many WHERE id IN (0, 3, 11, 14, 15)"))
        .as("ids 0 and 3 (file 0) and 11 and 14 (file 1) are deleted, 15 is not")
        .containsExactly(List.of(1L));

    // Files of object storage are read from cached copies with other names; delete files still
    // name the data files by location.
    Path cache = Files.createDirectories(warehouse.resolve("cache"));
    Map<String, String> copies = new HashMap<>();
    for (String location :
        Stream.concat(
                planned.dataFiles().keySet().stream(), planned.deleteFiles().keySet().stream())
            .toList()) {
      Path copy = cache.resolve("copy-" + copies.size() + ".parquet");
      Files.copy(Path.of(location.replaceFirst("^file:", "")), copy);
      copies.put(location, copy.toString());
    }
    String mapped = TableScanSql.sql(table.schema(), planned, copies::get);
    assertThat(mapped).as("locations mapped to the copies' paths").contains("JOIN (VALUES");
    try (Connection duck = FreshDuckDb.open(new Properties());
        Statement statement = duck.createStatement();
        ResultSet result =
            statement.executeQuery("SELECT count(*), sum(amount) FROM (" + mapped + ")")) {
      assertThat(result.next()).isTrue();
      assertThat(result.getLong(1)).isEqualTo(liveRows);
      assertThat(result.getBigDecimal(2)).isEqualTo(BigDecimal.valueOf(liveSum).setScale(2));
    }
  }

  @Test
  void writesCsvAndJson() {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
    ResultFormat.Writer csv = ResultFormat.CSV.writer(out);
    engine.execute(
        "SELECT id, amount FROM raw.sales WHERE id < 3 ORDER BY id", QueryOptions.local(), csv);
    csv.finish();
    assertThat(buffer.toString(StandardCharsets.UTF_8)).isEqualTo("id,amount\n1,10.00\n2,20.00\n");
    buffer.reset();
    ResultFormat.Writer json = ResultFormat.JSON.writer(out);
    engine.execute("SELECT id, amount FROM raw.sales WHERE id = 1", QueryOptions.local(), json);
    json.finish();
    assertThat(buffer.toString(StandardCharsets.UTF_8))
        .isEqualTo("[{\"id\":1,\"amount\":10.00}]\n");
  }

  @Test
  void namesMissingTablesAndListsTheNamespace() {
    assertThatThrownBy(() -> engine.queryAll("SELECT * FROM raw.sale"))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_NOT_FOUND))
        .hasMessage("Cannot query raw.sale: no such table; tables in namespace raw: empty, sales");
    assertThatThrownBy(() -> engine.queryAll("SELECT * FROM sales"))
        .hasMessageContaining(
            "Name tables as namespace.table; available tables: raw.empty, raw.sales");
  }

  @Test
  void refusesAnythingButQueries() throws Exception {
    Path secret = Files.writeString(warehouse.getParent().resolve("secret.csv"), "a\n1\n");
    assertThatThrownBy(() -> engine.queryAll("COPY (SELECT 1) TO '/tmp/x.csv'"))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SQL_NOT_ALLOWED))
        .hasMessageContaining("Cannot run COPY statement");
    assertThatThrownBy(() -> engine.queryAll("SELECT 1; DROP TABLE raw.sales"))
        .hasMessageContaining("Cannot run several statements at once");
    assertThatThrownBy(() -> engine.queryAll("SELECT * FROM read_csv('" + secret + "')"))
        .isInstanceOf(FloeException.class)
        .hasMessageContaining("only Floe's tables (namespace.table)");
    assertThatThrownBy(() -> engine.queryAll("SELECT * FROM read_csv('/etc/passwd')"))
        .hasMessageContaining("only Floe's tables (namespace.table)");
    assertThatThrownBy(() -> engine.queryAll("SELEC 1"))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SQL_NOT_ALLOWED));
    assertThatThrownBy(() -> engine.queryAll("SELECT nope FROM raw.sales"))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SQL_INVALID))
        .hasMessageContaining("nope");
  }
}
