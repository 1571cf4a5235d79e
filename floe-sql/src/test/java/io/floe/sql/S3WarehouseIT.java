package io.floe.sql;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.FloeConfig;
import io.floe.core.config.FloeConfigLoader;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.CdcTableWriter;
import io.floe.testing.CdcTables;
import io.floe.testing.S3Server;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A warehouse in object storage (s3proxy on loopback) configured as users write it: a CDC table
 * written by {@link CdcTableWriter} through {@link FloeCatalog}, and read back by the SQL engine,
 * whose work files and cache live in the local state directory.
 */
class S3WarehouseIT {
  private static final org.apache.iceberg.Schema SCHEMA =
      new org.apache.iceberg.Schema(
          List.of(
              Types.NestedField.required(1, "id", Types.LongType.get()),
              Types.NestedField.optional(2, "name", Types.StringType.get()),
              Types.NestedField.optional(3, "qty", Types.IntegerType.get())),
          Set.of(1));
  private static final TableIdentifier ORDERS = TableIdentifier.of("shop", "orders");

  private static S3Server s3;

  @TempDir Path directory;

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
  void cdcTableWrittenToS3ReadsBackThroughTheSqlEngine() throws Exception {
    FloeConfig config =
        FloeConfigLoader.parse(
            """
            warehouse: s3://lake/warehouses/shop/
            state-directory: ./state
            storage:
              endpoint: %s
              path-style-access: true
              access-key-id: ${S3_ACCESS_KEY_ID}
              secret-access-key: ${S3_SECRET_ACCESS_KEY}
            """
                .formatted(s3.endpoint()),
            directory,
            Map.of(
                "S3_ACCESS_KEY_ID",
                S3Server.ACCESS_KEY_ID,
                "S3_SECRET_ACCESS_KEY",
                S3Server.SECRET_ACCESS_KEY),
            "floe.yaml");
    WarehouseConfig warehouse = config.warehouse();
    assertThat(warehouse).isEqualTo(s3.warehouse("warehouses/shop", directory.resolve("state")));

    try (JdbcCatalog catalog = FloeCatalog.open(warehouse, CatalogConfig.defaults())) {
      Table table = CdcTables.create(catalog, ORDERS, SCHEMA);
      assertThat(table.location()).isEqualTo("s3://lake/warehouses/shop/shop/orders");
      CdcTableWriter writer = CdcTableWriter.open(table);
      for (long id = 1; id <= 300; id++) {
        writer.upsert(row(id, "n" + id, (int) (id % 7)), null);
      }
      writer.commit(Map.of());
      for (long id = 1; id <= 50; id++) {
        writer.delete(row(id, null, null));
      }
      for (long id = 51; id <= 60; id++) {
        writer.update(row(id, null, null), row(id, "updated", 100), null);
      }
      writer.commit(Map.of());
      assertThat(writer.deleteFileCount()).isPositive();

      try (QueryEngine engine = TestEngines.open(catalog, warehouse.stateDirectory())) {
        assertThat(engine.queryAll("SELECT count(*), min(id), max(id) FROM shop.orders"))
            .containsExactly(List.of(250L, 51L, 300L));
        assertThat(
                engine.queryAll(
                    "SELECT count(*), sum(qty) FROM shop.orders WHERE name = 'updated'"))
            .containsExactly(List.of(10L, BigInteger.valueOf(1000)));
        assertThat(engine.queryAll("SELECT name, qty FROM shop.orders WHERE id = 61"))
            .containsExactly(List.of("n61", 5));
        // Time travel reads the first commit's files from object storage too.
        long first = catalog.loadTable(ORDERS).snapshots().iterator().next().snapshotId();
        assertThat(engine.queryAll("SELECT count(*) FROM shop.orders FOR VERSION AS OF " + first))
            .containsExactly(List.of(300L));
      }
    }

    // The state directory: the embedded catalog database and the engine's work files and cache
    // (copies of the remote files); the tables are in object storage only.
    Path state = directory.resolve("state");
    assertThat(state.resolve("catalog.db")).isRegularFile();
    assertThat(state.resolve(".floe/sql/cache")).isDirectory();
    try (Stream<Path> files = Files.list(state)) {
      assertThat(files.map(file -> file.getFileName().toString()))
          .allMatch(name -> name.startsWith("catalog.db") || name.equals(".floe"));
    }
    assertThat(warehouse.clientProperties(false))
        .containsEntry("s3.endpoint", s3.endpoint())
        .containsEntry("s3.path-style-access", "true")
        .containsEntry("client.region", "us-east-1")
        .doesNotContainKey("s3.secret-access-key");
  }

  private static GenericRecord row(long id, String name, Integer qty) {
    GenericRecord record = GenericRecord.create(SCHEMA);
    record.setField("id", id);
    record.setField("name", name);
    record.setField("qty", qty);
    return record;
  }
}
