package io.floe.bench;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.floe.core.catalog.CatalogDatabase;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.HttpSourceConfig;
import io.floe.core.config.KafkaSourceConfig;
import io.floe.core.config.KafkaSourceConfig.StartPosition;
import io.floe.core.config.MaintenanceConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.RecordFormat;
import io.floe.core.config.SourceConfig;
import io.floe.core.config.StreamTableConfig;
import io.floe.core.config.StreamTableConfig.Column;
import io.floe.core.config.StreamTableConfig.UnknownFields;
import io.floe.core.config.StreamTableConfig.WriteMode;
import io.floe.core.config.TargetConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.ingest.ChangeSources;
import io.floe.ingest.Pipeline;
import io.floe.ingest.PipelineStats;
import io.floe.ingest.SourceContext;
import io.floe.ingest.http.HttpStreams;
import io.floe.maintenance.MaintenanceHistory;
import io.floe.maintenance.WarehouseMaintenance;
import io.floe.server.http.HttpQueryServer;
import io.floe.sql.Procedures;
import io.floe.sql.QueryEngine;
import io.floe.sql.SqlUsers;
import io.floe.sql.Workgroup;
import io.floe.testing.KafkaBroker;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * A Kafka stream pipeline into Iceberg, against a real single-node KRaft broker in this JVM
 * (floe-testing's {@link KafkaBroker}).
 *
 * <p>(a) Throughput: {@code events} clickstream events of about 1 KB of JSON are produced into a
 * topic of {@code partitions} partitions first; then, alternating, a no-op consumer (a plain {@link
 * KafkaConsumer} with the byte-array deserializers Floe uses, assigned every partition, reading
 * from the beginning to the end and summing every byte of every key and value) and a Floe stream
 * pipeline (append mode, declared columns, commit interval 1 s, a fresh warehouse and consumer
 * group each time) read the whole topic. Floe's run counts from its first record applied until an
 * Iceberg commit holds every record; the no-op consumer's from its first record to its last.
 * Medians of {@code repeats} runs each, and the ratio of the medians; a first round of both, not
 * counted, warms the JVM up.
 *
 * <p>(b) Freshness: a paced producer sends events at {@code low-rate} and then {@code high-rate}
 * per second into a new topic each, read by a pipeline with a commit interval of 200 ms. After a 5
 * s warm-up, for {@code seconds} seconds, a sample of the events' send times (before {@code
 * send()}) is noted; a {@link VisibilityObserver} (its own catalog connection, polling every 10 ms)
 * notes when each sampled {@code event_id} first appears in a snapshot. Reported: send → visible
 * p50/p99, and its parts: send → acknowledged by the broker (acks=all), and the record's timestamp
 * → Iceberg commit as the pipeline measures it.
 *
 * <p>Then (c) the same for HTTP ingest, see {@link HttpIngest}.
 *
 * <p>Arguments: {@code [events=200000] [seconds=30] [low-rate=1000] [high-rate=10000] [repeats=3]
 * [partitions=4]}; {@code --only kafka} runs (a) and (b) alone, {@code --only http} (c) alone with
 * its own arguments.
 */
public final class StreamBenchmark {
  static final double TARGET_RATIO = 0.5;
  static final long TARGET_P50_MILLIS = 1_000;
  private static final String NAMESPACE = BenchEnvironment.NAMESPACE;
  private static final String TABLE = "clicks";
  private static final TableIdentifier IDENTIFIER = TableIdentifier.of(NAMESPACE, TABLE);
  private static final Duration THROUGHPUT_COMMIT_INTERVAL = Duration.ofSeconds(1);
  private static final Duration FRESHNESS_COMMIT_INTERVAL = Duration.ofMillis(200);
  private static final Duration OBSERVER_POLL_INTERVAL = Duration.ofMillis(10);
  private static final Duration WARM_UP = Duration.ofSeconds(5);
  private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
  private static final int SAMPLES = 10_000;
  private static final long MAX_RECORD_BYTES = 1 << 20;

  /** Sink of the no-op consumer's byte sums, so that the JIT cannot drop the reads. */
  private static volatile long blackhole;

  private StreamBenchmark() {}

