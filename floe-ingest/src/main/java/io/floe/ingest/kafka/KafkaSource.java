package io.floe.ingest.kafka;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.KafkaSourceConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.ingest.ChangeHandler;
import io.floe.ingest.ChangeSource;
import io.floe.ingest.SourceEvent;
import io.floe.ingest.SourceEvent.Operation;
import io.floe.ingest.SourceFigures;
import io.floe.ingest.SourcePosition;
import io.floe.ingest.SourceTable;
import io.floe.ingest.stream.RecordDecoder;
import io.floe.ingest.stream.RecordDecoders;
import io.floe.ingest.stream.StreamRecord;
import io.floe.ingest.stream.StreamTables;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.clients.consumer.RetriableCommitFailedException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka source: a consumer of the configured topics (named, or matched by a pattern) whose
 * records all go to the pipeline's one stream table, as {@link Operation#INSERT} changes of {@link
 * StreamRecord}s outside any transaction. Positions are {@link KafkaPosition}s.
 *
 * <p>Floe owns the offsets: the consumer is assigned every partition of the topics ({@code assign},
 * never {@code subscribe}, so that no group rebalance moves a partition under it), seeks each to
 * where the tables stand, and re-reads the topics' metadata every 5 seconds for new partitions and
 * newly matching topics, which it reads from their earliest offset. The consumer group only
 * receives the acknowledged offsets, for monitoring with Kafka's tools.
 *
 * <p>An unreachable broker is waited out: the consumer keeps trying, {@link #figures()} reports the
 * outage as a problem, and delivery continues where it stopped once the broker is back. Records
 * that retention deleted before Floe read them are skipped with a warning and a problem that stays
 * until the source restarts.
 */
public final class KafkaSource implements ChangeSource {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaSource.class);

  /** How long {@link #inspect} waits for the brokers. */
  static final Duration INSPECT_TIMEOUT = Duration.ofSeconds(15);

  /** How long without any answer from the brokers, while asking, makes an outage. */
  static final Duration DEFAULT_OUTAGE_AFTER = Duration.ofSeconds(10);

  private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
  private static final Duration METADATA_INTERVAL = Duration.ofSeconds(5);
  private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration FIGURES_INTERVAL = Duration.ofSeconds(1);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration CONSUMER_CLOSE_TIMEOUT = Duration.ofSeconds(5);

  /** How long commits to the group may fail for a retriable reason before a warning. */
  private static final Duration COMMIT_WARNING_AFTER = Duration.ofMinutes(1);

  private static final Duration COMMIT_RETRY_INTERVAL = Duration.ofSeconds(5);
  private static final String FETCH_METRICS_GROUP = "consumer-fetch-manager-metrics";
  private static final String FETCH_TOTAL = "fetch-total";

  private final PipelineConfig config;
  private final KafkaSourceConfig kafka;
  private final String stream;
  private final Duration outageAfter;

  /** The topic pattern, or null when topics are named. */
  private final Pattern pattern;

  private RecordDecoder decoder;
  private Thread thread;
  private Consumption consumption;
  private volatile SourceFigures figures = SourceFigures.NONE;

  /** A source for {@code config}, a pipeline whose source is Kafka. */
  public KafkaSource(PipelineConfig config) {
    this(config, DEFAULT_OUTAGE_AFTER);
  }

  /** A source that reports an outage after {@code outageAfter} without an answer (for tests). */
  KafkaSource(PipelineConfig config, Duration outageAfter) {
    this.config = requireNonNull(config, "config is null");
    if (!(config.source() instanceof KafkaSourceConfig source)) {
      throw new IllegalArgumentException(
          "Pipeline " + config.name() + " does not read Kafka: its source is " + config.source());
    }
    this.kafka = source;
    this.stream = StreamTables.config(config).table();
    this.outageAfter = requireNonNull(outageAfter, "outageAfter is null");
    if (source.topicPattern().isEmpty()) {
      this.pattern = null;
    } else {
      try {
        this.pattern = Pattern.compile(source.topicPattern());
      } catch (PatternSyntaxException e) {
        throw new FloeException(
            ErrorCode.CONFIG_INVALID,
            "The topic-pattern of pipeline "
                + config.name()
                + " is not a regular expression: "
                + e.getMessage(),
            e);
      }
    }
  }

  /**
   * Checks that the decoder of the format exists, that the brokers answer within 15 s and that
   * named topics exist; returns the stream's table.
   *
   * @throws FloeException {@link ErrorCode#CONFIG_INVALID} for a format Floe cannot decode yet,
   *     {@link ErrorCode#SOURCE_UNREACHABLE} when the brokers do not answer, {@link
   *     ErrorCode#SOURCE_NOT_READY} when named topics do not exist
   */
  @Override
  public List<SourceTable> inspect() {
    decoder();
    Set<String> topics = listTopics();
    if (pattern == null) {
      List<String> missing = kafka.topics().stream().filter(t -> !topics.contains(t)).toList();
      if (!missing.isEmpty()) {
        throw new FloeException(
            ErrorCode.SOURCE_NOT_READY,
            "Kafka topics "
                + missing
                + " of pipeline "
                + config.name()
                + " do not exist on "
                + kafka.bootstrapServers()
                + "; create them ("
                + missing.stream()
                    .map(
                        topic ->
                            "kafka-topics.sh --bootstrap-server "
                                + kafka.bootstrapServers()
                                + " --create --topic "
                                + topic
                                + " --partitions <n>")
                    .collect(Collectors.joining("; "))
                + "), or correct source.topics");
      }
    } else {
      List<String> matching = topics.stream().filter(this::matches).sorted().toList();
      if (matching.isEmpty()) {
        LOG.info(
            "Pipeline {}: no Kafka topic on {} matches topic-pattern {} yet; topics created later"
                + " are read from their start",
            config.name(),
            kafka.bootstrapServers(),
            pattern);
      } else {
        LOG.info(
            "Pipeline {}: topic-pattern {} matches {}", config.name(), pattern.pattern(), matching);
      }
    }
    return List.of(StreamTables.sourceTable(config, stream));
  }

  private Set<String> listTopics() {
    Map<String, Object> settings = new HashMap<>();
    settings.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    settings.put(AdminClientConfig.CLIENT_ID_CONFIG, "floe-" + config.name() + "-inspect");
    int timeoutMillis = (int) INSPECT_TIMEOUT.toMillis();
    settings.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMillis);
    settings.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMillis);
    Admin admin;
    try {
      admin = Admin.create(settings);
    } catch (KafkaException e) {
      throw unreachable(e);
    }
    try {
      return admin.listTopics().names().get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw unreachable(e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      throw unreachable(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FloeException(
          ErrorCode.OPERATION_INTERRUPTED,
          "Interrupted listing the Kafka topics on " + kafka.bootstrapServers(),
          e);
    } finally {
      admin.close(Duration.ofSeconds(1));
    }
  }

  private FloeException unreachable(Throwable cause) {
    return new FloeException(
        ErrorCode.SOURCE_UNREACHABLE,
        "Cannot reach the Kafka brokers at "
            + kafka.bootstrapServers()
            + " for pipeline "
            + config.name()
            + " within "
            + INSPECT_TIMEOUT.toSeconds()
            + " s ("
            + cause.getMessage()
            + "); check that source.bootstrap-servers names running brokers as host:port, that this"
            + " host can reach them (DNS, firewall), and that the brokers' advertised.listeners are"
            + " addresses this host can reach",
        cause);
  }

  private boolean matches(String topic) {
    // Kafka's internal topics (__consumer_offsets, __transaction_state, ...) are never a stream.
    return !topic.startsWith("__") && pattern.matcher(topic).matches();
  }

  /** The decoder of the configured format, made once. */
  private synchronized RecordDecoder decoder() {
    if (decoder == null) {
      try {
        decoder =
            RecordDecoders.of(
                kafka.format(), kafka.avroSchema(), StreamTables.config(config).key());
      } catch (IllegalArgumentException e) {
        throw new FloeException(
            ErrorCode.CONFIG_INVALID,
            "Pipeline "
                + config.name()
                + " cannot read Kafka records of format "
                + kafka.format().name().toLowerCase(Locale.ROOT)
                + ": "
                + e.getMessage()
                + "; choose another source.format",
            e);
      }
    }
    return decoder;
  }

  @Override
  public Optional<SourcePosition> position(Map<String, String> summary) {
    return KafkaPosition.read(requireNonNull(summary, "summary is null"));
  }

  /**
   * Per partition the smallest next offset of the checkpoints; a partition absent from one of them
   * is left out and read from its earliest offset.
   */
  @Override
  public SourcePosition resumePosition(List<SourcePosition> checkpoints) {
    return KafkaPosition.oldest(checkpoints);
  }

  /** Kafka has no full load: the tables are returned unchanged. */
  @Override
  public List<SourceTable> prepareFullLoad(List<SourceTable> tables) {
    return tables;
  }

  @Override
  public synchronized void start(Optional<SourcePosition> resume, ChangeHandler handler) {
    requireNonNull(resume, "resume is null");
    requireNonNull(handler, "handler is null");
    if (thread != null) {
      throw new IllegalStateException("The source of pipeline " + config.name() + " was started");
    }
    Map<TopicPartition, Long> resumeOffsets =
        resume.map(position -> KafkaPosition.cast(position).offsets()).orElse(null);
    KafkaConsumer<byte[], byte[]> consumer;
    try {
      consumer = new KafkaConsumer<>(consumerSettings());
    } catch (KafkaException e) {
      throw new FloeException(
          ErrorCode.SOURCE_FAILED,
          "Cannot create a Kafka consumer of "
              + kafka.bootstrapServers()
              + " for pipeline "
              + config.name()
              + ": "
              + e.getMessage(),
          e);
    }
    consumption = new Consumption(consumer, decoder(), resumeOffsets, handler);
    thread = new Thread(consumption, "floe-kafka-" + config.name());
    thread.setDaemon(true);
    thread.start();
  }

  private Map<String, Object> consumerSettings() {
    Map<String, Object> settings = new HashMap<>();
    settings.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    settings.put(ConsumerConfig.GROUP_ID_CONFIG, kafka.group());
    settings.put(ConsumerConfig.CLIENT_ID_CONFIG, "floe-" + config.name());
    settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    settings.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    settings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
    settings.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    // The assigned topics' metadata, new partitions included, is at most this old.
    settings.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, (int) METADATA_INTERVAL.toMillis());
    settings.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    settings.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    return settings;
  }

  /** Lag per partition, and a problem being waited out (an outage, records lost to retention). */
  @Override
  public SourceFigures figures() {
    return figures;
  }

  /**
   * Wakes the consumer, waits for the batch in progress and for the consumer to close; the
   * handler's {@link ChangeHandler#stopped} follows.
   */
  @Override
  public void close() {
    Thread running;
    Consumption stopping;
    synchronized (this) {
      running = thread;
      stopping = consumption;
    }
    if (running == null || !running.isAlive()) {
      return;
    }
    stopping.stop();
    if (running == Thread.currentThread()) {
      return; // closed from the handler: the loop ends after this batch
    }
    try {
      running.join(CLOSE_TIMEOUT.toMillis());
      if (running.isAlive()) {
        LOG.warn(
            "Pipeline {}: the Kafka consumer thread did not stop within {} s",
            config.name(),
            CLOSE_TIMEOUT.toSeconds());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The consumer's loop and its state, all confined to the source's thread but {@link #stop}. */
  private final class Consumption implements Runnable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final RecordDecoder recordDecoder;
    private final ChangeHandler handler;
    private final String brokers = kafka.bootstrapServers();

    /** Where to resume each partition, or null on a first start. */
    private final Map<TopicPartition, Long> resume;

    private volatile boolean stopping;

    /** The next offset of every assigned partition: records before it were delivered. */
    private final Map<TopicPartition, Long> next = new HashMap<>();

    /** An immutable copy of {@link #next}, or null when {@code next} changed since. */
    private Map<TopicPartition, Long> snapshot;

    /** Whether the first look at the topics is done (before it, nothing is delivered). */
    private boolean assigned;

    private long nextDiscoveryNanos;
    private long nextFiguresNanos;

    /** The last offsets committed to the group, to commit only what changed. */
    private Map<TopicPartition, Long> committed = Map.of();

    /** Since when commits to the group fail, or null. */
    private Instant commitFailingSince;

    private boolean commitWarned;

    /** While commits fail, when to try again. */
    private long nextCommitRetryNanos;

    // Outage: time spent asking the brokers without any answer since the last one.
    private Metric fetchTotal;
    private double lastFetchTotal;
    private long silentNanos;
    private Instant silentSince;
    private Instant outageSince;
    private final List<String> retentionLosses = new ArrayList<>();

    Consumption(
        KafkaConsumer<byte[], byte[]> consumer,
        RecordDecoder recordDecoder,
        Map<TopicPartition, Long> resume,
        ChangeHandler handler) {
      this.consumer = consumer;
      this.recordDecoder = recordDecoder;
      this.resume = resume;
      this.handler = handler;
    }

    void stop() {
      stopping = true;
      try {
        consumer.wakeup();
      } catch (RuntimeException e) {
        // The consumer closed on its own meanwhile: there is nothing to wake.
        LOG.debug("Pipeline {}: waking the Kafka consumer failed: {}", config.name(), e.toString());
      }
    }

    @Override
    public void run() {
      Throwable failure = null;
      try {
        while (!stopping) {
          if (!assigned || System.nanoTime() - nextDiscoveryNanos >= 0) {
            discover();
          }
          if (!assigned) {
            continue; // the brokers did not answer: try again (an outage, reported as one)
          }
          if (next.isEmpty()) {
            // Nothing to read yet (a pattern matching no topic): report where the source stands.
            Thread.sleep(POLL_TIMEOUT.toMillis());
            deliver(ConsumerRecords.empty());
          } else {
            long started = System.nanoTime();
            ConsumerRecords<byte[], byte[]> records;
            try {
              records = consumer.poll(POLL_TIMEOUT);
            } catch (OffsetOutOfRangeException e) {
              outOfRange(e.offsetOutOfRangePartitions());
              continue;
            }
            boolean answered = fetchesAnswered();
            observe(answered || !records.isEmpty(), System.nanoTime() - started);
            deliver(records);
          }
          updateFigures(false);
        }
      } catch (WakeupException e) {
        if (!stopping) {
          failure = e;
        }
      } catch (InterruptedException e) {
        if (!stopping) {
          failure = e;
        }
      } catch (RuntimeException | Error e) {
        failure = e;
      } finally {
        closeConsumer(failure);
      }
      figures = SourceFigures.NONE;
      // A wakeup or an interrupt while stopping is how a stop ends: clean.
      handler.stopped(failure == null ? null : failed(failure));
    }

    private void closeConsumer(Throwable failure) {
      try {
        consumer.close(CloseOptions.timeout(CONSUMER_CLOSE_TIMEOUT));
      } catch (RuntimeException e) {
        if (failure != null) {
          failure.addSuppressed(e);
        } else {
          LOG.warn(
              "Pipeline {}: closing the Kafka consumer of {} failed: {}",
              config.name(),
              brokers,
              e.toString());
        }
      }
    }

    /** What stopped the loop, as users see it. */
    private FloeException failed(Throwable failure) {
      Optional<FloeException> own = FloeException.in(failure);
      if (own.isPresent()) {
        return own.get();
      }
      return new FloeException(
          ErrorCode.SOURCE_FAILED,
          "Cannot consume the Kafka topics "
              + topicsDescription()
              + " of "
              + brokers
              + " for pipeline "
              + config.name()
              + ": "
              + failure
              + "; the pipeline resumes where its table stands when started again",
          failure);
    }

    /** Looks for the topics' partitions and assigns new ones; an unanswered look is silence. */
    private void discover() {
      long started = System.nanoTime();
      nextDiscoveryNanos = started + METADATA_INTERVAL.toNanos();
      Set<TopicPartition> found = new HashSet<>();
      try {
        if (pattern == null) {
          for (String topic : kafka.topics()) {
            for (PartitionInfo info : consumer.partitionsFor(topic, METADATA_TIMEOUT)) {
              found.add(new TopicPartition(info.topic(), info.partition()));
            }
          }
        } else {
          for (Map.Entry<String, List<PartitionInfo>> topic :
              consumer.listTopics(METADATA_TIMEOUT).entrySet()) {
            if (matches(topic.getKey())) {
              for (PartitionInfo info : topic.getValue()) {
                found.add(new TopicPartition(info.topic(), info.partition()));
              }
            }
          }
          // Listing topics always asks a broker: an answer ends an outage.
          observe(true, 0);
        }
        found.removeAll(next.keySet());
        if (!found.isEmpty()) {
          assign(found);
        }
        assigned = true;
      } catch (TimeoutException e) {
        LOG.debug(
            "Pipeline {}: looking up Kafka topics timed out: {}", config.name(), e.toString());
        observe(false, System.nanoTime() - started);
      }
    }

    /** Adds {@code added} to the assignment, each at the offset it starts from. */
    private void assign(Set<TopicPartition> added) {
      Map<TopicPartition, Long> beginning = consumer.beginningOffsets(added, METADATA_TIMEOUT);
      Map<TopicPartition, Long> end = consumer.endOffsets(added, METADATA_TIMEOUT);
      boolean firstStart = resume == null && !assigned;
      Map<TopicPartition, OffsetAndTimestamp> atTimestamp = Map.of();
      if (firstStart && kafka.start() == KafkaSourceConfig.StartPosition.TIMESTAMP) {
        long timestamp = kafka.startTimestamp().orElseThrow().toEpochMilli();
        Map<TopicPartition, Long> query = new HashMap<>();
        added.forEach(partition -> query.put(partition, timestamp));
        atTimestamp = consumer.offsetsForTimes(query, METADATA_TIMEOUT);
      }
      Map<TopicPartition, Long> starts = new TreeMap<>(KafkaSource::compare);
      for (TopicPartition partition : added) {
        long first = beginning.get(partition);
        long last = end.get(partition);
        long offset;
        if (resume != null && resume.containsKey(partition)) {
          offset = resumeOffset(partition, resume.get(partition), first, last);
        } else if (firstStart) {
          switch (kafka.start()) {
            case EARLIEST:
              offset = first;
              break;
            case LATEST:
              offset = last;
              break;
            default:
              OffsetAndTimestamp found = atTimestamp.get(partition);
              offset = found == null ? last : found.offset();
              break;
          }
        } else {
          // A partition or topic that is new since the start (or since the table's checkpoint):
          // the table has none of its records.
          offset = first;
        }
        starts.put(partition, offset);
      }
      Set<TopicPartition> assignment = new HashSet<>(next.keySet());
      assignment.addAll(added);
      consumer.assign(assignment);
      starts.forEach(consumer::seek);
      next.putAll(starts);
      snapshot = null;
      LOG.info(
          "Pipeline {}: reading Kafka partitions {} from offsets {}",
          config.name(),
          starts.keySet().stream().map(KafkaSource::name).toList(),
          starts.values());
    }

    /** Where a resumed partition starts: its resume offset, or the log start after retention. */
    private long resumeOffset(TopicPartition partition, long offset, long first, long last) {
      if (offset > last) {
        throw new FloeException(
            ErrorCode.SOURCE_FAILED,
            "Kafka partition "
                + name(partition)
                + " on "
                + brokers
                + " ends at offset "
                + last
                + ", before offset "
                + offset
                + " that the table of pipeline "
                + config.name()
                + " holds records up to: the topic was deleted and created again, or the brokers"
                + " lost records (an unclean leader election). Floe would skip new records that"
                + " reuse those offsets; to read the topic again from its start, drop the table"
                + " (its checkpoint) and start the pipeline again");
      }
      if (offset < first) {
        lostToRetention(partition, offset, first);
        return first;
      }
      return offset;
    }

    private void lostToRetention(TopicPartition partition, long from, long to) {
      long lost = to - from;
      LOG.warn(
          "Pipeline {}: {} records of Kafka partition {} (offsets {} to {}) were deleted by the"
              + " topic's retention before Floe read them; they are lost to the table, which"
              + " continues from offset {}. Raise the topic's retention.ms or retention.bytes, or"
              + " keep the pipeline running, so that this does not happen again",
          config.name(),
          lost,
          name(partition),
          from,
          to - 1,
          to);
      retentionLosses.add(
          lost
              + " records of "
              + name(partition)
              + " (offsets "
              + from
              + " to "
              + (to - 1)
              + ") deleted by retention before they were read, at "
              + Instant.now().truncatedTo(ChronoUnit.SECONDS));
      updateFigures(true);
    }

    /** The consumer's fetch offsets fell out of the partitions' logs. */
    private void outOfRange(Map<TopicPartition, Long> fetchOffsets) {
      Map<TopicPartition, Long> beginning =
          consumer.beginningOffsets(fetchOffsets.keySet(), METADATA_TIMEOUT);
      Map<TopicPartition, Long> end = consumer.endOffsets(fetchOffsets.keySet(), METADATA_TIMEOUT);
      for (Map.Entry<TopicPartition, Long> entry : fetchOffsets.entrySet()) {
        TopicPartition partition = entry.getKey();
        long offset =
            resumeOffset(partition, entry.getValue(), beginning.get(partition), end.get(partition));
        if (offset != entry.getValue()) {
          consumer.seek(partition, offset);
          next.put(partition, offset);
          snapshot = null;
        }
      }
    }

    /** Whether fetch responses arrived since the last call (the consumer's fetch-total grew). */
    private boolean fetchesAnswered() {
      if (fetchTotal == null) {
        for (Map.Entry<MetricName, ? extends Metric> metric : consumer.metrics().entrySet()) {
          MetricName name = metric.getKey();
          if (name.name().equals(FETCH_TOTAL)
              && name.group().equals(FETCH_METRICS_GROUP)
              && !name.tags().containsKey("topic")) {
            fetchTotal = metric.getValue();
          }
        }
        if (fetchTotal == null) {
          return false;
        }
      }
      double total = ((Number) fetchTotal.metricValue()).doubleValue();
      boolean answered = total > lastFetchTotal;
      lastFetchTotal = total;
      return answered;
    }

    /** Notes an answer of the brokers, or {@code askedNanos} spent asking them in vain. */
    private void observe(boolean answered, long askedNanos) {
      if (answered) {
        silentNanos = 0;
        silentSince = null;
        if (outageSince != null) {
          LOG.info(
              "Pipeline {}: Kafka brokers {} reachable again after {} s; reading on",
              config.name(),
              brokers,
              Duration.between(outageSince, Instant.now()).toSeconds());
          outageSince = null;
          updateFigures(true);
        }
        return;
      }
      if (silentSince == null) {
        silentSince = Instant.now().minusNanos(askedNanos).truncatedTo(ChronoUnit.SECONDS);
      }
      silentNanos += askedNanos;
      if (outageSince == null && silentNanos >= outageAfter.toNanos()) {
        outageSince = silentSince;
        LOG.warn(
            "Pipeline {}: Kafka brokers {} unreachable since {}; retrying (the pipeline continues"
                + " where it stopped once they are back)",
            config.name(),
            brokers,
            outageSince);
        updateFigures(true);
      }
    }

    /** Delivers one poll's records, or a heartbeat when there are none. */
    private void deliver(ConsumerRecords<byte[], byte[]> records) throws InterruptedException {
      if (records.isEmpty()) {
        skipToConsumerPositions();
        handler.handle(List.of(new SourceEvent.Heartbeat(KafkaPosition.of(snapshot()))), this::ack);
        return;
      }
      List<SourceEvent> events = new ArrayList<>(records.count());
      for (TopicPartition partition : records.partitions()) {
        // Positions of this partition's records share the offsets before them.
        Map<TopicPartition, Long> base = snapshot();
        List<ConsumerRecord<byte[], byte[]>> partitionRecords = records.records(partition);
        for (ConsumerRecord<byte[], byte[]> record : partitionRecords) {
          events.add(change(base, partition, record));
        }
        next.put(partition, partitionRecords.get(partitionRecords.size() - 1).offset() + 1);
        snapshot = null;
      }
      handler.handle(events, this::ack);
    }

    private SourceEvent change(
        Map<TopicPartition, Long> base,
        TopicPartition partition,
        ConsumerRecord<byte[], byte[]> record) {
      String topic = record.topic();
      long offset = record.offset();
      StreamRecord row =
          new StreamRecord(
              "kafka:" + topic + ":" + record.partition() + ":" + offset,
              topic + "/" + record.partition() + "@" + offset,
              record.key(),
              record.value(),
              record.timestamp(),
              recordDecoder,
              kafka.maxRecordBytes());
      return new SourceEvent.Change(
          stream,
          Operation.INSERT,
          row,
          null,
          record.timestamp(),
          KafkaPosition.afterRecord(base, partition, offset));
    }

    /**
     * After a poll without records, moves each partition's next offset on to the consumer's: past
     * transaction markers and aborted records, which are never delivered.
     */
    private void skipToConsumerPositions() {
      for (Map.Entry<TopicPartition, Long> entry : next.entrySet()) {
        long position;
        try {
          position = consumer.position(entry.getKey(), Duration.ZERO);
        } catch (TimeoutException e) {
          continue;
        }
        if (position > entry.getValue()) {
          entry.setValue(position);
          snapshot = null;
        }
      }
    }

    private Map<TopicPartition, Long> snapshot() {
      if (snapshot == null) {
        snapshot = Map.copyOf(next);
      }
      return snapshot;
    }

    /** Commits an acknowledged position to the consumer group, for monitoring only. */
    private void ack(SourcePosition position) {
      Map<TopicPartition, Long> offsets = KafkaPosition.cast(position).offsets();
      if (offsets.equals(committed) || offsets.isEmpty()) {
        return;
      }
      long now = System.nanoTime();
      if (commitFailingSince != null && now - nextCommitRetryNanos < 0) {
        return; // commits fail (an outage?): try again a little later
      }
      nextCommitRetryNanos = now + COMMIT_RETRY_INTERVAL.toNanos();
      Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
      offsets.forEach((partition, offset) -> commit.put(partition, new OffsetAndMetadata(offset)));
      committed = offsets;
      consumer.commitAsync(commit, (done, error) -> committed(offsets, error));
    }

    /**
     * A commit's outcome, on the source's thread: a failure is logged (a warning once commits fail
     * for good or for long) and the offsets are committed again with the next acknowledgement.
     */
    private void committed(Map<TopicPartition, Long> offsets, Exception error) {
      if (error == null) {
        if (commitFailingSince != null && commitWarned) {
          LOG.info(
              "Pipeline {}: committing offsets to Kafka consumer group {} works again",
              config.name(),
              kafka.group());
        }
        commitFailingSince = null;
        commitWarned = false;
        return;
      }
      if (offsets.equals(committed)) {
        committed = Map.of(); // not committed: the next acknowledgement tries again
      }
      Instant now = Instant.now();
      if (commitFailingSince == null) {
        commitFailingSince = now;
      }
      boolean lasting =
          !(error instanceof RetriableCommitFailedException)
              || Duration.between(commitFailingSince, now).compareTo(COMMIT_WARNING_AFTER) >= 0;
      if (lasting && !commitWarned) {
        commitWarned = true;
        LOG.warn(
            "Pipeline {}: cannot commit offsets to Kafka consumer group {} (failing since {}: {});"
                + " they are for monitoring only, the table records where to resume",
            config.name(),
            kafka.group(),
            commitFailingSince.truncatedTo(ChronoUnit.SECONDS),
            error.toString());
      } else {
        LOG.debug(
            "Pipeline {}: committing offsets to Kafka consumer group {} failed: {}",
            config.name(),
            kafka.group(),
            error.toString());
      }
    }

    /** Refreshes the figures: at most every second, or now when the problem changed. */
    private void updateFigures(boolean problemChanged) {
      long now = System.nanoTime();
      if (!problemChanged && now - nextFiguresNanos < 0) {
        return;
      }
      nextFiguresNanos = now + FIGURES_INTERVAL.toNanos();
      Map<String, Long> lag = new TreeMap<>();
      for (TopicPartition partition : next.keySet()) {
        OptionalLong behind = consumer.currentLag(partition);
        if (behind.isPresent()) {
          lag.put(name(partition), behind.getAsLong());
        }
      }
      List<String> problems = new ArrayList<>();
      if (outageSince != null) {
        problems.add(
            "Kafka brokers " + brokers + " unreachable since " + outageSince + "; retrying");
      }
      problems.addAll(retentionLosses);
      figures =
          new SourceFigures(
              lag,
              0,
              problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems)));
    }
  }

  private String topicsDescription() {
    return pattern == null ? kafka.topics().toString() : "matching " + pattern.pattern();
  }

  static String name(TopicPartition partition) {
    return partition.topic() + "/" + partition.partition();
  }

  private static int compare(TopicPartition a, TopicPartition b) {
    int topics = a.topic().compareTo(b.topic());
    return topics != 0 ? topics : Integer.compare(a.partition(), b.partition());
  }
}
