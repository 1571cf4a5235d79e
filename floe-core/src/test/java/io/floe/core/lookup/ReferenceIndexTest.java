package io.floe.core.lookup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.CdcTableWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.RewriteFiles;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.deletes.EqualityDeleteWriter;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.relocated.com.google.common.collect.Iterables;
import org.apache.iceberg.types.Types;
import org.apache.iceberg.util.SnapshotUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ReferenceIndex} against real Iceberg tables written by {@link CdcTableWriter}: after every
 * move the index equals the table read with Iceberg's own reader at that snapshot.
 */
class ReferenceIndexTest {
  private static final Schema SCHEMA =
      new Schema(
          List.of(
              Types.NestedField.required(1, "id", Types.IntegerType.get()),
              Types.NestedField.optional(2, "name", Types.StringType.get()),
              Types.NestedField.optional(3, "price", Types.DecimalType.of(10, 2)),
              Types.NestedField.optional(4, "since", Types.DateType.get())),
          Set.of(1));
  private static final List<String> VALUES = List.of("name", "price", "since");

  @TempDir Path warehouse;
  @TempDir Path indexes;

  private JdbcCatalog catalog;
  private Table table;
  private final List<ReferenceIndex> opened = new ArrayList<>();

  @BeforeEach
  void createTable() {
    catalog = FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
    catalog.createNamespace(Namespace.of("shop"));
    table = catalog.createTable(TableIdentifier.of("shop", "products"), SCHEMA);
  }

  @AfterEach
  void close() throws IOException {
    opened.forEach(ReferenceIndex::close);
    catalog.close();
  }

  @Test
  void followsUpsertsDeletesAndCompactionsIncrementally() {
    CdcTableWriter writer = CdcTableWriter.open(table);
    ReferenceIndex index = open(OptionalLong.empty(), 8L << 20);
    assertThat(index.snapshotId()).isEmpty();
    assertThat(index.lookup(List.of(1))).isEmpty();
    Random random = new Random(42);
    int rebuilds = 0;
    long followed = 0;
    for (int commit = 0; commit < 40; commit++) {
      int changes = 1 + random.nextInt(30);
      for (int change = 0; change < changes; change++) {
        int id = random.nextInt(120);
        int kind = random.nextInt(8);
        if (kind < 2) {
          writer.delete(row(id, null, null));
        } else if (kind == 2) {
          // A key change: the row leaves its old key for a new one.
          int newId = random.nextInt(120);
          writer.delete(row(id, null, null));
          writer.upsert(row(newId, "moved-" + id + "-" + commit, price(random)), null);
        } else if (kind == 3) {
          // A row inserted and deleted in the same commit.
          writer.upsert(row(id, "transient-" + commit, price(random)), null);
          writer.delete(row(id, null, null));
        } else {
          writer.upsert(row(id, "p" + id + "-" + commit + "-" + change, price(random)), null);
        }
      }
      writer.commit(Map.of());
      ReferenceIndex.Refresh refresh = index.refresh();
      rebuilds += refresh.rebuilt() ? 1 : 0;
      followed += refresh.snapshots();
      assertEqualsTable(index);
    }
    assertThat(rebuilds).as("rebuilds while following one writer").isZero();
    table.refresh();
    // A commit that changes nothing (only rows inserted and deleted in it) makes no snapshot.
    assertThat(followed)
        .as("snapshots followed, one by one")
        .isEqualTo(
            Iterables.size(
                SnapshotUtil.ancestorsOf(table.currentSnapshot().snapshotId(), table::snapshot)))
        .isGreaterThan(30);
    long removedFiles = 0;
    for (org.apache.iceberg.Snapshot snapshot : table.snapshots()) {
      removedFiles += Long.parseLong(snapshot.summary().getOrDefault("deleted-data-files", "0"));
    }
    assertThat(removedFiles)
        .as("data files compaction removed, which the index followed")
        .isPositive();
    assertThat(index.stats().duplicateKeys()).isZero();
    assertThat(index.stats().heapRows())
        .as("rows on the heap, all of them (lookups above were answered from there)")
        .isEqualTo(index.size());
  }