  public static void main(String[] args) throws Exception {
    String only = "";
    List<String> positional = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--only") && i + 1 < args.length) {
        only = args[++i];
      } else {
        positional.add(args[i]);
      }
    }
    if (!only.isEmpty() && !only.equals("http") && !only.equals("kafka")) {
      throw new IllegalArgumentException("Cannot run --only " + only + ": use http or kafka");
    }
    if (only.equals("http")) {
      String[] httpArgs = positional.toArray(new String[0]);
      HttpIngest.run(
          Bench.argument(httpArgs, 0, 100_000),
          Bench.argument(httpArgs, 1, 20),
          (double) Bench.argument(httpArgs, 2, 1_000),
          (int) Bench.argument(httpArgs, 3, 3));
      return;
    }
    args = positional.toArray(new String[0]);
    long events = Bench.argument(args, 0, 200_000);
    long seconds = Bench.argument(args, 1, 30);
    double lowRate = Bench.argument(args, 2, 1_000);
    double highRate = Bench.argument(args, 3, 10_000);
    int repeats = (int) Bench.argument(args, 4, 3);
    int partitions = (int) Bench.argument(args, 5, 4);
    Path scratch = Files.createTempDirectory("floe-bench-stream-");
    try (KafkaBroker broker = KafkaBroker.start(scratch.resolve("kafka"))) {
      Bench.info(
          "stream: Kafka broker on %s in this JVM; %d cores, load average %s",
          broker.bootstrapServers(),
          Runtime.getRuntime().availableProcessors(),
          MachineLoad.loadAverage());
      Throughput throughput = throughput(broker, scratch, events, repeats, partitions);
      List<Freshness> freshness = new ArrayList<>();
      for (double rate : new double[] {lowRate, highRate}) {
        freshness.add(freshness(broker, scratch, rate, Duration.ofSeconds(seconds), partitions));
      }
      report(throughput, freshness);
    } finally {
      if (Boolean.getBoolean("floe.bench.keep")) {
        System.out.println("Kept the broker's log and the warehouses in " + scratch);
      } else {
        BenchEnvironment.deleteRecursively(scratch);
      }
    }
    if (!only.equals("kafka")) {
      HttpIngest.run(100_000, 20, 1_000, repeats);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Throughput

  record Run(long records, long bytes, long firstNanos, long doneNanos, long startNanos) {
    double seconds() {
      return Bench.seconds(doneNanos - firstNanos);
    }

    double recordsPerSecond() {
      return records / seconds();
    }

    double megabytesPerSecond() {
      return bytes / 1e6 / seconds();
    }

    double startupSeconds() {
      return Bench.seconds(firstNanos - startNanos);
    }
  }

  private record Throughput(
      long events,
      long bytes,
      int partitions,
      double produceSeconds,
      List<Run> noop,
      List<Run> floe,
      List<String> noopCpu,
      List<String> floeCpu,
      List<Long> lakeCounts,
      List<Long> commits,
      boolean verified) {}

  private static Throughput throughput(
      KafkaBroker broker, Path scratch, long events, int repeats, int partitions) throws Exception {
    String topic = "clicks";
    broker.createTopic(topic, partitions);
    Clickstream clicks = new Clickstream(1);
    long producedBytes = 0;
    long started = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> producer =
        broker.producer(
            Map.of(
                ProducerConfig.LINGER_MS_CONFIG, 20, ProducerConfig.BATCH_SIZE_CONFIG, 1 << 18))) {
      AtomicReference<Exception> failed = new AtomicReference<>();
      for (long id = 1; id <= events; id++) {
        byte[] key = clicks.nextKey();
        byte[] value = clicks.event(id, System.currentTimeMillis());
        producedBytes += key.length + value.length;
        Future<RecordMetadata> unused =
            producer.send(
                new ProducerRecord<>(topic, key, value),
                (metadata, error) -> {
                  if (error != null) {
                    failed.compareAndSet(null, error);
                  }
                });
      }
      producer.flush();
      if (failed.get() != null) {
        throw new IllegalStateException("Cannot produce the events: " + failed.get(), failed.get());
      }
    }
    double produceSeconds = Bench.seconds(System.nanoTime() - started);
    Bench.info(
        "produced %d events (%.1f MB of keys and values, %.0f bytes each) into %s (%d partitions)"
            + " in %.1f s",
        events,
        producedBytes / 1e6,
        (double) producedBytes / events,
        topic,
        partitions,
        produceSeconds);

    List<Run> noop = new ArrayList<>();
    List<Run> floe = new ArrayList<>();
    List<String> noopCpu = new ArrayList<>();
    List<String> floeCpu = new ArrayList<>();
    List<Long> lakeCounts = new ArrayList<>();
    List<Long> commits = new ArrayList<>();
    boolean verified = true;
    for (int run = 0; run <= repeats; run++) {
      // Run 0 warms the JVM up (the JIT, Iceberg's and Kafka's first-use costs); it is not counted.
      boolean counted = run > 0;
      String label = counted ? "run " + run : "warm-up";
      MachineLoad load = MachineLoad.start();
      Run baseline = noopConsumer(broker, topic, events, run);
      String noopLoad = load.summary();
      if (counted) {
        noop.add(baseline);
        noopCpu.add(noopLoad);
      }
      Bench.info(
          "no-op consumer, %s: %d records, %.1f MB in %.2f s: %.0f records/s, %.1f MB/s (byte sum %d)",
          label,
          baseline.records(),
          baseline.bytes() / 1e6,
          baseline.seconds(),
          baseline.recordsPerSecond(),
          baseline.megabytesPerSecond(),
          blackhole);

      Path warehouse = Files.createDirectories(scratch.resolve("throughput-" + run));
      PipelineConfig config =
          pipelineConfig(
              "throughput-" + run,
              broker,
              topic,
              "floe-throughput-" + run,
              THROUGHPUT_COMMIT_INTERVAL);
      try (JdbcCatalog catalog =
          FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults())) {
        load = MachineLoad.start();
        long count;
        long commitCount;
        Run measured;
        try (Pipeline pipeline =
            new Pipeline(
                config,
                catalog,
                ChangeSources.of(config, new SourceContext(warehouse, new HttpStreams())),
                new TableWriterRegistry())) {
          long startNanos = System.nanoTime();
          pipeline.start();
          Duration timeout = Duration.ofSeconds(120 + events / 1_000);
          long first =
              Bench.await(
                  pipeline, "the first record", timeout, () -> pipeline.stats().changes() > 0);
          Bench.Applied done =
              Bench.awaitCommitted(
                  pipeline, events, THROUGHPUT_COMMIT_INTERVAL.plusSeconds(2), timeout);
          String floeLoad = load.summary();
          if (counted) {
            floeCpu.add(floeLoad);
          }
          measured = new Run(events, producedBytes, first, done.committedNanos(), startNanos);
          commitCount = pipeline.stats().commits();
          if (!pipeline.deadLetterCounts().isEmpty()) {
            verified = false;
            Bench.info("dead letters in run %d: %s", run, pipeline.deadLetterCounts());
          }
        }
        try (QueryEngine engine = Bench.queryEngine(catalog, warehouse)) {
          count =
              ((Number)
                      engine
                          .queryAll("SELECT count(*) FROM " + NAMESPACE + "." + TABLE)
                          .get(0)
                          .get(0))
                  .longValue();
        }
        verified &= count == events;
        if (counted) {
          floe.add(measured);
          lakeCounts.add(count);
          commits.add(commitCount);
        }
        Bench.info(
            "Floe, %s: %d records, %.1f MB in %.2f s from the first record to the Iceberg commit"
                + " holding the last: %.0f records/s, %.1f MB/s (%d commits; %.2f s from start to"
                + " the first record; the table holds %d rows)",
            label,
            measured.records(),
            measured.bytes() / 1e6,
            measured.seconds(),
            measured.recordsPerSecond(),
            measured.megabytesPerSecond(),
            commitCount,
            measured.startupSeconds(),
            count);
      }
      BenchEnvironment.deleteRecursively(warehouse);
    }
    return new Throughput(
        events,
        producedBytes,
        partitions,
        produceSeconds,
        noop,
        floe,
        noopCpu,
        floeCpu,
        lakeCounts,
        commits,
        verified);
  }

  /**
   * Reads the whole topic with a plain consumer as Floe's source is configured (assigned
   * partitions, byte arrays, read_committed, default fetch and poll sizes), summing every byte it
   * receives.
   */
  private static Run noopConsumer(KafkaBroker broker, String topic, long events, int run) {
    Map<String, Object> settings = new HashMap<>();
    settings.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    settings.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-noop-" + run);
    settings.put(ConsumerConfig.CLIENT_ID_CONFIG, "bench-noop-" + run);
    settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    settings.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    settings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
    settings.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    settings.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    long startNanos = System.nanoTime();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(settings)) {
      List<TopicPartition> assigned = new ArrayList<>();
      for (PartitionInfo partition : consumer.partitionsFor(topic)) {
        assigned.add(new TopicPartition(topic, partition.partition()));
      }
      consumer.assign(assigned);
      consumer.seekToBeginning(assigned);
      long records = 0;
      long bytes = 0;
      long sum = 0;
      long first = 0;
      long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
      while (records < events) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "Cannot finish benchmark: the no-op consumer read " + records + " of " + events);
        }
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL_TIMEOUT)) {
          if (first == 0) {
            first = System.nanoTime();
          }
          byte[] key = record.key();
          byte[] value = record.value();
          for (byte b : key) {
            sum += b;
          }
          for (byte b : value) {
            sum += b;
          }
          bytes += key.length + value.length;
          records++;
        }
      }
      long done = System.nanoTime();
      blackhole = sum;
      return new Run(records, bytes, first, done, startNanos);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Freshness

  private record Freshness(
      double rate,
      double achievedRate,
      double seconds,
      long sent,
      long late,
      int samples,
      double[] visibleMillis,
      double[] ackMillis,
      long commitP50,
      long commitP99,
      double catchUpSeconds,
      long observerPolls,
      String cpu) {}

  private static Freshness freshness(
      KafkaBroker broker, Path scratch, double rate, Duration duration, int partitions)
      throws Exception {
    String name = Bench.format("fresh-%.0f", rate);
    broker.createTopic(name, partitions);
    Path warehouse = Files.createDirectories(scratch.resolve(name));
    PipelineConfig config =
        pipelineConfig(name, broker, name, "floe-" + name, FRESHNESS_COMMIT_INTERVAL);
    long sampleEvery = Math.max(1, Math.round(rate * duration.toSeconds() / SAMPLES));
    try (JdbcCatalog catalog =
            FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
        Pipeline pipeline =
            new Pipeline(
                config,
                catalog,
                ChangeSources.of(config, new SourceContext(warehouse, new HttpStreams())),
                new TableWriterRegistry())) {
      pipeline.start();
      Bench.await(
          pipeline, "the table", Duration.ofSeconds(60), () -> catalog.tableExists(IDENTIFIER));
      PipelineStats stats = pipeline.stats();
      try (VisibilityObserver observer =
              new VisibilityObserver(warehouse, IDENTIFIER, "event_id", OBSERVER_POLL_INTERVAL, 1);
          PacedProducer producer = new PacedProducer(broker, name, rate)) {
        sleep(pipeline, producer, observer, WARM_UP, null);
        stats.resetFreshness();
        MachineLoad load = MachineLoad.start();
        PacedProducer.Window window = producer.beginWindow(sampleEvery);
        sleep(pipeline, producer, observer, duration, window);
        producer.endWindow();
        long sent = producer.stop();
        long stopped = System.nanoTime();
        String cpu = load.summary();
        Bench.Applied caughtUp =
            Bench.awaitCommitted(
                pipeline, sent, FRESHNESS_COMMIT_INTERVAL.plusSeconds(2), Duration.ofMinutes(2));
        long p50 = stats.freshnessPercentile(50);
        long p99 = stats.freshnessPercentile(99);
        Map<Long, Long> samples = window.sentNanos;
        observer.awaitSeen(samples, Duration.ofSeconds(10));
        double[] visible = observer.visibleMillis(samples);
        double[] acked =
            window.ackedNanos.entrySet().stream()
                .filter(entry -> samples.containsKey(entry.getKey()))
                .mapToDouble(entry -> Bench.millis(entry.getValue() - samples.get(entry.getKey())))
                .toArray();
        Freshness result =
            new Freshness(
                rate,
                window.sent.get() / window.seconds(),
                window.seconds(),
                window.sent.get(),
                window.late.get(),
                samples.size(),
                visible,
                acked,
                p50,
                p99,
                Bench.seconds(caughtUp.committedNanos() - stopped),
                observer.polls(),
                cpu);
        Bench.info(
            "freshness at %.0f/s: send -> visible p50 %.0f ms p99 %.0f ms (%d of %d samples seen)",
            rate,
            Bench.median(visible),
            Bench.percentile(visible, 99),
            visible.length,
            samples.size());
        return result;
      }
    }
  }

  /** Sleeps while checking the parts; with a {@code window}, prints progress every 10 s. */
  private static void sleep(
      Pipeline pipeline,
      PacedProducer producer,
      VisibilityObserver observer,
      Duration duration,
      PacedProducer.Window window)
      throws InterruptedException {
    long started = System.nanoTime();
    long nextReport = started + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() - started < duration.toNanos()) {
      Thread.sleep(50);
      Bench.checkRunning(pipeline);
      producer.checkFailure();
      observer.checkFailure();
      if (window != null && System.nanoTime() >= nextReport) {
        nextReport += Duration.ofSeconds(10).toNanos();
        Bench.info(
            "freshness %3.0f s: %.0f events/s sent, pipeline record time -> commit p50 %d ms p99 %d"
                + " ms",
            window.seconds(),
            window.sent.get() / window.seconds(),
            pipeline.stats().freshnessPercentile(50),
            pipeline.stats().freshnessPercentile(99));
      }
    }
  }

  /**
   * Events sent at a fixed rate by one thread (the producer batches and sends asynchronously); more
   * than a second behind schedule it drops its backlog (counted as late) rather than bursting.
   */
  private static final class PacedProducer implements AutoCloseable {
    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final long periodNanos;
    private final Clickstream clicks = new Clickstream(2);
    private final AtomicLong sent = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Window window;

    PacedProducer(KafkaBroker broker, String topic, double rate) {
      this.producer = broker.producer();
      this.topic = topic;
      this.periodNanos = Math.round(1e9 / rate);
      this.thread = new Thread(this::run, "bench-producer");
      thread.start();
    }

    Window beginWindow(long sampleEvery) {
      Window started = new Window(sampleEvery);
      window = started;
      return started;
    }

    void endWindow() {
      Window ended = window;
      window = null;
      ended.endedNanos = System.nanoTime();
    }

    /** Stops sending and waits for every event sent to be acknowledged; returns how many. */
    long stop() throws InterruptedException {
      running = false;
      thread.join();
      producer.flush();
      checkFailure();
      return sent.get();
    }

    void checkFailure() {
      Throwable error = failure.get();
      if (error != null) {
        throw new IllegalStateException("Cannot produce: " + error, error);
      }
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      thread.join();
      producer.close();
    }

    private void run() {
      try {
        long next = System.nanoTime();
        long id = 1;
        while (running) {
          long wait;
          while ((wait = next - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
          }
          Window current = window;
          long eventId = id++;
          boolean sample =
              current != null && current.sequence.incrementAndGet() % current.sampleEvery == 0;
          long sendNanos = System.nanoTime();
          byte[] value = clicks.event(eventId, System.currentTimeMillis());
          Future<RecordMetadata> unused =
              producer.send(
                  new ProducerRecord<>(topic, clicks.nextKey(), value),
                  (metadata, error) -> {
                    if (error != null) {
                      failure.compareAndSet(null, error);
                    } else if (sample) {
                      current.ackedNanos.put(eventId, System.nanoTime());
                    }
                  });
          sent.incrementAndGet();
          if (current != null) {
            current.sent.incrementAndGet();
            if (sample) {
              current.sentNanos.put(eventId, sendNanos);
            }
          }
          next += periodNanos;
          long now = System.nanoTime();
          if (now - next > 1_000_000_000L) {
            if (current != null) {
              current.late.addAndGet((now - next) / periodNanos);
            }
            next = now;
          }
        }
      } catch (RuntimeException e) {
        failure.compareAndSet(null, e);
      }
    }

    /** What was sent between {@link #beginWindow} and {@link #endWindow}. */
    static final class Window {
      private final long sampleEvery;
      private final AtomicLong sequence = new AtomicLong();
      private final AtomicLong sent = new AtomicLong();
      private final AtomicLong late = new AtomicLong();

      /** Sampled event ids to their send time ({@link System#nanoTime()} before send()). */
      private final Map<Long, Long> sentNanos = new ConcurrentHashMap<>();

      /** Sampled event ids to the time the broker acknowledged them. */
      private final Map<Long, Long> ackedNanos = new ConcurrentHashMap<>();

      private final long startedNanos = System.nanoTime();
      private volatile long endedNanos;

      Window(long sampleEvery) {
        this.sampleEvery = sampleEvery;
      }

      double seconds() {
        long ended = endedNanos;
        return Bench.seconds((ended == 0 ? System.nanoTime() : ended) - startedNanos);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Set-up and output

  /** A stream pipeline from {@code topic} into {@code raw.clicks}: append, declared columns. */
  private static PipelineConfig pipelineConfig(
      String name, KafkaBroker broker, String topic, String group, Duration commitInterval) {
    return pipelineConfig(
        name,
        new KafkaSourceConfig(
            broker.bootstrapServers(),
            List.of(topic),
            "",
            group,
            StartPosition.EARLIEST,
            Optional.empty(),
            RecordFormat.JSON,
            "",
            MAX_RECORD_BYTES),
        commitInterval);
  }

  /** A stream pipeline from {@code source} into {@code raw.clicks}: append, declared columns. */
  static PipelineConfig pipelineConfig(String name, SourceConfig source, Duration commitInterval) {
    StreamTableConfig table =
        new StreamTableConfig(
            TABLE,
            WriteMode.APPEND,
            List.of(),
            List.of(
                new Column("event_id", Types.LongType.get(), false),
                new Column("user_id", Types.StringType.get(), false),
                new Column("session", Types.StringType.get(), false),
                new Column("url", Types.StringType.get(), false),
                new Column("referrer", Types.StringType.get(), false),
                new Column("user_agent", Types.StringType.get(), false),
                new Column("country", Types.StringType.get(), false),
                new Column("event_time", Types.TimestampType.withZone(), false),
                new Column("payload", Types.StringType.get(), false)),
            List.of(),
            UnknownFields.REJECT,
            TABLE + "_dead_letter");
    return new PipelineConfig(
        name, source, new TargetConfig(NAMESPACE, Optional.of(table)), commitInterval);
  }

  private static void report(Throughput throughput, List<Freshness> freshness) {
    double noopRecords = Bench.median(rates(throughput.noop(), false));
    double noopMegabytes = Bench.median(rates(throughput.noop(), true));
    double floeRecords = Bench.median(rates(throughput.floe(), false));
    double floeMegabytes = Bench.median(rates(throughput.floe(), true));
    double ratio = floeRecords / noopRecords;
    Bench.result(
        "stream-throughput events=%d bytes_per_event=%.0f partitions=%d repeats=%d"
            + " noop: records_per_s=%.0f mb_per_s=%.1f floe: records_per_s=%.0f mb_per_s=%.1f"
            + " floe/noop=%.3f target>=%.2f %s",
        throughput.events(),
        (double) throughput.bytes() / throughput.events(),
        throughput.partitions(),
        throughput.floe().size(),
        noopRecords,
        noopMegabytes,
        floeRecords,
        floeMegabytes,
        ratio,
        TARGET_RATIO,
        Bench.verdict(ratio >= TARGET_RATIO));
    Bench.result(
        "stream-throughput-runs noop_records_per_s=%s floe_records_per_s=%s floe_commits=%s"
            + " floe_start_to_first_record_s=%s produce_records_per_s=%.0f",
        join(rates(throughput.noop(), false), "%.0f"),
        join(rates(throughput.floe(), false), "%.0f"),
        throughput.commits(),
        join(throughput.floe().stream().mapToDouble(Run::startupSeconds).toArray(), "%.2f"),
        throughput.events() / throughput.produceSeconds());
    for (int run = 0; run < throughput.floe().size(); run++) {
      Bench.result(
          "stream-throughput-cpu run=%d noop: %s floe: %s",
          run + 1, throughput.noopCpu().get(run), throughput.floeCpu().get(run));
    }
    Bench.result(
        "stream-throughput-verify query=\"SELECT count(*) FROM %s.%s\" expected=%d runs=%s"
            + " no_dead_letters_and_all_equal=%s %s",
        NAMESPACE,
        TABLE,
        throughput.events(),
        throughput.lakeCounts(),
        throughput.verified(),
        Bench.verdict(throughput.verified()));
    for (Freshness fresh : freshness) {
      double p50 = Bench.median(fresh.visibleMillis());
      boolean pass = fresh.visibleMillis().length == fresh.samples() && p50 <= TARGET_P50_MILLIS;
      Bench.result(
          "stream-freshness rate_target=%.0f/s rate_achieved=%.0f/s seconds=%.1f events=%d"
              + " commit_interval_ms=%d send_to_visible_p50_ms=%.0f p99_ms=%.0f max_ms=%.0f"
              + " samples=%d seen=%d target: p50<=%d %s",
          fresh.rate(),
          fresh.achievedRate(),
          fresh.seconds(),
          fresh.sent(),
          FRESHNESS_COMMIT_INTERVAL.toMillis(),
          p50,
          Bench.percentile(fresh.visibleMillis(), 99),
          Bench.percentile(fresh.visibleMillis(), 100),
          fresh.samples(),
          fresh.visibleMillis().length,
          TARGET_P50_MILLIS,
          Bench.verdict(pass));
      Bench.result(
          "stream-freshness-detail rate_target=%.0f/s send_to_ack_p50_ms=%.1f p99_ms=%.1f"
              + " record_time_to_commit_p50_ms=%d p99_ms=%d (pipeline) late_events=%d"
              + " catch_up_after_stop_s=%.2f observer_poll_ms=%d polls=%d",
          fresh.rate(),
          Bench.median(fresh.ackMillis()),
          Bench.percentile(fresh.ackMillis(), 99),
          fresh.commitP50(),
          fresh.commitP99(),
          fresh.late(),
          fresh.catchUpSeconds(),
          OBSERVER_POLL_INTERVAL.toMillis(),
          fresh.observerPolls());
      Bench.result("stream-freshness-cpu rate_target=%.0f/s %s", fresh.rate(), fresh.cpu());
    }
    Bench.result("stream-load-average %s", MachineLoad.loadAverage());
  }

  static double[] rates(List<Run> runs, boolean megabytes) {
    return runs.stream()
        .mapToDouble(run -> megabytes ? run.megabytesPerSecond() : run.recordsPerSecond())
        .toArray();
  }

  static String join(double[] values, String pattern) {
    List<String> formatted = new ArrayList<>();
    for (double value : values) {
      formatted.add(Bench.format(pattern, value));
    }
    return String.join(",", formatted);
  }

  /**
   * Clickstream events as JSON of about 1 KB: a page view with user, session, URL, referrer, user
   * agent, country, event time and an opaque payload (as trackers send), from a seeded random.
   */
  static final class Clickstream {
    static final int EVENT_BYTES = 1_024;
    private static final String[] PAGES = {
      "/", "/search", "/category/shoes", "/category/jackets", "/product/", "/cart", "/checkout"
    };
    private static final String[] REFERRERS = {
      "https://www.google.com/",
      "https://www.bing.com/search?q=running+shoes",
      "https://news.ycombinator.com/",
      "https://t.co/4a7Bx9",
      ""
    };
    private static final String[] USER_AGENTS = {
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
          + " Chrome/131.0.0.0 Safari/537.36",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_1) AppleWebKit/605.1.15 (KHTML, like Gecko)"
          + " Version/18.1 Safari/605.1.15",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
          + " Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
      "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
    };
    private static final String[] COUNTRIES = {"DE", "US", "FR", "GB", "NL", "JP", "BR", "IN"};
    private static final char[] ALPHABET =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".toCharArray();

    private final SplittableRandom random;
    private final String noise;
    private final StringBuilder json = new StringBuilder(EVENT_BYTES + 64);
    private int user;

    Clickstream(long seed) {
      this.random = new SplittableRandom(seed);
      char[] chars = new char[1 << 16];
      for (int i = 0; i < chars.length; i++) {
        chars[i] = ALPHABET[random.nextInt(ALPHABET.length)];
      }
      this.noise = new String(chars);
    }

    /** The key of the next event: its user, who the following {@link #event} belongs to. */
    byte[] nextKey() {
      user = random.nextInt(100_000);
      return ("u" + user).getBytes(UTF_8);
    }

    /** The event {@code id} of the user of the last {@link #nextKey}, at {@code epochMillis}. */
    byte[] event(long id, long epochMillis) {
      StringBuilder out = json;
      out.setLength(0);
      String page = PAGES[random.nextInt(PAGES.length)];
      out.append("{\"event_id\":")
          .append(id)
          .append(",\"user_id\":\"u")
          .append(user)
          .append("\",\"session\":\"")
          .append(new UUID(random.nextLong(), random.nextLong()))
          .append("\",\"url\":\"https://shop.example.com")
          .append(page);
      if (page.equals("/product/")) {
        out.append(random.nextInt(1_000_000));
      }
      out.append("?utm_source=newsletter&utm_campaign=winter-")
          .append(random.nextInt(100))
          .append("\",\"referrer\":\"")
          .append(REFERRERS[random.nextInt(REFERRERS.length)])
          .append("\",\"user_agent\":\"")
          .append(USER_AGENTS[random.nextInt(USER_AGENTS.length)])
          .append("\",\"country\":\"")
          .append(COUNTRIES[random.nextInt(COUNTRIES.length)])
          .append("\",\"event_time\":\"")
          .append(Instant.ofEpochMilli(epochMillis))
          .append("\",\"payload\":\"");
      int padding = Math.max(0, EVENT_BYTES - out.length() - 2);
      int start = random.nextInt(noise.length() - padding);
      out.append(noise, start, start + padding).append("\"}");
      return out.toString().getBytes(UTF_8);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // HTTP ingest

  /**
   * The HTTP half: a pipeline with {@code source.type: http} behind Floe's HTTP server ({@link
   * HttpQueryServer}, {@code POST /v1/streams/clicks/records}, NDJSON, Basic auth, answered after
   * the stream's log fsync).
   *
   * <p>(a) Throughput: {@value #CLIENTS} client threads ({@link HttpClient}, HTTP/1.1) POST batches
   * of {@value #BATCH} events of about 1 KB until {@code records} were accepted, alternating
   * against a trivial Jetty handler on another port that only reads the body and answers 200, and
   * against Floe (a fresh warehouse each time; append, declared columns, commit interval 1 s).
   * Floe's run counts from the first request until an Iceberg commit holds every record; the
   * baseline's until the last answer. Medians of {@code repeats} runs after a warm-up round.
   *
   * <p>(b) Freshness: events paced at {@code rate} per second are queued with their send time and
   * POSTed by the client threads (each request takes what is queued, at most {@value #BATCH});
   * after a 5 s warm-up, for {@code seconds} seconds, a {@link VisibilityObserver} notes when each
   * sampled {@code event_id} first appears in a snapshot (commit interval 200 ms).
   *
   * <p>Run alone with {@code bench/run.sh stream --only http [records=100000] [seconds=20]
   * [rate=1000] [repeats=3]}.
   */
  static final class HttpIngest {
    static final int CLIENTS = 4;
    static final int BATCH = 500;
    private static final String STREAM = "clicks";
    private static final String USER = "bench";
    private static final String PASSWORD = "bench-secret";
    private static final long MAX_REQUEST_BYTES = 16L << 20;
    private static final int MAX_BUFFERED_RECORDS = 100_000;
    private static final String AUTHORIZATION =
        "Basic " + Base64.getEncoder().encodeToString((USER + ":" + PASSWORD).getBytes(UTF_8));

    private HttpIngest() {}

    static void run(long records, long seconds, double rate, int repeats) throws Exception {
      Path scratch = Files.createTempDirectory("floe-bench-http-");
      try {
        Bench.info(
            "stream-http: %d cores, load average %s",
            Runtime.getRuntime().availableProcessors(), MachineLoad.loadAverage());
        List<byte[]> bodies = bodies(records);
        long bytes = 0;
        for (byte[] body : bodies) {
          bytes += body.length;
        }
        Bench.info(
            "%d events in %d NDJSON requests of %d (%.1f MB, %.0f bytes each)",
            records, bodies.size(), BATCH, bytes / 1e6, (double) bytes / records);
        List<Run> noop = new ArrayList<>();
        List<Run> floe = new ArrayList<>();
        List<Long> counts = new ArrayList<>();
        long[] refused = new long[1];
        boolean verified = true;
        for (int run = 0; run <= repeats; run++) {
          boolean counted = run > 0;
          String label = counted ? "run " + run : "warm-up";
          Run baseline = baseline(bodies, records, bytes);
          Bench.info(
              "trivial Jetty handler, %s: %d records, %.1f MB in %.2f s: %.0f records/s, %.1f MB/s",
              label,
              baseline.records(),
              baseline.bytes() / 1e6,
              baseline.seconds(),
              baseline.recordsPerSecond(),
              baseline.megabytesPerSecond());
          Path warehouse = Files.createDirectories(scratch.resolve("throughput-" + run));
          long[] count = new long[1];
          Run measured = floe(warehouse, bodies, records, bytes, count, refused, run);
          verified &= count[0] == records;
          Bench.info(
              "Floe HTTP, %s: %d records, %.1f MB in %.2f s from the first request to the Iceberg"
                  + " commit holding the last: %.0f records/s, %.1f MB/s (table holds %d rows)",
              label,
              measured.records(),
              measured.bytes() / 1e6,
              measured.seconds(),
              measured.recordsPerSecond(),
              measured.megabytesPerSecond(),
              count[0]);
          if (counted) {
            noop.add(baseline);
            floe.add(measured);
            counts.add(count[0]);
          }
          BenchEnvironment.deleteRecursively(warehouse);
        }
        double noopRecords = Bench.median(rates(noop, false));
        double floeRecords = Bench.median(rates(floe, false));
        double ratio = floeRecords / noopRecords;
        Bench.result(
            "stream-http-throughput events=%d bytes_per_event=%.0f clients=%d batch=%d repeats=%d"
                + " trivial_jetty: records_per_s=%.0f mb_per_s=%.1f floe: records_per_s=%.0f"
                + " mb_per_s=%.1f floe/trivial=%.3f",
            records,
            (double) bytes / records,
            CLIENTS,
            BATCH,
            floe.size(),
            noopRecords,
            Bench.median(rates(noop, true)),
            floeRecords,
            Bench.median(rates(floe, true)),
            ratio);
        Bench.result(
            "stream-http-throughput-runs trivial_records_per_s=%s floe_records_per_s=%s"
                + " refused_429=%d",
            join(rates(noop, false), "%.0f"), join(rates(floe, false), "%.0f"), refused[0]);
        Bench.result(
            "stream-http-throughput-verify query=\"SELECT count(*) FROM %s.%s\" expected=%d"
                + " runs=%s %s",
            NAMESPACE, TABLE, records, counts, Bench.verdict(verified));
        freshness(scratch.resolve("fresh"), rate, Duration.ofSeconds(seconds));
        Bench.result("stream-http-load-average %s", MachineLoad.loadAverage());
      } finally {
        if (Boolean.getBoolean("floe.bench.keep")) {
          System.out.println("Kept the warehouses in " + scratch);
        } else {
          BenchEnvironment.deleteRecursively(scratch);
        }
      }
    }

    /** The NDJSON request bodies of events 1 to {@code records}, {@value #BATCH} each. */
    private static List<byte[]> bodies(long records) {
      Clickstream clicks = new Clickstream(3);
      List<byte[]> bodies = new ArrayList<>();
      ByteArrayOutputStream body = new ByteArrayOutputStream(BATCH * 1_100);
      for (long id = 1; id <= records; id++) {
        byte[] unusedKey = clicks.nextKey();
        body.writeBytes(clicks.event(id, System.currentTimeMillis()));
        body.write('\n');
        if (id % BATCH == 0 || id == records) {
          bodies.add(body.toByteArray());
          body.reset();
        }
      }
      return bodies;
    }

    private static HttpClient client() {
      return HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();
    }

    /**
     * POSTs every body with {@value #CLIENTS} threads; retries 429 and 503 answers after 20 ms
     * (counted in {@code refused}). Returns the time of the first request.
     */
    private static long post(URI uri, List<byte[]> bodies, long[] refused) throws Exception {
      HttpClient client = client();
      AtomicInteger next = new AtomicInteger();
      AtomicLong retries = new AtomicLong();
      ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
      long first = System.nanoTime();
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
          done.add(
              clients.submit(
                  () -> {
                    int index;
                    while ((index = next.getAndIncrement()) < bodies.size()) {
                      send(client, uri, bodies.get(index), retries);
                    }
                    return null;
                  }));
        }
        for (Future<?> future : done) {
          future.get();
        }
      } finally {
        clients.shutdownNow();
      }
      refused[0] += retries.get();
      return first;
    }

    private static void send(HttpClient client, URI uri, byte[] body, AtomicLong retries)
        throws Exception {
      HttpRequest request =
          HttpRequest.newBuilder(uri)
              .header("Authorization", AUTHORIZATION)
              .header("Content-Type", "application/x-ndjson")
              .timeout(Duration.ofSeconds(60))
              .POST(HttpRequest.BodyPublishers.ofByteArray(body))
              .build();
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (true) {
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        int status = response.statusCode();
        if (status == 200) {
          return;
        }
        if ((status == 429 || status == 503 || status == 404) && System.nanoTime() < deadline) {
          retries.incrementAndGet();
          Thread.sleep(20);
          continue;
        }
        throw new IllegalStateException(
            "Cannot POST to " + uri + ": " + status + " " + response.body());
      }
    }

    /** The same requests against a Jetty handler that only reads the body and answers 200. */
    private static Run baseline(List<byte[]> bodies, long records, long bytes) throws Exception {
      Server server = new Server(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      server.setHandler(
          new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
                throws Exception {
              long sum = 0;
              try (InputStream in = Content.Source.asInputStream(request)) {
                byte[] buffer = new byte[1 << 16];
                int read;
                while ((read = in.read(buffer)) >= 0) {
                  sum += read;
                }
              }
              blackhole = sum;
              response.setStatus(200);
              callback.succeeded();
              return true;
            }
          });
      server.start();
      try {
        int port = ((ServerConnector) server.getConnectors()[0]).getLocalPort();
        long start = System.nanoTime();
        long first = post(URI.create("http://127.0.0.1:" + port + "/records"), bodies, new long[1]);
        return new Run(records, bytes, first, System.nanoTime(), start);
      } finally {
        server.stop();
      }
    }

    /** A warehouse with the stream's pipeline and Floe's HTTP server; closes both. */
    private record Served(
        JdbcCatalog catalog, QueryEngine engine, Pipeline pipeline, HttpQueryServer server)
        implements AutoCloseable {
      static Served start(Path warehouse, String name, Duration commitInterval) throws Exception {
        JdbcCatalog catalog =
            FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
        HttpStreams streams = new HttpStreams();
        PipelineConfig config =
            pipelineConfig(
                name,
                new HttpSourceConfig(
                    STREAM, MAX_RECORD_BYTES, MAX_REQUEST_BYTES, MAX_BUFFERED_RECORDS),
                commitInterval);
        Pipeline pipeline =
            new Pipeline(
                config,
                catalog,
                ChangeSources.of(config, new SourceContext(warehouse, streams)),
                new TableWriterRegistry());
        pipeline.start();
        Bench.await(
            pipeline, "the table", Duration.ofSeconds(60), () -> catalog.tableExists(IDENTIFIER));
        WarehouseMaintenance maintenance =
            new WarehouseMaintenance(
                catalog,
                MaintenanceConfig.defaults(),
                MaintenanceHistory.of(CatalogDatabase.embedded(warehouse)),
                new TableWriterRegistry());
        QueryEngine engine =
            new QueryEngine(catalog, warehouse, new Procedures(maintenance, Clock.systemUTC()));
        HttpQueryServer server =
            HttpQueryServer.start(
                engine,
                new SqlUsers(List.of(new SqlUsers.User(USER, PASSWORD, Workgroup.PRIMARY))),
                new HttpQueryServer.Settings("127.0.0.1", 0, Duration.ofMinutes(1), 100_000),
                maintenance,
                streams);
        return new Served(catalog, engine, pipeline, server);
      }

      URI uri() {
        return URI.create(
            "http://127.0.0.1:" + server.port() + "/v1/streams/" + STREAM + "/records");
      }

      @Override
      public void close() throws Exception {
        try (JdbcCatalog closeCatalog = catalog;
            QueryEngine closeEngine = engine;
            Pipeline closePipeline = pipeline) {
          server.close();
        }
      }
    }

    private static Run floe(
        Path warehouse,
        List<byte[]> bodies,
        long records,
        long bytes,
        long[] count,
        long[] refused,
        int run)
        throws Exception {
      try (Served served =
          Served.start(warehouse, "http-throughput-" + run, Duration.ofSeconds(1))) {
        long start = System.nanoTime();
        long first = post(served.uri(), bodies, refused);
        Bench.info(
            "  all %d records accepted after %.2f s",
            records, Bench.seconds(System.nanoTime() - first));
        Bench.Applied done =
            Bench.awaitCommitted(
                served.pipeline(),
                records,
                THROUGHPUT_COMMIT_INTERVAL.plusSeconds(2),
                Duration.ofSeconds(120 + records / 1_000));
        if (!served.pipeline().deadLetterCounts().isEmpty()) {
          Bench.info("dead letters in run %d: %s", run, served.pipeline().deadLetterCounts());
          count[0] = -1;
          return new Run(records, bytes, first, done.committedNanos(), start);
        }
        count[0] =
            ((Number)
                    served
                        .engine()
                        .queryAll("SELECT count(*) FROM " + NAMESPACE + "." + TABLE)
                        .get(0)
                        .get(0))
                .longValue();
        return new Run(records, bytes, first, done.committedNanos(), start);
      }
    }

    /** Queued events with their send time, POSTed by the client threads. */
    private record Pending(long id, long sendNanos, byte[] json) {}

    private static void freshness(Path warehouse, double rate, Duration duration) throws Exception {
      Files.createDirectories(warehouse);
      long sampleEvery = Math.max(1, Math.round(rate * duration.toSeconds() / SAMPLES));
      try (Served served = Served.start(warehouse, "http-fresh", FRESHNESS_COMMIT_INTERVAL);
          VisibilityObserver observer =
              new VisibilityObserver(
                  warehouse, IDENTIFIER, "event_id", OBSERVER_POLL_INTERVAL, 1)) {
        Pipeline pipeline = served.pipeline();
        HttpClient client = client();
        LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
        Map<Long, Long> samples = new ConcurrentHashMap<>();
        Map<Long, Long> acked = new ConcurrentHashMap<>();
        AtomicLong sent = new AtomicLong();
        AtomicLong windowSent = new AtomicLong();
        AtomicLong retries = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicBoolean sampling = new AtomicBoolean();
        AtomicBoolean running = new AtomicBoolean(true);
        long periodNanos = Math.round(1e9 / rate);
        Thread pacer =
            new Thread(
                () -> {
                  Clickstream clicks = new Clickstream(4);
                  long next = System.nanoTime();
                  long id = 1;
                  while (running.get()) {
                    long wait;
                    while ((wait = next - System.nanoTime()) > 0) {
                      LockSupport.parkNanos(wait);
                    }
                    long eventId = id++;
                    byte[] unusedKey = clicks.nextKey();
                    long sendNanos = System.nanoTime();
                    byte[] json = clicks.event(eventId, System.currentTimeMillis());
                    if (sampling.get()) {
                      windowSent.incrementAndGet();
                      if (eventId % sampleEvery == 0) {
                        samples.put(eventId, sendNanos);
                      }
                    }
                    queue.add(new Pending(eventId, sendNanos, json));
                    sent.incrementAndGet();
                    next += periodNanos;
                    if (System.nanoTime() - next > 1_000_000_000L) {
                      next = System.nanoTime();
                    }
                  }
                },
                "bench-http-pacer");
        ExecutorService senders = Executors.newFixedThreadPool(CLIENTS);
        List<Future<?>> done = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
          done.add(
              senders.submit(
                  () -> {
                    List<Pending> batch = new ArrayList<>(BATCH);
                    ByteArrayOutputStream body = new ByteArrayOutputStream();
                    while (running.get() || !queue.isEmpty()) {
                      Pending head = queue.poll(50, TimeUnit.MILLISECONDS);
                      if (head == null) {
                        continue;
                      }
                      batch.clear();
                      batch.add(head);
                      queue.drainTo(batch, BATCH - 1);
                      body.reset();
                      for (Pending pending : batch) {
                        body.writeBytes(pending.json());
                        body.write('\n');
                      }
                      try {
                        send(client, served.uri(), body.toByteArray(), retries);
                      } catch (Exception e) {
                        failure.compareAndSet(null, e);
                        throw e;
                      }
                      long now = System.nanoTime();
                      for (Pending pending : batch) {
                        if (samples.containsKey(pending.id())) {
                          acked.put(pending.id(), now);
                        }
                      }
                    }
                    return null;
                  }));
        }
        pacer.start();
        try {
          sleep(pipeline, observer, failure, WARM_UP);
          pipeline.stats().resetFreshness();
          MachineLoad load = MachineLoad.start();
          long windowStart = System.nanoTime();
          sampling.set(true);
          sleep(pipeline, observer, failure, duration);
          sampling.set(false);
          double windowSeconds = Bench.seconds(System.nanoTime() - windowStart);
          running.set(false);
          pacer.join();
          for (Future<?> future : done) {
            future.get();
          }
          long stopped = System.nanoTime();
          String cpu = load.summary();
          Bench.Applied caughtUp =
              Bench.awaitCommitted(
                  pipeline,
                  sent.get(),
                  FRESHNESS_COMMIT_INTERVAL.plusSeconds(2),
                  Duration.ofMinutes(2));
          observer.awaitSeen(samples, Duration.ofSeconds(10));
          double[] visible = observer.visibleMillis(samples);
          double[] ack =
              acked.entrySet().stream()
                  .mapToDouble(e -> Bench.millis(e.getValue() - samples.get(e.getKey())))
                  .toArray();
          double p50 = Bench.median(visible);
          boolean pass = visible.length == samples.size() && p50 <= TARGET_P50_MILLIS;
          Bench.result(
              "stream-http-freshness rate_target=%.0f/s rate_achieved=%.0f/s seconds=%.1f"
                  + " events=%d commit_interval_ms=%d send_to_visible_p50_ms=%.0f p99_ms=%.0f"
                  + " max_ms=%.0f samples=%d seen=%d target: p50<=%d %s",
              rate,
              windowSent.get() / windowSeconds,
              windowSeconds,
              windowSent.get(),
              FRESHNESS_COMMIT_INTERVAL.toMillis(),
              p50,
              Bench.percentile(visible, 99),
              Bench.percentile(visible, 100),
              samples.size(),
              visible.length,
              TARGET_P50_MILLIS,
              Bench.verdict(pass));
          Bench.result(
              "stream-http-freshness-detail send_to_answer_p50_ms=%.1f p99_ms=%.1f"
                  + " record_time_to_commit_p50_ms=%d p99_ms=%d (pipeline) refused=%d"
                  + " catch_up_after_stop_s=%.2f observer_poll_ms=%d polls=%d cpu: %s",
              Bench.median(ack),
              Bench.percentile(ack, 99),
              pipeline.stats().freshnessPercentile(50),
              pipeline.stats().freshnessPercentile(99),
              retries.get(),
              Bench.seconds(caughtUp.committedNanos() - stopped),
              OBSERVER_POLL_INTERVAL.toMillis(),
              observer.polls(),
              cpu);
        } finally {
          running.set(false);
          pacer.join();
          senders.shutdownNow();
        }
      }
    }

    private static void sleep(
        Pipeline pipeline,
        VisibilityObserver observer,
        AtomicReference<Throwable> failure,
        Duration duration)
        throws InterruptedException {
      long started = System.nanoTime();
      while (System.nanoTime() - started < duration.toNanos()) {
        Thread.sleep(50);
        Bench.checkRunning(pipeline);
        observer.checkFailure();
        Throwable error = failure.get();
        if (error != null) {
          throw new IllegalStateException("Cannot POST the events: " + error, error);
        }
      }
    }
  }
}
