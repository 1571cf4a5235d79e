package io.floe.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.HttpSourceConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.StreamTableConfig;
import io.floe.core.config.StreamTableConfig.Column;
import io.floe.core.config.StreamTableConfig.PartitionField;
import io.floe.core.config.StreamTableConfig.UnknownFields;
import io.floe.core.config.StreamTableConfig.WriteMode;
import io.floe.core.config.TargetConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.CdcTableWriter;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.ingest.stream.DeadLetters;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
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
 * What every stream source inherits from {@link Pipeline}: records appended or upserted, bad
 * records in the dead-letter table with their error class, new fields as new columns, and a restart
 * that neither loses nor repeats a record, run with a scripted stream ({@link ScriptedStream})
 * against real Iceberg tables.
 */
@Timeout(120)
class StreamPipelineTest {
  private static final TableIdentifier EVENTS = TableIdentifier.of("raw", "events");
  private static final TableIdentifier DEAD = TableIdentifier.of("raw", "events_dead_letter");

  @TempDir Path warehouse;

  private JdbcCatalog catalog;
  private final ScriptedStream.Stream stream = new ScriptedStream.Stream();
  private final List<Pipeline> pipelines = new ArrayList<>();

  @BeforeEach
  void openCatalog() {
    catalog = FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
  }

  @AfterEach
  void closeCatalog() throws IOException {
    pipelines.forEach(Pipeline::close);
    catalog.close();
  }

