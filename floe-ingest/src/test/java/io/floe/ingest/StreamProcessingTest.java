package io.floe.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.ErrorCode;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.EnrichConfig;
import io.floe.core.config.EnrichConfig.Missing;
import io.floe.core.config.HttpSourceConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.QualityRuleConfig;
import io.floe.core.config.QualityRuleConfig.Action;
import io.floe.core.config.QualityRuleConfig.Check;
import io.floe.core.config.StreamTableConfig;
import io.floe.core.config.StreamTableConfig.UnknownFields;
import io.floe.core.config.StreamTableConfig.WriteMode;
import io.floe.core.config.TargetConfig;
import io.floe.core.config.TransformConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.CdcTableWriter;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.ingest.quality.QualityResult;
import io.floe.ingest.quality.QualityResults;
import io.floe.ingest.stream.DeadLetters;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stream pipeline's enrichment, transform and quality rules, run with a scripted stream against
 * real Iceberg tables: the reference table is kept current by a {@link CdcTableWriter}, as a
 * database pipeline keeps it.
 */
@Timeout(180)
class StreamProcessingTest {
  private static final TableIdentifier EVENTS = TableIdentifier.of("raw", "events");
  private static final TableIdentifier DEAD = TableIdentifier.of("raw", "events_dead_letter");
  private static final TableIdentifier PRODUCTS = TableIdentifier.of("shop", "products");
  private static final Schema PRODUCT =
      new Schema(
          List.of(
              Types.NestedField.required(1, "id", Types.IntegerType.get()),
              Types.NestedField.optional(2, "name", Types.StringType.get()),
              Types.NestedField.optional(3, "price", Types.DecimalType.of(10, 2))),
          java.util.Set.of(1));

  @TempDir Path warehouse;

  private JdbcCatalog catalog;
  private CdcTableWriter products;
  private final ScriptedStream.Stream stream = new ScriptedStream.Stream();
  private final List<Pipeline> pipelines = new ArrayList<>();
  private final QualityResults results = QualityResults.inMemory(10_000);

  @BeforeEach
  void openCatalog() {
    catalog = FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
    catalog.createNamespace(Namespace.of("shop"));
    products = CdcTableWriter.open(catalog.createTable(PRODUCTS, PRODUCT));
  }

  @AfterEach
  void closeCatalog() throws IOException {
    pipelines.forEach(Pipeline::close);
    catalog.close();
  }

  @Test
  void recordsAreEnrichedWithTheReferenceSnapshotOfTheirCommit() throws Exception {
    product(1, "apple", "1.50");
    product(2, "pear", "2.00");
    commitProducts();
    EnrichConfig enrich = enrich(Missing.NULLS);
    ScriptedStream source = start(config(List.of(enrich), Optional.empty(), List.of()));
    long last = 0;
    for (int round = 0; round < 20; round++) {
      for (int i = 0; i < 10; i++) {
        int event = round * 10 + i;
        last = stream.append("{\"event\":" + event + ",\"product_id\":" + (event % 4 + 1) + "}");
      }
      // The reference changes mid-stream: an update, an insert, a delete.
      switch (round % 3) {
        case 0 -> product(1, "apple " + round, round + ".25");
        case 1 -> product(3 + round, "new " + round, "9.99");
        default -> products.delete(productKey(2 + (round % 2)));
      }
      commitProducts();
      Thread.sleep(30);
    }
    awaitAcknowledged(source, last);

    Table events = catalog.loadTable(EVENTS);
    List<Record> rows = rows(EVENTS);
    assertThat(rows).hasSize(200);
    assertThat(rows.stream().map(row -> row.getField("event")).distinct()).hasSize(200);
    assertThat(events.schema().findType("price")).isEqualTo(Types.DecimalType.of(10, 2));
    Map<Long, Map<Integer, Record>> referenceAt = new HashMap<>();
    for (Record row : rows) {
      long snapshot = (Long) row.getField("products_snapshot");
      Map<Integer, Record> reference = referenceAt.computeIfAbsent(snapshot, this::productsAt);
      Record product = reference.get(((Long) row.getField("product_id")).intValue());
      assertThat(row.getField("product_name"))
          .as("row %s", row)
          .isEqualTo(product == null ? null : product.getField("name"));
      assertThat(row.getField("price"))
          .as("row %s", row)
          .isEqualTo(product == null ? null : product.getField("price"));
    }
    assertThat(referenceAt).as("reference snapshots used").hasSizeGreaterThan(3);
    // Each commit's rows were enriched with one snapshot, which its summary names.
    for (Snapshot snapshot : events.snapshots()) {
      String used = snapshot.summary().get("floe.enrich.shop.products.snapshot");
      List<Record> added = rowsAddedBy(events, snapshot);
      for (Record row : added) {
        assertThat(row.getField("products_snapshot")).isEqualTo(Long.parseLong(used));
      }
    }
  }

