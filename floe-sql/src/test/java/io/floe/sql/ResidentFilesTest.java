package io.floe.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.catalog.TableFiles;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.ParquetRows;
import io.floe.testing.SalesTable;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.RowDelta;
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

/**
 * Large data files held resident with their deletes applied ({@link ResidentFiles}): a query sees
 * exactly its snapshot's deletes whether the follower is behind, in step or ahead of it.
 */
class ResidentFilesTest {
  private static final TableIdentifier ID = TableIdentifier.of("raw", "big");
  private static final int ROWS = 2_000;

  @TempDir Path warehouse;
  private JdbcCatalog catalog;
  private Table table;
  private DataFile base;
  private int deleteFiles;
  // The live rows: id to amount.
  private final TreeMap<Long, Long> model = new TreeMap<>();

  @BeforeEach
  void setUp() throws Exception {
    catalog = FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
    table = SalesTable.createEmpty(catalog, ID);
    DataWriter<Record> writer =
        ParquetRows.dataWriter(
            table,
            EncryptedFiles.plainAsEncryptedOutput(
                table.io().newOutputFile(table.locationProvider().newDataLocation("base"))),
            table.spec(),
            null);
    try (writer) {
      for (long id = 0; id < ROWS; id++) {
        writer.write(SalesTable.row(id, id % 100));
        model.put(id, id % 100);
      }
    }
    base = writer.toDataFile();
    table.newAppend().appendFile(base).commit();
  }

  @AfterEach
  void tearDown() throws Exception {
    catalog.close();
  }

  private QueryEngine engine(long residentSize) {
    return TestEngines.open(
        catalog,
        warehouse,
        new QueryEngine.Settings(1_000_000, warehouse.resolve("work"), 1 << 20, residentSize, 100));
  }

  /** A position-delete writer of a new file, named after {@code prefix}. */
  private PositionDeleteWriter<Record> deleteWriter(String prefix) throws Exception {
    return Parquet.writeDeletes(
            table
                .io()
                .newOutputFile(
                    table.locationProvider().newDataLocation(prefix + "-" + deleteFiles++)))
        .withSpec(table.spec())
        .createWriterFunc(GenericParquetWriter::create)
        .overwrite()
        .buildPositionWriter();
  }

  /** Deletes rows of the base file (by position, which is id) in one commit. */
  private void deleteRows(Set<Long> ids) throws Exception {
    PositionDeleteWriter<Record> deletes = deleteWriter("deletes");
    PositionDelete<Record> delete = PositionDelete.create();
    try (deletes) {
      for (long id : new TreeSet<>(ids)) {
        deletes.write(delete.set(base.location(), id));
        model.remove(id);
      }
    }
    table.newRowDelta().addDeletes(deletes.toDeleteFile()).commit();
  }

  /**
   * Replaces every delete file by one holding all their positions, as the writer merges small
   * delete files.
   */
  private void mergeDeletes() throws Exception {
    PositionDeleteWriter<Record> merged = deleteWriter("merged");
    PositionDelete<Record> delete = PositionDelete.create();
    try (merged) {
      for (long id = 0; id < ROWS; id++) {
        if (!model.containsKey(id)) {
          merged.write(delete.set(base.location(), id));
        }
      }
    }
    RowDelta delta = table.newRowDelta().addDeletes(merged.toDeleteFile());
    TableFiles.load(table).deleteFiles().values().forEach(delta::removeDeletes);
    delta.commit();
  }