  /**
   * Decimals come back exact, whatever their size: those of at most 8 bytes are decoded without a
   * BigInteger, the others by Iceberg's conversion; from the heap and from RocksDB alike.
   */
  @Test
  void decimalsOfEverySizeAndSignComeBackExact() {
    Schema schema =
        new Schema(
            List.of(
                Types.NestedField.required(1, "id", Types.IntegerType.get()),
                Types.NestedField.optional(2, "small", Types.DecimalType.of(10, 2)),
                Types.NestedField.optional(3, "long", Types.DecimalType.of(19, 4)),
                Types.NestedField.optional(4, "wide", Types.DecimalType.of(38, 10))),
            Set.of(1));
    Table decimals = catalog.createTable(TableIdentifier.of("shop", "decimals"), schema);
    List<BigDecimal[]> expected = new ArrayList<>();
    for (String[] values :
        List.of(
            new String[] {"0.00", "0.0000", "0E-10"},
            new String[] {"-0.01", "-0.0001", "-1E-10"},
            new String[] {"1.27", "1.2800", "1.2900000000"},
            new String[] {"-1.28", "-1.2900", "-1.3000000000"},
            new String[] {"327.67", "-327.6800", "327.6900000000"},
            new String[] {
              "99999999.99", "99999999999999.9999", "9999999999999999999999999999.9999999999"
            },
            new String[] {
              "-99999999.99", "-99999999999999.9999", "-9999999999999999999999999999.9999999999"
            },
            new String[] {"21474836.47", "922337203685477.5807", "92233720368547758.0800000000"},
            new String[] {
              "-21474836.48", "-922337203685477.5808", "-92233720368547758.0900000000"
            })) {
      expected.add(
          new BigDecimal[] {
            new BigDecimal(values[0]), new BigDecimal(values[1]), new BigDecimal(values[2])
          });
    }
    CdcTableWriter writer = CdcTableWriter.open(decimals);
    for (int id = 0; id < expected.size(); id++) {
      GenericRecord row = GenericRecord.create(schema);
      row.setField("id", id);
      row.setField("small", expected.get(id)[0]);
      row.setField("long", expected.get(id)[1]);
      row.setField("wide", expected.get(id)[2]);
      writer.upsert(row, null);
    }
    writer.commit(Map.of());
    for (long memory : new long[] {8L << 20, 0}) {
      ReferenceIndex index =
          ReferenceIndex.open(
              decimals,
              List.of("id"),
              List.of("small", "long", "wide"),
              indexes.resolve("decimals-" + memory),
              memory,
              OptionalLong.empty());
      opened.add(index);
      for (int id = 0; id < expected.size(); id++) {
        assertThat(index.lookup(List.of(id)).orElseThrow())
            .as("row %d with %d bytes of heap", id, memory)
            .containsExactly((Object[]) expected.get(id));
      }
    }
  }

  @Test
  void aRollbackIsReadAgainInFull() {
    CdcTableWriter writer = CdcTableWriter.open(table);
    writer.upsert(row(1, "a", new BigDecimal("1.00")), null);
    writer.commit(Map.of());
    long first = table.currentSnapshot().snapshotId();
    writer.upsert(row(2, "b", new BigDecimal("10.00")), null);
    writer.delete(row(1, null, null));
    writer.commit(Map.of());
    ReferenceIndex index = open(OptionalLong.empty(), 4L << 20);
    assertThat(index.lookup(List.of(1))).isEmpty();
    table.manageSnapshots().rollbackTo(first).commit();
    ReferenceIndex.Refresh refresh = index.refresh();
    assertThat(refresh.rebuilt()).isTrue();
    assertThat(refresh.reason()).contains("is not an ancestor");
    assertEqualsTable(index);
    assertThat(index.lookup(List.of(1)).map(Arrays::asList))
        .contains(Arrays.asList("a", new BigDecimal("1.00"), LocalDate.of(2026, 12, 7)));
  }

