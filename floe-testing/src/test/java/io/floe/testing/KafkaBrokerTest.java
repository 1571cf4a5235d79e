package io.floe.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class KafkaBrokerTest {
  private static final String TOPIC = "events";

  @TempDir Path directory;

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void producesAndConsumesAcrossAnOutage() throws Exception {
    Set<Thread> threadsBefore = nonDaemonThreads();
    long startNanos = System.nanoTime();
    try (KafkaBroker broker = KafkaBroker.start(directory)) {
      System.out.println("KafkaBroker start: " + millisSince(startNanos) + " ms");
      assertThat(broker.bootstrapServers()).startsWith("127.0.0.1:");
      broker.createTopic(TOPIC, 3);

      try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
        send(producer, 0, 100);
      }
      try (KafkaConsumer<byte[], byte[]> consumer = consumer(broker, "first")) {
        assertThat(consume(consumer, 100)).containsExactlyInAnyOrderElementsOf(values(0, 100));
        consumer.commitSync();
      }

      try (KafkaProducer<byte[], byte[]> producer =
          broker.producer(
              Map.of(
                  ProducerConfig.MAX_BLOCK_MS_CONFIG, 2_000,
                  ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 1_000,
                  ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 3_000))) {
        // The producer knows the topic before the outage: its sends wait for the broker and time
        // out.
        send(producer, 100, 101);
        broker.stop();
        assertThat(broker.isRunning()).isFalse();
        long outageNanos = System.nanoTime();
        Future<RecordMetadata> lost = producer.send(record(101));
        assertThatThrownBy(() -> lost.get(30, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .hasCauseInstanceOf(TimeoutException.class);
        System.out.println(
            "KafkaBroker outage: a send failed after " + millisSince(outageNanos) + " ms");
      }

      long restartNanos = System.nanoTime();
      broker.restart();
      System.out.println("KafkaBroker restart: " + millisSince(restartNanos) + " ms");
      assertThat(broker.isRunning()).isTrue();

      try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
        send(producer, 200, 210);
      }
      // The group's committed offsets survived: it reads the records sent since.
      try (KafkaConsumer<byte[], byte[]> consumer = consumer(broker, "first")) {
        List<String> expected = new ArrayList<>(values(100, 101));
        expected.addAll(values(200, 210));
        assertThat(consume(consumer, expected.size()))
            .containsExactlyInAnyOrderElementsOf(expected);
      }
      // A new group reads every record the broker kept.
      try (KafkaConsumer<byte[], byte[]> consumer = consumer(broker, "second")) {
        List<String> expected = new ArrayList<>(values(0, 101));
        expected.addAll(values(200, 210));
        assertThat(consume(consumer, expected.size()))
            .containsExactlyInAnyOrderElementsOf(expected);
      }
    }
    assertNoThreadsLeftBehind(threadsBefore);
  }

  @Test
  void refusesAFormattedDirectory() throws Exception {
    Files.writeString(directory.resolve("meta.properties"), "node.id=1\n");
    assertThatThrownBy(() -> KafkaBroker.start(directory))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("formatted already");
  }

  private static void send(KafkaProducer<byte[], byte[]> producer, int from, int to)
      throws Exception {
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    for (int i = from; i < to; i++) {
      sent.add(producer.send(record(i)));
    }
    for (Future<RecordMetadata> future : sent) {
      future.get(30, TimeUnit.SECONDS);
    }
  }

  private static ProducerRecord<byte[], byte[]> record(int i) {
    return new ProducerRecord<>(TOPIC, bytes("key-" + (i % 7)), bytes("value-" + i));
  }

  private static KafkaConsumer<byte[], byte[]> consumer(KafkaBroker broker, String group) {
    KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                broker.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG,
                group,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class));
    consumer.subscribe(List.of(TOPIC));
    return consumer;
  }

  /** Polls until {@code count} records arrived (60 s at most), then a little longer for extras. */
  private static List<String> consume(KafkaConsumer<byte[], byte[]> consumer, int count) {
    List<String> values = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (values.size() < count && System.nanoTime() < deadline) {
      poll(consumer, Duration.ofMillis(500), values);
    }
    poll(consumer, Duration.ofMillis(500), values);
    return values;
  }

  private static void poll(
      KafkaConsumer<byte[], byte[]> consumer, Duration timeout, List<String> values) {
    for (ConsumerRecord<byte[], byte[]> record : consumer.poll(timeout)) {
      values.add(new String(record.value(), StandardCharsets.UTF_8));
    }
  }

  private static List<String> values(int from, int to) {
    List<String> values = new ArrayList<>();
    for (int i = from; i < to; i++) {
      values.add("value-" + i);
    }
    return values;
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static long millisSince(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
  }

  private static Set<Thread> nonDaemonThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> thread.isAlive() && !thread.isDaemon())
        .collect(Collectors.toSet());
  }

  /** The broker's and the clients' non-daemon threads end (shortly) after close. */
  private static void assertNoThreadsLeftBehind(Set<Thread> before) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    Set<Thread> left = nonDaemonThreads();
    left.removeAll(before);
    while (!left.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(100);
      left = nonDaemonThreads();
      left.removeAll(before);
    }
    assertThat(left.stream().map(Thread::getName)).isEmpty();
  }
}
