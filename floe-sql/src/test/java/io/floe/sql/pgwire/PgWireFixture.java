package io.floe.sql.pgwire;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.CdcTableWriter;
import io.floe.sql.QueryEngine;
import io.floe.sql.SqlUsers;
import io.floe.sql.TestEngines;
import io.floe.sql.Workgroup;
import io.floe.testing.CdcTables;
import io.floe.testing.SalesTable;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;

/**
 * A warehouse with two tables written through the CDC writer (inserts, updates and deletes), a
 * query engine over it and a PostgreSQL endpoint on loopback.
 *
 * <p>{@code raw.sales}: ids 1 to 10 with amount id * 10, then id 3 deleted and id 4 set to 1000.
 * {@code raw.orders}: ids 1 to 100, customer {@code c<id % 7>}, ordered 2024-01-01 plus (id - 1)
 * days, amount id + 0.50; then ids 10, 20, ... 100 deleted and ids 1 to 5 given amount 999.99.
 */
final class PgWireFixture implements AutoCloseable {
  static final String USER = "analyst";
  static final String PASSWORD = "pencil-Ünïcode-42";

  private static final Schema ORDERS =
      new Schema(
          List.of(
              Types.NestedField.required(1, "id", Types.LongType.get()),
              Types.NestedField.optional(2, "customer", Types.StringType.get()),
              Types.NestedField.optional(3, "ordered", Types.DateType.get()),
              Types.NestedField.optional(4, "amount", Types.DecimalType.of(10, 2))),
          Set.of(1));

  private final JdbcCatalog catalog;
  private final QueryEngine engine;
  private final PgWireServer server;

  private PgWireFixture(JdbcCatalog catalog, QueryEngine engine, PgWireServer server) {
    this.catalog = catalog;
    this.engine = engine;
    this.server = server;
  }

  static PgWireFixture start(Path warehouse, Duration queryTimeout) {
    JdbcCatalog catalog =
        FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
    catalog.createNamespace(Namespace.of("raw"));
    writeSales(catalog);
    writeOrders(catalog);
    QueryEngine engine = TestEngines.open(catalog, warehouse);
    PgWireServer server = new PgWireServer(engine, users(), "127.0.0.1", 0, queryTimeout);
    server.start();
    return new PgWireFixture(catalog, engine, server);
  }

  /** The one SQL user: {@link #USER} with {@link #PASSWORD}. */
  static SqlUsers users() {
    return new SqlUsers(List.of(new SqlUsers.User(USER, PASSWORD, Workgroup.PRIMARY)));
  }

  private static void writeSales(JdbcCatalog catalog) {
    CdcTableWriter writer = SalesTable.create(catalog);
    writer.delete(SalesTable.key(3));
    writer.upsert(SalesTable.row(4, 1000), null);
    writer.commit(Map.of());
  }

  private static void writeOrders(JdbcCatalog catalog) {
    Table table = CdcTables.create(catalog, TableIdentifier.of("raw", "orders"), ORDERS);
    CdcTableWriter writer = CdcTableWriter.open(table);
    for (long id = 1; id <= 100; id++) {
      writer.upsert(order(id, new BigDecimal(id + ".50")), null);
    }
    writer.commit(Map.of());
    for (long id = 10; id <= 100; id += 10) {
      writer.delete(order(id, BigDecimal.ZERO));
    }
    for (long id = 1; id <= 5; id++) {
      writer.upsert(order(id, new BigDecimal("999.99")), null);
    }
    writer.commit(Map.of());
  }

  private static Record order(long id, BigDecimal amount) {
    GenericRecord record = GenericRecord.create(ORDERS);
    record.set(0, id);
    record.set(1, "c" + (id % 7));
    record.set(2, LocalDate.of(2024, 1, 1).plusDays(id - 1));
    record.set(3, amount);
    return record;
  }

  int port() {
    return server.port();
  }

  QueryEngine engine() {
    return engine;
  }

  String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port() + "/floe";
  }

  Connection connect() throws SQLException {
    return connect(new Properties());
  }

  Connection connect(Properties extra) throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", USER);
    properties.setProperty("password", PASSWORD);
    properties.setProperty("sslmode", "disable");
    properties.putAll(extra);
    return DriverManager.getConnection(jdbcUrl(), properties);
  }

  @Override
  public void close() throws Exception {
    server.close();
    catalog.close();
  }
}
