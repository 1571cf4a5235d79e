package io.floe.ingest.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.debezium.data.Envelope;
import io.debezium.data.Json;
import io.debezium.data.Uuid;
import io.debezium.data.VariableScaleDecimal;
import io.debezium.time.MicroTime;
import io.debezium.time.MicroTimestamp;
import io.debezium.time.NanoTime;
import io.debezium.time.NanoTimestamp;
import io.debezium.time.ZonedTimestamp;
import io.floe.core.config.RecordFormat;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.TemporalAdjuster;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.json.JsonConverter;
import org.junit.jupiter.api.Test;

/**
 * Change events built with Debezium's own envelope and semantic types and written by Kafka
 * Connect's {@link JsonConverter}, as Debezium Server and Kafka Connect write them.
 */
class DebeziumDecoderTest {
  private static final String TOPIC = "shop.public.items";
  private static final TemporalAdjuster SAME = t -> t;

  private static final LocalDate DAY = LocalDate.of(2026, 12, 7);
  private static final LocalDateTime WHEN = LocalDateTime.of(2026, 12, 7, 10, 15, 30, 123_456_789);
  private static final LocalTime TIME = LocalTime.of(10, 15, 30, 123_456_789);
  private static final OffsetDateTime ZONED =
      OffsetDateTime.of(2026, 12, 7, 10, 15, 30, 123_456_000, ZoneOffset.ofHours(2));
  private static final UUID UID = UUID.fromString("1b4e28ba-2fa1-11d2-883f-0016d3cca427");
  private static final String DOC = "{\"a\":[1,2],\"b\":{\"c\":null}}";