  @Test
  void appendsGoodRecordsAndKeepsEveryBadOneWithItsErrorClass() throws Exception {
    StreamTableConfig table =
        table(
            WriteMode.APPEND,
            List.of(),
            List.of(
                column("id", Types.LongType.get()),
                column("name", Types.StringType.get()),
                column("at", Types.TimestampType.withZone())),
            UnknownFields.REJECT,
            List.of(new PartitionField("day", 0, "at")));
    ScriptedStream source = new ScriptedStream(config(table), stream);
    Pipeline pipeline = start(source, table);
    long last =
        stream.append(
            "{\"id\":1,\"name\":\"a\",\"at\":\"2026-12-07T10:00:00Z\"}",
            "{\"id\":2,",
            "{\"id\":\"three\"}",
            "{\"id\":4,\"name\":\"d\",\"extra\":true}",
            "{\"id\":12345678901234567890123}",
            "[1,2]",
            "{\"id\":7,\"name\":\"" + "x".repeat(2000) + "\"}",
            "{\"id\":8,\"name\":\"h\",\"at\":1765101600000}");
    awaitAcknowledged(source, last);

    assertThat(ids(EVENTS)).containsExactly(1L, 8L);
    Map<String, String> classes = deadLetterClasses();
    assertThat(classes)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "scripted:2", "bad_json",
                "scripted:3", "type_mismatch",
                "scripted:4", "unknown_field",
                "scripted:5", "value_out_of_range",
                "scripted:6", "bad_json",
                "scripted:7", "oversized"));
    assertThat(pipeline.deadLetterCounts())
        .containsEntry("bad_json", 2L)
        .containsEntry("oversized", 1L);
    assertThat(catalog.loadTable(EVENTS).spec().isPartitioned()).isTrue();
  }

  @Test
  void newFieldsBecomeColumnsAndATypeChangeGoesToTheDeadLetterTable() throws Exception {
    StreamTableConfig table =
        table(WriteMode.APPEND, List.of(), List.of(), UnknownFields.ADD, List.of());
    ScriptedStream source = new ScriptedStream(config(table), stream);
    start(source, table);
    long last =
        stream.append(
            "{\"id\":1,\"name\":\"a\"}",
            "{\"id\":2,\"name\":\"b\",\"score\":1.5,\"tags\":[\"x\"]}",
            "{\"id\":\"three\"}",
            "{\"id\":4,\"missing\":null}");
    awaitAcknowledged(source, last);

    Table events = catalog.loadTable(EVENTS);
    assertThat(events.schema().findField("id").type()).isEqualTo(Types.LongType.get());
    assertThat(events.schema().findField("score").type()).isEqualTo(Types.DoubleType.get());
    assertThat(events.schema().findField("tags").type()).isEqualTo(Types.StringType.get());
    assertThat(events.schema().findField("missing")).isNull();
    assertThat(ids(EVENTS)).containsExactly(1L, 2L, 4L);
    assertThat(deadLetterClasses()).containsExactly(Map.entry("scripted:3", "type_mismatch"));
  }

  @Test
  void upsertKeepsTheLatestRecordPerKey() throws Exception {
    StreamTableConfig table =
        table(
            WriteMode.UPSERT,
            List.of("id"),
            List.of(column("id", Types.LongType.get()), column("name", Types.StringType.get())),
            UnknownFields.IGNORE,
            // The second version of key 1 moves to another partition.
            List.of(new PartitionField("identity", 0, "name")));
    ScriptedStream source = new ScriptedStream(config(table), stream);
    start(source, table);
    long first = stream.append("{\"id\":1,\"name\":\"a\"}");
    awaitAcknowledged(source, first);
    long last =
        stream.append(
            "{\"id\":2,\"name\":\"b\"}",
            "{\"name\":\"no key\"}",
            "{\"id\":1,\"name\":\"a2\",\"other\":1}");
    awaitAcknowledged(source, last);

    assertThat(names(EVENTS)).isEqualTo(Map.of(1L, "a2", 2L, "b"));
    assertThat(deadLetterClasses()).containsExactly(Map.entry("scripted:3", "missing_key"));
    assertThat(catalog.loadTable(EVENTS).spec().isPartitioned()).isTrue();
  }

  @Test
  void aRestartResumesFromTheTablesWithNothingLostOrRepeated() throws Exception {
    StreamTableConfig table =
        table(
            WriteMode.APPEND,
            List.of(),
            List.of(column("id", Types.LongType.get())),
            UnknownFields.REJECT,
            List.of());
    ScriptedStream first = new ScriptedStream(config(table), stream);
    Pipeline crashed = start(first, table);
    long committed = 0;
    for (int id = 1; id <= 30; id++) {
      committed = stream.append(id % 7 == 0 ? "{\"id\":" : "{\"id\":" + id + "}");
    }
    awaitAcknowledged(first, committed);
    crashed.close();
    for (int id = 31; id <= 60; id++) {
      stream.append(id % 7 == 0 ? "not json" : "{\"id\":" + id + "}");
    }

    ScriptedStream second = new ScriptedStream(config(table), stream);
    start(second, table);
    long last = stream.append("{\"id\":61}");
    awaitAcknowledged(second, last);

    List<Long> expected = new ArrayList<>();
    for (long id = 1; id <= 61; id++) {
      if (id % 7 != 0) {
        expected.add(id);
      }
    }
    assertThat(ids(EVENTS)).containsExactlyElementsOf(expected);
    assertThat(deadLetterClasses()).hasSize(8).containsValue("bad_json");
  }

  @Test
  void aReplayAfterTheFixMovesDeadLettersIntoTheTableOnce() throws Exception {
    StreamTableConfig table =
        table(
            WriteMode.APPEND,
            List.of(),
            List.of(column("id", Types.LongType.get()), column("qty", Types.IntegerType.get())),
            UnknownFields.REJECT,
            List.of());
    ScriptedStream source = new ScriptedStream(config(table), stream);
    Pipeline pipeline = start(source, table);
    long last =
        stream.append(
            "{\"id\":1,\"qty\":5}",
            "{\"id\":2,\"qty\":3000000000}",
            "{\"id\":3,\"qty\":\"many\"}",
            "{\"id\":4,\"qty\":4000000000}");
    awaitAcknowledged(source, last);
    assertThat(deadLetterClasses()).hasSize(3);

    // The fix: qty becomes a long, as Spark's ALTER TABLE ... ALTER COLUMN qty TYPE bigint does.
    Table events = catalog.loadTable(EVENTS);
    events.updateSchema().updateColumn("qty", Types.LongType.get()).commit();
    Pipeline.ReplayOutcome outcome =
        pipeline
            .replayDeadLetters(List.of("scripted:2", "scripted:3", "scripted:4", "scripted:9"))
            .get(60, java.util.concurrent.TimeUnit.SECONDS);

    assertThat(outcome.replayed()).isEqualTo(2);
    assertThat(outcome.failedAgain()).isEqualTo(1);
    assertThat(outcome.missing()).containsExactly("scripted:9");
    assertThat(ids(EVENTS)).containsExactly(1L, 2L, 4L);
    assertThat(deadLetterClasses()).containsExactly(Map.entry("scripted:3", "type_mismatch"));
    Record failed = rows(DEAD).get(0);
    assertThat(failed.getField(DeadLetters.ATTEMPTS)).isEqualTo(2);
    assertThat(failed.getField(DeadLetters.REPLAY_ID)).isNull();
    assertThat(failed.getField(DeadLetters.RAW_TEXT)).isEqualTo("{\"id\":3,\"qty\":\"many\"}");

    // Replaying the same ids again moves nothing twice.
    Pipeline.ReplayOutcome again =
        pipeline
            .replayDeadLetters(List.of("scripted:2", "scripted:4"))
            .get(60, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(again.replayed()).isZero();
    assertThat(again.missing()).containsExactly("scripted:2", "scripted:4");
    assertThat(ids(EVENTS)).containsExactly(1L, 2L, 4L);
  }

  @Test
  void aReplayInterruptedBeforeTheTablesCommitIsFinishedOnTheNextStart() throws Exception {
    StreamTableConfig table =
        table(
            WriteMode.APPEND,
            List.of(),
            List.of(column("id", Types.LongType.get())),
            UnknownFields.REJECT,
            List.of());
    ScriptedStream first = new ScriptedStream(config(table), stream);
    Pipeline crashed = start(first, table);
    long last = stream.append("{\"id\":1}", "{\"id\":2,\"x\":1}");
    awaitAcknowledged(first, last);
    crashed.close();
    // The state a crash after the first of a replay's commits leaves: the dead letter marked.
    Table dead = catalog.loadTable(DEAD);
    CdcTableWriter writer = CdcTableWriter.open(dead);
    Record marked = rows(DEAD).get(0);
    marked.setField(DeadLetters.REPLAY_ID, "interrupted");
    writer.upsert(marked, null);
    Map<String, String> checkpoint = new TreeMap<>();
    dead.currentSnapshot()
        .summary()
        .forEach(
            (key, value) -> {
              if (key.startsWith("floe.") && !key.equals(CdcTableWriter.COMMIT_MARKER)) {
                checkpoint.put(key, value);
              }
            });
    writer.commit(checkpoint);

    StreamTableConfig fixed =
        table(
            WriteMode.APPEND,
            List.of(),
            List.of(column("id", Types.LongType.get()), column("x", Types.LongType.get())),
            UnknownFields.REJECT,
            List.of());
    ScriptedStream second = new ScriptedStream(config(fixed), stream);
    start(second, fixed);
    long next = stream.append("{\"id\":3}");
    awaitAcknowledged(second, next);

    assertThat(ids(EVENTS)).containsExactly(1L, 2L, 3L);
    assertThat(deadLetterClasses()).isEmpty();
  }

  /**
   * The dead-letter table commits first: when the table's first commit fails after the dead-letter
   * table's, the table holds no position, and the next start reads the stream from its start; the
   * table gets every good record, and the dead-letter table keeps each bad one once.
   */
  @Test
  void aFirstCommitThatLandsOnlyInTheDeadLetterTableLosesNoRecord() throws Exception {
    StreamTableConfig table =
        table(
            WriteMode.APPEND,
            List.of(),
            List.of(column("id", Types.LongType.get())),
            UnknownFields.REJECT,
            List.of());
    FaultyCatalog faulty = new FaultyCatalog(catalog);
    faulty.failCommitsOf(EVENTS);
    ScriptedStream first = new ScriptedStream(config(table), stream);
    Pipeline failed = new Pipeline(config(table), faulty, first, new TableWriterRegistry());
    pipelines.add(failed);
    failed.start();
    stream.append("{\"id\":1}", "{\"id\":\"two\"}", "{\"id\":3}");
    awaitCondition(() -> failed.state() == Pipeline.State.FAILED, "the failed first commit");
    assertThat(Checkpoint.read(catalog.loadTable(DEAD), "events", first)).isPresent();
    assertThat(Checkpoint.read(catalog.loadTable(EVENTS), "events", first)).isEmpty();

    faulty.heal();
    ScriptedStream second = new ScriptedStream(config(table), stream);
    start(second, table);
    long last = stream.append("{\"id\":4}", "{\"id\":\"five\"}");
    awaitAcknowledged(second, last);
    assertThat(ids(EVENTS)).containsExactly(1L, 3L, 4L);
    assertThat(deadLetterClasses())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("scripted:2", "type_mismatch", "scripted:5", "type_mismatch"));
  }

  @Test
  void aStorageFailureIsRetriedWithBackOffAndNoRecordGoesToTheDeadLetterTable() throws Exception {
    StreamTableConfig table =
        table(
            WriteMode.APPEND,
            List.of(),
            List.of(column("id", Types.LongType.get())),
            UnknownFields.REJECT,
            List.of());
    FaultyCatalog faulty = new FaultyCatalog(catalog);
    List<ScriptedStream> sources = new java.util.concurrent.CopyOnWriteArrayList<>();
    PipelineSupervisor supervisor =
        new PipelineSupervisor(
            "events",
            () -> {
              ScriptedStream source = new ScriptedStream(config(table), stream);
              sources.add(source);
              return new Pipeline(config(table), faulty, source, new TableWriterRegistry());
            },
            Duration.ofSeconds(2));
    try {
      supervisor.start();
      long first = stream.append("{\"id\":1}", "{\"id\":2}");
      awaitCondition(() -> sources.get(0).acknowledged() >= first, "the first records committed");
      faulty.failCommitsOf(EVENTS);
      stream.append("{\"id\":3}", "{\"id\":4}");
      awaitCondition(() -> supervisor.restarts() >= 1, "a restart after the storage failure");
      assertThat(supervisor.lastFailure().code())
          .isEqualTo(io.floe.core.ErrorCode.TABLE_WRITE_FAILED);
      faulty.heal();
      long last = stream.append("{\"id\":5}");
      awaitCondition(
          () -> sources.get(sources.size() - 1).acknowledged() >= last, "the last record");
    } finally {
      supervisor.close();
    }
    assertThat(ids(EVENTS)).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(deadLetterClasses()).isEmpty();
  }

  private Pipeline start(ScriptedStream source, StreamTableConfig table) {
    Pipeline pipeline = new Pipeline(config(table), catalog, source, new TableWriterRegistry());
    pipelines.add(pipeline);
    pipeline.start();
    return pipeline;
  }

  private static PipelineConfig config(StreamTableConfig table) {
    return new PipelineConfig(
        "events",
        new HttpSourceConfig("events", 1024, 1 << 20, 1000),
        new TargetConfig("raw", Optional.of(table)),
        Duration.ofMillis(100));
  }

  private static StreamTableConfig table(
      WriteMode mode,
      List<String> key,
      List<Column> columns,
      UnknownFields unknown,
      List<PartitionField> partitionBy) {
    return new StreamTableConfig(
        "events", mode, key, columns, partitionBy, unknown, "events_dead_letter");
  }

  private static Column column(String name, org.apache.iceberg.types.Type.PrimitiveType type) {
    return new Column(name, type, false);
  }

  private List<Long> ids(TableIdentifier identifier) {
    List<Long> ids = new ArrayList<>();
    for (Record record : rows(identifier)) {
      ids.add((Long) record.getField("id"));
    }
    ids.sort(Long::compare);
    return ids;
  }

  private Map<Long, String> names(TableIdentifier identifier) {
    Map<Long, String> names = new TreeMap<>();
    for (Record record : rows(identifier)) {
      names.put((Long) record.getField("id"), (String) record.getField("name"));
    }
    return names;
  }

  private Map<String, String> deadLetterClasses() {
    Map<String, String> classes = new TreeMap<>();
    for (Record record : rows(DEAD)) {
      String previous =
          classes.put(
              (String) record.getField(DeadLetters.RECORD_ID),
              (String) record.getField(DeadLetters.ERROR_CLASS));
      assertThat(previous).as("a duplicate dead letter").isNull();
    }
    return classes;
  }

  private List<Record> rows(TableIdentifier identifier) {
    List<Record> rows = new ArrayList<>();
    try (CloseableIterable<Record> records =
        IcebergGenerics.read(catalog.loadTable(identifier)).build()) {
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
      Thread.sleep(5);
    }
  }
}
