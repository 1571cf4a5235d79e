package io.floe.ingest.stream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;
import io.floe.demo.EmbeddedPostgres;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Change events that Debezium's PostgreSQL connector captured from a real PostgreSQL and that
 * Debezium's engine wrote as JSON (Kafka Connect's JsonConverter), with and without schemas,
 * decoded by {@link DebeziumDecoder}.
 */
class DebeziumCaptureIT {
  private static final String DATABASE = "capture";
  private static EmbeddedPostgres postgres;

  @BeforeAll
  static void start() throws Exception {
    postgres = EmbeddedPostgres.start();
    postgres.createDatabase(DATABASE);
  }

  @AfterAll
  static void stop() {
    if (postgres != null) {
      postgres.close();
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void decodesCapturedEvents(boolean schemas) throws Exception {
    String table = schemas ? "items_schemas" : "items_plain";
    sql(
        "CREATE TABLE "
            + table
            + " (id int PRIMARY KEY, name text, price numeric(10,2), amount numeric, day date,"
            + " at timestamp(6), zat timestamptz, t time(6), u uuid, doc jsonb, b bytea,"
            + " f float8, r real, big bigint, flag boolean, tags text[])",
        "INSERT INTO "
            + table
            + " VALUES (1, 'Ada', 12.34, 1.2345, '2026-12-07', '2026-12-07 10:15:30.123456',"
            + " '2026-12-07 12:15:30.5+02', '10:15:30.123456', '1b4e28ba-2fa1-11d2-883f-0016d3cca427',"
            + " '{\"a\": [1, 2]}', '\\x010203', 2.5, 1.5, 9000000000, true, '{x,y}')");
    BlockingQueue<ChangeEvent<String, String>> events = new LinkedBlockingQueue<>();
    ExecutorService executor = Executors.newSingleThreadExecutor();
    try (DebeziumEngine<ChangeEvent<String, String>> engine =
        DebeziumEngine.create(Json.class)
            .using(properties(table, schemas))
            .notifying(events::add)
            .build()) {
      executor.execute(engine);
      List<ChangeEvent<String, String>> captured = new ArrayList<>();
      captured.add(next(events)); // the snapshot's read of row 1
      sql(
          "INSERT INTO " + table + " (id, name) VALUES (2, 'Grace')",
          "UPDATE " + table + " SET name = 'Hopper' WHERE id = 2",
          "DELETE FROM " + table + " WHERE id = 1",
          "TRUNCATE " + table);
      for (int i = 0; i < 5; i++) {
        captured.add(next(events)); // create, update, delete, its tombstone, truncate
      }
      assertEvents(captured, schemas);
    } finally {
      executor.shutdown();
      assertThat(executor.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
    }
  }

  private static void assertEvents(List<ChangeEvent<String, String>> events, boolean schemas) {
    DebeziumDecoder decoder = new DebeziumDecoder(List.of("id"));
    List<DecodedRecord> decoded = new ArrayList<>();
    List<RecordRejectedException> rejected = new ArrayList<>();
    for (ChangeEvent<String, String> event : events) {
      try {
        decoded.add(decoder.decode(bytes(event.key()), bytes(event.value())));
      } catch (RecordRejectedException e) {
        rejected.add(e);
      }
    }
    assertThat(decoded).hasSize(5);
    DecodedRecord read = decoded.get(0);
    assertThat(read.operation()).isEqualTo(DecodedRecord.Operation.UPSERT);
    Map<String, Object> row = read.fields();
    assertThat(row).containsEntry("id", 1L).containsEntry("name", "Ada");
    if (schemas) {
      assertThat(row)
          .containsEntry("price", new BigDecimal("12.34"))
          .containsEntry("amount", new BigDecimal("1.2345"))
          .containsEntry("day", LocalDate.of(2026, 12, 7))
          .containsEntry("at", LocalDateTime.of(2026, 12, 7, 10, 15, 30, 123_456_000))
          .containsEntry("t", LocalTime.of(10, 15, 30, 123_456_000))
          .containsEntry("u", UUID.fromString("1b4e28ba-2fa1-11d2-883f-0016d3cca427"))
          .containsEntry("f", 2.5)
          .containsEntry("r", 1.5f)
          .containsEntry("big", 9_000_000_000L)
          .containsEntry("flag", true)
          .containsEntry("tags", List.of("x", "y"));
      assertThat(((OffsetDateTime) row.get("zat")).toInstant())
          .isEqualTo(
              OffsetDateTime.of(2026, 12, 7, 10, 15, 30, 500_000_000, ZoneOffset.UTC).toInstant());
      assertThat(row.get("doc")).isInstanceOf(JsonNode.class);
      assertThat(row.get("doc").toString()).isEqualTo("{\"a\":[1,2]}");
      assertThat((byte[]) row.get("b")).containsExactly(1, 2, 3);
    } else {
      // Without schemas the values are as Debezium wrote them: numbers and text.
      assertThat(row)
          .containsEntry("day", LocalDate.of(2026, 12, 7).toEpochDay())
          .containsEntry("u", "1b4e28ba-2fa1-11d2-883f-0016d3cca427")
          .containsEntry("doc", "{\"a\": [1, 2]}");
    }
    assertThat(decoded.get(1).operation()).isEqualTo(DecodedRecord.Operation.UPSERT);
    assertThat(decoded.get(1).fields()).containsEntry("id", 2L).containsEntry("name", "Grace");
    assertThat(decoded.get(2).operation()).isEqualTo(DecodedRecord.Operation.UPSERT);
    assertThat(decoded.get(2).fields()).containsEntry("id", 2L).containsEntry("name", "Hopper");
    // The delete (REPLICA IDENTITY DEFAULT: before holds the key) and its tombstone.
    assertThat(decoded.get(3).operation()).isEqualTo(DecodedRecord.Operation.DELETE);
    assertThat(decoded.get(3).fields()).containsEntry("id", 1L);
    assertThat(decoded.get(4)).isEqualTo(DecodedRecord.delete(Map.of("id", 1L)));
    assertThat(events.get(4).value()).isNull();
    // The truncate goes to the dead-letter table.
    assertThat(rejected).hasSize(1);
    assertThat(rejected.get(0).reason()).isEqualTo(RejectReason.BAD_CHANGE_EVENT);
    assertThat(rejected.get(0).getMessage()).contains("truncate (op t)");
  }

  private static Properties properties(String table, boolean schemas) {
    Properties properties = new Properties();
    properties.setProperty("name", "capture-" + table);
    properties.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
    properties.setProperty(
        "offset.storage", "org.apache.kafka.connect.storage.MemoryOffsetBackingStore");
    properties.setProperty("offset.flush.interval.ms", "0");
    properties.setProperty("database.hostname", "127.0.0.1");
    properties.setProperty("database.port", String.valueOf(postgres.port()));
    properties.setProperty("database.dbname", DATABASE);
    properties.setProperty("database.user", postgres.user());
    properties.setProperty("database.password", postgres.password());
    properties.setProperty("topic.prefix", "capture");
    properties.setProperty("plugin.name", "pgoutput");
    properties.setProperty("slot.name", "floe_" + table);
    properties.setProperty("publication.name", "floe_" + table);
    properties.setProperty("publication.autocreate.mode", "filtered");
    properties.setProperty("table.include.list", "public." + table);
    properties.setProperty("snapshot.mode", "initial");
    properties.setProperty("tombstones.on.delete", "true");
    properties.setProperty("skipped.operations", "none");
    properties.setProperty("poll.interval.ms", "10");
    properties.setProperty("converter.schemas.enable", String.valueOf(schemas));
    return properties;
  }

  private static ChangeEvent<String, String> next(BlockingQueue<ChangeEvent<String, String>> events)
      throws InterruptedException {
    ChangeEvent<String, String> event = events.poll(60, TimeUnit.SECONDS);
    assertThat(event).as("a change event within 60s").isNotNull();
    return event;
  }

  private static byte[] bytes(String text) {
    return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
  }

  private static void sql(String... statements) throws Exception {
    try (Connection connection = postgres.connect(DATABASE);
        Statement statement = connection.createStatement()) {
      for (String sql : statements) {
        statement.execute(sql);
      }
    }
  }
}