  @Test
  void heldRecordsWaitForTheirReferenceRowAndOthersGoToTheDeadLetterTable() throws Exception {
    product(1, "apple", "1.50");
    commitProducts();
    EnrichConfig hold =
        new EnrichConfig(
            "shop.products",
            List.of("id"),
            List.of("product_id"),
            List.of(new EnrichConfig.Column("name", "product_name")),
            Missing.HOLD,
            Duration.ofSeconds(6),
            Optional.empty(),
            8L << 20);
    ScriptedStream source = start(config(List.of(hold), Optional.empty(), List.of()));
    long last =
        stream.append(
            "{\"event\":1,\"product_id\":1}",
            "{\"event\":2,\"product_id\":7}",
            "{\"event\":3,\"product_id\":8}",
            "{\"event\":4,\"product_id\":\"x\"}");
    awaitAcknowledged(source, last);
    assertThat(deadLetterClasses())
        .containsOnlyKeys("scripted:2", "scripted:3", "scripted:4")
        .containsValue("reference_pending");
    // Product 7 arrives: its record moves to the table; 8 never does and stops waiting.
    product(7, "plum", "3.00");
    commitProducts();
    awaitCondition(() -> events().containsKey(2L), "the held record 2 in the table");
    awaitCondition(
        () -> "reference_missing".equals(deadLetterClasses().get("scripted:3")),
        "record 3 to stop waiting");
    assertThat(events()).containsEntry(1L, "apple").containsEntry(2L, "plum").hasSize(2);
    assertThat(deadLetterClasses())
        .containsOnlyKeys("scripted:3", "scripted:4")
        .containsEntry("scripted:4", "reference_missing");
  }

  @Test
  void theTransformWritesItsSelectDropsWhatItsFilterRefusesAndDeadLettersFailures()
      throws Exception {
    TransformConfig transform =
        new TransformConfig(
            List.of("event", "upper(name) AS name", "CAST(code AS INTEGER) * 2 AS code2"),
            Optional.of("status <> 'test'"));
    ScriptedStream source = start(config(List.of(), Optional.of(transform), List.of()));
    long last =
        stream.append(
            "{\"event\":1,\"name\":\"a\",\"code\":\"21\",\"status\":\"ok\"}",
            "{\"event\":2,\"name\":\"b\",\"code\":\"4\",\"status\":\"test\"}",
            "{\"event\":3,\"name\":\"c\",\"code\":\"abc\",\"status\":\"ok\"}",
            "{\"event\":4,\"name\":\"d\",\"code\":\"5\",\"status\":\"ok\"}");
    awaitAcknowledged(source, last);
    Map<Long, Record> rows = new TreeMap<>();
    rows(EVENTS).forEach(row -> rows.put((Long) row.getField("event"), row));
    assertThat(rows).containsOnlyKeys(1L, 4L);
    assertThat(rows.get(1L).getField("name")).isEqualTo("A");
    assertThat(((Number) rows.get(1L).getField("code2")).longValue()).isEqualTo(42L);
    assertThat(catalog.loadTable(EVENTS).schema().findField("status")).isNull();
    assertThat(deadLetterClasses())
        .containsExactlyEntriesOf(Map.of("scripted:3", "transform_failed"));
    assertThat(pipelines.get(0).filteredRecords()).isEqualTo(1);
  }