  @Test
  void timeTravelsToAnOlderSnapshotAndCatchesUp() {
    CdcTableWriter writer = CdcTableWriter.open(table);
    writer.upsert(row(1, "a", new BigDecimal("1.00")), null);
    writer.commit(Map.of());
    long first = table.currentSnapshot().snapshotId();
    writer.upsert(row(1, "a2", new BigDecimal("1.00")), null);
    writer.upsert(row(3, "c", new BigDecimal("1.00")), null);
    writer.commit(Map.of());
    ReferenceIndex index = open(OptionalLong.of(first), 4L << 20);
    assertThat(index.snapshotId()).hasValue(first);
    assertThat(index.lookup(List.of(1)).get()[0]).isEqualTo("a");
    assertThat(index.lookup(List.of(3))).isEmpty();
    ReferenceIndex.Refresh refresh = index.refresh();
    assertThat(refresh.rebuilt()).isFalse();
    assertThat(index.lookup(List.of(1)).get()[0]).isEqualTo("a2");
    assertEqualsTable(index);
    assertThat(index.moveTo(first).rebuilt()).isTrue();
    assertThat(index.lookup(List.of(3))).isEmpty();
  }

  @Test
  void aMissingColumnIsRefusedWithTheTablesColumns() {
    FloeException failure =
        catchThrowableOfType(
            FloeException.class,
            () ->
                ReferenceIndex.open(
                    table,
                    List.of("id"),
                    List.of("colour"),
                    indexes.resolve("missing"),
                    4L << 20,
                    OptionalLong.empty()));
    assertThat(failure.code()).isEqualTo(ErrorCode.CONFIG_INVALID);
    assertThat(failure.getMessage()).contains("has no column colour", "[id, name, price, since]");
  }

  /**
   * A reference much larger than the index's memory: every lookup equals the table, and the store's
   * memory stays within its budget (the rest is on disk).
   */
  @Test
  void aReferenceLargerThanItsMemoryGivesTheSameAnswersWithinTheBudget() {
    CdcTableWriter writer = CdcTableWriter.open(table);
    writer.setCompactionEnabled(false);
    int rows = 300_000;
    Random text = new Random(11);
    String[] names = new String[rows];
    for (int id = 0; id < rows; id++) {
      StringBuilder name = new StringBuilder(200);
      for (int c = 0; c < 200; c++) {
        name.append((char) ('a' + text.nextInt(26)));
      }
      names[id] = name.toString();
      writer.upsert(row(id, names[id], BigDecimal.valueOf(id, 2)), null);
      if (id % 100_000 == 99_999) {
        writer.commit(Map.of());
      }
    }
    writer.commit(Map.of());
    long budget = 8L << 20;
    long started = System.nanoTime();
    ReferenceIndex index = open(OptionalLong.empty(), budget);
    long buildMillis = (System.nanoTime() - started) / 1_000_000;
    ReferenceIndex.Stats built = index.stats();
    started = System.nanoTime();
    Random random = new Random(7);
    for (int i = 0; i < rows; i++) {
      int id = i % 2 == 0 ? i : random.nextInt(rows);
      Object[] values = index.lookup(List.of(id)).orElseThrow();
      assertThat(values[0]).isEqualTo(names[id]);
      assertThat(values[1]).isEqualTo(BigDecimal.valueOf(id, 2));
    }
    assertThat(index.lookup(List.of(rows))).isEmpty();
    List<List<Object>> batch = new ArrayList<>();
    for (int id = rows - 1_000; id <= rows; id++) {
      batch.add(List.of(id));
    }
    List<Optional<Object[]>> batchFound = index.lookupAll(batch);
    for (int i = 0; i < 1_000; i++) {
      assertThat(batchFound.get(i).orElseThrow()[0]).isEqualTo(names[rows - 1_000 + i]);
    }
    assertThat(batchFound.get(1_000)).isEmpty();
    double lookupsPerSecond = rows / ((System.nanoTime() - started) / 1e9);
    ReferenceIndex.Stats after = index.stats();
    long slack = 2L << 20;
    System.out.printf(
        "ReferenceIndex: %,d rows (~%,d MB of values) built in %,d ms; store memory %,d KB after"
            + " the build, %,d KB after %,d lookups (budget %,d KB); %,d KB on disk; %,.0f"
            + " lookups/s%n",
        after.rows(),
        (rows * 200L) >> 20,
        buildMillis,
        built.memoryBytes() >> 10,
        after.memoryBytes() >> 10,
        rows,
        budget >> 10,
        after.diskBytes() >> 10,
        lookupsPerSecond);
    assertThat(after.rows()).isEqualTo(rows);
    assertThat(built.memoryBytes()).isLessThanOrEqualTo(budget + slack);
    assertThat(after.memoryBytes()).isLessThanOrEqualTo(budget + slack);
    assertThat(after.diskBytes()).as("most of the index is on disk").isGreaterThan(budget);
    assertThat(after.heapRows()).as("rows on the heap").isPositive().isLessThan(rows / 10);
  }