  private List<Object> expected() {
    long sum = model.values().stream().mapToLong(Long::longValue).sum();
    return List.of((long) model.size(), BigDecimal.valueOf(sum).setScale(2));
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

  @Test
  void queriesSeeExactlyTheirSnapshotsDeletesWhileTheFollowerCatchesUp() throws Exception {
    deleteRows(Set.of(3L, 5L, 8L));
    String query = "SELECT count(*), sum(amount) FROM raw.big";
    try (QueryEngine engine = engine(64L << 20)) {
      assertThat(engine.queryAll(query)).containsExactly(expected());
      await(() -> engine.residentFileCount() == 1, "the base file resident");

      Random random = new Random(11);
      long before = engine.residentQueries();
      for (int commit = 0; commit < 12; commit++) {
        Set<Long> ids = new TreeSet<>();
        while (ids.size() < 20) {
          long id = random.nextInt(ROWS);
          if (model.containsKey(id)) {
            ids.add(id);
          }
        }
        deleteRows(ids);
        if (commit % 4 == 3) {
          mergeDeletes();
        }
        // Right after the commit the follower may not have applied it yet: the query must not
        // read the resident file with the earlier deletes.
        assertThat(engine.queryAll(query).get(0))
            .as("right after commit %d", commit)
            .isEqualTo(expected());
        long snapshot = table.currentSnapshot().snapshotId();
        long reads = engine.residentQueries();
        await(
            () -> {
              engine.queryAll(query);
              return engine.residentQueries() > reads;
            },
            "a query of snapshot " + snapshot + " reading the resident file");
        assertThat(engine.queryAll(query).get(0))
            .as("resident, after commit %d", commit)
            .isEqualTo(expected());
        assertThat(
                engine.queryAll("SELECT amount FROM raw.big WHERE id = " + ids.iterator().next()))
            .as("a deleted row")
            .isEmpty();
      }
      assertThat(engine.residentQueries()).isGreaterThan(before + 12);

      // Time travel to an earlier snapshot reads the file with that snapshot's deletes.
      long first = table.snapshots().iterator().next().snapshotId();
      assertThat(engine.queryAll("SELECT count(*) FROM raw.big FOR VERSION AS OF " + first).get(0))
          .isEqualTo(List.of((long) ROWS));

      // A rollback shrinks the file's deletes: the resident copy is dropped and loaded again.
      // Snapshots: the append, the delete of 3 rows, then one of 20 rows per commit (and merges).
      table.manageSnapshots().rollbackTo(table.history().get(2).snapshotId()).commit();
      List<Object> rolledBack = engine.queryAll("SELECT count(*) FROM raw.big").get(0);
      long reads = engine.residentQueries();
      await(
          () -> {
            engine.queryAll(query);
            return engine.residentQueries() > reads;
          },
          "the resident file read again after the rollback");
      assertThat(engine.queryAll("SELECT count(*) FROM raw.big").get(0)).isEqualTo(rolledBack);
      assertThat(rolledBack.get(0))
          .as("the rows before the loop's second commit")
          .isEqualTo((long) ROWS - 3 - 20);
    }
  }

  @Test
  void aQueryKeepsTheDeletesItBeganWithWhileMoreAreApplied() throws Exception {
    deleteRows(Set.of(1L, 2L));
    Path temporary = warehouse.resolve("tmp");
    java.nio.file.Files.createDirectories(temporary);
    try (ResidentFiles resident =
        new ResidentFiles(List.of(warehouse), temporary, 64L << 20, 100)) {
      TableFiles first = TableFiles.load(table);
      resident.sync(table.uuid(), 3, first, ResidentFilesTest::path);
      Set<String> firstDeletes = first.deleteLocations(base.location());
      try (Connection early = resident.connect()) {
        Map<String, String> used = resident.begin(early, Map.of(base.location(), firstDeletes));
        assertThat(used).containsOnlyKeys(base.location());

        deleteRows(Set.of(10L, 11L, 12L));
        TableFiles second = TableFiles.load(table);
        resident.sync(table.uuid(), 3, second, ResidentFilesTest::path);

        assertThat(count(early, used.get(base.location()))).isEqualTo(ROWS - 2);
        try (Connection late = resident.connect()) {
          assertThat(resident.begin(late, Map.of(base.location(), firstDeletes)))
              .as("the earlier deletes are no longer what the file holds")
              .isEmpty();
          Map<String, String> now =
              resident.begin(
                  late, Map.of(base.location(), second.deleteLocations(base.location())));
          assertThat(count(late, now.get(base.location()))).isEqualTo(ROWS - 5);
        }
      }
    }
  }

  @Test
  void keepsWithinItsBudgetAndRefusesItsTablesToQueries() throws Exception {
    deleteRows(Set.of(7L));
    try (QueryEngine engine = engine(1_000)) {
      for (int i = 0; i < 5; i++) {
        assertThat(engine.queryAll("SELECT count(*), sum(amount) FROM raw.big").get(0))
            .isEqualTo(expected());
        Thread.sleep(150);
      }
      assertThat(engine.residentFileCount()).as("2,000 rows do not fit 1,000 bytes").isZero();
    }
    try (QueryEngine engine = engine(64L << 20)) {
      engine.queryAll("SELECT count(*) FROM raw.big");
      await(() -> engine.residentFileCount() == 1, "the base file resident");
      assertThatThrownBy(() -> engine.queryAll("SELECT count(*) FROM floe_resident.f0"))
          .hasMessageContaining("internal to Floe");
      assertThatThrownBy(() -> engine.queryAll("SELECT count(*) FROM f0"))
          .hasMessageContaining("f0");
    }
  }

  private static String path(String location) {
    return location.replaceFirst("^file:", "");
  }

  private static long count(Connection connection, String table) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery("SELECT count(*) FROM " + table)) {
      result.next();
      return result.getLong(1);
    }
  }
}
