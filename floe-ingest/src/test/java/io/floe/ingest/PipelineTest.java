package io.floe.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.PostgresSourceConfig;
import io.floe.core.config.QualityRuleConfig;
import io.floe.core.config.SourceType;
import io.floe.core.config.TargetConfig;
import io.floe.core.config.UnboundedNumeric;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.ingest.ScriptedSource.Database;
import io.floe.ingest.ScriptedSource.Position;
import io.floe.ingest.ScriptedSource.Row;
import io.floe.ingest.SourceEvent.Operation;
import io.floe.ingest.quality.QualityResults;
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
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The behaviour every source inherits from {@link Pipeline}, run with a scripted in-memory source
 * built on the {@link ChangeSource} contract ({@link ScriptedSource}) against real Iceberg tables:
 * order of changes, checkpoints in snapshot summaries, resuming after a crash at any point, and
 * skipping transactions a table already holds when they are replayed.
 */
class PipelineTest {
  private static final String PIPELINE = "scripted";
  private static final TableIdentifier A = TableIdentifier.of("raw", "a");
  private static final TableIdentifier B = TableIdentifier.of("raw", "b");

  @TempDir Path warehouse;

  private JdbcCatalog catalog;
  private final Database database = new Database("app.a", "app.b");
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
  void loadsThenAppliesChangesInSourceOrderAndRecordsEachTablesPosition() throws Exception {
    database.commit(insert("app.a", 1, "a1"), insert("app.a", 2, "a2"), insert("app.b", 1, "b1"));
    ScriptedSource source = new ScriptedSource(database, 3);
    Pipeline pipeline = start(source, catalog);
    awaitState(pipeline, Pipeline.State.STREAMING);

    // One row changed many times within and across transactions ends as the source has it.
    database.commit(update("app.a", 1, "a1-1"), update("app.a", 1, "a1-2"));
    database.commit(delete("app.a", 2), insert("app.a", 2, "a2-again"), insert("app.b", 2, "b2"));
    long lastOfB = database.commit(update("app.a", 1, "a1-3"), delete("app.b", 1));
    awaitAcknowledged(source, lastOfB);
    long last = database.commit(update("app.a", 2, "a2-last"));
    awaitAcknowledged(source, last);

    assertThat(contents(A)).isEqualTo(database.stateAt(last).get("app.a"));
    assertThat(contents(B)).isEqualTo(database.stateAt(last).get("app.b"));
    assertThat(checkpointOf(A))
        .containsEntry(Checkpoint.PIPELINE, PIPELINE)
        .containsEntry(Checkpoint.PHASE, Checkpoint.PHASE_STREAMING)
        .containsEntry(ScriptedSource.COMMIT, Long.toString(last));
    // raw.b has no change in the last transaction, committed on its own: raw.b did not commit it.
    assertThat(checkpointOf(B)).containsEntry(ScriptedSource.COMMIT, Long.toString(lastOfB));
    List<Long> acknowledged = source.acknowledged().stream().map(Position::stream).toList();
    assertThat(acknowledged).isSorted();
    assertThat(pipeline.stats().loadedRows()).isEqualTo(3);
    assertThat(pipeline.stats().changes()).isEqualTo(8);
    assertThat(pipeline.stats().skippedChanges()).isZero();
    pipeline.close();
    assertThat(pipeline.state()).isEqualTo(Pipeline.State.STOPPED);
  }

  @Test
  void resumesAfterACrashInTheMiddleOfATransactionWithNothingLostOrDuplicated() throws Exception {
    database.commit(insert("app.a", 1, "a1"), insert("app.b", 1, "b1"));
    ScriptedSource first = new ScriptedSource(database, 2);
    Pipeline crashed = start(first, catalog);
    awaitState(crashed, Pipeline.State.STREAMING);
    long committed = database.commit(update("app.a", 1, "a1-1"), insert("app.b", 2, "b2"));
    awaitAcknowledged(first, committed);

    // The next transaction is cut off after its BEGIN and two changes: a crash.
    first.cutAfter(committed + 1, 2);
    long cut =
        database.commit(update("app.a", 1, "a1-2"), delete("app.b", 1), insert("app.a", 3, "a3"));
    first.awaitCut();
    crashed.close();
    assertThat(contents(A)).isEqualTo(database.stateAt(committed).get("app.a"));

    ScriptedSource second = new ScriptedSource(database, 2);
    Pipeline resumed = start(second, catalog);
    assertThat(resumed.state()).isEqualTo(Pipeline.State.STREAMING);
    long last = database.commit(insert("app.b", 3, "b3"));
    awaitAcknowledged(second, last);

    assertThat(cut).isLessThan(last);
    assertThat(contents(A)).isEqualTo(database.stateAt(last).get("app.a"));
    assertThat(contents(B)).isEqualTo(database.stateAt(last).get("app.b"));
    assertThat(second.fullLoadsPrepared()).isZero();
  }