  private static final Schema KEY =
      SchemaBuilder.struct().name(TOPIC + ".Key").field("id", Schema.INT32_SCHEMA).build();
  private static final Schema POINT =
      SchemaBuilder.struct()
          .name("io.debezium.data.geometry.Point")
          .optional()
          .field("x", Schema.FLOAT64_SCHEMA)
          .field("y", Schema.FLOAT64_SCHEMA)
          .build();
  private static final Schema ROW =
      SchemaBuilder.struct()
          .name(TOPIC + ".Value")
          .optional()
          .field("id", Schema.INT32_SCHEMA)
          .field("name", Schema.OPTIONAL_STRING_SCHEMA)
          .field("small", Schema.OPTIONAL_INT16_SCHEMA)
          .field("big", Schema.OPTIONAL_INT64_SCHEMA)
          .field("flag", Schema.OPTIONAL_BOOLEAN_SCHEMA)
          .field("ratio", Schema.OPTIONAL_FLOAT32_SCHEMA)
          .field("score", Schema.OPTIONAL_FLOAT64_SCHEMA)
          .field("blob", Schema.OPTIONAL_BYTES_SCHEMA)
          .field(
              "price", Decimal.builder(2).parameter("connect.decimal.precision", "10").optional())
          .field("vprice", VariableScaleDecimal.optionalSchema())
          .field("day", io.debezium.time.Date.builder().optional().build())
          .field("ts_ms", io.debezium.time.Timestamp.builder().optional().build())
          .field("ts_us", MicroTimestamp.builder().optional().build())
          .field("ts_ns", NanoTimestamp.builder().optional().build())
          .field("zts", ZonedTimestamp.builder().optional().build())
          .field("t_ms", io.debezium.time.Time.builder().optional().build())
          .field("t_us", MicroTime.builder().optional().build())
          .field("t_ns", NanoTime.builder().optional().build())
          .field("c_date", Date.builder().optional().build())
          .field("c_ts", Timestamp.builder().optional().build())
          .field("c_time", Time.builder().optional().build())
          .field("uid", Uuid.builder().optional().build())
          .field("doc", Json.builder().optional().build())
          .field("tags", SchemaBuilder.array(Schema.STRING_SCHEMA).optional().build())
          .field(
              "attrs",
              SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.OPTIONAL_STRING_SCHEMA)
                  .optional()
                  .build())
          .field("point", POINT)
          .build();
  private static final Schema SOURCE =
      SchemaBuilder.struct()
          .name("io.debezium.connector.postgresql.Source")
          .field("connector", Schema.STRING_SCHEMA)
          .field("db", Schema.STRING_SCHEMA)
          .build();
  private static final Envelope ENVELOPE =
      Envelope.defineSchema()
          .withName(TOPIC + ".Envelope")
          .withRecord(ROW)
          .withSource(SOURCE)
          .build();
  private static final Instant TS = Instant.parse("2026-12-07T10:16:00Z");

  private final DebeziumDecoder decoder = new DebeziumDecoder(List.of("id"));

  // Connect's Date, Time and Timestamp take java.util.Date values.
  @SuppressWarnings("JavaUtilDate")
  private static Struct row(int id) {
    Map<String, String> attrs = new LinkedHashMap<>();
    attrs.put("colour", "red");
    attrs.put("size", null);
    return new Struct(ROW)
        .put("id", id)
        .put("name", "Ada")
        .put("small", (short) -3)
        .put("big", 9_000_000_000L)
        .put("flag", true)
        .put("ratio", 1.5f)
        .put("score", 2.25)
        .put("blob", new byte[] {1, 2, 3})
        .put("price", new BigDecimal("12.34"))
        .put(
            "vprice",
            VariableScaleDecimal.fromLogical(
                ROW.field("vprice").schema(), new BigDecimal("-123.4567")))
        .put("day", io.debezium.time.Date.toEpochDay(DAY, SAME))
        .put("ts_ms", io.debezium.time.Timestamp.toEpochMillis(WHEN, SAME))
        .put("ts_us", MicroTimestamp.toEpochMicros(WHEN, SAME))
        .put("ts_ns", NanoTimestamp.toEpochNanos(WHEN, SAME))
        .put("zts", ZonedTimestamp.toIsoString(ZONED, SAME))
        .put("t_ms", io.debezium.time.Time.toMilliOfDay(TIME, false))
        .put("t_us", MicroTime.toMicroOfDay(TIME, false))
        .put("t_ns", NanoTime.toNanoOfDay(TIME, false))
        .put("c_date", java.util.Date.from(DAY.atStartOfDay(ZoneOffset.UTC).toInstant()))
        .put("c_ts", java.util.Date.from(WHEN.toInstant(ZoneOffset.UTC)))
        .put("c_time", new java.util.Date(TIME.toNanoOfDay() / 1_000_000))
        .put("uid", UID.toString())
        .put("doc", DOC)
        .put("tags", List.of("a", "b"))
        .put("attrs", attrs)
        .put("point", new Struct(POINT).put("x", 1.5).put("y", -2.0));
  }

  private static Struct source() {
    return new Struct(SOURCE).put("connector", "postgresql").put("db", "shop");
  }

  @Test
  void createsWithSchemasAreRowsOfJavaValues() {
    Struct event = ENVELOPE.create(row(1), source(), TS);

    DecodedRecord record = decoder.decode(key(1, true), value(event, true));

    assertThat(record.operation()).isEqualTo(DecodedRecord.Operation.UPSERT);
    assertRow(record.fields(), 1);
  }

  private static void assertRow(Map<String, Object> fields, long id) {
    assertThat(new ArrayList<>(fields.keySet()))
        .containsExactlyElementsOf(ROW.fields().stream().map(f -> f.name()).toList());
    assertThat(fields)
        .containsEntry("id", id)
        .containsEntry("name", "Ada")
        .containsEntry("small", -3L)
        .containsEntry("big", 9_000_000_000L)
        .containsEntry("flag", true)
        .containsEntry("ratio", 1.5f)
        .containsEntry("score", 2.25)
        .containsEntry("price", new BigDecimal("12.34"))
        .containsEntry("vprice", new BigDecimal("-123.4567"))
        .containsEntry("day", DAY)
        .containsEntry("ts_ms", WHEN.withNano(123_000_000))
        .containsEntry("ts_us", WHEN.withNano(123_456_000))
        .containsEntry("ts_ns", WHEN)
        .containsEntry("t_ms", TIME.withNano(123_000_000))
        .containsEntry("t_us", TIME.withNano(123_456_000))
        .containsEntry("t_ns", TIME)
        .containsEntry("c_date", DAY)
        .containsEntry("c_ts", WHEN.withNano(123_000_000))
        .containsEntry("c_time", TIME.withNano(123_000_000))
        .containsEntry("uid", UID)
        .containsEntry("tags", List.of("a", "b"));
    assertThat((byte[]) fields.get("blob")).containsExactly(1, 2, 3);
    assertThat(((OffsetDateTime) fields.get("zts")).toInstant()).isEqualTo(ZONED.toInstant());
    assertThat(fields.get("doc")).isInstanceOf(JsonNode.class);
    assertThat(fields.get("doc").toString()).isEqualTo(DOC);
    Map<String, Object> attrs = new LinkedHashMap<>();
    attrs.put("colour", "red");
    attrs.put("size", null);
    assertThat(fields.get("attrs")).isEqualTo(attrs);
    assertThat(fields.get("point")).isEqualTo(Map.of("x", 1.5, "y", -2.0));
  }

  @Test
  void createsWithoutSchemasPassValuesAsJson() {
    Struct event = ENVELOPE.create(row(1), source(), TS);

    DecodedRecord record = decoder.decode(key(1, false), value(event, false));

    assertThat(record.operation()).isEqualTo(DecodedRecord.Operation.UPSERT);
    Map<String, Object> fields = record.fields();
    assertThat(fields)
        .containsEntry("id", 1L)
        .containsEntry("name", "Ada")
        .containsEntry("day", DAY.toEpochDay())
        .containsEntry("ts_ms", WHEN.toInstant(ZoneOffset.UTC).toEpochMilli())
        .containsEntry("uid", UID.toString())
        .containsEntry("doc", DOC)
        .containsEntry(
            "price",
            Base64.getEncoder()
                .encodeToString(new BigDecimal("12.34").unscaledValue().toByteArray()))
        .containsEntry("blob", Base64.getEncoder().encodeToString(new byte[] {1, 2, 3}));
    assertThat(fields.get("tags")).isInstanceOf(JsonNode.class);
  }

  @Test
  void readsAndUpdatesAreUpsertsOfAfter() {
    for (boolean schemas : new boolean[] {true, false}) {
      DecodedRecord read =
          decoder.decode(key(2, schemas), value(ENVELOPE.read(row(2), source(), TS), schemas));
      assertThat(read.operation()).isEqualTo(DecodedRecord.Operation.UPSERT);
      assertThat(read.fields()).containsEntry("id", 2L);

      Struct after = row(2).put("name", "Grace");
      DecodedRecord update =
          decoder.decode(
              key(2, schemas), value(ENVELOPE.update(row(2), after, source(), TS), schemas));
      assertThat(update.operation()).isEqualTo(DecodedRecord.Operation.UPSERT);
      assertThat(update.fields()).containsEntry("id", 2L).containsEntry("name", "Grace");
    }
    assertRow(
        decoder
            .decode(key(2, true), value(ENVELOPE.update(row(2), row(2), source(), TS), true))
            .fields(),
        2);
  }

  @Test
  void deletesDeleteBeforesFields() {
    DecodedRecord record =
        decoder.decode(key(3, true), value(ENVELOPE.delete(row(3), source(), TS), true));

    assertThat(record.operation()).isEqualTo(DecodedRecord.Operation.DELETE);
    assertRow(record.fields(), 3);

    DecodedRecord plain =
        decoder.decode(key(3, false), value(ENVELOPE.delete(row(3), source(), TS), false));
    assertThat(plain.operation()).isEqualTo(DecodedRecord.Operation.DELETE);
    assertThat(plain.fields()).containsEntry("id", 3L).containsEntry("name", "Ada");
  }

  @Test
  void deletesWithoutBeforeDeleteTheRecordsKey() {
    for (boolean schemas : new boolean[] {true, false}) {
      DecodedRecord record =
          decoder.decode(key(4, schemas), value(ENVELOPE.delete(null, source(), TS), schemas));

      assertThat(record).isEqualTo(DecodedRecord.delete(Map.of("id", 4L)));
    }
  }

  @Test
  void tombstonesDeleteTheirKey() {
    assertThat(decoder.decode(key(5, true), null))
        .isEqualTo(DecodedRecord.delete(Map.of("id", 5L)));
    assertThat(decoder.decode(key(5, false), null))
        .isEqualTo(DecodedRecord.delete(Map.of("id", 5L)));
    assertThat(decoder.decode("5".getBytes(StandardCharsets.UTF_8), null))
        .isEqualTo(DecodedRecord.delete(Map.of("id", 5L)));
    assertThat(decoder.decode("k-5".getBytes(StandardCharsets.UTF_8), null))
        .isEqualTo(DecodedRecord.delete(Map.of("id", "k-5")));
    // A key that is not a struct: a schema/payload envelope of one value.
    assertThat(
            decoder.decode(
                bytes(json(true, true).fromConnectData(TOPIC, Schema.INT32_SCHEMA, 5)), null))
        .isEqualTo(DecodedRecord.delete(Map.of("id", 5L)));
    assertRejected(
        () -> new DebeziumDecoder(List.of()).decode(key(5, true), null),
        RejectReason.MISSING_KEY,
        "append table");
    assertRejected(
        () -> decoder.decode(null, null), RejectReason.MISSING_KEY, "neither a value nor a key");
  }

  @Test
  void truncatesAndMessagesAreNotApplied() {
    assertRejected(
        () -> decoder.decode(null, value(ENVELOPE.truncate(source(), TS), true)),
        RejectReason.BAD_CHANGE_EVENT,
        "truncate (op t)");
    assertRejected(
        () -> decoder.decode(null, value(ENVELOPE.truncate(source(), TS), false)),
        RejectReason.BAD_CHANGE_EVENT,
        "truncate (op t)");
    assertRejected(
        () ->
            decoder.decode(
                null,
                utf8(
                    "{\"op\":\"m\",\"ts_ms\":1,\"message\":{\"prefix\":\"p\",\"content\":\"eA==\"}}")),
        RejectReason.BAD_CHANGE_EVENT,
        "logical decoding message (op m)");
  }

  @Test
  void rejectsMalformedEvents() {
    assertRejected(
        () -> decoder.decode(null, utf8("{\"op\":")),
        RejectReason.BAD_CHANGE_EVENT,
        "not valid JSON");
    assertRejected(
        () -> decoder.decode(null, utf8("[1]")), RejectReason.BAD_CHANGE_EVENT, "not array");
    assertRejected(
        () -> decoder.decode(null, utf8("{\"after\":{\"id\":1}}")),
        RejectReason.BAD_CHANGE_EVENT,
        "no op field");
    assertRejected(
        () -> decoder.decode(null, utf8("{\"schema\":{}}")),
        RejectReason.BAD_CHANGE_EVENT,
        "no op field");
    assertRejected(
        () -> decoder.decode(null, utf8("{\"schema\":{\"type\":\"struct\"},\"payload\":null}")),
        RejectReason.BAD_CHANGE_EVENT,
        "payload is null");
    assertRejected(
        () -> decoder.decode(null, utf8("{\"schema\":{\"type\":\"struct\"},\"payload\":7}")),
        RejectReason.BAD_CHANGE_EVENT,
        "payload is number");
    assertRejected(
        () -> decoder.decode(null, utf8("{\"op\":\"c\"}")),
        RejectReason.BAD_CHANGE_EVENT,
        "has no after");
    assertRejected(
        () -> decoder.decode(null, utf8("{\"op\":\"u\",\"after\":null}")),
        RejectReason.BAD_CHANGE_EVENT,
        "an after that is null");
    assertRejected(
        () -> decoder.decode(null, utf8("{\"op\":\"x\",\"after\":{}}")),
        RejectReason.BAD_CHANGE_EVENT,
        "unknown op 'x'");
    assertRejected(
        () -> decoder.decode(null, utf8("{\"op\":1}")),
        RejectReason.BAD_CHANGE_EVENT,
        "its op is number");
    assertRejected(
        () -> decoder.decode(null, utf8("{\"op\":\"d\",\"before\":[1]}")),
        RejectReason.BAD_CHANGE_EVENT,
        "before is array");
  }

  @Test
  void rejectsValuesThatDoNotMatchTheirSchema() {
    String event =
        new String(value(ENVELOPE.create(row(1), source(), TS), true), StandardCharsets.UTF_8);
    String dayValue = "\"day\":" + DAY.toEpochDay();
    assertThat(event).contains(dayValue);

    assertRejected(
        () -> decoder.decode(null, utf8(event.replace(dayValue, "\"day\":\"2026-12-07\""))),
        RejectReason.BAD_CHANGE_EVENT,
        "Field day is a io.debezium.time.Date in the event's schema but its value is string");
    assertRejected(
        () -> decoder.decode(null, utf8(event.replace("\"uid\":\"" + UID, "\"uid\":\"nope"))),
        RejectReason.BAD_CHANGE_EVENT,
        "Field uid has the value");
  }

  @Test
  void floatsThatAreNotNumbersDecode() {
    Struct row = row(1).put("score", Double.NaN).put("ratio", Float.POSITIVE_INFINITY);

    Map<String, Object> fields =
        decoder.decode(null, value(ENVELOPE.create(row, source(), TS), true)).fields();

    assertThat(fields)
        .containsEntry("score", Double.NaN)
        .containsEntry("ratio", Float.POSITIVE_INFINITY);
  }

  @Test
  void decodedValuesFillTheirColumns() {
    Map<String, Object> fields =
        decoder.decode(null, value(ENVELOPE.create(row(1), source(), TS), true)).fields();
    org.apache.iceberg.Schema table =
        new org.apache.iceberg.Schema(
            Types.NestedField.required(1, "id", Types.IntegerType.get()),
            Types.NestedField.optional(2, "price", Types.DecimalType.of(10, 2)),
            Types.NestedField.optional(3, "vprice", Types.DecimalType.of(12, 4)),
            Types.NestedField.optional(4, "ts_us", Types.TimestampType.withoutZone()),
            Types.NestedField.optional(5, "zts", Types.TimestampType.withZone()),
            Types.NestedField.optional(6, "t_us", Types.TimeType.get()),
            Types.NestedField.optional(7, "uid", Types.UUIDType.get()),
            Types.NestedField.optional(8, "doc", Types.StringType.get(), RecordFields.JSON_DOC),
            Types.NestedField.optional(9, "blob", Types.BinaryType.get()),
            Types.NestedField.optional(10, "day", Types.DateType.get()),
            Types.NestedField.optional(11, "point", Types.StringType.get(), RecordFields.JSON_DOC));

    Record record = RecordFields.toRecord(fields, table);

    assertThat(record.getField("id")).isEqualTo(1);
    assertThat(record.getField("price")).isEqualTo(new BigDecimal("12.34"));
    assertThat(record.getField("vprice")).isEqualTo(new BigDecimal("-123.4567"));
    assertThat(record.getField("ts_us")).isEqualTo(WHEN.withNano(123_456_000));
    assertThat(record.getField("zts")).isEqualTo(ZONED.withOffsetSameInstant(ZoneOffset.UTC));
    assertThat(record.getField("t_us")).isEqualTo(TIME.withNano(123_456_000));
    assertThat(record.getField("uid")).isEqualTo(UID);
    assertThat(record.getField("doc")).isEqualTo(DOC);
    assertThat(record.getField("day")).isEqualTo(DAY);
    assertThat(record.getField("point")).isEqualTo("{\"x\":1.5,\"y\":-2.0}");
  }

  @Test
  void theFactoryGivesDebeziumDecoders() {
    assertThat(RecordDecoders.of(RecordFormat.DEBEZIUM, "", List.of("id")))
        .isInstanceOf(DebeziumDecoder.class);
  }

  private static void assertRejected(Runnable decode, RejectReason reason, String message) {
    assertThatThrownBy(decode::run)
        .isInstanceOfSatisfying(
            RecordRejectedException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(reason);
              assertThat(e.getMessage()).contains(message);
            });
  }

  private static byte[] key(int id, boolean schemas) {
    return bytes(json(schemas, true).fromConnectData(TOPIC, KEY, new Struct(KEY).put("id", id)));
  }

  private static byte[] value(Struct event, boolean schemas) {
    return bytes(json(schemas, false).fromConnectData(TOPIC, event.schema(), event));
  }

  private static byte[] bytes(byte[] bytes) {
    assertThat(bytes).isNotNull();
    return bytes;
  }

  private static JsonConverter json(boolean schemas, boolean isKey) {
    JsonConverter converter = new JsonConverter();
    converter.configure(Map.of("schemas.enable", String.valueOf(schemas)), isKey);
    return converter;
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
