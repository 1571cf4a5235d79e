package io.floe.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotSummary;
import org.apache.iceberg.SortOrder;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericFileWriterFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.InternalRecordWrapper;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.ClusteredDataWriter;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;

/**
 * The tables of the SQL benchmark, written straight to Iceberg with its generic Parquet writers (no
 * pipeline): {@code bench.events}, a fact table partitioned by {@code day} (identity) and written
 * in (day, ts) order so that the min/max statistics of {@code day}, {@code ts} and {@code id} are
 * tight, and {@code bench.customers}, a dimension table of {@value #CUSTOMER_COUNT} rows that every
 * event's {@code customer_id} joins to.
 *
 * <p>The rows are pseudo-random from fixed seeds, so every build of the same size holds the same
 * data. A build records its size in table property {@value #LAYOUT_PROPERTY}; {@link #ensure}
 * reuses tables whose property and row count match and rebuilds anything else.
 */
final class EventsTables {
  static final TableIdentifier EVENTS = TableIdentifier.of("bench", "events");
  static final TableIdentifier CUSTOMERS = TableIdentifier.of("bench", "customers");
  static final int CUSTOMER_COUNT = 100_000;
  static final LocalDate FIRST_DAY = LocalDate.of(2026, 10, 1);

  private static final String LAYOUT_PROPERTY = "floe.bench.layout";
  private static final long TARGET_FILE_SIZE = 128L << 20;
  private static final long SEED = 20261121L;

  private static final String[] CATEGORIES = {
    "apparel",
    "automotive",
    "baby",
    "beauty",
    "books",
    "electronics",
    "furniture",
    "garden",
    "grocery",
    "health",
    "home",
    "jewelry",
    "kitchen",
    "music",
    "office",
    "outdoors",
    "pets",
    "shoes",
    "sports",
    "toys"
  };
  private static final String[] REGIONS = {
    "africa",
    "asia",
    "central-america",
    "europe",
    "middle-east",
    "north-america",
    "oceania",
    "south-america"
  };
  private static final String[] SEGMENTS = {"consumer", "corporate", "enterprise", "public", "smb"};
  private static final String[] NOTE_PHRASES = {
    "gift wrap requested", "leave at the door", "call before delivery", "fragile",
    "second attempt", "customer asked for an invoice", "express shipping", "back order"
  };

  static final Schema EVENTS_SCHEMA =
      new Schema(
          List.of(
              Types.NestedField.required(1, "id", Types.LongType.get()),
              Types.NestedField.optional(2, "day", Types.DateType.get()),
              Types.NestedField.optional(3, "customer_id", Types.IntegerType.get()),
              Types.NestedField.optional(4, "category", Types.StringType.get()),
              Types.NestedField.optional(5, "amount", Types.DecimalType.of(12, 2)),
              Types.NestedField.optional(6, "qty", Types.IntegerType.get()),
              Types.NestedField.optional(7, "ts", Types.TimestampType.withZone()),
              Types.NestedField.optional(8, "note", Types.StringType.get())),
          Set.of(1));

  static final Schema CUSTOMERS_SCHEMA =
      new Schema(
          List.of(
              Types.NestedField.required(1, "customer_id", Types.IntegerType.get()),
              Types.NestedField.optional(2, "region", Types.StringType.get()),
              Types.NestedField.optional(3, "segment", Types.StringType.get())),
          Set.of(1));

  /**
   * What {@link #ensure} did: reused complete tables, or wrote {@code rows} rows (both tables) in
   * {@code commits} commits.
   */
  record Built(boolean reused, long rows, int commits, double seconds) {
    double rowsPerSecond() {
      return rows / seconds;
    }
  }

  private EventsTables() {}

  /**
   * Makes sure both tables exist at the given size: reuses them when a previous build left them
   * complete, otherwise drops whatever is there and writes them in {@code commits} appends of
   * consecutive days each (the customers in one).
   */
  static Built ensure(JdbcCatalog catalog, long rows, int days, int commits) {
    String layout = "rows=" + rows + ",days=" + days + ",customers=" + CUSTOMER_COUNT + ",v=1";
    if (complete(catalog, EVENTS, layout, rows)
        && complete(catalog, CUSTOMERS, layout, CUSTOMER_COUNT)) {
      return new Built(true, rows, 0, 0);
    }
    if (!catalog.namespaceExists(EVENTS.namespace())) {
      catalog.createNamespace(EVENTS.namespace());
    }
    catalog.dropTable(EVENTS, true);
    catalog.dropTable(CUSTOMERS, true);
    long started = System.nanoTime();
    Table customers =
        catalog
            .buildTable(CUSTOMERS, CUSTOMERS_SCHEMA)
            .withPartitionSpec(PartitionSpec.unpartitioned())
            .withProperties(properties(layout))
            .create();
    writeCustomers(customers);
    Table events =
        catalog
            .buildTable(EVENTS, EVENTS_SCHEMA)
            .withPartitionSpec(PartitionSpec.builderFor(EVENTS_SCHEMA).identity("day").build())
            .withSortOrder(SortOrder.builderFor(EVENTS_SCHEMA).asc("day").asc("ts").build())
            .withProperties(properties(layout))
            .create();
    int appends = writeEvents(events, rows, days, commits);
    return new Built(
        false, rows + CUSTOMER_COUNT, appends + 1, Bench.seconds(System.nanoTime() - started));
  }

