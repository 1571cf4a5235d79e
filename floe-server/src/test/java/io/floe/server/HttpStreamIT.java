package io.floe.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.ingest.stream.DeadLetters;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Clients POST randomized batches of records (about 5% poison of every kind: bad JSON, wrong types,
 * values out of range, oversized records, unknown fields) to an HTTP stream of {@code floe run},
 * which is killed with SIGKILL at random moments and started again; the clients retry each batch
 * with its batch id after a dropped connection or a refusal until it is accepted. At the end the
 * table holds exactly the good records, once each, and the dead-letter table exactly the poison
 * ones, each with its error class.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class HttpStreamIT {
  private static final Logger LOG = LoggerFactory.getLogger(HttpStreamIT.class);
  private static final int KILLS = 6;
  private static final int CLIENTS = 3;
  private static final int BATCHES_PER_CLIENT = 60;
  private static final int RECORDS_PER_BATCH = 20;
  private static final TableIdentifier EVENTS = TableIdentifier.of("raw", "events");
  private static final TableIdentifier DEAD = TableIdentifier.of("raw", "events_dead_letter");

  /** What a record is, and for poison the error class it must get. */
  private enum Kind {
    GOOD(null),
    BAD_JSON("bad_json"),
    WRONG_TYPE("type_mismatch"),
    OUT_OF_RANGE("value_out_of_range"),
    OVERSIZED("oversized"),
    UNKNOWN_FIELD("unknown_field");

    final String errorClass;

    Kind(String errorClass) {
      this.errorClass = errorClass;
    }
  }

  @TempDir Path directory;

  private final Map<String, Kind> sent = new ConcurrentHashMap<>();
  private final AtomicInteger duplicates = new AtomicInteger();
  private final AtomicInteger retries = new AtomicInteger();

  @Test
  void everyRecordLandsOnceAcrossKillsAndClientRetries() throws Exception {
    long seed = Long.getLong("floe.seed", System.nanoTime());
    LOG.info("HttpStreamIT seed {} (repeat with -Dfloe.seed={})", seed, seed);
    Random random = new Random(seed);
    int port = freePort();
    Path config = writeConfig(port);

    List<Thread> clients = new ArrayList<>();
    for (int client = 0; client < CLIENTS; client++) {
      long clientSeed = random.nextLong();
      int number = client;
      Thread thread = new Thread(() -> send(number, port, clientSeed), "http-client-" + client);
      thread.setDaemon(true);
      clients.add(thread);
    }
    Process process = FloeRunProcess.start(config, log(0));
    awaitHealthy(port, 0);
    clients.forEach(Thread::start);
    for (int kill = 0; kill < KILLS; kill++) {
      Thread.sleep(kill % 2 == 0 ? 300 + random.nextInt(1500) : 2000 + random.nextInt(4000));
      if (!process.isAlive()) {
        throw new AssertionError(
            "floe run " + kill + " exited early:\n" + Files.readString(log(kill).toPath()));
      }
      process.destroyForcibly(); // SIGKILL
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      LOG.info("Killed floe run #{}; {} records sent so far", kill, sent.size());
      process = FloeRunProcess.start(config, log(kill + 1));
      awaitHealthy(port, kill + 1);
    }
    for (Thread client : clients) {
      client.join(TimeUnit.MINUTES.toMillis(3));
      assertThat(client.isAlive()).as("client %s finished", client.getName()).isFalse();
    }
    int total = CLIENTS * BATCHES_PER_CLIENT * RECORDS_PER_BATCH;
    assertThat(sent).hasSize(total);

    Map<String, Integer> events;
    Map<String, String> deadLetters;
    try (JdbcCatalog catalog =
        FloeCatalog.open(
            WarehouseConfig.local(FloeRunProcess.warehouse(directory)), CatalogConfig.defaults())) {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (true) {
        events = eventIds(catalog);
        deadLetters = deadLetterClasses(catalog);
        int landed =
            events.values().stream().mapToInt(Integer::intValue).sum() + deadLetters.size();
        if (landed >= total || System.nanoTime() > deadline) {
          break;
        }
        Thread.sleep(200);
      }
    } finally {
      process.destroy(); // SIGTERM: a clean stop
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }

    Map<String, Integer> expectedEvents = new HashMap<>();
    Map<String, String> expectedDead = new HashMap<>();
    sent.forEach(
        (id, kind) -> {
          if (kind == Kind.GOOD) {
            expectedEvents.put(id, 1);
          } else {
            expectedDead.put(id, kind.errorClass);
          }
        });
    assertThat(events).as("good records in the table, once each").isEqualTo(expectedEvents);
    assertThat(deadLetters).as("poison records and their error classes").isEqualTo(expectedDead);
    Map<String, Long> byClass = new HashMap<>();
    expectedDead.values().forEach(type -> byClass.merge(type, 1L, Long::sum));
    LOG.info(
        "After {} kills: {} good records once each, {} dead letters {}; {} retries, {} duplicate"
            + " answers",
        KILLS,
        expectedEvents.size(),
        expectedDead.size(),
        byClass,
        retries.get(),
        duplicates.get());
    assertThat(byClass.keySet()).hasSize(Kind.values().length - 1);
  }

  /** Sends the client's batches in order, each until it is accepted. */
  private void send(int client, int port, long seed) {
    Random random = new Random(seed);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    String auth =
        "Basic "
            + Base64.getEncoder().encodeToString("ingest:secret".getBytes(StandardCharsets.UTF_8));
    for (int batch = 0; batch < BATCHES_PER_CLIENT; batch++) {
      StringBuilder body = new StringBuilder();
      Map<String, Kind> records = new HashMap<>();
      for (int index = 0; index < RECORDS_PER_BATCH; index++) {
        String id = "c" + client + "-" + batch + "-" + index;
        Kind kind =
            random.nextInt(100) < 5
                ? Kind.values()[1 + random.nextInt(Kind.values().length - 1)]
                : Kind.GOOD;
        records.put(id, kind);
        body.append(record(id, kind, random)).append('\n');
      }
      HttpRequest request =
          HttpRequest.newBuilder(
                  URI.create("http://127.0.0.1:" + port + "/v1/streams/events/records"))
              .timeout(Duration.ofSeconds(10))
              .header("Authorization", auth)
              .header("Content-Type", "application/x-ndjson")
              .header("Floe-Batch-Id", "client-" + client + "-batch-" + batch)
              .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
              .build();
      while (true) {
        try {
          HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
          if (response.statusCode() == 200) {
            if (response.body().contains("\"duplicate\":true")) {
              duplicates.incrementAndGet();
            }
            break;
          }
          if (response.statusCode() != 429 && response.statusCode() != 503) {
            throw new AssertionError(
                "Batch refused with " + response.statusCode() + ": " + response.body());
          }
        } catch (IOException e) {
          // floe run was killed or is starting: send the same batch again.
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        retries.incrementAndGet();
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
      sent.putAll(records);
    }
  }

  private static String record(String id, Kind kind, Random random) {
    String at = "2026-12-0" + (1 + random.nextInt(7)) + "T10:00:00Z";
    long user = random.nextInt(1000);
    switch (kind) {
      case GOOD:
        return "{\"event_id\":\"%s\",\"user_id\":%d,\"qty\":%d,\"at\":\"%s\"}"
            .formatted(id, user, random.nextInt(100), at);
      case BAD_JSON:
        return "{\"event_id\":\"%s\",\"user_id\":".formatted(id);
      case WRONG_TYPE:
        return "{\"event_id\":\"%s\",\"user_id\":\"abc\"}".formatted(id);
      case OUT_OF_RANGE:
        return "{\"event_id\":\"%s\",\"user_id\":%d,\"qty\":%d}".formatted(id, user, 1L << 40);
      case OVERSIZED:
        return "{\"event_id\":\"%s\",\"note\":\"%s\"}".formatted(id, "x".repeat(3000));
      case UNKNOWN_FIELD:
        return "{\"event_id\":\"%s\",\"user_id\":%d,\"colour\":\"red\"}".formatted(id, user);
    }
    throw new IllegalArgumentException("No record of kind " + kind);
  }

  private Path writeConfig(int port) throws IOException {
    String yaml =
        String.join(
            "\n",
            "warehouse: " + FloeRunProcess.warehouse(directory),
            "pipelines:",
            "  - name: events",
            "    source:",
            "      type: http",
            "      max-record-bytes: 2KB",
            "    target:",
            "      namespace: raw",
            "      mode: append",
            "      columns: [event_id string, user_id long, qty int, note string, at timestamptz]",
            "      unknown-fields: reject",
            "      partition-by: [day(at)]",
            "    commit-interval: 300ms",
            "sql:",
            "  postgres-port: 0",
            "  http-port: " + port,
            "  users:",
            "    - name: ingest",
            "      password: secret",
            "catalog:",
            "  port: 0",
            "");
    Path config = directory.resolve("floe.yaml");
    Files.writeString(config, yaml, StandardCharsets.UTF_8);
    return config;
  }

  private static Map<String, Integer> eventIds(JdbcCatalog catalog) {
    Map<String, Integer> ids = new HashMap<>();
    if (!catalog.tableExists(EVENTS)) {
      return ids;
    }
    for (Record record : read(catalog, EVENTS)) {
      ids.merge((String) record.getField("event_id"), 1, Integer::sum);
    }
    return ids;
  }

  /** The dead letters by the event id their raw text names, and their error classes. */
  private static Map<String, String> deadLetterClasses(JdbcCatalog catalog) {
    Map<String, String> classes = new HashMap<>();
    if (!catalog.tableExists(DEAD)) {
      return classes;
    }
    for (Record record : read(catalog, DEAD)) {
      String text = (String) record.getField(DeadLetters.RAW_TEXT);
      int start = text.indexOf("\"event_id\":\"") + "\"event_id\":\"".length();
      String id = text.substring(start, text.indexOf('"', start));
      String previous = classes.put(id, (String) record.getField(DeadLetters.ERROR_CLASS));
      assertThat(previous).as("dead letter of %s once", id).isNull();
    }
    return classes;
  }

  private static List<Record> read(JdbcCatalog catalog, TableIdentifier table) {
    List<Record> rows = new ArrayList<>();
    try (CloseableIterable<Record> records =
        IcebergGenerics.read(catalog.loadTable(table)).build()) {
      records.forEach(record -> rows.add(record.copy()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }

  private void awaitHealthy(int port, int run) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (System.nanoTime() < deadline) {
      try {
        HttpResponse<String> response =
            http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/streams"))
                    .header(
                        "Authorization",
                        "Basic "
                            + Base64.getEncoder()
                                .encodeToString("ingest:secret".getBytes(StandardCharsets.UTF_8)))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200 && response.body().contains("events")) {
          return;
        }
      } catch (IOException e) {
        // Not listening yet.
      }
      Thread.sleep(100);
    }
    throw new AssertionError(
        "floe run " + run + " never served its stream:\n" + Files.readString(log(run).toPath()));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private File log(int run) {
    return directory.resolve("floe-run-" + run + ".log").toFile();
  }
}