  @Test
  void quarantineAndWarnRulesCommitTheGoodRowsAndRecordTheirResults() throws Exception {
    List<QualityRuleConfig> rules =
        List.of(
            rule("has_name", Check.NOT_NULL, Action.QUARANTINE, List.of("name")),
            new QualityRuleConfig(
                "sane_qty",
                Check.RANGE,
                Action.WARN,
                Optional.empty(),
                List.of("qty"),
                Optional.of(BigDecimal.ONE),
                Optional.of(BigDecimal.valueOf(100)),
                List.of(),
                "",
                "",
                "",
                Duration.ZERO,
                ""),
            new QualityRuleConfig(
                "small_total",
                Check.SQL,
                Action.QUARANTINE,
                Optional.empty(),
                List.of(),
                Optional.empty(),
                Optional.empty(),
                List.of(),
                "",
                "",
                "",
                Duration.ZERO,
                "qty * 10 < 5000"));
    ScriptedStream source = start(config(List.of(), Optional.empty(), rules));
    long last =
        stream.append(
            "{\"event\":1,\"name\":\"a\",\"qty\":5}",
            "{\"event\":2,\"qty\":5}",
            "{\"event\":3,\"name\":\"c\",\"qty\":500}",
            "{\"event\":4,\"name\":\"d\",\"qty\":0}",
            "{\"event\":5,\"name\":\"e\",\"qty\":9}");
    awaitAcknowledged(source, last);
    assertThat(events()).containsOnlyKeys(1L, 4L, 5L);
    assertThat(deadLetterClasses())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("scripted:2", "quality_failed", "scripted:3", "quality_failed"));
    Map<String, long[]> totals = new TreeMap<>();
    for (QualityResult result : results.recent(1000)) {
      long[] total = totals.computeIfAbsent(result.rule(), rule -> new long[2]);
      total[0] += result.rowsChecked();
      total[1] += result.rowsFailed();
      assertThat(result.snapshotId()).isPresent();
    }
    assertThat(totals.get("has_name")).containsExactly(5, 1);
    assertThat(totals.get("sane_qty")).containsExactly(5, 2);
    assertThat(totals.get("small_total")).containsExactly(5, 1);
    assertThat(pipelines.get(0).qualityFigures().get("sane_qty").failed()).isEqualTo(2);
  }

  @Test
  void aBlockRuleStopsTheCommitsLosesNothingAndResumesOnceTheDataIsFixed() throws Exception {
    product(1, "apple", "1.50");
    commitProducts();
    QualityRuleConfig known =
        new QualityRuleConfig(
            "known_product",
            Check.REFERENTIAL,
            Action.BLOCK,
            Optional.empty(),
            List.of("product_id"),
            Optional.empty(),
            Optional.empty(),
            List.of(),
            "",
            "shop.products",
            "id",
            Duration.ZERO,
            "");
    PipelineConfig config = config(List.of(), Optional.empty(), List.of(known));
    List<ScriptedStream> sources = new CopyOnWriteArrayList<>();
    PipelineSupervisor supervisor =
        new PipelineSupervisor(
            "events",
            () -> {
              ScriptedStream source = new ScriptedStream(config, stream);
              sources.add(source);
              return new Pipeline(
                  config,
                  catalog,
                  source,
                  new TableWriterRegistry(),
                  warehouse.resolve("state"),
                  results);
            },
            Duration.ofSeconds(1));
    try {
      supervisor.start();
      long first = stream.append("{\"event\":1,\"product_id\":1}");
      awaitCondition(() -> sources.get(0).acknowledged() >= first, "the first record committed");
      stream.append("{\"event\":2,\"product_id\":9}", "{\"event\":3,\"product_id\":1}");
      awaitCondition(() -> supervisor.restarts() >= 1, "a restart after the block");
      assertThat(supervisor.lastFailure().code()).isEqualTo(ErrorCode.QUALITY_BLOCKED);
      assertThat(supervisor.lastFailure().getMessage())
          .contains("known_product", "product_id = 9 has no row in shop.products");
      assertThat(events()).containsOnlyKeys(1L);
      assertThat(results.recent(100))
          .anySatisfy(result -> assertThat(result.outcome()).isEqualTo("blocked"));
      // The data is fixed: the referenced row appears; the next restart goes on.
      product(9, "fig", "4.00");
      commitProducts();
      long last = stream.append("{\"event\":4,\"product_id\":1}");
      awaitCondition(
          () -> sources.get(sources.size() - 1).acknowledged() >= last, "the last record");
    } finally {
      supervisor.close();
    }
    assertThat(events()).containsOnlyKeys(1L, 2L, 3L, 4L);
    assertThat(deadLetterClasses()).isEmpty();
  }

  private static QualityRuleConfig rule(
      String name, Check check, Action action, List<String> columns) {
    return new QualityRuleConfig(
        name,
        check,
        action,
        Optional.empty(),
        columns,
        Optional.empty(),
        Optional.empty(),
        List.of(),
        "",
        "",
        "",
        Duration.ZERO,
        "");
  }

  private static EnrichConfig enrich(Missing missing) {
    return new EnrichConfig(
        "shop.products",
        List.of("id"),
        List.of("product_id"),
        List.of(
            new EnrichConfig.Column("name", "product_name"),
            new EnrichConfig.Column("price", "price")),
        missing,
        Duration.ofMinutes(1),
        Optional.of("products_snapshot"),
        8L << 20);
  }

  private void product(int id, String name, String price) {
    GenericRecord row = GenericRecord.create(PRODUCT);
    row.setField("id", id);
    row.setField("name", name);
    row.setField("price", new BigDecimal(price));
    products.upsert(row, null);
  }

  private Record productKey(int id) {
    GenericRecord row = GenericRecord.create(PRODUCT);
    row.setField("id", id);
    return row;
  }

  private void commitProducts() {
    products.commit(Map.of());
  }

  private Map<Integer, Record> productsAt(long snapshotId) {
    Map<Integer, Record> products = new HashMap<>();
    try (CloseableIterable<Record> rows =
        IcebergGenerics.read(catalog.loadTable(PRODUCTS)).useSnapshot(snapshotId).build()) {
      rows.forEach(row -> products.put((Integer) row.getField("id"), row.copy()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return products;
  }

  /**
   * The rows of the data files {@code snapshot} added (deletes aside: the table is append-only).
   */
  private static List<Record> rowsAddedBy(Table table, Snapshot snapshot) {
    List<Record> rows = new ArrayList<>();
    for (org.apache.iceberg.DataFile file :
        org.apache.iceberg.SnapshotChanges.builderFor(table)
            .snapshot(snapshot)
            .build()
            .addedDataFiles()) {
      try (CloseableIterable<Record> records =
          io.floe.core.writer.ParquetRows.read(table.io(), file.location(), table.schema())) {
        records.forEach(row -> rows.add(row.copy()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return rows;
  }

  private ScriptedStream start(PipelineConfig config) {
    ScriptedStream source = new ScriptedStream(config, stream);
    Pipeline pipeline =
        new Pipeline(
            config,
            catalog,
            source,
            new TableWriterRegistry(),
            warehouse.resolve("state"),
            results);
    pipelines.add(pipeline);
    pipeline.start();
    return source;
  }

  private static PipelineConfig config(
      List<EnrichConfig> enrich,
      Optional<TransformConfig> transform,
      List<QualityRuleConfig> quality) {
    return new PipelineConfig(
        "events",
        new HttpSourceConfig("events", 1024, 1 << 20, 1000),
        new TargetConfig(
            "raw",
            Optional.of(
                new StreamTableConfig(
                    "events",
                    WriteMode.APPEND,
                    List.of(),
                    List.of(),
                    List.of(),
                    UnknownFields.ADD,
                    "events_dead_letter"))),
        Duration.ofMillis(100),
        enrich,
        transform,
        quality);
  }

  /** The table's rows: event → name (or product name). */
  private Map<Long, String> events() {
    Map<Long, String> events = new TreeMap<>();
    for (Record row : rows(EVENTS)) {
      Object name =
          row.struct().field("product_name") != null
              ? row.getField("product_name")
              : row.struct().field("name") != null ? row.getField("name") : null;
      events.put((Long) row.getField("event"), (String) name);
    }
    return events;
  }

  private Map<String, String> deadLetterClasses() {
    Map<String, String> classes = new TreeMap<>();
    if (!catalog.tableExists(DEAD)) {
      return classes;
    }
    for (Record record : rows(DEAD)) {
      classes.put(
          (String) record.getField(DeadLetters.RECORD_ID),
          (String) record.getField(DeadLetters.ERROR_CLASS));
    }
    return classes;
  }

  private List<Record> rows(TableIdentifier identifier) {
    List<Record> rows = new ArrayList<>();
    Table table = catalog.loadTable(identifier);
    if (table.currentSnapshot() == null) {
      return rows;
    }
    try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
      records.forEach(record -> rows.add(record.copy()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }

  private static void awaitAcknowledged(ScriptedStream source, long sequence)
      throws InterruptedException {
    awaitCondition(() -> source.acknowledged() >= sequence, "record " + sequence + " committed");
  }

  private static void awaitCondition(BooleanSupplier condition, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("Timed out waiting for " + what);
      }
      Thread.sleep(10);
    }
  }
}