  @Test
  void skipsReplayedTransactionsForTablesThatHoldThemAndAppliesThemToTheOthers() throws Exception {
    database.commit(insert("app.a", 1, "a1"), insert("app.b", 1, "b1"));
    FaultyCatalog faulty = new FaultyCatalog(catalog);
    ScriptedSource first = new ScriptedSource(database, 50);
    Pipeline failed = start(first, faulty);
    awaitState(failed, Pipeline.State.STREAMING);
    // raw.a alone: raw.b does not commit, so its checkpoint stays behind raw.a's.
    long onlyA = database.commit(update("app.a", 1, "a1-1"), insert("app.a", 2, "a2"));
    awaitAcknowledged(first, onlyA);
    assertThat(checkpointOf(B)).containsEntry(ScriptedSource.COMMIT, "0");

    // A crash between the commits of one cycle: raw.a commits, raw.b's commit fails.
    faulty.failCommitsOf(B);
    long both = database.commit(insert("app.a", 3, "a3"), update("app.b", 1, "b1-1"));
    awaitState(failed, Pipeline.State.FAILED);
    assertThat(failed.failure().code()).isEqualTo(ErrorCode.TABLE_WRITE_FAILED);
    assertThat(checkpointOf(A)).containsEntry(ScriptedSource.COMMIT, Long.toString(both));
    assertThat(checkpointOf(B)).containsEntry(ScriptedSource.COMMIT, "0");
    int snapshotsOfA = snapshotCount(A);

    ScriptedSource second = new ScriptedSource(database, 50);
    Pipeline resumed = start(second, catalog);
    long last = database.commit(update("app.b", 1, "b1-2"));
    awaitAcknowledged(second, last);

    assertThat(contents(A)).isEqualTo(database.stateAt(last).get("app.a"));
    assertThat(contents(B)).isEqualTo(database.stateAt(last).get("app.b"));
    // raw.a held both replayed transactions (3 changes): skipped, not committed again.
    Pipeline.TableStatus a = status(resumed, "app.a");
    assertThat(a.skipped()).isEqualTo(3);
    assertThat(a.changes()).isZero();
    assertThat(snapshotCount(A)).isEqualTo(snapshotsOfA);
    Pipeline.TableStatus b = status(resumed, "app.b");
    assertThat(b.skipped()).isZero();
    assertThat(b.changes()).isEqualTo(2);
  }

  @Test
  void restartsAnInterruptedFullLoadFromEmptyTables() throws Exception {
    for (long id = 1; id <= 20; id++) {
      database.commit(insert("app.a", id, "a" + id), insert("app.b", id, "b" + id));
    }
    ScriptedSource first = new ScriptedSource(database, 4);
    first.allowEvents(12);
    Pipeline interrupted = start(first, catalog);
    first.awaitDelivered(12);
    interrupted.close();
    // Three batches of raw.a's rows, each committed.
    assertThat(snapshotCount(A)).isEqualTo(3);
    assertThat(checkpointOf(A)).containsEntry(Checkpoint.PHASE, Checkpoint.PHASE_LOADING);
    // A row the partial load holds is deleted before the load restarts: it must not stay.
    assertThat(contents(A)).containsKey(2L);
    database.commit(delete("app.a", 2));

    ScriptedSource second = new ScriptedSource(database, 4);
    Pipeline reloaded = start(second, catalog);
    assertThat(second.fullLoadsPrepared()).isEqualTo(1);
    awaitState(reloaded, Pipeline.State.STREAMING);
    long last = database.commit(delete("app.a", 7));
    awaitAcknowledged(second, last);

    assertThat(contents(A)).isEqualTo(database.stateAt(last).get("app.a"));
    assertThat(contents(B)).isEqualTo(database.stateAt(last).get("app.b"));
    assertThat(checkpointOf(B)).containsEntry(Checkpoint.PHASE, Checkpoint.PHASE_STREAMING);
  }

  @Test
  void aFullLoadOfEmptyTablesRecordsItsEndInEveryTable() throws Exception {
    ScriptedSource source = new ScriptedSource(database, 10);
    Pipeline pipeline = start(source, catalog);
    awaitState(pipeline, Pipeline.State.STREAMING);
    assertThat(checkpointOf(A)).containsEntry(Checkpoint.PHASE, Checkpoint.PHASE_STREAMING);
    assertThat(checkpointOf(B)).containsEntry(Checkpoint.PHASE, Checkpoint.PHASE_STREAMING);
    pipeline.close();

    ScriptedSource second = new ScriptedSource(database, 10);
    Pipeline resumed = start(second, catalog);
    assertThat(second.fullLoadsPrepared()).isZero();
    long last = database.commit(insert("app.b", 1, "b1"));
    awaitAcknowledged(second, last);
    assertThat(contents(B)).isEqualTo(Map.of(1L, "b1"));
    resumed.close();
  }