  private static Map<String, String> properties(String layout) {
    return Map.of(
        TableProperties.FORMAT_VERSION,
        "2",
        TableProperties.PARQUET_COMPRESSION,
        "zstd",
        TableProperties.WRITE_TARGET_FILE_SIZE_BYTES,
        Long.toString(TARGET_FILE_SIZE),
        LAYOUT_PROPERTY,
        layout);
  }

  private static boolean complete(
      JdbcCatalog catalog, TableIdentifier identifier, String layout, long rows) {
    if (!catalog.tableExists(identifier)) {
      return false;
    }
    Table table = catalog.loadTable(identifier);
    Snapshot snapshot = table.currentSnapshot();
    return layout.equals(table.properties().get(LAYOUT_PROPERTY))
        && snapshot != null
        && Long.toString(rows).equals(snapshot.summary().get(SnapshotSummary.TOTAL_RECORDS_PROP));
  }

  private static void writeCustomers(Table table) {
    SplittableRandom random = new SplittableRandom(SEED);
    GenericRecord record = GenericRecord.create(table.schema());
    List<DataFile> files;
    try (ClusteredDataWriter<Record> writer = writer(table, 1)) {
      for (int customer = 1; customer <= CUSTOMER_COUNT; customer++) {
        record.set(0, customer);
        record.set(1, REGIONS[random.nextInt(REGIONS.length)]);
        record.set(2, SEGMENTS[random.nextInt(SEGMENTS.length)]);
        writer.write(record, table.spec(), null);
      }
      writer.close();
      files = writer.result().dataFiles();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    append(table, files);
  }

  /** Writes the events day by day, one append per group of consecutive days. */
  private static int writeEvents(Table table, long rows, int days, int commits) {
    int daysPerCommit = (days + commits - 1) / commits;
    int appends = 0;
    for (int firstDay = 0; firstDay < days; firstDay += daysPerCommit) {
      int lastDay = Math.min(days, firstDay + daysPerCommit);
      List<DataFile> files = new ArrayList<>();
      try (ClusteredDataWriter<Record> writer = writer(table, appends + 1)) {
        for (int day = firstDay; day < lastDay; day++) {
          writeDay(table, writer, rows, days, day);
        }
        writer.close();
        files.addAll(writer.result().dataFiles());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      append(table, files);
      appends++;
      Bench.info(
          "  bench.events: days %d-%d committed (%d files), %d of %d days",
          firstDay + 1, lastDay, files.size(), lastDay, days);
    }
    return appends;
  }

  /**
   * Rows {@code [rows * day / days, rows * (day + 1) / days)}: ids ascending, timestamps spread
   * evenly over the day in id order, the other columns random from a seed per day.
   */
  private static void writeDay(
      Table table, ClusteredDataWriter<Record> writer, long rows, int days, int day) {
    long first = (rows * day + days - 1) / days;
    long end = (rows * (day + 1) + days - 1) / days;
    long count = end - first;
    LocalDate date = FIRST_DAY.plusDays(day);
    OffsetDateTime midnight = date.atStartOfDay().atOffset(ZoneOffset.UTC);
    long microsPerRow = count == 0 ? 0 : 86_400_000_000L / count;
    SplittableRandom random = new SplittableRandom(SEED + day);
    PartitionKey partition = new PartitionKey(table.spec(), table.schema());
    InternalRecordWrapper wrapper = new InternalRecordWrapper(table.schema().asStruct());
    GenericRecord record = GenericRecord.create(table.schema());
    record.set(1, date);
    partition.partition(wrapper.wrap(record));
    for (long index = first; index < end; index++) {
      record.set(0, index + 1);
      record.set(2, random.nextInt(1, CUSTOMER_COUNT + 1));
      record.set(3, CATEGORIES[random.nextInt(CATEGORIES.length)]);
      record.set(4, BigDecimal.valueOf(random.nextLong(1, 100_000), 2));
      record.set(5, random.nextInt(1, 11));
      record.set(6, midnight.plusNanos((index - first) * microsPerRow * 1_000));
      record.set(7, random.nextInt(4) == 0 ? note(random) : null);
      writer.write(record, table.spec(), partition);
    }
  }

  private static String note(SplittableRandom random) {
    return NOTE_PHRASES[random.nextInt(NOTE_PHRASES.length)] + " #" + random.nextInt(1, 1_000);
  }

  private static ClusteredDataWriter<Record> writer(Table table, int commit) {
    GenericFileWriterFactory files =
        new GenericFileWriterFactory.Builder(table)
            .dataFileFormat(FileFormat.PARQUET)
            .dataSortOrder(table.sortOrder())
            .build();
    OutputFileFactory names =
        OutputFileFactory.builderFor(table, commit, 0)
            .format(FileFormat.PARQUET)
            .operationId(UUID.randomUUID().toString())
            .build();
    return new ClusteredDataWriter<>(files, names, table.io(), TARGET_FILE_SIZE);
  }

  private static void append(Table table, List<DataFile> files) {
    AppendFiles append = table.newAppend();
    files.forEach(append::appendFile);
    append.set("floe.bench", "SqlBenchmark build").commit();
  }
}
