package io.floe.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.testing.CdcTables;
import io.floe.testing.S3Server;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.aws.s3.S3FileIO;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file cache against real object storage: an Iceberg table on an S3 API server (s3proxy on
 * loopback), read through Iceberg's {@link S3FileIO}, with the cached copies read by DuckDB.
 */
class FileCacheS3IT {
  private static final String BUCKET = "warehouse";
  private static final int FILES = 3;
  private static final int ROWS_PER_FILE = 1000;

  private static final Schema SCHEMA =
      new Schema(
          Types.NestedField.required(1, "id", Types.LongType.get()),
          Types.NestedField.optional(2, "x", Types.LongType.get()));

  @TempDir static Path temp;

  private static S3Server s3;
  private static JdbcCatalog catalog;
  private static Table table;
  private static long expectedSum;

  @BeforeAll
  static void startStorageAndWriteTable() throws Exception {
    s3 = S3Server.start(BUCKET);
    catalog = FloeCatalog.open(s3.warehouse("tables", temp), CatalogConfig.defaults());
    catalog.createNamespace(Namespace.of("shop"));
    table =
        catalog.createTable(
            TableIdentifier.of("shop", "events"), SCHEMA, PartitionSpec.unpartitioned());
    assertThat(table.location()).startsWith("s3://" + BUCKET + "/");

    AppendFiles append = table.newAppend();
    long id = 0;
    for (int file = 0; file < FILES; file++) {
      String location = table.locationProvider().newDataLocation("part-" + file + ".parquet");
      DataWriter<Record> writer =
          Parquet.writeData(table.io().newOutputFile(location))
              .schema(SCHEMA)
              .withSpec(table.spec())
              .createWriterFunc(GenericParquetWriter::create)
              .overwrite()
              .build();
      try (writer) {
        for (int row = 0; row < ROWS_PER_FILE; row++) {
          GenericRecord record = GenericRecord.create(SCHEMA);
          record.setField("id", id);
          record.setField("x", id * 3 + file);
          expectedSum += id * 3 + file;
          writer.write(record);
          id++;
        }
      }
      append.appendFile(writer.toDataFile());
    }
    append.commit();
  }

