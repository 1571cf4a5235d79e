package io.floe.ingest.kafka;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.KafkaSourceConfig;
import io.floe.core.config.KafkaSourceConfig.StartPosition;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.RecordFormat;
import io.floe.core.config.StreamTableConfig;
import io.floe.core.config.TargetConfig;
import io.floe.ingest.ChangeHandler;
import io.floe.ingest.SourceEvent;
import io.floe.ingest.SourcePosition;
import io.floe.ingest.SourceTable;
import io.floe.ingest.stream.StreamRecord;
import io.floe.testing.KafkaBroker;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The Kafka source against a real broker, driven directly with a recording handler. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KafkaSourceIT {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir static Path directory;
  private static KafkaBroker broker;

  private final List<KafkaSource> sources = new ArrayList<>();

  @BeforeAll
  static void startBroker() {
    broker = KafkaBroker.start(directory.resolve("broker"));
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @AfterEach
  void closeSources() {
    sources.forEach(KafkaSource::close);
  }

  @Test
  void deliversEveryRecordOnceInPartitionOrderThenHeartbeats() throws Exception {
    broker.createTopic("orders", 3);
    long before = System.currentTimeMillis();
    produce(broker, "orders", 3, 300, 0);
    KafkaSource source = source(config("every", List.of("orders"), StartPosition.EARLIEST));
    List<SourceTable> tables = source.inspect();
    assertThat(tables).extracting(SourceTable::qualifiedName).containsExactly("every");
    Recorder recorder = new Recorder(false);
    PrintStream stdout = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    System.setOut(new PrintStream(printed, true, UTF_8));
    try {
      source.start(Optional.empty(), recorder);
      await(() -> recorder.changes().size() >= 300, "300 records delivered");
    } finally {
      System.setOut(stdout);
    }
    assertThat(printed.toString(UTF_8)).as("what the source printed to stdout").isEmpty();

    List<SourceEvent.Change> changes = recorder.changes();
    assertThat(changes).hasSize(300);
    Map<Integer, List<Long>> offsets = new HashMap<>();
    for (SourceEvent.Change change : changes) {
      StreamRecord record = (StreamRecord) change.row();
      KafkaPosition position = (KafkaPosition) change.position();
      TopicPartition own = position.ownPartition().orElseThrow();
      long offset = position.ownOffset();
      assertThat(change.table()).isEqualTo("every");
      assertThat(change.operation()).isEqualTo(SourceEvent.Operation.INSERT);
      assertThat(record.id()).isEqualTo("kafka:orders:" + own.partition() + ":" + offset);
      assertThat(record.origin()).isEqualTo("orders/" + own.partition() + "@" + offset);
      assertThat(position.nextOffset(own)).contains(offset + 1);
      assertThat(record.timestampMillis()).isEqualTo(change.sourceMillis()).isGreaterThan(before);
      int i = Integer.parseInt(new String(record.key(), UTF_8).substring(1));
      assertThat(i % 3).isEqualTo(own.partition());
      assertThat(record.decode().fields()).containsEntry("i", (long) i);
      offsets.computeIfAbsent(own.partition(), p -> new ArrayList<>()).add(offset);
    }
    for (int partition = 0; partition < 3; partition++) {
      assertThat(offsets.get(partition)).isEqualTo(range(0, 100));
    }
    // The last change's position has every partition at its end.
    assertThat(((KafkaPosition) changes.get(299).position()).offsets()).hasSize(3);

    // Idle: heartbeats at the end of every partition, no problem, no lag.
    int heartbeats = recorder.heartbeats().size();
    await(() -> recorder.heartbeats().size() > heartbeats + 2, "heartbeats while idle");
    KafkaPosition idle = recorder.lastHeartbeat();
    assertThat(idle.offsets())
        .isEqualTo(
            Map.of(
                new TopicPartition("orders", 0), 100L,
                new TopicPartition("orders", 1), 100L,
                new TopicPartition("orders", 2), 100L));
    await(
        () -> source.figures().lag().equals(Map.of("orders/0", 0L, "orders/1", 0L, "orders/2", 0L)),
        "lag 0 in every partition");
    assertThat(source.figures().problem()).isEmpty();

    source.close();
    assertThat(recorder.awaitStopped()).isNull();
    assertThat(recorder.stops.get()).isEqualTo(1);
  }

  @Test
  void startsAtTheEarliestLatestOrTimestampOffsets() throws Exception {
    broker.createTopic("starts", 1);
    long base = System.currentTimeMillis() - 3_600_000;
    try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
      for (int i = 0; i < 10; i++) {
        long timestamp = i < 5 ? base : base + 60_000;
        producer.send(new ProducerRecord<>("starts", 0, timestamp, bytes("k" + i), value(i))).get();
      }
    }

    Recorder earliest = startedRecorder("earliest", "starts", StartPosition.EARLIEST, null);
    await(() -> earliest.changes().size() == 10, "the earliest start delivers all 10 records");

    Recorder latest = startedRecorder("latest", "starts", StartPosition.LATEST, null);
    await(() -> !latest.heartbeats().isEmpty(), "the latest start reports where it stands");
    assertThat(latest.lastHeartbeat().offsets())
        .containsEntry(new TopicPartition("starts", 0), 10L);
    Recorder timestamp =
        startedRecorder(
            "timestamp", "starts", StartPosition.TIMESTAMP, Instant.ofEpochMilli(base + 30_000));
    Recorder future =
        startedRecorder(
            "future",
            "starts",
            StartPosition.TIMESTAMP,
            Instant.ofEpochMilli(System.currentTimeMillis() + 3_600_000));
    await(() -> !future.heartbeats().isEmpty(), "the future start reports where it stands");
    assertThat(future.lastHeartbeat().offsets())
        .containsEntry(new TopicPartition("starts", 0), 10L);

    produce(broker, "starts", 1, 1, 10);
    await(() -> latest.changes().size() == 1, "the latest start delivers the new record");
    await(() -> timestamp.changes().size() == 6, "the timestamp start delivers 5 + 1 records");
    await(() -> future.changes().size() == 1, "the future start delivers the new record");
    assertThat(offsetsOf(latest)).containsExactly(10L);
    assertThat(offsetsOf(timestamp)).containsExactly(5L, 6L, 7L, 8L, 9L, 10L);
    assertThat(offsetsOf(future)).containsExactly(10L);
    assertThat(offsetsOf(earliest)).isEqualTo(range(0, 11));
  }

  @Test
  void resumesFromThePositionAndTheCheckpointHoldsWhatCameBefore() throws Exception {
    broker.createTopic("resumed", 3);
    produce(broker, "resumed", 3, 60, 0); // 20 records per partition
    KafkaSource source = source(config("resume", List.of("resumed"), StartPosition.LATEST));
    source.inspect();
    SourcePosition first =
        source
            .position(Map.of(KafkaPosition.OFFSETS, "resumed:0:9,resumed:1:15,resumed:2:20"))
            .orElseThrow();
    SourcePosition second =
        source.position(Map.of(KafkaPosition.OFFSETS, "resumed:0:7,resumed:1:20")).orElseThrow();
    SourcePosition resume = source.resumePosition(List.of(first, second));
    assertThat(resume.summary()).containsEntry(KafkaPosition.OFFSETS, "resumed:0:7,resumed:1:15");

    Recorder recorder = new Recorder(false);
    source.start(Optional.of(resume), recorder);
    // Partition 2 is in one checkpoint only: it starts from its earliest offset.
    int expected = (20 - 7) + (20 - 15) + 20;
    await(() -> recorder.changes().size() >= expected, expected + " records delivered");
    Map<Integer, List<Long>> offsets = new HashMap<>();
    for (SourceEvent.Change change : recorder.changes()) {
      KafkaPosition position = (KafkaPosition) change.position();
      int partition = position.ownPartition().orElseThrow().partition();
      offsets.computeIfAbsent(partition, p -> new ArrayList<>()).add(position.ownOffset());
      // What is delivered after a resume is what the resume position does not hold.
      assertThat(resume.holds(position)).isFalse();
    }
    assertThat(offsets.get(0)).isEqualTo(range(7, 20));
    assertThat(offsets.get(1)).isEqualTo(range(15, 20));
    assertThat(offsets.get(2)).isEqualTo(range(0, 20));
    // What is not delivered, each checkpoint holds.
    for (long offset = 0; offset < 7; offset++) {
      assertThat(first.holds(recordAt("resumed", 0, offset))).isTrue();
      assertThat(second.holds(recordAt("resumed", 0, offset))).isTrue();
    }
    for (long offset = 0; offset < 15; offset++) {
      assertThat(first.holds(recordAt("resumed", 1, offset))).isTrue();
    }
    // And the tables skip a delivered record exactly when their checkpoint has it.
    assertThat(first.holds(recordAt("resumed", 0, 8))).isTrue();
    assertThat(first.holds(recordAt("resumed", 0, 9))).isFalse();
    assertThat(second.holds(recordAt("resumed", 2, 0))).isFalse();
    assertThat(first.holds(recordAt("resumed", 2, 19))).isTrue();
  }

  @Test
  void recordsDeletedByRetentionBeforeAResumeAreReportedAndSkipped() throws Exception {
    broker.createTopic("retained", 1);
    produce(broker, "retained", 1, 10, 0);
    TopicPartition partition = new TopicPartition("retained", 0);
    try (Admin admin = admin(broker)) {
      // What retention does: the log's start moves on to offset 6.
      admin.deleteRecords(Map.of(partition, RecordsToDelete.beforeOffset(6))).all().get();
    }
    KafkaSource source = source(config("retention", List.of("retained"), StartPosition.EARLIEST));
    source.inspect();
    SourcePosition checkpoint =
        source.position(Map.of(KafkaPosition.OFFSETS, "retained:0:2")).orElseThrow();
    Recorder recorder = new Recorder(false);
    source.start(Optional.of(checkpoint), recorder);
    await(() -> recorder.changes().size() == 4, "the 4 records retention kept");
    assertThat(offsetsOf(recorder)).containsExactly(6L, 7L, 8L, 9L);
    assertThat(source.figures().problem())
        .hasValueSatisfying(
            problem ->
                assertThat(problem)
                    .contains("4 records of retained/0 (offsets 2 to 5) deleted by retention"));
  }

  @Test
  void recordsDeletedByRetentionWhileTheSourceIsBehindAreReportedAndSkipped() throws Exception {
    broker.createTopic("shrinking", 1);
    byte[] value = new byte[1024];
    try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
      List<Future<RecordMetadata>> sent = new ArrayList<>();
      for (int i = 0; i < 4000; i++) {
        sent.add(producer.send(new ProducerRecord<>("shrinking", 0, null, value)));
      }
      producer.flush();
      for (Future<RecordMetadata> future : sent) {
        future.get();
      }
    }
    KafkaSource source = source(config("shrinking", List.of("shrinking"), StartPosition.EARLIEST));
    source.inspect();
    Recorder recorder = new Recorder(false);
    CountDownLatch gate = new CountDownLatch(1);
    recorder.gate = gate;
    source.start(Optional.empty(), recorder);
    // The first batch waits (a slow pipeline) while retention deletes what the source has not
    // fetched yet.
    assertThat(recorder.entered.await(60, TimeUnit.SECONDS)).isTrue();
    try (Admin admin = admin(broker)) {
      admin
          .deleteRecords(
              Map.of(new TopicPartition("shrinking", 0), RecordsToDelete.beforeOffset(3000)))
          .all()
          .get();
    }
    recorder.gate = null;
    gate.countDown();
    await(() -> offsetsOf(recorder).contains(3999L), "the records after those retention deleted");
    List<Long> offsets = offsetsOf(recorder);
    int gap = 0;
    while (offsets.get(gap) == gap) {
      gap++;
    }
    long firstLost = gap;
    assertThat(firstLost).isBetween(1L, 2999L);
    assertThat(offsets.subList(gap, offsets.size())).isEqualTo(range(3000, 4000));
    assertThat(source.figures().problem())
        .hasValueSatisfying(
            problem ->
                assertThat(problem)
                    .contains(
                        (3000 - firstLost)
                            + " records of shrinking/0 (offsets "
                            + firstLost
                            + " to 2999) deleted by retention"));
  }

  @Test
  void acknowledgedPositionsAreCommittedToTheGroup() throws Exception {
    broker.createTopic("acked", 2);
    produce(broker, "acked", 2, 50, 0);
    KafkaSource source = source(config("acks", List.of("acked"), StartPosition.EARLIEST));
    source.inspect();
    Recorder recorder = new Recorder(true);
    source.start(Optional.empty(), recorder);
    await(() -> recorder.changes().size() == 50, "50 records delivered");
    Map<TopicPartition, Long> expected =
        Map.of(new TopicPartition("acked", 0), 25L, new TopicPartition("acked", 1), 25L);
    try (Admin admin = admin(broker)) {
      await(
          () -> expected.equals(groupOffsets(admin, "floe-acks")),
          "the group's offsets at the end of both partitions");
    }
  }

  @Test
  void waitsOutABrokerOutageWithoutLossOrDuplicates(@TempDir Path own) throws Exception {
    try (KafkaBroker outage = KafkaBroker.start(own.resolve("outage"))) {
      outage.createTopic("flaky", 2);
      produce(outage, "flaky", 2, 100, 0);
      KafkaSource source =
          new KafkaSource(
              config(outage, "outage", List.of("flaky"), "", StartPosition.EARLIEST, null),
              Duration.ofSeconds(3));
      sources.add(source);
      source.inspect();
      Recorder recorder = new Recorder(true);
      source.start(Optional.empty(), recorder);
      await(() -> recorder.changes().size() == 100, "100 records delivered");
      // Idle for longer than the outage threshold: no problem while the broker answers.
      Thread.sleep(4_000);
      assertThat(source.figures().problem()).isEmpty();

      long stopped = System.nanoTime();
      outage.stop();
      await(() -> source.figures().problem().isPresent(), "the outage is reported");
      long reportedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped);
      System.err.println(
          "Outage reported after "
              + reportedAfter
              + " ms: "
              + source.figures().problem().orElseThrow());
      assertThat(source.figures().problem().orElseThrow())
          .contains("Kafka brokers " + outage.bootstrapServers() + " unreachable since")
          .contains("retrying");
      assertThat(recorder.stops.get()).isZero();

      outage.restart();
      long restarted = System.nanoTime();
      await(() -> source.figures().problem().isEmpty(), "the outage clears");
      System.err.println(
          "Outage cleared "
              + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restarted)
              + " ms after the restart");
      produce(outage, "flaky", 2, 100, 100);
      await(() -> recorder.changes().size() >= 200, "200 records delivered");
      Thread.sleep(1_000);
      Map<Integer, List<Long>> offsets = new HashMap<>();
      for (SourceEvent.Change change : recorder.changes()) {
        KafkaPosition position = (KafkaPosition) change.position();
        offsets
            .computeIfAbsent(
                position.ownPartition().orElseThrow().partition(), p -> new ArrayList<>())
            .add(position.ownOffset());
      }
      assertThat(offsets.get(0)).isEqualTo(range(0, 100));
      assertThat(offsets.get(1)).isEqualTo(range(0, 100));
      source.close();
      assertThat(recorder.awaitStopped()).isNull();
    }
  }

  @Test
  void inspectReportsAnUnreachableBrokerFast() throws Exception {
    int port;
    try (ServerSocket socket =
        new ServerSocket(0, 1, InetAddress.getByAddress(new byte[] {127, 0, 0, 1}))) {
      port = socket.getLocalPort();
    }
    String servers = "127.0.0.1:" + port;
    KafkaSourceConfig kafka =
        new KafkaSourceConfig(
            servers,
            List.of("any"),
            "",
            "floe-unreachable",
            StartPosition.EARLIEST,
            Optional.empty(),
            RecordFormat.JSON,
            "",
            1_000_000);
    KafkaSource source = source(pipeline("unreachable", kafka));
    long started = System.nanoTime();
    assertThatThrownBy(source::inspect)
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SOURCE_UNREACHABLE))
        .hasMessageContaining(servers)
        .hasMessageContaining("bootstrap-servers")
        .hasMessageContaining("advertised.listeners");
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    System.err.println("Unreachable broker reported after " + millis + " ms");
    assertThat(millis).isLessThan(20_000);
  }

  @Test
  void inspectReportsMissingTopicsAndAcceptsAPatternMatchingNothing() {
    broker.createTopic("present", 1);
    KafkaSource missing =
        source(config("missing", List.of("present", "absent", "gone"), StartPosition.EARLIEST));
    assertThatThrownBy(missing::inspect)
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SOURCE_NOT_READY))
        .hasMessageContaining("[absent, gone]")
        .hasMessageContaining("kafka-topics.sh --bootstrap-server " + broker.bootstrapServers())
        .hasMessageContaining("--create --topic absent");

    KafkaSource pattern =
        source(config(broker, "nomatch", List.of(), "nothing\\..*", StartPosition.EARLIEST, null));
    assertThat(pattern.inspect()).extracting(SourceTable::tableName).containsExactly("nomatch");
  }

  @Test
  void aPatternPicksUpNewTopicsAndPartitionsFromTheirStart() throws Exception {
    broker.createTopic("events.a", 1);
    produce(broker, "events.a", 1, 5, 0);
    KafkaSource source =
        source(config(broker, "pattern", List.of(), "events\\..*", StartPosition.LATEST, null));
    source.inspect();
    Recorder recorder = new Recorder(true);
    source.start(Optional.empty(), recorder);
    await(() -> !recorder.heartbeats().isEmpty(), "the first heartbeat");
    assertThat(recorder.lastHeartbeat().offsets())
        .isEqualTo(Map.of(new TopicPartition("events.a", 0), 5L));
    broker.createTopic("events.b", 2);
    produce(broker, "events.b", 2, 6, 0);
    await(() -> recorder.changes().size() == 6, "the new topic's records, from its start");
    assertThat(recorder.changes())
        .extracting(change -> ((StreamRecord) change.row()).origin())
        .containsExactlyInAnyOrder(
            "events.b/0@0",
            "events.b/0@1",
            "events.b/0@2",
            "events.b/1@0",
            "events.b/1@1",
            "events.b/1@2");
  }

  @Test
  void deliveryThroughputOfOneKilobyteRecords() throws Exception {
    int partitions = 4;
    int count = 100_000;
    broker.createTopic("throughput", partitions);
    byte[] value = new byte[1024];
    Arrays.fill(value, (byte) 'x');
    long producing = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> producer =
        broker.producer(
            Map.of(
                ProducerConfig.LINGER_MS_CONFIG, 5, ProducerConfig.BATCH_SIZE_CONFIG, 262_144))) {
      List<Future<RecordMetadata>> sent = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        sent.add(producer.send(new ProducerRecord<>("throughput", i % partitions, null, value)));
      }
      producer.flush();
      for (Future<RecordMetadata> future : sent) {
        future.get();
      }
    }
    long produced = System.nanoTime() - producing;
    KafkaSource source =
        source(config("throughput", List.of("throughput"), StartPosition.EARLIEST));
    source.inspect();
    AtomicLong delivered = new AtomicLong();
    AtomicLong batches = new AtomicLong();
    AtomicLong firstDelivery = new AtomicLong();
    CountDownLatch stopped = new CountDownLatch(1);
    long started = System.nanoTime();
    source.start(
        Optional.empty(),
        new ChangeHandler() {
          @Override
          public void handle(List<SourceEvent> events, Acknowledger acknowledger) {
            long changes = events.stream().filter(SourceEvent.Change.class::isInstance).count();
            delivered.addAndGet(changes);
            if (changes > 0) {
              firstDelivery.compareAndSet(0, System.nanoTime());
              batches.incrementAndGet();
              acknowledger.acknowledge(
                  ((SourceEvent.Change) events.get(events.size() - 1)).position());
            }
          }

          @Override
          public void stopped(Throwable failure) {
            stopped.countDown();
          }
        });
    await(() -> delivered.get() >= count, count + " records delivered");
    long ended = System.nanoTime();
    long elapsed = ended - started;
    long streaming = ended - firstDelivery.get();
    System.err.printf(
        "Kafka source throughput: %d records of 1 KB in %d ms from start = %.0f records/s (%.1f"
            + " MB/s); %.0f records/s from the first delivery on; %d batches; producing them took"
            + " %d ms%n",
        count,
        TimeUnit.NANOSECONDS.toMillis(elapsed),
        count / (elapsed / 1e9),
        count * 1024 / (elapsed / 1e9) / 1e6,
        count / (streaming / 1e9),
        batches.get(),
        TimeUnit.NANOSECONDS.toMillis(produced));
    assertThat(delivered.get()).isEqualTo(count);
    source.close();
    assertThat(stopped.await(10, TimeUnit.SECONDS)).isTrue();
  }

  // Helpers.

  private Recorder startedRecorder(
      String name, String topic, StartPosition start, Instant timestamp) {
    KafkaSource source = source(config(broker, name, List.of(topic), "", start, timestamp));
    source.inspect();
    Recorder recorder = new Recorder(false);
    source.start(Optional.empty(), recorder);
    return recorder;
  }

  private KafkaSource source(PipelineConfig config) {
    KafkaSource source = new KafkaSource(config);
    sources.add(source);
    return source;
  }

  private static PipelineConfig config(String name, List<String> topics, StartPosition start) {
    return config(broker, name, topics, "", start, null);
  }

  private static PipelineConfig config(
      KafkaBroker on,
      String name,
      List<String> topics,
      String pattern,
      StartPosition start,
      Instant timestamp) {
    return pipeline(
        name,
        new KafkaSourceConfig(
            on.bootstrapServers(),
            topics,
            pattern,
            "floe-" + name,
            start,
            Optional.ofNullable(timestamp),
            RecordFormat.JSON,
            "",
            1_000_000));
  }

  private static PipelineConfig pipeline(String name, KafkaSourceConfig kafka) {
    return new PipelineConfig(
        name,
        kafka,
        new TargetConfig(
            "raw",
            Optional.of(
                new StreamTableConfig(
                    name,
                    StreamTableConfig.WriteMode.APPEND,
                    List.of(),
                    List.of(),
                    List.of(),
                    StreamTableConfig.UnknownFields.ADD,
                    name + "_dead_letters"))),
        Duration.ofSeconds(1));
  }

  /** Produces {@code count} records round robin over the partitions, keys k{first}, k{first+1}. */
  private static void produce(KafkaBroker on, String topic, int partitions, int count, int first)
      throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = on.producer()) {
      List<Future<RecordMetadata>> sent = new ArrayList<>(count);
      for (int i = first; i < first + count; i++) {
        sent.add(
            producer.send(new ProducerRecord<>(topic, i % partitions, bytes("k" + i), value(i))));
      }
      producer.flush();
      for (Future<RecordMetadata> future : sent) {
        future.get();
      }
    }
  }

  private static byte[] bytes(String text) {
    return text.getBytes(UTF_8);
  }

  private static byte[] value(int i) {
    return bytes("{\"i\": " + i + ", \"name\": \"record " + i + "\"}");
  }

  private static KafkaPosition recordAt(String topic, int partition, long offset) {
    return KafkaPosition.afterRecord(Map.of(), new TopicPartition(topic, partition), offset);
  }

  private static List<Long> range(long from, long to) {
    List<Long> offsets = new ArrayList<>();
    for (long offset = from; offset < to; offset++) {
      offsets.add(offset);
    }
    return offsets;
  }

  private static List<Long> offsetsOf(Recorder recorder) {
    return recorder.changes().stream()
        .map(change -> ((KafkaPosition) change.position()).ownOffset())
        .toList();
  }

  private static Admin admin(KafkaBroker on) {
    return Admin.create(
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
            on.bootstrapServers(),
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
            10_000,
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
            5_000));
  }

  private static Map<TopicPartition, Long> groupOffsets(Admin admin, String group) {
    try {
      Map<TopicPartition, OffsetAndMetadata> offsets =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      Map<TopicPartition, Long> result = new HashMap<>();
      offsets.forEach(
          (partition, offset) -> {
            if (offset != null) {
              result.put(partition, offset.offset());
            }
          });
      return result;
    } catch (Exception e) {
      throw new IllegalStateException("Cannot read the offsets of group " + group, e);
    }
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("Not within " + WAIT.toSeconds() + " s: " + what);
      }
      Thread.sleep(50);
    }
  }

  /** Records what the source delivers; acknowledges each batch's last position if asked to. */
  private static final class Recorder implements ChangeHandler {
    private final boolean acknowledge;
    private final List<SourceEvent.Change> changes = new ArrayList<>();
    private final List<SourceEvent.Heartbeat> heartbeats = new ArrayList<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    final AtomicInteger stops = new AtomicInteger();
    private volatile Throwable failure;

    Recorder(boolean acknowledge) {
      this.acknowledge = acknowledge;
    }

    /** While set, a batch waits for it before it is recorded (the pipeline is slow). */
    volatile CountDownLatch gate;

    final CountDownLatch entered = new CountDownLatch(1);

    @Override
    public void handle(List<SourceEvent> events, Acknowledger acknowledger)
        throws InterruptedException {
      entered.countDown();
      CountDownLatch waitFor = gate;
      if (waitFor != null) {
        assertThat(waitFor.await(60, TimeUnit.SECONDS)).isTrue();
      }
      record(events, acknowledger);
    }

    private synchronized void record(List<SourceEvent> events, Acknowledger acknowledger) {
      assertThat(events).isNotEmpty();
      SourcePosition last = null;
      for (SourceEvent event : events) {
        if (event instanceof SourceEvent.Change change) {
          changes.add(change);
          last = change.position();
        } else if (event instanceof SourceEvent.Heartbeat heartbeat) {
          heartbeats.add(heartbeat);
          last = heartbeat.position();
        }
      }
      if (acknowledge && last != null) {
        acknowledger.acknowledge(last);
      }
    }

    @Override
    public void stopped(Throwable error) {
      failure = error;
      stops.incrementAndGet();
      stopped.countDown();
    }

    synchronized List<SourceEvent.Change> changes() {
      return List.copyOf(changes);
    }

    synchronized List<SourceEvent.Heartbeat> heartbeats() {
      return List.copyOf(heartbeats);
    }

    synchronized KafkaPosition lastHeartbeat() {
      return (KafkaPosition) heartbeats.get(heartbeats.size() - 1).position();
    }

    Throwable awaitStopped() throws InterruptedException {
      assertThat(stopped.await(30, TimeUnit.SECONDS)).isTrue();
      return failure;
    }
  }
}
