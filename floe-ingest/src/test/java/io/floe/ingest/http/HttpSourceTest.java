package io.floe.ingest.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.config.HttpSourceConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.StreamTableConfig;
import io.floe.core.config.TargetConfig;
import io.floe.ingest.ChangeHandler;
import io.floe.ingest.SourceEvent;
import io.floe.ingest.SourcePosition;
import io.floe.ingest.SourceTable;
import io.floe.ingest.stream.StreamRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP source driven by a recording handler in the pipeline's place: what it delivers, from
 * where it resumes, and how acknowledgements answer requests and make room in its buffer.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HttpSourceTest {
  @TempDir Path state;

  private final HttpStreams streams = new HttpStreams();
  private final List<HttpSource> sources = new ArrayList<>();

  @AfterEach
  void closeSources() {
    sources.forEach(HttpSource::close);
  }

  /** A pipeline {@code clicks} of stream {@code clicks} into {@code raw.events}. */
  static PipelineConfig config(int maxBufferedRecords) {
    return new PipelineConfig(
        "clicks",
        new HttpSourceConfig("clicks", 1024 * 1024, 16 * 1024 * 1024, maxBufferedRecords),
        new TargetConfig(
            "raw",
            Optional.of(
                new StreamTableConfig(
                    "events",
                    StreamTableConfig.WriteMode.APPEND,
                    List.of(),
                    List.of(),
                    List.of(),
                    StreamTableConfig.UnknownFields.ADD,
                    "events_dead_letter"))),
        Duration.ofSeconds(1));
  }

  private HttpSource source(int maxBufferedRecords) {
    HttpSource source =
        new HttpSource(
            config(maxBufferedRecords), new io.floe.ingest.SourceContext(state, streams));
    sources.add(source);
    return source;
  }

  static List<byte[]> records(String... texts) {
    return Arrays.stream(texts).map(text -> text.getBytes(StandardCharsets.UTF_8)).toList();
  }

  /** The pipeline's side, recorded: every event, and acknowledgements when the test asks. */
  static final class RecordingHandler implements ChangeHandler {
    final List<SourceEvent> events = new ArrayList<>();
    final AtomicReference<SourcePosition> acknowledge = new AtomicReference<>();
    final CountDownLatch stopped = new CountDownLatch(1);
    volatile Throwable failure;

    /** Thrown by {@code handle} for a batch with changes, when set: a failing pipeline. */
    volatile RuntimeException failWith;

    @Override
    public synchronized void handle(List<SourceEvent> batch, Acknowledger acknowledger) {
      if (failWith != null && batch.stream().anyMatch(SourceEvent.Change.class::isInstance)) {
        throw failWith;
      }
      events.addAll(batch);
      SourcePosition position = acknowledge.getAndSet(null);
      if (position != null) {
        acknowledger.acknowledge(position);
      }
    }

    @Override
    public void stopped(Throwable error) {
      failure = error;
      stopped.countDown();
    }

    synchronized List<SourceEvent.Change> changes() {
      return events.stream()
          .filter(SourceEvent.Change.class::isInstance)
          .map(SourceEvent.Change.class::cast)
          .toList();
    }

    synchronized List<SourceEvent> all() {
      return List.copyOf(events);
    }

    List<Long> sequences() {
      return changes().stream()
          .map(change -> ((HttpPosition) change.position()).sequence())
          .toList();
    }

    List<String> values() {
      return changes().stream()
          .map(change -> new String(((StreamRecord) change.row()).value(), StandardCharsets.UTF_8))
          .toList();
    }
  }

  static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 20 s");
      }
      Thread.sleep(10);
    }
  }

  @Test
  void inspectsItsTableAndHasNoFullLoad() {
    HttpSource source = source(100);
    List<SourceTable> tables = source.inspect();
    assertThat(tables)
        .singleElement()
        .satisfies(
            table -> {
              assertThat(table.qualifiedName()).isEqualTo("events");
              assertThat(table.tableName()).isEqualTo("events");
            });
    assertThat(source.prepareFullLoad(tables)).isEqualTo(tables);
    assertThat(state.resolve("streams").resolve("clicks")).isDirectory();
  }

  @Test
  void deliversEachRecordInOrderAsAChangeOfItsOwnWithItsPosition() throws Exception {
    HttpSource source = source(100);
    source.inspect();
    RecordingHandler handler = new RecordingHandler();
    source.start(Optional.empty(), handler);
    assertThat(streams.find("clicks")).containsSame(source);

    HttpSource.Result first =
        source.submit("b-1", records("{\"n\":1}", "{\"n\":2}", "{\"n\":3}"), false).get();
    assertThat(first).isEqualTo(new HttpSource.Result("clicks", 3, 1, 3, false));
    HttpSource.Result second = source.submit(null, records("{\"n\":4}", "not json"), false).get();
    assertThat(second).isEqualTo(new HttpSource.Result("clicks", 2, 4, 5, false));

    await(() -> handler.changes().size() == 5);
    assertThat(handler.sequences()).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(handler.values())
        .containsExactly("{\"n\":1}", "{\"n\":2}", "{\"n\":3}", "{\"n\":4}", "not json");
    SourceEvent.Change change = handler.changes().get(1);
    assertThat(change.table()).isEqualTo("events");
    assertThat(change.operation()).isEqualTo(SourceEvent.Operation.INSERT);
    assertThat(change.oldKey()).isNull();
    StreamRecord record = (StreamRecord) change.row();
    assertThat(record.id()).isEqualTo("http:000000000002");
    assertThat(record.origin()).isEqualTo("batch b-1 record 2");
    assertThat(record.key()).isNull();
    assertThat(record.decode().fields()).containsEntry("n", 2L);
    assertThat(change.position()).isEqualTo(new HttpPosition(2, "b-1"));
    assertThat(change.position().summary())
        .isEqualTo(Map.of(HttpPosition.SEQUENCE, "2", HttpPosition.BATCH, "b-1"));
    StreamRecord last = (StreamRecord) handler.changes().get(4).row();
    assertThat(last.origin()).isEqualTo("request 4-5 record 2");
    assertThat(handler.changes().get(4).position().summary())
        .isEqualTo(Map.of(HttpPosition.SEQUENCE, "5"));
    // No transactions: the pipeline may commit between any two records.
    assertThat(handler.all())
        .noneMatch(
            event ->
                event instanceof SourceEvent.TransactionBegin
                    || event instanceof SourceEvent.TransactionCommit);

    // Idle, it sends heartbeats at the last position.
    int before = handler.all().size();
    await(() -> handler.all().size() > before);
    assertThat(handler.all().get(handler.all().size() - 1))
        .isEqualTo(new SourceEvent.Heartbeat(new HttpPosition(5, null)));
    assertThat(source.figures().bufferedRecords()).isEqualTo(5);

    source.close();
    assertThat(handler.stopped.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(handler.failure).isNull();
    assertThat(streams.find("clicks")).isEmpty();
  }

  @Test
  void resumesWithExactlyTheRecordsAfterItsPosition() throws Exception {
    HttpSource first = source(100);
    first.inspect();
    RecordingHandler handler = new RecordingHandler();
    first.start(Optional.empty(), handler);
    first.submit("a", records("1", "2", "3"), false).get();
    first.submit("b", records("4", "5"), false).get();
    await(() -> handler.changes().size() == 5);
    first.close();

    HttpSource second = source(100);
    second.inspect();
    // The oldest checkpoint of the tables: sequence 3, inside batch a... its end.
    SourcePosition resume =
        second.resumePosition(
            List.of(
                second.position(Map.of(HttpPosition.SEQUENCE, "4")).orElseThrow(),
                second
                    .position(Map.of(HttpPosition.SEQUENCE, "3", HttpPosition.BATCH, "a"))
                    .orElseThrow()));
    assertThat(resume).isEqualTo(new HttpPosition(3, "a"));
    assertThat(second.position(Map.of())).isEmpty();
    RecordingHandler resumed = new RecordingHandler();
    second.start(Optional.of(resume), resumed);
    await(() -> resumed.changes().size() == 2);
    assertThat(resumed.sequences()).containsExactly(4L, 5L);
    assertThat(resumed.values()).containsExactly("4", "5");
    assertThat(second.figures().bufferedRecords()).isEqualTo(2);
    // A record that the tables hold is not delivered again; new records follow.
    assertThat(second.submit("c", records("6"), false).get().firstSequence()).isEqualTo(6);
    await(() -> resumed.changes().size() == 3);
    assertThat(resumed.sequences()).containsExactly(4L, 5L, 6L);
    // The batch id of a batch before the restart is still known.
    assertThat(second.submit("a", records("1", "2", "3"), false).get())
        .isEqualTo(new HttpSource.Result("clicks", 3, 1, 3, true));
  }

  @Test
  void numbersNewRecordsAfterWhatTheTablesHoldWhenTheLogIsGone() throws Exception {
    HttpSource source = source(100);
    source.inspect();
    RecordingHandler handler = new RecordingHandler();
    source.start(Optional.of(new HttpPosition(41, null)), handler);
    assertThat(source.submit(null, records("x"), false).get().firstSequence()).isEqualTo(42);
    await(() -> handler.changes().size() == 1);
    assertThat(handler.sequences()).containsExactly(42L);
  }

  @Test
  void acknowledgingTruncatesTheLogAndAnswersRequestsWaitingForTheirCommit() throws Exception {
    HttpSource source = source(100);
    source.inspect();
    RecordingHandler handler = new RecordingHandler();
    source.start(Optional.empty(), handler);
    CompletableFuture<HttpSource.Result> first = source.submit("a", records("1", "2"), true);
    CompletableFuture<HttpSource.Result> second = source.submit("b", records("3"), true);
    await(() -> handler.changes().size() == 3);
    assertThat(first).isNotDone();
    assertThat(source.figures().bufferedRecords()).isEqualTo(3);

    handler.acknowledge.set(new HttpPosition(2, "a"));
    assertThat(first.get(10, TimeUnit.SECONDS))
        .isEqualTo(new HttpSource.Result("clicks", 2, 1, 2, false));
    assertThat(second).isNotDone();
    assertThat(source.figures().bufferedRecords()).isEqualTo(1);

    handler.acknowledge.set(new HttpPosition(3, "b"));
    assertThat(second.get(10, TimeUnit.SECONDS).lastSequence()).isEqualTo(3);
    assertThat(source.figures().bufferedRecords()).isZero();
    // Committed already: a retry that waits for the commit is answered at once.
    assertThat(source.submit("a", records("1", "2"), true).get(1, TimeUnit.SECONDS).duplicate())
        .isTrue();

    // A request still waiting when the source stops is told so.
    CompletableFuture<HttpSource.Result> pending = source.submit("c", records("4"), true);
    source.close();
    assertThatThrownBy(() -> pending.get(10, TimeUnit.SECONDS))
        .cause()
        .isInstanceOfSatisfying(
            IngestRefusedException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.STREAM_UNAVAILABLE);
              assertThat(e.getMessage()).contains("durable in its log").contains("same batch id");
            });
  }

  @Test
  void refusesBatchesWhileItsBufferIsFullUntilCommitsCatchUp() throws Exception {
    HttpSource source = source(3);
    source.inspect();
    RecordingHandler handler = new RecordingHandler();
    source.start(Optional.empty(), handler);
    source.submit("a", records("1", "2"), false).get();
    source.submit("b", records("3"), false).get();
    assertThatThrownBy(() -> source.submit("c", records("4"), false))
        .isInstanceOfSatisfying(
            IngestRefusedException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.STREAM_BUSY);
              assertThat(e.retryAfterSeconds()).isEqualTo(1);
              assertThat(e.getMessage()).contains("max-buffered-records (3)");
            });
    // A retry of an accepted batch is still answered.
    assertThat(source.submit("b", records("3"), false).get().duplicate()).isTrue();

    await(() -> handler.changes().size() == 3);
    handler.acknowledge.set(new HttpPosition(3, "b"));
    await(() -> source.figures().bufferedRecords() == 0);
    assertThat(source.submit("c", records("4"), false).get().firstSequence()).isEqualTo(4);
  }

  @Test
  void refusesBatchesWhileNotRunning() throws Exception {
    HttpSource source = source(100);
    source.inspect();
    assertThatThrownBy(() -> source.submit(null, records("1"), false))
        .isInstanceOfSatisfying(
            IngestRefusedException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.STREAM_UNAVAILABLE);
              assertThat(e.getMessage()).contains("is starting");
            });
    RecordingHandler handler = new RecordingHandler();
    source.start(Optional.empty(), handler);
    assertThat(source.submit(null, List.of(), false).get().accepted()).isZero();
    source.close();
    assertThatThrownBy(() -> source.submit(null, records("1"), false))
        .isInstanceOfSatisfying(
            IngestRefusedException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.STREAM_UNAVAILABLE));
  }

  @Test
  void stopsAndRefusesBatchesWhenThePipelineFails() throws Exception {
    HttpSource source = source(100);
    source.inspect();
    RecordingHandler handler = new RecordingHandler();
    handler.failWith = new IllegalStateException("the table cannot be written");
    source.start(Optional.empty(), handler);
    source.submit(null, records("1"), false).get();
    assertThat(handler.stopped.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(handler.failure).hasMessage("the table cannot be written");
    assertThat(streams.find("clicks")).isEmpty();
    assertThatThrownBy(() -> source.submit(null, records("2"), false))
        .isInstanceOf(IngestRefusedException.class);
  }

  @Test
  void refusesASecondStreamOfTheSameName() {
    HttpSource first = source(100);
    first.inspect();
    first.start(Optional.empty(), new RecordingHandler());
    HttpSource second = new HttpSource(config(100), state.resolve("elsewhere"), streams);
    sources.add(second);
    second.inspect();
    assertThatThrownBy(() -> second.start(Optional.empty(), new RecordingHandler()))
        .hasMessageContaining("takes its stream clicks already");
  }
}