  @Test
  void aChangeOfATableThePipelineDoesNotHaveFailsItWithAnInternalError() throws Exception {
    Database other = new Database("app.a", "app.b", "app.c");
    Pipeline pipeline = start(new ScriptedSource(other, 10, List.of("app.a", "app.b")), catalog);
    awaitState(pipeline, Pipeline.State.STREAMING);
    other.commit(insert("app.c", 1, "c1"));
    awaitState(pipeline, Pipeline.State.FAILED);
    assertThat(pipeline.failure().code()).isEqualTo(ErrorCode.INTERNAL_ERROR);
    assertThat(pipeline.failure()).hasMessageContaining("Cannot route a change of app.c");
  }

  @Test
  void stateMovesOnlyAlongTheLifecycle() {
    Pipeline pipeline = pipeline(new ScriptedSource(database, 10), catalog);
    pipeline.close(); // not started: nothing to stop
    assertThat(pipeline.state()).isEqualTo(Pipeline.State.CREATED);
    pipeline.start();
    assertThatThrownBy(pipeline::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Cannot move pipeline " + PIPELINE);
    pipeline.close();
    assertThat(pipeline.state()).isEqualTo(Pipeline.State.STOPPED);
    pipeline.close(); // stopped: nothing to do
    assertThat(pipeline.state()).isEqualTo(Pipeline.State.STOPPED);
    for (Pipeline.State state : Pipeline.State.values()) {
      assertThat(state.next()).doesNotContain(Pipeline.State.CREATED);
      if (state.terminal()) {
        assertThat(state.next()).isEmpty();
      }
    }
  }

  /**
   * A database pipeline's quality rules: a warn rule counts what fails and commits it; a block rule
   * fails the pipeline before the commit that would hold its bad row, and a restart (with the rule
   * changed) resumes from the last good commit with nothing lost.
   */
  @Test
  void qualityRulesWarnAndBlockBeforeACommitAndNothingIsLost() throws Exception {
    QualityResults results = QualityResults.inMemory(100);
    QualityRuleConfig shortValues =
        rule("short_values", QualityRuleConfig.Check.SQL, "app.b", "length(value) < 5");
    QualityRuleConfig lowercase =
        new QualityRuleConfig(
            "lowercase",
            QualityRuleConfig.Check.REGEX,
            QualityRuleConfig.Action.BLOCK,
            Optional.of("app.a"),
            List.of("value"),
            Optional.empty(),
            Optional.empty(),
            List.of(),
            "[a-z0-9-]+",
            "",
            "",
            Duration.ZERO,
            "");
    database.commit(insert("app.a", 1, "a1"), insert("app.b", 1, "b1"));
    ScriptedSource source = new ScriptedSource(database, 3);
    Pipeline pipeline = start(source, catalog, List.of(shortValues, lowercase), results);
    awaitState(pipeline, Pipeline.State.STREAMING);
    long good = database.commit(insert("app.b", 2, "b-too-long"), update("app.a", 1, "a1-1"));
    awaitAcknowledged(source, good);
    assertThat(contents(B)).containsEntry(2L, "b-too-long");
    assertThat(pipeline.qualityFigures()).isEmpty(); // A database pipeline's rules are per table.
    assertThat(results.recent(100))
        .anySatisfy(
            result -> {
              assertThat(result.rule()).isEqualTo("short_values");
              assertThat(result.outcome()).isEqualTo("warned");
              assertThat(result.rowsFailed()).isEqualTo(1);
              assertThat(result.example()).contains("'length(value) < 5' is not true");
            });

    long bad = database.commit(update("app.a", 1, "A1-UPPER"), insert("app.b", 3, "b3"));
    awaitState(pipeline, Pipeline.State.FAILED);
    assertThat(pipeline.failure().code()).isEqualTo(io.floe.core.ErrorCode.QUALITY_BLOCKED);
    assertThat(pipeline.failure().getMessage())
        .contains("lowercase", "value = 'A1-UPPER' does not match the pattern [a-z0-9-]+");
    assertThat(contents(A)).containsEntry(1L, "a1-1");
    assertThat(contents(B)).doesNotContainKey(3L);
    assertThat(results.recent(100))
        .anySatisfy(result -> assertThat(result.outcome()).isEqualTo("blocked"));

    // The rule changes (a warning now): the restart applies the blocked transaction, once.
    QualityRuleConfig relaxed =
        new QualityRuleConfig(
            "lowercase",
            QualityRuleConfig.Check.REGEX,
            QualityRuleConfig.Action.WARN,
            Optional.of("app.a"),
            List.of("value"),
            Optional.empty(),
            Optional.empty(),
            List.of(),
            "[a-z0-9-]+",
            "",
            "",
            Duration.ZERO,
            "");
    ScriptedSource second = new ScriptedSource(database, 3);
    start(second, catalog, List.of(shortValues, relaxed), results);
    awaitAcknowledged(second, bad);
    assertThat(contents(A)).isEqualTo(database.stateAt(bad).get("app.a"));
    assertThat(contents(B)).isEqualTo(database.stateAt(bad).get("app.b"));
  }

  private static QualityRuleConfig rule(
      String name, QualityRuleConfig.Check check, String table, String predicate) {
    return new QualityRuleConfig(
        name,
        check,
        QualityRuleConfig.Action.WARN,
        Optional.of(table),
        List.of(),
        Optional.empty(),
        Optional.empty(),
        List.of(),
        "",
        "",
        "",
        Duration.ZERO,
        predicate);
  }

  private Pipeline start(
      ScriptedSource source,
      Catalog target,
      List<QualityRuleConfig> rules,
      QualityResults results) {
    PipelineConfig config =
        new PipelineConfig(
            PIPELINE,
            new PostgresSourceConfig(
                SourceType.POSTGRES,
                "jdbc:postgresql://127.0.0.1/unused",
                "unused",
                "",
                List.of("app.a", "app.b"),
                "unused",
                "unused",
                UnboundedNumeric.DECIMAL),
            new TargetConfig("raw"),
            Duration.ZERO,
            List.of(),
            Optional.empty(),
            rules);
    Pipeline pipeline =
        new Pipeline(
            config, target, source, new TableWriterRegistry(), warehouse.resolve("state"), results);
    pipelines.add(pipeline);
    pipeline.start();
    return pipeline;
  }

  private Pipeline start(ScriptedSource source, Catalog target) {
    Pipeline pipeline = pipeline(source, target);
    pipeline.start();
    return pipeline;
  }

  private Pipeline pipeline(ScriptedSource source, Catalog target) {
    PipelineConfig config =
        new PipelineConfig(
            PIPELINE,
            new PostgresSourceConfig(
                SourceType.POSTGRES,
                "jdbc:postgresql://127.0.0.1/unused",
                "unused",
                "",
                List.of("app.a", "app.b"),
                "unused",
                "unused",
                UnboundedNumeric.DECIMAL),
            new TargetConfig("raw"),
            Duration.ZERO);
    Pipeline pipeline = new Pipeline(config, target, source, new TableWriterRegistry());
    pipelines.add(pipeline);
    return pipeline;
  }

  private static Row insert(String table, long id, String value) {
    return new Row(table, Operation.INSERT, id, value);
  }

  private static Row update(String table, long id, String value) {
    return new Row(table, Operation.UPDATE, id, value);
  }

  private static Row delete(String table, long id) {
    return new Row(table, Operation.DELETE, id, null);
  }

  private static Pipeline.TableStatus status(Pipeline pipeline, String source) {
    return pipeline.tables().stream()
        .filter(table -> table.source().equals(source))
        .findFirst()
        .orElseThrow();
  }

  private static void awaitState(Pipeline pipeline, Pipeline.State state)
      throws InterruptedException {
    awaitCondition(() -> pipeline.state() == state, "pipeline state " + state);
  }

  private static void awaitAcknowledged(ScriptedSource source, long transaction)
      throws InterruptedException {
    awaitCondition(
        () -> source.acknowledged().stream().anyMatch(position -> position.commit() >= transaction),
        "transaction " + transaction + " acknowledged");
  }

  private static void awaitCondition(BooleanSupplier condition, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("Timed out waiting for " + what);
      }
      Thread.sleep(5);
    }
  }

  private Map<Long, String> contents(TableIdentifier identifier) {
    Map<Long, String> rows = new TreeMap<>();
    try (CloseableIterable<Record> records =
        IcebergGenerics.read(catalog.loadTable(identifier)).build()) {
      for (Record record : records) {
        String previous = rows.put((Long) record.getField("id"), (String) record.getField("value"));
        assertThat(previous).as("a duplicate of key %s", record.getField("id")).isNull();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }

  /** The summary of the table's newest snapshot a pipeline committed. */
  private Map<String, String> checkpointOf(TableIdentifier identifier) {
    Table table = catalog.loadTable(identifier);
    for (Snapshot snapshot = table.currentSnapshot();
        snapshot != null;
        snapshot = snapshot.parentId() == null ? null : table.snapshot(snapshot.parentId())) {
      if (PIPELINE.equals(snapshot.summary().get(Checkpoint.PIPELINE))) {
        return snapshot.summary();
      }
    }
    throw new AssertionError("No checkpoint in " + identifier);
  }

  private int snapshotCount(TableIdentifier identifier) {
    int count = 0;
    for (Snapshot ignored : catalog.loadTable(identifier).snapshots()) {
      count++;
    }
    return count;
  }
}
