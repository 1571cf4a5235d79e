package io.floe.sql.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.CdcTableWriter;
import io.floe.testing.CdcTables;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.HistoryEntry;
import org.apache.iceberg.ManifestContent;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.MetadataColumns;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotChanges;
import org.apache.iceberg.SnapshotRef;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;
import org.apache.iceberg.util.SnapshotUtil;
import org.duckdb.DuckDBAppender;
import org.duckdb.DuckDBConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The conformance suite's data: three tables of a shop written by Floe's {@link CdcTableWriter}
 * over several commits (inserts, updates, deletes, a key change, values left unchanged by the
 * source), a Java model of every table after every commit, and a plain DuckDB database holding what
 * each query must return:
 *
 * <ul>
 *   <li>{@code shop.customers}, {@code shop.orders}, {@code shop.items}: the current state;
 *   <li>{@code hist.<table>_v<N>}: the state after commit N (1-based);
 *   <li>{@code meta.<table>_snapshots}, {@code _history}, {@code _files}, {@code _manifests},
 *       {@code _partitions}, {@code _refs}: the metadata tables, computed with Iceberg's Java API.
 * </ul>
 *
 * <p>Commit 1 is a full load; commits 2 to 5 add data files and position deletes; commit 6 also
 * folds the small files into one (the writer's own compaction); commit 7 adds deletes again.
 *
 * <p>Orders also carry a tag {@code v2} (on commit 2) and a branch {@code audit} (on commit 3).
 */
final class ShopFixture implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ShopFixture.class);
  static final String NAMESPACE = "shop";
  static final List<String> TABLES = List.of("customers", "orders", "items");
  static final int COMMITS = 7;

  private static final DateTimeFormatter SNAPSHOT_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneOffset.UTC);

  static final Schema CUSTOMERS =
      new Schema(
          List.of(
              Types.NestedField.required(1, "id", Types.LongType.get()),
              Types.NestedField.optional(2, "name", Types.StringType.get()),
              Types.NestedField.optional(3, "region", Types.StringType.get()),
              Types.NestedField.optional(4, "signup", Types.DateType.get()),
              Types.NestedField.optional(5, "vip", Types.BooleanType.get())),
          Set.of(1));

  static final Schema ORDERS =
      new Schema(
          List.of(
              Types.NestedField.required(1, "id", Types.LongType.get()),
              Types.NestedField.optional(2, "customer_id", Types.LongType.get()),
              Types.NestedField.optional(3, "status", Types.StringType.get()),
              Types.NestedField.optional(4, "amount", Types.DecimalType.of(12, 2)),
              Types.NestedField.optional(5, "qty", Types.IntegerType.get()),
              Types.NestedField.optional(6, "created_at", Types.TimestampType.withZone()),
              Types.NestedField.optional(7, "note", Types.StringType.get())),
          Set.of(1));

  static final Schema ITEMS =
      new Schema(
          List.of(
              Types.NestedField.required(1, "order_id", Types.LongType.get()),
              Types.NestedField.required(2, "line", Types.IntegerType.get()),
              Types.NestedField.optional(3, "sku", Types.StringType.get()),
              Types.NestedField.optional(4, "price", Types.DoubleType.get())),
          Set.of(1, 2));

  private static final String[] FIRST_NAMES = {
    "Maria", "Mark", "Anna", "John", "Olga", "Peter", "Sofia", "Liam", "Emma", "Noah", "Mia",
    "Lucas", "Ava", "Ethan", "Zoe", "Hugo", "Ines", "Omar", "Yuki", "Ravi"
  };
  private static final String[] LAST_NAMES = {
    "Lopez", "Smith", "Novak", "Garcia", "Kim", "Muller", "Rossi", "Silva", "Dubois", "Jansen",
    "Ivanova", "Chen", "Patel", "Okafor", "Nagy", "Costa", "Berg", "Lund", "Sato", "Khan"
  };
  private static final String[] REGIONS = {"north", "south", "east", "west", "central"};
  private static final String[] STATUSES = {
    "pending", "paid", "shipped", "delivered", "cancelled", "returned"
  };
  private static final String[] NOTES = {
    "leave at door",
    "gift wrap",
    "fragile",
    "call on arrival",
    "100% recycled box",
    "use side_door",
    "express",
    "back door please"
  };
  private static final long CREATED_FROM =
      OffsetDateTime.of(2023, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC).toEpochSecond();
  private static final long CREATED_SPAN = 730L * 24 * 3600;

  record Customer(long id, String name, String region, LocalDate signup, boolean vip) {}

  record Order(
      long id,
      long customerId,
      String status,
      BigDecimal amount,
      int qty,
      OffsetDateTime createdAt,
      String note) {}

  record Item(long orderId, int line, String sku, double price) {}

  /** One committed snapshot of one table. */
  record Version(long snapshotId, long timestampMillis) {
    String time() {
      return SNAPSHOT_TIME.format(Instant.ofEpochMilli(timestampMillis));
    }
  }

  final JdbcCatalog catalog;
  final Path warehouse;
  final Connection expected;
  final Map<String, List<Version>> versions = new LinkedHashMap<>();

  private final Random random = new Random(20_240_611L);
  private final NavigableMap<Long, Customer> customers = new TreeMap<>();
  private final NavigableMap<Long, Order> orders = new TreeMap<>();
  private final NavigableMap<Long, Item> items = new TreeMap<>();
  private final Map<String, List<Map<Long, ?>>> history = new HashMap<>();
  private final Map<String, Table> tables = new LinkedHashMap<>();
  private final Map<String, CdcTableWriter> writers = new LinkedHashMap<>();
  private final Set<Long> deletedOrders = new HashSet<>();
  private final Set<Long> deletedCustomers = new HashSet<>();
  private long nextOrderId = 1;
  private long nextCustomerId = 1;

  ShopFixture(Path warehouse) throws SQLException, InterruptedException {
    this.warehouse = warehouse;
    this.catalog = FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
    catalog.createNamespace(Namespace.of(NAMESPACE));
    create("customers", CUSTOMERS);
    create("orders", ORDERS);
    create("items", ITEMS);
    long started = System.nanoTime();
    for (int round = 1; round <= COMMITS; round++) {
      long roundStarted = System.nanoTime();
      applyRound(round);
      long applied = System.nanoTime();
      commitAll(round);
      LOG.info(
          "Round {}: changes applied in {} ms, committed in {} ms",
          round,
          (applied - roundStarted) / 1_000_000,
          (System.nanoTime() - applied) / 1_000_000);
    }
    Table ordersTable = tables.get("orders");
    ordersTable
        .manageSnapshots()
        .createTag("v2", version("orders", 2).snapshotId())
        .createBranch("audit", version("orders", 3).snapshotId())
        .commit();
    long written = System.nanoTime();
    this.expected = DriverManager.getConnection("jdbc:duckdb:");
    loadExpected();
    LOG.info(
        "Conformance tables written in {} ms, expected data loaded in {} ms",
        (written - started) / 1_000_000,
        (System.nanoTime() - written) / 1_000_000);
  }

  /** The snapshot of {@code table} after commit {@code n} (1-based). */
  Version version(String table, int n) {
    return versions.get(table).get(n - 1);
  }

  /** Values for {@code ${...}} placeholders in the query file. */
  Map<String, String> placeholders() {
    Map<String, String> values = new LinkedHashMap<>();
    for (Map.Entry<String, List<Version>> entry : versions.entrySet()) {
      String table = entry.getKey();
      List<Version> list = entry.getValue();
      for (int i = 0; i < list.size(); i++) {
        Version v = list.get(i);
        String prefix = table + ".v" + (i + 1);
        values.put(prefix, Long.toString(v.snapshotId()));
        values.put(prefix + ".time", v.time());
        values.put(
            prefix + ".time_plus_02",
            SNAPSHOT_TIME
                .withZone(ZoneOffset.ofHours(2))
                .format(Instant.ofEpochMilli(v.timestampMillis())));
        // Between this commit and the next: time travel must pick this commit.
        values.put(
            prefix + ".time_after",
            SNAPSHOT_TIME.format(Instant.ofEpochMilli(v.timestampMillis() + 1)));
      }
      values.put(
          table + ".before_first",
          SNAPSHOT_TIME.format(Instant.ofEpochMilli(list.get(0).timestampMillis() - 86_400_000L)));
    }
    return values;
  }

  private void create(String name, Schema schema) {
    Table table = CdcTables.create(catalog, TableIdentifier.of(NAMESPACE, name), schema);
    tables.put(name, table);
    writers.put(name, CdcTableWriter.open(table));
    versions.put(name, new ArrayList<>());
    history.put(name, new ArrayList<>());
  }

  /**
   * Differences between the Java model of each table after each commit and what Iceberg's own
   * generic reader returns for that snapshot: none, unless the fixture itself is wrong.
   */
  List<String> modelMismatches() throws IOException {
    List<String> problems = new ArrayList<>();
    for (String name : TABLES) {
      Table table = catalog.loadTable(TableIdentifier.of(NAMESPACE, name));
      for (int v = 1; v <= COMMITS; v++) {
        Map<Long, Object> read = new TreeMap<>();
        int rows = 0;
        for (Record record : readSnapshot(table, version(name, v).snapshotId())) {
          Object row = fromRecord(name, record);
          read.put(keyOf(row), row);
          rows++;
        }
        Map<Long, ?> model = history.get(name).get(v - 1);
        if (rows != model.size() || !read.equals(model)) {
          long differing =
              model.entrySet().stream()
                  .filter(e -> !e.getValue().equals(read.get(e.getKey())))
                  .count();
          problems.add(
              name
                  + " after commit "
                  + v
                  + ": Iceberg reads "
                  + rows
                  + " rows, the model holds "
                  + model.size()
                  + "; "
                  + differing
                  + " model rows differ");
        }
      }
    }
    return problems;
  }

  /**
   * The rows of a table at a snapshot, read with Iceberg's scan planning and its Parquet reader
   * (position deletes applied here): a reader independent of DuckDB and of Floe's SQL engine.
   */
  private static List<Record> readSnapshot(Table table, long snapshotId) throws IOException {
    Map<String, Set<String>> deletesByFile = new LinkedHashMap<>();
    try (CloseableIterable<FileScanTask> tasks =
        table.newScan().useSnapshot(snapshotId).planFiles()) {
      for (FileScanTask task : tasks) {
        Set<String> deletes =
            deletesByFile.computeIfAbsent(task.file().location(), k -> new HashSet<>());
        for (DeleteFile delete : task.deletes()) {
          assertThat(delete.content()).isEqualTo(FileContent.POSITION_DELETES);
          deletes.add(delete.location());
        }
      }
    }
    Schema positions =
        new Schema(MetadataColumns.DELETE_FILE_PATH, MetadataColumns.DELETE_FILE_POS);
    Map<String, Set<Long>> deleted = new HashMap<>();
    Set<String> deleteFiles = new HashSet<>();
    deletesByFile.values().forEach(deleteFiles::addAll);
    LOG.info(
        "{} at snapshot {}: {} data files, {} position-delete files",
        table.name(),
        snapshotId,
        deletesByFile.size(),
        deleteFiles.size());
    for (String location : deleteFiles) {
      try (CloseableIterable<Record> rows =
          Parquet.read(table.io().newInputFile(location))
              .project(positions)
              .createReaderFunc(type -> GenericParquetReaders.buildReader(positions, type))
              .build()) {
        for (Record row : rows) {
          deleted
              .computeIfAbsent((String) row.getField("file_path"), k -> new HashSet<>())
              .add((Long) row.getField("pos"));
        }
      }
    }
    Schema schema = table.schemas().get(table.snapshot(snapshotId).schemaId());
    List<Record> result = new ArrayList<>();
    for (String location : deletesByFile.keySet()) {
      Set<Long> gone = deleted.getOrDefault(location, Set.of());
      try (CloseableIterable<Record> rows =
          Parquet.read(table.io().newInputFile(location))
              .project(schema)
              .createReaderFunc(type -> GenericParquetReaders.buildReader(schema, type))
              .build()) {
        long position = 0;
        for (Record row : rows) {
          if (!gone.contains(position)) {
            result.add(row.copy());
          }
          position++;
        }
      }
    }
    return result;
  }

  private static Object fromRecord(String table, Record r) {
    switch (table) {
      case "customers":
        return new Customer(
            (Long) r.getField("id"),
            (String) r.getField("name"),
            (String) r.getField("region"),
            (LocalDate) r.getField("signup"),
            (Boolean) r.getField("vip"));
      case "orders":
        return new Order(
            (Long) r.getField("id"),
            (Long) r.getField("customer_id"),
            (String) r.getField("status"),
            (BigDecimal) r.getField("amount"),
            (Integer) r.getField("qty"),
            ((OffsetDateTime) r.getField("created_at")).withOffsetSameInstant(ZoneOffset.UTC),
            (String) r.getField("note"));
      default:
        return new Item(
            (Long) r.getField("order_id"),
            (Integer) r.getField("line"),
            (String) r.getField("sku"),
            (Double) r.getField("price"));
    }
  }

  private static long keyOf(Object row) {
    if (row instanceof Customer) {
      return ((Customer) row).id();
    }
    if (row instanceof Order) {
      return ((Order) row).id();
    }
    Item it = (Item) row;
    return itemKey(it.orderId(), it.line());
  }

  // ---------------------------------------------------------------- changes

  private void applyRound(int round) {
    switch (round) {
      case 1:
        for (int i = 0; i < 2000; i++) {
          insertCustomer();
        }
        for (int i = 0; i < 18_000; i++) {
          insertOrderWithItems();
        }
        break;
      case 2:
        for (int i = 0; i < 40; i++) {
          insertCustomer();
        }
        for (long id : pick(customers, 100)) {
          Customer c = customers.get(id);
          updateCustomer(
              new Customer(
                  id, c.name(), REGIONS[random.nextInt(REGIONS.length)], c.signup(), !c.vip()));
        }
        for (int i = 0; i < 1000; i++) {
          insertOrderWithItems();
        }
        // Status changes as PostgreSQL reports them when the note is TOASTed: note left unchanged.
        for (long id : pick(orders, 1500)) {
          Order o = orders.get(id);
          updateOrderStatusOnly(id, nextStatus(o.status()));
        }
        for (long id : pick(orders, 300)) {
          Order o = orders.get(id);
          updateOrder(withAmount(o, randomAmount()));
        }
        for (long key : pick(items, 500)) {
          Item it = items.get(key);
          upsertItem(new Item(it.orderId(), it.line(), it.sku(), randomPrice()));
        }
        break;
      case 3:
        for (long id : pick(customers, 60)) {
          deleteCustomer(id);
        }
        for (long id : pick(customers, 30)) {
          Customer c = customers.get(id);
          updateCustomer(new Customer(id, randomName(), c.region(), c.signup(), c.vip()));
        }
        for (long id : pick(orders, 800)) {
          Order o = orders.get(id);
          Order changed = withAmount(o, randomAmount());
          updateOrder(
              new Order(
                  id,
                  changed.customerId(),
                  nextStatus(o.status()),
                  changed.amount(),
                  changed.qty(),
                  changed.createdAt(),
                  changed.note()));
        }
        for (long id : pick(orders, 300)) {
          deleteOrderWithItems(id);
        }
        for (long key : pick(items, 2000)) {
          Item it = items.get(key);
          upsertItem(new Item(it.orderId(), it.line(), it.sku(), randomPrice()));
        }
        break;
      case 4:
        for (int i = 0; i < 20; i++) {
          insertCustomer();
        }
        for (long id : pick(customers, 50)) {
          Customer c = customers.get(id);
          updateCustomer(new Customer(id, c.name(), null, c.signup(), c.vip()));
        }
        for (int i = 0; i < 1000; i++) {
          insertOrderWithItems();
        }
        for (long id : pick(orders, 700)) {
          Order o = orders.get(id);
          String note = o.note() == null ? NOTES[random.nextInt(NOTES.length)] : null;
          updateOrder(
              new Order(id, o.customerId(), o.status(), o.amount(), o.qty(), o.createdAt(), note));
        }
        for (long key : pick(items, 300)) {
          deleteItem(key);
        }
        break;
      case 5:
        for (long id : pick(customers, 30)) {
          deleteCustomer(id);
        }
        for (long id : pick(customers, 30)) {
          Customer c = customers.get(id);
          updateCustomer(new Customer(id, c.name(), c.region(), c.signup(), !c.vip()));
        }
        for (long id : pick(orders, 500)) {
          Order o = orders.get(id);
          updateOrder(
              new Order(
                  id,
                  o.customerId(),
                  o.status(),
                  randomAmount(),
                  1 + random.nextInt(10),
                  o.createdAt(),
                  o.note()));
        }
        for (long id : pick(orders, 150)) {
          deleteOrderWithItems(id);
        }
        // Key changes: reported as an update whose before image has the old key.
        for (long id : pick(orders, 10)) {
          Order o = orders.get(id);
          long newId = 50_000 + id;
          changeOrderKey(
              id,
              new Order(
                  newId, o.customerId(), o.status(), o.amount(), o.qty(), o.createdAt(), o.note()));
        }
        for (long id : pick(orders, 200)) {
          int line = 6 + random.nextInt(3);
          upsertItem(new Item(id, line, randomSku(), randomPrice()));
        }
        for (long key : pick(items, 1000)) {
          Item it = items.get(key);
          upsertItem(new Item(it.orderId(), it.line(), it.sku(), randomPrice()));
        }
        break;
      case 6:
        for (long id : pickFrom(deletedCustomers, 10)) {
          upsertCustomer(randomCustomer(id));
        }
        for (long id : pick(customers, 20)) {
          Customer c = customers.get(id);
          updateCustomer(new Customer(id, c.name(), c.region(), c.signup(), !c.vip()));
        }
        for (long id : pickFrom(deletedOrders, 20)) {
          upsertOrder(randomOrder(id));
        }
        for (long id : pick(orders, 300)) {
          updateOrderStatusOnly(id, "returned");
        }
        for (long id : pick(orders, 100)) {
          deleteOrderWithItems(id);
        }
        for (long key : pick(items, 400)) {
          Item it = items.get(key);
          upsertItem(new Item(it.orderId(), it.line(), randomSku(), randomPrice()));
        }
        for (long key : pick(items, 100)) {
          deleteItem(key);
        }
        break;
      case 7:
        // After commit 6 folded the small files together: the current state again carries
        // position deletes (updates and deletes of rows in the compacted file).
        for (long id : pick(customers, 40)) {
          Customer c = customers.get(id);
          updateCustomer(new Customer(id, c.name(), c.region(), c.signup().plusDays(1), c.vip()));
        }
        for (long id : pick(customers, 15)) {
          deleteCustomer(id);
        }
        for (int i = 0; i < 200; i++) {
          insertOrderWithItems();
        }
        for (long id : pick(orders, 400)) {
          Order o = orders.get(id);
          updateOrder(withAmount(o, o.amount().add(BigDecimal.ONE)));
        }
        for (long id : pick(orders, 80)) {
          deleteOrderWithItems(id);
        }
        for (long key : pick(items, 300)) {
          Item it = items.get(key);
          upsertItem(new Item(it.orderId(), it.line(), it.sku(), it.price() * 1.1));
        }
        break;
      default:
        throw new IllegalArgumentException("no round " + round);
    }
  }

  private void commitAll(int round) throws InterruptedException {
    for (String name : TABLES) {
      CdcTableWriter writer = writers.get(name);
      assertThat(writer.liveRows())
          .as("rows of %s after round %s (writer vs model)", name, round)
          .isEqualTo(model(name).size());
      CdcTableWriter.CommitResult result =
          writer.commit(Map.of("floe.round", "" + round)).orElse(null);
      assertThat(result).as("commit %s of %s", round, name).isNotNull();
      Table table = tables.get(name);
      table.refresh();
      Snapshot snapshot = table.currentSnapshot();
      assertThat(snapshot.snapshotId()).isEqualTo(result.snapshotId().orElseThrow());
      versions.get(name).add(new Version(snapshot.snapshotId(), snapshot.timestampMillis()));
      history.get(name).add(new TreeMap<>(model(name)));
      // Distinct commit times, and room for "between two commits" timestamps.
      Thread.sleep(15);
    }
  }

  private Map<Long, ?> model(String name) {
    switch (name) {
      case "customers":
        return customers;
      case "orders":
        return orders;
      case "items":
        return items;
      default:
        throw new IllegalArgumentException(name);
    }
  }

  private List<Long> pick(NavigableMap<Long, ?> map, int count) {
    List<Long> keys = new ArrayList<>(map.keySet());
    List<Long> picked = new ArrayList<>();
    Set<Long> seen = new HashSet<>();
    while (picked.size() < count && seen.size() < keys.size()) {
      long key = keys.get(random.nextInt(keys.size()));
      if (seen.add(key)) {
        picked.add(key);
      }
    }
    return picked;
  }

  private List<Long> pickFrom(Set<Long> set, int count) {
    List<Long> keys = new ArrayList<>(new java.util.TreeSet<>(set));
    List<Long> picked = new ArrayList<>();
    for (int i = 0; i < count && !keys.isEmpty(); i++) {
      picked.add(keys.remove(random.nextInt(keys.size())));
    }
    return picked;
  }

  private String randomName() {
    return FIRST_NAMES[random.nextInt(FIRST_NAMES.length)]
        + " "
        + LAST_NAMES[random.nextInt(LAST_NAMES.length)];
  }

  private Customer randomCustomer(long id) {
    String region = random.nextInt(30) == 0 ? null : REGIONS[random.nextInt(REGIONS.length)];
    LocalDate signup = LocalDate.of(2020, 1, 1).plusDays(random.nextInt(5 * 365));
    return new Customer(id, randomName(), region, signup, random.nextInt(7) == 0);
  }

  private BigDecimal randomAmount() {
    return BigDecimal.valueOf(100 + random.nextInt(199_900), 2);
  }

  private double randomPrice() {
    return 0.5 + random.nextDouble() * 499.5;
  }

  private String randomSku() {
    return String.format("SKU-%04d", random.nextInt(3000));
  }

  private static String nextStatus(String status) {
    for (int i = 0; i < STATUSES.length - 1; i++) {
      if (STATUSES[i].equals(status)) {
        return STATUSES[i + 1];
      }
    }
    return STATUSES[0];
  }

  private Order randomOrder(long id) {
    // Some orders point at customers that do not exist (for outer and anti joins).
    long customerId = 1L + random.nextInt(2100);
    OffsetDateTime created =
        Instant.ofEpochSecond(CREATED_FROM + (long) (random.nextDouble() * CREATED_SPAN))
            .plus(random.nextInt(1_000_000), ChronoUnit.MICROS)
            .atOffset(ZoneOffset.UTC);
    String note = random.nextInt(100) < 35 ? NOTES[random.nextInt(NOTES.length)] : null;
    return new Order(
        id,
        customerId,
        STATUSES[random.nextInt(STATUSES.length)],
        randomAmount(),
        1 + random.nextInt(10),
        created,
        note);
  }

  private static Order withAmount(Order o, BigDecimal amount) {
    return new Order(o.id(), o.customerId(), o.status(), amount, o.qty(), o.createdAt(), o.note());
  }

  private static long itemKey(long orderId, int line) {
    return orderId * 16 + line;
  }

  private void insertCustomer() {
    upsertCustomer(randomCustomer(nextCustomerId++));
  }

  private void upsertCustomer(Customer c) {
    customers.put(c.id(), c);
    deletedCustomers.remove(c.id());
    writers.get("customers").upsert(customerRecord(c), null);
  }

  private void updateCustomer(Customer c) {
    customers.put(c.id(), c);
    writers.get("customers").update(customerKey(c.id()), customerRecord(c), null);
  }

  private void deleteCustomer(long id) {
    customers.remove(id);
    deletedCustomers.add(id);
    writers.get("customers").delete(customerKey(id));
  }

  private void insertOrderWithItems() {
    Order o = randomOrder(nextOrderId++);
    upsertOrder(o);
    int lines = 1 + random.nextInt(5);
    for (int line = 1; line <= lines; line++) {
      upsertItem(new Item(o.id(), line, randomSku(), randomPrice()));
    }
  }

  private void upsertOrder(Order o) {
    orders.put(o.id(), o);
    deletedOrders.remove(o.id());
    writers.get("orders").upsert(orderRecord(o), null);
  }

  private void updateOrder(Order o) {
    orders.put(o.id(), o);
    writers.get("orders").update(orderKey(o.id()), orderRecord(o), null);
  }

  private void updateOrderStatusOnly(long id, String status) {
    Order o = orders.get(id);
    Order changed =
        new Order(id, o.customerId(), status, o.amount(), o.qty(), o.createdAt(), o.note());
    orders.put(id, changed);
    Record row = orderRecord(changed);
    row.setField("note", null);
    BitSet unchanged = new BitSet();
    unchanged.set(6);
    writers.get("orders").update(orderKey(id), row, unchanged);
  }

  private void changeOrderKey(long oldId, Order o) {
    orders.remove(oldId);
    deletedOrders.add(oldId);
    orders.put(o.id(), o);
    writers.get("orders").update(orderKey(oldId), orderRecord(o), null);
  }

  private void deleteOrderWithItems(long id) {
    orders.remove(id);
    deletedOrders.add(id);
    writers.get("orders").delete(orderKey(id));
    for (long key : new ArrayList<>(items.subMap(itemKey(id, 0), itemKey(id + 1, 0)).keySet())) {
      deleteItem(key);
    }
  }

  private void upsertItem(Item it) {
    items.put(itemKey(it.orderId(), it.line()), it);
    writers.get("items").upsert(itemRecord(it), null);
  }

  private void deleteItem(long key) {
    Item it = items.remove(key);
    GenericRecord row = GenericRecord.create(ITEMS);
    row.setField("order_id", it.orderId());
    row.setField("line", it.line());
    writers.get("items").delete(row);
  }

  private static Record customerRecord(Customer c) {
    GenericRecord row = GenericRecord.create(CUSTOMERS);
    row.setField("id", c.id());
    row.setField("name", c.name());
    row.setField("region", c.region());
    row.setField("signup", c.signup());
    row.setField("vip", c.vip());
    return row;
  }

  private static Record customerKey(long id) {
    GenericRecord row = GenericRecord.create(CUSTOMERS);
    row.setField("id", id);
    return row;
  }

  private static Record orderRecord(Order o) {
    GenericRecord row = GenericRecord.create(ORDERS);
    row.setField("id", o.id());
    row.setField("customer_id", o.customerId());
    row.setField("status", o.status());
    row.setField("amount", o.amount());
    row.setField("qty", o.qty());
    row.setField("created_at", o.createdAt());
    row.setField("note", o.note());
    return row;
  }

  private static Record orderKey(long id) {
    GenericRecord row = GenericRecord.create(ORDERS);
    row.setField("id", id);
    return row;
  }

  private static Record itemRecord(Item it) {
    GenericRecord row = GenericRecord.create(ITEMS);
    row.setField("order_id", it.orderId());
    row.setField("line", it.line());
    row.setField("sku", it.sku());
    row.setField("price", it.price());
    return row;
  }

  // ---------------------------------------------------------------- expected side

  private void loadExpected() throws SQLException {
    try (Statement statement = expected.createStatement()) {
      statement.execute("SET TimeZone = 'UTC'");
      statement.execute("CREATE SCHEMA shop");
      statement.execute("CREATE SCHEMA hist");
      statement.execute("CREATE SCHEMA meta");
      for (String schema : List.of("shop", "hist")) {
        for (String name : TABLES) {
          int count = schema.equals("shop") ? 1 : COMMITS;
          for (int v = 1; v <= count; v++) {
            String table = schema.equals("shop") ? name : name + "_v" + v;
            statement.execute("CREATE TABLE " + schema + "." + table + " (" + columns(name) + ")");
          }
        }
      }
      statement.execute(
          "CREATE TABLE meta.template_snapshots (committed_at TIMESTAMPTZ, snapshot_id BIGINT,"
              + " parent_id BIGINT, operation VARCHAR, manifest_list VARCHAR)");
      statement.execute(
          "CREATE TABLE meta.template_history (made_current_at TIMESTAMPTZ, snapshot_id BIGINT,"
              + " parent_id BIGINT, is_current_ancestor BOOLEAN)");
      statement.execute(
          "CREATE TABLE meta.template_files (content INTEGER, file_path VARCHAR, file_format"
              + " VARCHAR, spec_id INTEGER, record_count BIGINT, file_size_in_bytes BIGINT)");
      statement.execute(
          "CREATE TABLE meta.template_manifests (content INTEGER, path VARCHAR, length BIGINT,"
              + " partition_spec_id INTEGER, added_snapshot_id BIGINT, added_data_files_count"
              + " INTEGER, existing_data_files_count INTEGER, deleted_data_files_count INTEGER,"
              + " added_delete_files_count INTEGER, existing_delete_files_count INTEGER,"
              + " deleted_delete_files_count INTEGER)");
      statement.execute(
          "CREATE TABLE meta.template_partitions (record_count BIGINT, file_count INTEGER,"
              + " total_data_file_size_in_bytes BIGINT, position_delete_file_count INTEGER,"
              + " equality_delete_file_count INTEGER, last_updated_at TIMESTAMPTZ,"
              + " last_updated_snapshot_id BIGINT)");
      statement.execute(
          "CREATE TABLE meta.template_refs (name VARCHAR, type VARCHAR, snapshot_id BIGINT)");
      for (String name : TABLES) {
        for (String kind :
            List.of("snapshots", "history", "files", "manifests", "partitions", "refs")) {
          statement.execute(
              "CREATE TABLE meta."
                  + name
                  + "_"
                  + kind
                  + " AS FROM meta.template_"
                  + kind
                  + " LIMIT 0");
        }
      }
    }
    DuckDBConnection duck = expected.unwrap(DuckDBConnection.class);
    for (String name : TABLES) {
      append(duck, "shop", name, model(name));
      List<Map<Long, ?>> states = history.get(name);
      for (int v = 1; v <= COMMITS; v++) {
        append(duck, "hist", name + "_v" + v, states.get(v - 1));
      }
      loadMetadata(duck, name, catalog.loadTable(TableIdentifier.of(NAMESPACE, name)));
    }
  }

  private static String columns(String table) {
    switch (table) {
      case "customers":
        return "id BIGINT, name VARCHAR, region VARCHAR, signup DATE, vip BOOLEAN";
      case "orders":
        return "id BIGINT, customer_id BIGINT, status VARCHAR, amount DECIMAL(12, 2), qty INTEGER,"
            + " created_at TIMESTAMPTZ, note VARCHAR";
      case "items":
        return "order_id BIGINT, line INTEGER, sku VARCHAR, price DOUBLE";
      default:
        throw new IllegalArgumentException(table);
    }
  }

  private static void append(DuckDBConnection duck, String schema, String table, Map<Long, ?> rows)
      throws SQLException {
    try (DuckDBAppender appender = duck.createAppender(schema, table)) {
      for (Object row : rows.values()) {
        appender.beginRow();
        if (row instanceof Customer) {
          Customer c = (Customer) row;
          appender.append(c.id()).append(c.name());
          appendNullable(appender, c.region());
          appender.append(c.signup()).append(c.vip());
        } else if (row instanceof Order) {
          Order o = (Order) row;
          appender
              .append(o.id())
              .append(o.customerId())
              .append(o.status())
              .append(o.amount())
              .append(o.qty())
              .append(o.createdAt());
          appendNullable(appender, o.note());
        } else {
          Item it = (Item) row;
          appender.append(it.orderId()).append(it.line()).append(it.sku()).append(it.price());
        }
        appender.endRow();
      }
    }
  }

  private static void appendNullable(DuckDBAppender appender, String value) throws SQLException {
    if (value == null) {
      appender.appendNull();
    } else {
      appender.append(value);
    }
  }

  private static OffsetDateTime utc(long millis) {
    return Instant.ofEpochMilli(millis).atOffset(ZoneOffset.UTC);
  }

  private static void appendLong(DuckDBAppender appender, Long value) throws SQLException {
    if (value == null) {
      appender.appendNull();
    } else {
      appender.append(value.longValue());
    }
  }

  /** Expected contents of the metadata tables, as Iceberg's Java API describes the table. */
  private void loadMetadata(DuckDBConnection duck, String name, Table table) throws SQLException {
    try (DuckDBAppender appender = duck.createAppender("meta", name + "_snapshots")) {
      for (Snapshot s : table.snapshots()) {
        appender.beginRow().append(utc(s.timestampMillis())).append(s.snapshotId());
        appendLong(appender, s.parentId());
        appender.append(s.operation()).append(s.manifestListLocation()).endRow();
      }
    }
    Set<Long> ancestors = new HashSet<>(SnapshotUtil.currentAncestorIds(table));
    try (DuckDBAppender appender = duck.createAppender("meta", name + "_history")) {
      for (HistoryEntry entry : table.history()) {
        appender.beginRow().append(utc(entry.timestampMillis())).append(entry.snapshotId());
        appendLong(appender, table.snapshot(entry.snapshotId()).parentId());
        appender.append(ancestors.contains(entry.snapshotId())).endRow();
      }
    }
    Snapshot current = table.currentSnapshot();
    List<ManifestFile> manifests = current.allManifests(table.io());
    // Live files of the current snapshot: what the scan plans, plus delete files that no longer
    // apply to any data file (Iceberg's files table lists every live entry of every manifest).
    Map<String, ContentFile<?>> live = new LinkedHashMap<>();
    for (ManifestFile manifest : manifests) {
      if (manifest.content() == ManifestContent.DATA) {
        try (ManifestReader<DataFile> reader =
            ManifestFiles.read(manifest, table.io(), table.specs())) {
          reader.forEach(file -> live.put(file.location(), file.copy()));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      } else {
        try (ManifestReader<DeleteFile> reader =
            ManifestFiles.readDeleteManifest(manifest, table.io(), table.specs())) {
          reader.forEach(file -> live.put(file.location(), file.copy()));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    Set<String> planned = new HashSet<>();
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      for (FileScanTask task : tasks) {
        planned.add(task.file().location());
        task.deletes().forEach(d -> planned.add(d.location()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    assertThat(live.keySet()).as("live files of %s", name).containsAll(planned);
    assertThat(
            live.values().stream()
                .filter(f -> f instanceof DataFile)
                .map(ContentFile::location)
                .toList())
        .as("data files of %s", name)
        .allMatch(planned::contains);
    LOG.info(
        "Table {}: {} snapshots, {} manifests, {} live files ({} position-delete files)",
        name,
        versions.get(name).size(),
        manifests.size(),
        live.size(),
        live.values().stream().filter(f -> f.content() == FileContent.POSITION_DELETES).count());
    try (DuckDBAppender appender = duck.createAppender("meta", name + "_files")) {
      for (ContentFile<?> file : live.values()) {
        appender
            .beginRow()
            .append(file.content().id())
            .append(file.location())
            .append(file.format().name())
            .append(file.specId())
            .append(file.recordCount())
            .append(file.fileSizeInBytes())
            .endRow();
      }
    }
    try (DuckDBAppender appender = duck.createAppender("meta", name + "_manifests")) {
      for (ManifestFile m : manifests) {
        boolean data = m.content() == ManifestContent.DATA;
        appender
            .beginRow()
            .append(m.content().id())
            .append(m.path())
            .append(m.length())
            .append(m.partitionSpecId())
            .append(m.snapshotId().longValue())
            .append(data ? m.addedFilesCount() : 0)
            .append(data ? m.existingFilesCount() : 0)
            .append(data ? m.deletedFilesCount() : 0)
            .append(data ? 0 : m.addedFilesCount())
            .append(data ? 0 : m.existingFilesCount())
            .append(data ? 0 : m.deletedFilesCount())
            .endRow();
      }
    }
    // Which snapshot added each file: the partitions table reports the latest such commit.
    Map<String, Snapshot> addedBy = new HashMap<>();
    for (Snapshot s : table.snapshots()) {
      SnapshotChanges changes = SnapshotChanges.builderFor(table).snapshot(s).build();
      changes.addedDataFiles().forEach(f -> addedBy.put(f.location(), s));
      changes.addedDeleteFiles().forEach(f -> addedBy.put(f.location(), s));
    }
    long records = 0;
    long bytes = 0;
    int dataFiles = 0;
    int positionDeleteFiles = 0;
    int equalityDeleteFiles = 0;
    Snapshot lastUpdated = null;
    for (ContentFile<?> file : live.values()) {
      switch (file.content()) {
        case DATA:
          records += file.recordCount();
          bytes += file.fileSizeInBytes();
          dataFiles++;
          break;
        case POSITION_DELETES:
          positionDeleteFiles++;
          break;
        default:
          equalityDeleteFiles++;
      }
      Snapshot added = addedBy.get(file.location());
      assertThat(added).as("snapshot that added %s", file.location()).isNotNull();
      if (lastUpdated == null || added.timestampMillis() > lastUpdated.timestampMillis()) {
        lastUpdated = added;
      }
    }
    try (DuckDBAppender appender = duck.createAppender("meta", name + "_partitions")) {
      appender
          .beginRow()
          .append(records)
          .append(dataFiles)
          .append(bytes)
          .append(positionDeleteFiles)
          .append(equalityDeleteFiles)
          .append(utc(lastUpdated.timestampMillis()))
          .append(lastUpdated.snapshotId())
          .endRow();
    }
    try (DuckDBAppender appender = duck.createAppender("meta", name + "_refs")) {
      for (Map.Entry<String, SnapshotRef> ref : table.refs().entrySet()) {
        appender
            .beginRow()
            .append(ref.getKey())
            .append(ref.getValue().type().name())
            .append(ref.getValue().snapshotId())
            .endRow();
      }
    }
  }

  @Override
  public void close() throws SQLException, IOException {
    try {
      expected.close();
    } finally {
      catalog.close();
    }
  }
}
