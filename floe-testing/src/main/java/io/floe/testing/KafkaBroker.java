package io.floe.testing;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;

/**
 * A real Apache Kafka broker in this JVM for tests: one KRaft node in the combined broker and
 * controller roles (no ZooKeeper) on 127.0.0.1, with its log in a directory the caller gives.
 *
 * <p>Settings suit one node: replication factor 1 and {@code min.insync.replicas=1} for every
 * internal topic, no rebalance delay, topics are created explicitly ({@link #createTopic}). {@link
 * #stop()} and {@link #restart()} simulate an outage: while stopped, clients find nothing
 * listening; the broker comes back on the same ports with its data kept.
 *
 * <p>The broker logs through slf4j under {@code kafka}, {@code org.apache.kafka} and {@code
 * state.change.logger}; a test's logging configuration should set them to WARN.
 */
public final class KafkaBroker implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final int NODE_ID = 1;
  private static final String BROKER_LISTENER = "PLAINTEXT";
  private static final String CONTROLLER_LISTENER = "CONTROLLER";

  private final Path directory;
  private final int port;
  private final Map<String, String> config;
  private KafkaRaftServer server;
  private boolean closed;

  private KafkaBroker(Path directory, int port, Map<String, String> config) {
    this.directory = requireNonNull(directory, "directory is null");
    this.port = port;
    this.config = Map.copyOf(requireNonNull(config, "config is null"));
  }

  /**
   * Formats {@code directory} as the log of a new single-node cluster and starts the broker on a
   * free port of 127.0.0.1; returns once the broker accepts requests.
   *
   * @param directory the broker's log directory: created if missing, it must not hold a Kafka log
   *     already; the caller deletes it after {@link #close()}
   * @throws IllegalStateException if the broker does not start within 60 seconds
   */
  public static KafkaBroker start(Path directory) {
    requireNonNull(directory, "directory is null");
    Path logDirectory = directory.toAbsolutePath().normalize();
    try {
      Files.createDirectories(logDirectory);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create the Kafka log directory " + logDirectory, e);
    }
    if (Files.exists(logDirectory.resolve("meta.properties"))) {
      throw new IllegalArgumentException(
          "The Kafka log directory " + logDirectory + " is formatted already: give a new one");
    }
    int port = freePort();
    int controllerPort = freePort();
    while (controllerPort == port) {
      controllerPort = freePort();
    }
    Map<String, String> config = brokerConfig(logDirectory, port, controllerPort);
    format(logDirectory);
    KafkaBroker broker = new KafkaBroker(logDirectory, port, config);
    broker.startServer();
    return broker;
  }

  /** {@code 127.0.0.1:<port>}: the {@code bootstrap.servers} of clients; it stays on restart. */
  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /** The broker's log directory, as given to {@link #start(Path)}. */
  public Path directory() {
    return directory;
  }

  /** True from a start until {@link #stop()} or {@link #close()}. */
  public synchronized boolean isRunning() {
    return server != null;
  }

  /**
   * Creates the topic {@code name} with {@code partitions} partitions (replication factor 1) and
   * returns once the broker has created it.
   *
   * @throws IllegalStateException if the broker is stopped, or does not create the topic within 60
   *     seconds (its failure, such as a topic that exists already, is the cause)
   */
  public void createTopic(String name, int partitions) {
    requireNonNull(name, "name is null");
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be at least 1: " + partitions);
    }
    requireRunning();
    try (Admin admin = admin()) {
      admin
          .createTopics(List.of(new NewTopic(name, partitions, (short) 1)))
          .all()
          .get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      // A topic is created before its partitions have a leader: producing at once is refused
      // (NOT_LEADER_OR_FOLLOWER) and retried, for long on a loaded machine. Wait for the leaders.
      long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
      while (!hasLeaders(admin, name, partitions)) {
        if (System.nanoTime() > deadline) {
          throw new TimeoutException("The partitions of " + name + " got no leader in time");
        }
        Thread.sleep(50);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted creating the Kafka topic " + name, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(
          "Cannot create the Kafka topic " + name + " on " + bootstrapServers(),
          e instanceof ExecutionException ? e.getCause() : e);
    }
  }

  /**
   * Whether every partition of the new topic has a leader that answers for it. Right after its
   * creation the broker may not know the topic yet (describing it fails with a retriable {@code
   * UnknownTopicOrPartitionException}): that is "not yet", not a failure.
   */
  private static boolean hasLeaders(Admin admin, String topic, int partitions)
      throws InterruptedException, ExecutionException, TimeoutException {
    TopicDescription description;
    try {
      description =
          admin
              .describeTopics(List.of(topic))
              .allTopicNames()
              .get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
              .get(topic);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RetriableException) {
        return false;
      }
      throw e;
    }
    return description.partitions().size() == partitions
        && description.partitions().stream().allMatch(partition -> partition.leader() != null)
        && leads(admin, topic, partitions);
  }

  /**
   * Whether the broker answers for every partition of the topic as its leader (it lists their end
   * offsets), which it does only once it has taken the leadership the controller gave it: before,
   * produce requests are refused, and an idempotent producer may then retry for minutes.
   */
  private static boolean leads(Admin admin, String topic, int partitions)
      throws InterruptedException {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int partition = 0; partition < partitions; partition++) {
      latest.put(new TopicPartition(topic, partition), OffsetSpec.latest());
    }
    try {
      admin.listOffsets(latest).all().get(5, TimeUnit.SECONDS);
      return true;
    } catch (ExecutionException | TimeoutException e) {
      return false; // Not the leader yet: ask again.
    }
  }

  /**
   * A new producer of byte arrays to this broker, {@code acks=all} with idempotence: the caller
   * closes it.
   */
  public KafkaProducer<byte[], byte[]> producer() {
    return producer(Map.of());
  }

  /**
   * A new producer as {@link #producer()} with {@code overrides} over its settings (such as short
   * {@code delivery.timeout.ms} and {@code max.block.ms} for a test of an outage): the caller
   * closes it.
   */
  public KafkaProducer<byte[], byte[]> producer(Map<String, ?> overrides) {
    requireNonNull(overrides, "overrides is null");
    Map<String, Object> settings = new HashMap<>();
    settings.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    settings.put(ProducerConfig.ACKS_CONFIG, "all");
    settings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    settings.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    settings.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    settings.putAll(overrides);
    return new KafkaProducer<>(settings);
  }

  /**
   * Stops the broker, as an outage would: its ports close and clients cannot reach it until {@link
   * #restart()}. The log is kept. Does nothing if the broker is stopped.
   */
  public synchronized void stop() {
    KafkaRaftServer running = server;
    if (running == null) {
      return;
    }
    server = null;
    running.shutdown();
    running.awaitShutdown();
  }

  /**
   * Starts the broker again (stopping it first if it runs) on the same port with the same log, and
   * returns once it accepts requests.
   *
   * @throws IllegalStateException if the broker does not start within 60 seconds, or is closed
   */
  public synchronized void restart() {
    if (closed) {
      throw new IllegalStateException("The Kafka broker on " + bootstrapServers() + " is closed");
    }
    stop();
    startServer();
  }

  /** Stops the broker for good; its threads end and its ports close. The log directory is left. */
  @Override
  public synchronized void close() {
    closed = true;
    stop();
  }

  private synchronized void startServer() {
    long started = System.nanoTime();
    // A new KafkaConfig per start: the server registers itself in its config's dynamic settings.
    KafkaRaftServer starting = new KafkaRaftServer(new KafkaConfig(config, false), Time.SYSTEM);
    try {
      starting.startup();
      awaitRequests(started);
    } catch (RuntimeException e) {
      stopQuietly(starting, e);
      throw new IllegalStateException(
          "The Kafka broker on "
              + bootstrapServers()
              + " (log "
              + directory
              + ") did not start within "
              + START_TIMEOUT.toSeconds()
              + " s",
          e);
    }
    server = starting;
  }

  /** Waits until the broker answers a client's request, as the last check of a start. */
  private void awaitRequests(long startedNanos) {
    long remainingMillis =
        START_TIMEOUT.toMillis() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
    try (Admin admin = admin()) {
      admin.describeCluster().nodes().get(Math.max(remainingMillis, 1), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted waiting for the Kafka broker", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("The Kafka broker does not answer requests", e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException("The Kafka broker does not answer requests", e);
    }
  }

  private Admin admin() {
    int timeoutMillis = (int) START_TIMEOUT.toMillis();
    return Admin.create(
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrapServers(),
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
            timeoutMillis,
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
            Math.min(timeoutMillis, 10_000)));
  }

  private void requireRunning() {
    if (!isRunning()) {
      throw new IllegalStateException("The Kafka broker on " + bootstrapServers() + " is stopped");
    }
  }

  private static void stopQuietly(KafkaRaftServer server, RuntimeException failure) {
    try {
      server.shutdown();
      server.awaitShutdown();
    } catch (RuntimeException e) {
      failure.addSuppressed(e);
    }
  }

  private static Map<String, String> brokerConfig(Path logDirectory, int port, int controllerPort) {
    Map<String, String> config = new HashMap<>();
    config.put("process.roles", "broker,controller");
    config.put("node.id", Integer.toString(NODE_ID));
    config.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort);
    config.put(
        "listeners",
        BROKER_LISTENER
            + "://127.0.0.1:"
            + port
            + ","
            + CONTROLLER_LISTENER
            + "://127.0.0.1:"
            + controllerPort);
    config.put("advertised.listeners", BROKER_LISTENER + "://127.0.0.1:" + port);
    config.put("controller.listener.names", CONTROLLER_LISTENER);
    config.put("inter.broker.listener.name", BROKER_LISTENER);
    config.put(
        "listener.security.protocol.map",
        BROKER_LISTENER + ":PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
    config.put("log.dirs", logDirectory.toString());
    config.put("server.max.startup.time.ms", Long.toString(START_TIMEOUT.toMillis()));
    // One node: every internal topic has one replica, and few partitions so that it starts fast.
    config.put("offsets.topic.replication.factor", "1");
    config.put("offsets.topic.num.partitions", "1");
    config.put("transaction.state.log.replication.factor", "1");
    config.put("transaction.state.log.min.isr", "1");
    config.put("transaction.state.log.num.partitions", "1");
    config.put("share.coordinator.state.topic.replication.factor", "1");
    config.put("share.coordinator.state.topic.min.isr", "1");
    config.put("share.coordinator.state.topic.num.partitions", "1");
    config.put("min.insync.replicas", "1");
    config.put("default.replication.factor", "1");
    config.put("num.partitions", "1");
    config.put("group.initial.rebalance.delay.ms", "0");
    config.put("auto.create.topics.enable", "false");
    config.put("log.segment.bytes", Integer.toString(1024 * 1024));
    return config;
  }

  /** Writes {@code meta.properties} and the bootstrap metadata, as {@code kafka-storage format}. */
  private static void format(Path logDirectory) {
    try (PrintStream quiet =
        new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8)) {
      new Formatter()
          .setPrintStream(quiet)
          .setNodeId(NODE_ID)
          .setClusterId(Uuid.randomUuid().toString())
          .setControllerListenerName(CONTROLLER_LISTENER)
          .setMetadataLogDirectory(logDirectory.toString())
          .addDirectory(logDirectory.toString())
          .run();
    } catch (Exception e) {
      throw new IllegalStateException("Cannot format the Kafka log directory " + logDirectory, e);
    }
  }

  private static int freePort() {
    try (ServerSocket socket =
        new ServerSocket(0, 1, InetAddress.getByAddress(new byte[] {127, 0, 0, 1}))) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot find a free port on the loopback interface", e);
    }
  }
}