  @AfterAll
  static void stop() throws Exception {
    if (table != null) {
      table.io().close();
    }
    if (catalog != null) {
      catalog.close();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  /** The table's data files in planning order: location → length, as Iceberg recorded them. */
  private static Map<String, Long> plannedFiles() throws IOException {
    Map<String, Long> files = new LinkedHashMap<>();
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      for (FileScanTask task : tasks) {
        DataFile file = task.file();
        files.put(file.location(), file.fileSizeInBytes());
      }
    }
    assertThat(files)
        .hasSize(FILES)
        .allSatisfy((location, length) -> assertThat(location).startsWith("s3://"));
    return files;
  }

  @Test
  void cachedCopiesOfS3FilesReadInDuckDb() throws Exception {
    Map<String, Long> files = plannedFiles();
    long totalBytes = files.values().stream().mapToLong(Long::longValue).sum();

    try (FileCache cache = new FileCache(temp.resolve("cache-all"), 64L << 20)) {
      List<Path> paths = new ArrayList<>();
      try (FileCache.Lease lease = cache.acquire(table.io(), files)) {
        for (String location : files.keySet()) {
          Path path = lease.path(location);
          assertThat(path).isRegularFile().hasParent(cache.directory());
          assertThat(path.toFile().length()).isEqualTo(files.get(location));
          paths.add(path);
        }
        assertThat(countAndSum(paths)).containsExactly((long) FILES * ROWS_PER_FILE, expectedSum);
      }
      assertThat(cache.misses()).isEqualTo(FILES);
      assertThat(cache.hits()).isZero();
      assertThat(cache.bytes()).isEqualTo(totalBytes);
      assertThat(cache.files()).isEqualTo(FILES);

      try (FileCache.Lease lease = cache.acquire(table.io(), files)) {
        List<Path> again = files.keySet().stream().map(lease::path).collect(Collectors.toList());
        assertThat(again).isEqualTo(paths);
        assertThat(countAndSum(again)).containsExactly((long) FILES * ROWS_PER_FILE, expectedSum);
      }
      assertThat(cache.hits()).isEqualTo(FILES);
      assertThat(cache.misses()).isEqualTo(FILES);
    }
  }

  @Test
  void queryEngineReadsS3TablesWithDeletesThroughTheCache() throws Exception {
    Schema schema =
        new Schema(
            List.of(
                Types.NestedField.required(1, "id", Types.LongType.get()),
                Types.NestedField.optional(2, "qty", Types.IntegerType.get())),
            java.util.Set.of(1));
    Table orders = CdcTables.create(catalog, TableIdentifier.of("shop", "orders"), schema);
    io.floe.core.writer.CdcTableWriter writer = io.floe.core.writer.CdcTableWriter.open(orders);
    for (long id = 1; id <= 500; id++) {
      GenericRecord row = GenericRecord.create(schema);
      row.setField("id", id);
      row.setField("qty", (int) (id % 10));
      writer.upsert(row, null);
    }
    writer.commit(Map.of());
    for (long id = 1; id <= 100; id++) {
      GenericRecord key = GenericRecord.create(schema);
      key.setField("id", id);
      writer.delete(key);
    }
    writer.commit(Map.of());
    assertThat(writer.deleteFileCount()).isPositive();

    try (QueryEngine engine =
        TestEngines.open(
            catalog,
            temp,
            new QueryEngine.Settings(
                1_000_000, temp.resolve("engine-work"), 64L << 20, 64L << 20, 1))) {
      for (int run = 0; run < 2; run++) {
        assertThat(engine.queryAll("SELECT count(*), min(id), sum(qty) FROM shop.orders"))
            .containsExactly(List.of(400L, 101L, java.math.BigInteger.valueOf(1800)));
      }
      // The file with deletes is held resident, loaded from its cached copy, and read from there.
      long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
      while (engine.residentFileCount() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(engine.residentFileCount()).isEqualTo(1);
      long residentBefore = engine.residentQueries();
      assertThat(engine.queryAll("SELECT count(*), min(id), sum(qty) FROM shop.orders"))
          .containsExactly(List.of(400L, 101L, java.math.BigInteger.valueOf(1800)));
      assertThat(engine.residentQueries()).isEqualTo(residentBefore + 1);
      assertThat(engine.queryAll("SELECT count(*), sum(x) FROM shop.events"))
          .containsExactly(
              List.of((long) FILES * ROWS_PER_FILE, java.math.BigInteger.valueOf(expectedSum)));
    }
  }

  @Test
  void smallCacheEvictsAndRefusesWhatDoesNotFit() throws Exception {
    Map<String, Long> files = plannedFiles();
    long totalBytes = files.values().stream().mapToLong(Long::longValue).sum();
    List<String> locations = new ArrayList<>(files.keySet());

    try (FileCache cache = new FileCache(temp.resolve("cache-small"), totalBytes - 1)) {
      List<Path> paths = new ArrayList<>();
      for (String location : locations) {
        try (FileCache.Lease lease =
            cache.acquire(table.io(), Map.of(location, files.get(location)))) {
          paths.add(lease.path(location));
          assertThat(countAndSum(List.of(lease.path(location))).get(0)).isEqualTo(ROWS_PER_FILE);
        }
      }
      // The first file was the least recently used when the last one needed room.
      assertThat(paths.get(0)).doesNotExist();
      assertThat(paths.get(1)).exists();
      assertThat(paths.get(2)).exists();
      assertThat(cache.files()).isEqualTo(FILES - 1);
      assertThat(cache.bytes()).isLessThanOrEqualTo(totalBytes - 1);

      String first = locations.get(0);
      try (FileCache.Lease lease = cache.acquire(table.io(), Map.of(first, files.get(first)))) {
        assertThat(countAndSum(List.of(lease.path(first))).get(0)).isEqualTo(ROWS_PER_FILE);
      }
      assertThat(cache.misses()).isEqualTo(FILES + 1);
      assertThat(cache.hits()).isZero();

      assertThatThrownBy(() -> cache.acquire(table.io(), files))
          .isInstanceOfSatisfying(
              FloeException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.SQL_LIMIT_EXCEEDED))
          .hasMessage(
              "Cannot cache the files of the query: they need "
                  + totalBytes
                  + " bytes, more than the file cache size of "
                  + (totalBytes - 1)
                  + " bytes; raise sql.cache-size");
    }
  }

  private static List<Long> countAndSum(List<Path> paths) throws SQLException {
    String list =
        paths.stream()
            .map(path -> "'" + path.toString().replace("'", "''") + "'")
            .collect(Collectors.joining(", ", "[", "]"));
    try (Connection connection = DriverManager.getConnection("jdbc:duckdb:");
        Statement statement = connection.createStatement();
        ResultSet result =
            statement.executeQuery("SELECT count(*), sum(x) FROM read_parquet(" + list + ")")) {
      assertThat(result.next()).isTrue();
      return List.of(result.getLong(1), result.getLong(2));
    }
  }
}