  /**
   * A rewrite of every data file into one (as a compaction by another engine does), then more
   * deletes against the rewritten file: followed without a rebuild.
   */
  @Test
  void followsARewriteOfItsFilesAndDeletesAfterIt() throws IOException {
    CdcTableWriter writer = CdcTableWriter.open(table);
    writer.setCompactionEnabled(false);
    for (int commit = 0; commit < 3; commit++) {
      for (int id = commit; id < 60; id += 2) {
        writer.upsert(row(id, "v" + commit + "-" + id, new BigDecimal("2.00")), null);
      }
      writer.delete(row(commit * 7, null, null));
      writer.commit(Map.of());
    }
    ReferenceIndex index = open(OptionalLong.empty(), 4L << 20);
    assertEqualsTable(index);
    table.refresh();
    Set<DataFile> dataFiles = new HashSet<>();
    Set<DeleteFile> deleteFiles = new HashSet<>();
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      for (FileScanTask task : tasks) {
        dataFiles.add(task.file());
        deleteFiles.addAll(task.deletes());
      }
    }
    DataWriter<Record> rewritten =
        Parquet.writeData(
                table.io().newOutputFile(table.locationProvider().newDataLocation("r.parquet")))
            .forTable(table)
            .createWriterFunc(GenericParquetWriter::create)
            .withSpec(table.spec())
            .overwrite()
            .build();
    try (CloseableIterable<Record> live = IcebergGenerics.read(table).build()) {
      for (Record record : live) {
        rewritten.write(record);
      }
    }
    rewritten.close();
    RewriteFiles rewrite =
        table.newRewrite().validateFromSnapshot(table.currentSnapshot().snapshotId());
    dataFiles.forEach(rewrite::deleteFile);
    deleteFiles.forEach(rewrite::deleteFile);
    rewrite.addFile(rewritten.toDataFile()).commit();
    ReferenceIndex.Refresh refresh = index.refresh();
    assertThat(refresh.rebuilt()).isFalse();
    assertEqualsTable(index);
    writer = CdcTableWriter.open(table);
    writer.delete(row(1, null, null));
    writer.delete(row(4, null, null));
    writer.upsert(row(5, "after", new BigDecimal("3.00")), null);
    writer.commit(Map.of());
    refresh = index.refresh();
    assertThat(refresh.rebuilt()).isFalse();
    assertThat(refresh.rowsRemoved()).isPositive();
    assertEqualsTable(index);
    assertThat(index.lookup(List.of(1))).isEmpty();
  }

  /** Equality deletes (written by another engine) cannot be followed: the index is built again. */
  @Test
  void anEqualityDeleteIsReadAgainInFull() throws IOException {
    CdcTableWriter writer = CdcTableWriter.open(table);
    for (int id = 0; id < 20; id++) {
      writer.upsert(row(id, "n" + id, new BigDecimal("1.00")), null);
    }
    writer.commit(Map.of());
    ReferenceIndex index = open(OptionalLong.empty(), 4L << 20);
    Schema idOnly = table.schema().select("id");
    EqualityDeleteWriter<Record> deletes =
        Parquet.writeDeletes(
                table.io().newOutputFile(table.locationProvider().newDataLocation("eq.parquet")))
            .forTable(table)
            .rowSchema(idOnly)
            .createWriterFunc(GenericParquetWriter::create)
            .equalityFieldIds(1)
            .withSpec(table.spec())
            .overwrite()
            .buildEqualityWriter();
    for (int id : List.of(3, 7, 11)) {
      GenericRecord key = GenericRecord.create(idOnly);
      key.setField("id", id);
      deletes.write(key);
    }
    deletes.close();
    table.newRowDelta().addDeletes(deletes.toDeleteFile()).commit();
    ReferenceIndex.Refresh refresh = index.refresh();
    assertThat(refresh.rebuilt()).isTrue();
    assertThat(refresh.reason()).contains("equality");
    assertEqualsTable(index);
    assertThat(index.lookup(List.of(7))).isEmpty();
    table.newAppend().commit();
    refresh = index.refresh();
    assertThat(refresh.rebuilt())
        .as("an index built with equality deletes is built again")
        .isTrue();
    assertEqualsTable(index);
  }

  @Test
  void aKeyOfTheWrongLengthIsRefused() {
    ReferenceIndex index = open(OptionalLong.empty(), 4L << 20);
    assertThatThrownBy(() -> index.lookup(List.of(1, 2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("a key has 1 values, of the columns [id]");
  }

  @Test
  void aDirectoryWithAnOldIndexStartsEmpty() {
    CdcTableWriter writer = CdcTableWriter.open(table);
    writer.upsert(row(1, "a", new BigDecimal("1.00")), null);
    writer.commit(Map.of());
    Path directory = indexes.resolve("reused");
    ReferenceIndex.open(table, List.of("id"), VALUES, directory, 4L << 20, OptionalLong.empty())
        .close();
    writer.delete(row(1, null, null));
    writer.commit(Map.of());
    try (ReferenceIndex index =
        ReferenceIndex.open(
            table, List.of("id"), VALUES, directory, 4L << 20, OptionalLong.empty())) {
      assertThat(index.lookup(List.of(1))).isEmpty();
      assertThat(index.size()).isZero();
    }
  }

  /** Small commits to a large reference cost little to follow: a figure, printed. */
  @Test
  void followingSmallCommitsToALargeReferenceIsCheap() {
    CdcTableWriter writer = CdcTableWriter.open(table);
    int rows = 100_000;
    for (int id = 0; id < rows; id++) {
      writer.upsert(row(id, "p" + id, BigDecimal.valueOf(id, 2)), null);
    }
    writer.commit(Map.of());
    ReferenceIndex index = open(OptionalLong.empty(), 8L << 20);
    Random random = new Random(5);
    long followNanos = 0;
    long rowsPut = 0;
    int commits = 100;
    for (int commit = 0; commit < commits; commit++) {
      for (int i = 0; i < 10; i++) {
        writer.upsert(row(random.nextInt(rows), "v" + commit, BigDecimal.valueOf(i, 2)), null);
      }
      writer.commit(Map.of());
      long started = System.nanoTime();
      ReferenceIndex.Refresh refresh = index.refresh();
      followNanos += System.nanoTime() - started;
      rowsPut += refresh.rowsPut();
      assertThat(refresh.rebuilt()).isFalse();
    }
    System.out.printf(
        "ReferenceIndex: followed %d commits of 10 updates to a %,d-row table in %.1f ms each on"
            + " average, %,d rows read%n",
        commits, rows, followNanos / 1e6 / commits, rowsPut);
    assertEqualsTable(index);
  }

  private ReferenceIndex open(OptionalLong snapshot, long memory) {
    ReferenceIndex index =
        ReferenceIndex.open(
            table,
            List.of("id"),
            VALUES,
            indexes.resolve("index-" + opened.size()),
            memory,
            snapshot);
    opened.add(index);
    return index;
  }

  private void assertEqualsTable(ReferenceIndex index) {
    table.refresh();
    Map<Integer, List<Object>> expected = new HashMap<>();
    if (table.currentSnapshot() != null) {
      try (CloseableIterable<Record> rows =
          IcebergGenerics.read(table).useSnapshot(index.snapshotId().getAsLong()).build()) {
        for (Record row : rows) {
          expected.put(
              (Integer) row.getField("id"),
              Arrays.asList(row.getField("name"), row.getField("price"), row.getField("since")));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    assertThat(index.size()).isEqualTo(expected.size());
    for (int id = 0; id < 130; id++) {
      Optional<Object[]> found = index.lookup(List.of(id));
      assertThat(found.map(Arrays::asList))
          .as("key %s", id)
          .isEqualTo(Optional.ofNullable(expected.get(id)));
    }
  }

  private static BigDecimal price(Random random) {
    return BigDecimal.valueOf(random.nextInt(100_000), 2);
  }

  private static Record row(int id, String name, BigDecimal price) {
    GenericRecord row = GenericRecord.create(SCHEMA);
    row.setField("id", id);
    row.setField("name", name);
    row.setField("price", price);
    row.setField("since", name == null ? null : LocalDate.of(2026, 12, 7));
    return row;
  }
}
