package io.floe.ingest.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;

class RecordFieldsTest {
  private static final OffsetDateTime UTC_TIME =
      OffsetDateTime.of(2026, 12, 7, 10, 15, 30, 0, ZoneOffset.UTC);

  /** The value a column of {@code type} gets for {@code value}. */
  private static Object convert(Type type, Object value) {
    return convert(Types.NestedField.optional(1, "f", type), value);
  }

  private static Object convert(Types.NestedField column, Object value) {
    Map<String, Object> fields = new HashMap<>();
    fields.put(column.name(), value);
    Record row = RecordFields.toRecord(fields, new Schema(column));
    return row.getField(column.name());
  }

  private static Types.NestedField json() {
    return Types.NestedField.optional(1, "f", Types.StringType.get(), RecordFields.JSON_DOC);
  }

  private static void assertRejected(
      Type type, Object value, RejectReason reason, String... message) {
    assertThatThrownBy(() -> convert(type, value))
        .isInstanceOfSatisfying(
            RecordRejectedException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(reason);
              for (String part : message) {
                assertThat(e.getMessage()).contains(part);
              }
            });
  }

  private static JsonNode parse(String json) {
    try {
      return JsonDecoder.MAPPER.readTree(json);
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void booleans() {
    assertThat(convert(Types.BooleanType.get(), true)).isEqualTo(true);
    assertRejected(Types.BooleanType.get(), "true", RejectReason.TYPE_MISMATCH, "has text");
    assertRejected(Types.BooleanType.get(), 1L, RejectReason.TYPE_MISMATCH, "a number");
  }

  @Test
  void ints() {
    Type type = Types.IntegerType.get();
    assertThat(convert(type, 5L)).isEqualTo(5);
    assertThat(convert(type, 7)).isEqualTo(7);
    assertThat(convert(type, (short) 3)).isEqualTo(3);
    assertThat(convert(type, new BigDecimal("5.0"))).isEqualTo(5);
    assertThat(convert(type, 6.0)).isEqualTo(6);
    assertThat(convert(type, (long) Integer.MAX_VALUE)).isEqualTo(Integer.MAX_VALUE);
    assertThat(convert(type, (long) Integer.MIN_VALUE)).isEqualTo(Integer.MIN_VALUE);
    assertRejected(type, Integer.MAX_VALUE + 1L, RejectReason.VALUE_OUT_OF_RANGE, "an int holds");
    assertRejected(type, Integer.MIN_VALUE - 1L, RejectReason.VALUE_OUT_OF_RANGE, "an int holds");
    assertRejected(type, new BigDecimal("1.5"), RejectReason.TYPE_MISMATCH, "fractional");
    assertRejected(type, "5", RejectReason.TYPE_MISMATCH, "has text", "type int");
  }

  @Test
  void longs() {
    Type type = Types.LongType.get();
    assertThat(convert(type, Long.MAX_VALUE)).isEqualTo(Long.MAX_VALUE);
    assertThat(convert(type, BigInteger.valueOf(Long.MIN_VALUE))).isEqualTo(Long.MIN_VALUE);
    assertThat(convert(type, new BigDecimal("1E+3"))).isEqualTo(1000L);
    assertRejected(
        type,
        BigInteger.valueOf(Long.MAX_VALUE).add(BigInteger.ONE),
        RejectReason.VALUE_OUT_OF_RANGE,
        "a long holds");
    assertRejected(
        type, new BigDecimal("2.5"), RejectReason.TYPE_MISMATCH, "fractional number 2.5");
    assertRejected(type, 2.5, RejectReason.TYPE_MISMATCH, "fractional");
    assertRejected(type, 2.5f, RejectReason.TYPE_MISMATCH, "fractional");
    assertRejected(type, "12", RejectReason.TYPE_MISMATCH, "has text");
    assertRejected(type, Double.NaN, RejectReason.VALUE_OUT_OF_RANGE, "NaN");
    assertRejected(type, true, RejectReason.TYPE_MISMATCH, "a boolean");
  }

  @Test
  void floatsAndDoubles() {
    assertThat(convert(Types.FloatType.get(), 1.5)).isEqualTo(1.5f);
    assertThat(convert(Types.FloatType.get(), 2L)).isEqualTo(2.0f);
    assertThat(convert(Types.FloatType.get(), Double.NaN)).isEqualTo(Float.NaN);
    assertThat(convert(Types.FloatType.get(), Double.POSITIVE_INFINITY))
        .isEqualTo(Float.POSITIVE_INFINITY);
    assertRejected(Types.FloatType.get(), 1e39, RejectReason.VALUE_OUT_OF_RANGE, "a float holds");
    assertThat(convert(Types.DoubleType.get(), new BigDecimal("0.1"))).isEqualTo(0.1);
    assertThat(convert(Types.DoubleType.get(), 1.5f)).isEqualTo(1.5);
    assertThat(convert(Types.DoubleType.get(), Double.NEGATIVE_INFINITY))
        .isEqualTo(Double.NEGATIVE_INFINITY);
    assertRejected(
        Types.DoubleType.get(),
        new BigDecimal("1e400"),
        RejectReason.VALUE_OUT_OF_RANGE,
        "a double");
    assertRejected(Types.DoubleType.get(), "1.5", RejectReason.TYPE_MISMATCH, "has text");
  }

  @Test
  void decimals() {
    Type type = Types.DecimalType.of(5, 2);
    assertThat(convert(type, new BigDecimal("123.45"))).isEqualTo(new BigDecimal("123.45"));
    assertThat(convert(type, new BigDecimal("1.5"))).isEqualTo(new BigDecimal("1.50"));
    assertThat(convert(type, new BigDecimal("1.500"))).isEqualTo(new BigDecimal("1.50"));
    assertThat(convert(type, 12L)).isEqualTo(new BigDecimal("12.00"));
    assertThat(convert(type, 0.1)).isEqualTo(new BigDecimal("0.10"));
    assertThat(convert(type, 1.1f)).isEqualTo(new BigDecimal("1.10"));
    assertThat(convert(type, BigInteger.TEN)).isEqualTo(new BigDecimal("10.00"));
    assertRejected(
        type, new BigDecimal("1.234"), RejectReason.VALUE_OUT_OF_RANGE, "more than 2 decimals");
    assertRejected(
        type, new BigDecimal("1234.5"), RejectReason.VALUE_OUT_OF_RANGE, "more than 5 digits");
    assertRejected(type, 1000L, RejectReason.VALUE_OUT_OF_RANGE, "more than 5 digits");
    assertRejected(type, Double.NaN, RejectReason.VALUE_OUT_OF_RANGE, "NaN");
    assertRejected(type, "1.5", RejectReason.TYPE_MISMATCH, "has text");
  }

  @Test
  void strings() {
    assertThat(convert(Types.StringType.get(), "x")).isEqualTo("x");
    assertRejected(Types.StringType.get(), 5L, RejectReason.TYPE_MISMATCH, "a number");
    assertRejected(Types.StringType.get(), true, RejectReason.TYPE_MISMATCH, "a boolean");
    // Objects and lists in a plain string column: their JSON text.
    assertThat(convert(Types.StringType.get(), parse("{\"a\": [1, 2]}")))
        .isEqualTo("{\"a\":[1,2]}");
    assertThat(convert(Types.StringType.get(), List.of(1L, "x"))).isEqualTo("[1,\"x\"]");
    assertRejected(Types.StringType.get(), parse("5"), RejectReason.TYPE_MISMATCH, "type string");
  }

  @Test
  void jsonColumns() {
    assertThat(convert(json(), "x")).isEqualTo("\"x\"");
    assertThat(convert(json(), 5L)).isEqualTo("5");
    assertThat(convert(json(), new BigDecimal("1.50"))).isEqualTo("1.50");
    assertThat(convert(json(), true)).isEqualTo("true");
    assertThat(convert(json(), parse("{\"a\":{\"b\":null},\"c\":[1.5,\"x\"]}")))
        .isEqualTo("{\"a\":{\"b\":null},\"c\":[1.5,\"x\"]}");
    assertThat(convert(json(), parse("7"))).isEqualTo("7");
    Map<String, Object> nested = new LinkedHashMap<>();
    nested.put("city", "Oslo");
    nested.put("day", LocalDate.of(2026, 12, 7));
    nested.put("at", Instant.parse("2026-12-07T10:15:30Z"));
    nested.put("local", LocalDateTime.of(2026, 12, 7, 10, 15, 30));
    nested.put("time", LocalTime.of(10, 15));
    nested.put("zoned", UTC_TIME.withOffsetSameInstant(ZoneOffset.ofHours(1)));
    nested.put("uid", UUID.fromString("1b4e28ba-2fa1-11d2-883f-0016d3cca427"));
    nested.put("bytes", new byte[] {1, 2});
    nested.put("none", null);
    assertThat(convert(json(), List.of(nested)))
        .isEqualTo(
            "[{\"city\":\"Oslo\",\"day\":\"2026-12-07\",\"at\":\"2026-12-07T10:15:30Z\","
                + "\"local\":\"2026-12-07T10:15:30\",\"time\":\"10:15\","
                + "\"zoned\":\"2026-12-07T11:15:30+01:00\","
                + "\"uid\":\"1b4e28ba-2fa1-11d2-883f-0016d3cca427\",\"bytes\":\"AQI=\",\"none\":null}]");
    assertThat(RecordFields.isJson(json())).isTrue();
    assertThat(RecordFields.isJson(Types.NestedField.optional(1, "f", Types.StringType.get())))
        .isFalse();
  }

  @Test
  void dates() {
    Type type = Types.DateType.get();
    assertThat(convert(type, "2026-12-07")).isEqualTo(LocalDate.of(2026, 12, 7));
    assertThat(convert(type, LocalDate.of(1, 1, 1))).isEqualTo(LocalDate.of(1, 1, 1));
    assertRejected(type, "2026-02-30", RejectReason.VALUE_OUT_OF_RANGE, "not ISO-8601 text");
    assertRejected(type, "07/12/2026", RejectReason.VALUE_OUT_OF_RANGE, "not ISO-8601 text");
    assertRejected(type, LocalDate.MAX, RejectReason.VALUE_OUT_OF_RANGE, "dates go from");
    assertRejected(type, 20000L, RejectReason.TYPE_MISMATCH, "a number");
  }

  @Test
  void times() {
    Type type = Types.TimeType.get();
    assertThat(convert(type, "10:15:30")).isEqualTo(LocalTime.of(10, 15, 30));
    assertThat(convert(type, "10:15:30.123456")).isEqualTo(LocalTime.of(10, 15, 30, 123_456_000));
    assertThat(convert(type, LocalTime.NOON)).isEqualTo(LocalTime.NOON);
    assertRejected(type, "25:00", RejectReason.VALUE_OUT_OF_RANGE, "not ISO-8601 text");
    assertRejected(type, 1000L, RejectReason.TYPE_MISMATCH, "a number");
  }

  @Test
  void timestampsWithTimeZone() {
    Type type = Types.TimestampType.withZone();
    assertThat(convert(type, "2026-12-07T10:15:30Z")).isEqualTo(UTC_TIME);
    assertThat(convert(type, "2026-12-07T12:15:30+02:00")).isEqualTo(UTC_TIME);
    assertThat(convert(type, "2026-12-07T11:15:30+01:00[Europe/Oslo]")).isEqualTo(UTC_TIME);
    assertThat(convert(type, UTC_TIME.toInstant().toEpochMilli())).isEqualTo(UTC_TIME);
    assertThat(convert(type, new BigDecimal(UTC_TIME.toInstant().toEpochMilli())))
        .isEqualTo(UTC_TIME);
    assertThat(convert(type, UTC_TIME.toInstant())).isEqualTo(UTC_TIME);
    assertThat(convert(type, UTC_TIME.withOffsetSameInstant(ZoneOffset.ofHours(-5))))
        .isEqualTo(UTC_TIME);
    assertRejected(type, "2026-12-07T10:15:30", RejectReason.TYPE_MISMATCH, "offset such as Z");
    assertRejected(
        type,
        LocalDateTime.of(2026, 12, 7, 10, 15),
        RejectReason.TYPE_MISMATCH,
        "offset such as Z");
    assertRejected(type, "yesterday", RejectReason.VALUE_OUT_OF_RANGE, "not ISO-8601 text");
    assertRejected(type, new BigDecimal("1.5"), RejectReason.TYPE_MISMATCH, "fractional");
    assertRejected(type, Long.MAX_VALUE, RejectReason.VALUE_OUT_OF_RANGE, "whole milliseconds");
    assertRejected(type, Long.MAX_VALUE / 2, RejectReason.VALUE_OUT_OF_RANGE, "timestamps go from");
    assertRejected(
        type, "+300000-01-01T00:00:00Z", RejectReason.VALUE_OUT_OF_RANGE, "timestamps go from");
    assertRejected(type, true, RejectReason.TYPE_MISMATCH, "ISO-8601 text or milliseconds");
  }

  @Test
  void theCommonTimestampShapeReadsAsTheIsoFormatterReadsItAndLeavesTheRestToIt() {
    List<String> texts =
        List.of(
            "2026-12-07T10:15:30Z",
            "2026-12-07T10:15:30.1Z",
            "2026-12-07T10:15:30.123Z",
            "2026-12-07T10:15:30.123456789Z",
            "2026-12-07T10:15:30.1234567891Z",
            "2026-12-07T10:15:30.Z",
            "2026-12-07T10:15:30",
            "2026-12-07T10:15:30.5",
            "2026-12-07T12:15:30+02:00",
            "2026-12-07T12:15:30-02:30",
            "2026-12-07T12:15:30.25+18:00",
            "2026-12-07T12:15:30+19:00",
            "2026-12-07T12:15:30+02:60",
            "2026-12-07T12:15:30-00:00",
            "2026-12-07T12:15:30+0200",
            "2026-12-07T12:15:30+02:00:30",
            "2026-12-07T12:15:30+02",
            "2026-12-07T11:15:30+01:00[Europe/Oslo]",
            "2026-12-07t10:15:30Z",
            "2026-12-07T10:15:30z",
            "2026-12-07T10:15Z",
            "2026-12-07T24:00:00Z",
            "2026-12-07T23:59:60Z",
            "2026-02-29T10:15:30Z",
            "2024-02-29T10:15:30Z",
            "2026-13-01T10:15:30Z",
            "0000-01-01T00:00:00Z",
            "+300000-01-01T00:00:00Z",
            "2026-12-07 10:15:30Z",
            "2026-12-07T10:15:30ZZ",
            "2026-12-07T10:15:30Z ",
            "yesterday");
    for (String text : texts) {
      Object expected;
      try {
        expected =
            java.time.format.DateTimeFormatter.ISO_DATE_TIME.parseBest(
                text, OffsetDateTime::from, LocalDateTime::from);
      } catch (java.time.format.DateTimeParseException e) {
        expected = null;
      }
      java.time.temporal.TemporalAccessor fast = RecordFields.commonTimestamp(text);
      if (fast != null) {
        assertThat(fast).as(text).isEqualTo(expected);
      }
    }
    assertThat(RecordFields.commonTimestamp("2026-12-07T10:15:30.123Z"))
        .isEqualTo(UTC_TIME.withNano(123_000_000));
    assertThat(RecordFields.commonTimestamp("2026-12-07T12:15:30-02:30"))
        .isEqualTo(
            OffsetDateTime.of(2026, 12, 7, 12, 15, 30, 0, ZoneOffset.ofHoursMinutes(-2, -30)));
    assertThat(RecordFields.commonTimestamp("2026-12-07T10:15:30"))
        .isEqualTo(UTC_TIME.toLocalDateTime());
    for (String other :
        List.of(
            "2026-12-07T11:15:30+01:00[Europe/Oslo]",
            "2026-12-07T10:15Z",
            "2026-12-07t10:15:30Z",
            "2026-02-29T10:15:30Z",
            "2026-12-07T12:15:30+19:00",
            "2026-12-07T10:15:30.1234567891Z")) {
      assertThat(RecordFields.commonTimestamp(other)).as(other).isNull();
    }
  }

  @Test
  void timestampsWithoutTimeZone() {
    Type type = Types.TimestampType.withoutZone();
    LocalDateTime local = UTC_TIME.toLocalDateTime();
    assertThat(convert(type, "2026-12-07T10:15:30")).isEqualTo(local);
    assertThat(convert(type, local)).isEqualTo(local);
    // With an offset: its UTC time, as for instants.
    assertThat(convert(type, "2026-12-07T12:15:30+02:00")).isEqualTo(local);
    assertThat(convert(type, UTC_TIME.toInstant())).isEqualTo(local);
    assertThat(convert(type, UTC_TIME.toInstant().toEpochMilli())).isEqualTo(local);
    assertRejected(type, "2026-12-07", RejectReason.VALUE_OUT_OF_RANGE, "not ISO-8601 text");
    assertRejected(type, LocalDateTime.MAX, RejectReason.VALUE_OUT_OF_RANGE, "timestamps go from");
  }

  @Test
  void uuids() {
    UUID uuid = UUID.fromString("1b4e28ba-2fa1-11d2-883f-0016d3cca427");
    assertThat(convert(Types.UUIDType.get(), uuid.toString())).isEqualTo(uuid);
    assertThat(convert(Types.UUIDType.get(), uuid)).isEqualTo(uuid);
    assertRejected(
        Types.UUIDType.get(), "not-a-uuid", RejectReason.VALUE_OUT_OF_RANGE, "not a UUID");
    assertRejected(Types.UUIDType.get(), 5L, RejectReason.TYPE_MISMATCH, "a number");
  }

  @Test
  void binary() {
    Type type = Types.BinaryType.get();
    ByteBuffer bytes = ByteBuffer.wrap(new byte[] {1, 2, 3});
    assertThat(convert(type, new byte[] {1, 2, 3})).isEqualTo(bytes);
    assertThat(convert(type, bytes.duplicate())).isEqualTo(bytes);
    assertThat(convert(type, Base64.getEncoder().encodeToString(new byte[] {1, 2, 3})))
        .isEqualTo(bytes);
    assertRejected(type, "not base64!", RejectReason.VALUE_OUT_OF_RANGE, "base64");
    assertRejected(type, 5L, RejectReason.TYPE_MISMATCH, "a number");
  }

  @Test
  void nestedColumnTypesAreRefused() {
    Type type = Types.ListType.ofOptional(2, Types.LongType.get());
    assertRejected(type, List.of(1L), RejectReason.TYPE_MISMATCH, "cannot fill yet");
  }

  @Test
  void rowsTakeFieldsByNameAndLeaveTheRest() {
    Schema schema =
        new Schema(
            Types.NestedField.required(1, "id", Types.LongType.get()),
            Types.NestedField.optional(2, "name", Types.StringType.get()),
            Types.NestedField.optional(3, "missing", Types.StringType.get()));
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("extra", 1L);
    fields.put("id", 7L);
    fields.put("name", null);
    fields.put("other", "x");

    Record row = RecordFields.toRecord(fields, schema);

    assertThat(row.getField("id")).isEqualTo(7L);
    assertThat(row.getField("name")).isNull();
    assertThat(row.getField("missing")).isNull();
    assertThat(RecordFields.unknownFields(fields, schema)).containsExactly("extra", "other");
  }

  @Test
  void infersTypes() {
    assertThat(infer(true)).contains(Types.BooleanType.get());
    assertThat(infer(5)).contains(Types.LongType.get());
    assertThat(infer(5L)).contains(Types.LongType.get());
    assertThat(infer((short) 5)).contains(Types.LongType.get());
    assertThat(infer(BigInteger.valueOf(Long.MAX_VALUE))).contains(Types.LongType.get());
    assertThat(infer(BigInteger.valueOf(Long.MAX_VALUE).add(BigInteger.ONE)))
        .contains(Types.DecimalType.of(38, 0));
    assertThat(infer(new BigDecimal("1.5"))).contains(Types.DoubleType.get());
    assertThat(infer(1.5f)).contains(Types.DoubleType.get());
    assertThat(infer("x")).contains(Types.StringType.get());
    assertThat(infer(new byte[] {1})).contains(Types.BinaryType.get());
    assertThat(infer(ByteBuffer.wrap(new byte[] {1}))).contains(Types.BinaryType.get());
    assertThat(infer(LocalDate.now(ZoneOffset.UTC))).contains(Types.DateType.get());
    assertThat(infer(LocalTime.NOON)).contains(Types.TimeType.get());
    assertThat(infer(LocalDateTime.now(ZoneOffset.UTC)))
        .contains(Types.TimestampType.withoutZone());
    assertThat(infer(Instant.EPOCH)).contains(Types.TimestampType.withZone());
    assertThat(infer(UTC_TIME)).contains(Types.TimestampType.withZone());
    assertThat(infer(UUID.randomUUID())).contains(Types.UUIDType.get());
    assertThat(infer(Map.of("a", 1L))).contains(Types.StringType.get());
    assertThat(infer(List.of(1L))).contains(Types.StringType.get());
    assertThat(infer(parse("{\"a\":1}"))).contains(Types.StringType.get());
    assertThat(infer(null)).isEmpty();
    assertThat(infer(parse("null"))).isEmpty();
  }

  @Test
  void infersJsonColumnsForObjectsListsAndJsonValues() {
    assertThat(RecordFields.inferJson(Map.of())).isTrue();
    assertThat(RecordFields.inferJson(List.of())).isTrue();
    assertThat(RecordFields.inferJson(parse("{\"a\":1}"))).isTrue();
    assertThat(RecordFields.inferJson(parse("[1]"))).isTrue();
    // A JSON value kept as it came (a Debezium json column of a bare number): a json column, which
    // takes it; a plain string column would refuse it.
    assertThat(RecordFields.inferJson(parse("5"))).isTrue();
    assertThat(convert(json(), parse("5"))).isEqualTo("5");
    assertThat(RecordFields.inferJson(parse("null"))).isFalse();
    assertThat(RecordFields.inferJson("x")).isFalse();
    assertThat(RecordFields.inferJson(5L)).isFalse();
  }

  @Test
  void inferenceRefusesFieldNamesThatCannotBeColumns() {
    for (String name : List.of("", "1a", "a-b", "a b", "é", "a.b", "a\u0000")) {
      assertThatThrownBy(() -> RecordFields.inferType(name, 1L))
          .as(name)
          .isInstanceOfSatisfying(
              RecordRejectedException.class,
              e -> {
                assertThat(e.reason()).isEqualTo(RejectReason.INVALID_FIELD_NAME);
                assertThat(e.getMessage()).contains("'" + name + "'").contains("rename the field");
              });
    }
    for (String name : List.of("a", "_a", "A_1", "_")) {
      assertThat(RecordFields.inferType(name, 1L)).as(name).contains(Types.LongType.get());
    }
  }

  @Test
  void jsonRecordsConvertEndToEnd() {
    Map<String, Object> fields =
        new JsonDecoder(List.of())
            .decode(
                null,
                ("{\"id\": 1, \"amount\": 12.50, \"at\": \"2026-12-07T10:15:30Z\", \"ms\":"
                        + " 1796638530000, \"tags\": [\"a\"], \"flag\": false}")
                    .getBytes(StandardCharsets.UTF_8))
            .fields();
    Schema schema =
        new Schema(
            Types.NestedField.required(1, "id", Types.IntegerType.get()),
            Types.NestedField.optional(2, "amount", Types.DecimalType.of(10, 2)),
            Types.NestedField.optional(3, "at", Types.TimestampType.withZone()),
            Types.NestedField.optional(4, "ms", Types.TimestampType.withZone()),
            Types.NestedField.optional(5, "tags", Types.StringType.get(), RecordFields.JSON_DOC),
            Types.NestedField.optional(6, "flag", Types.BooleanType.get()));

    Record row = RecordFields.toRecord(fields, schema);

    assertThat(row.getField("id")).isEqualTo(1);
    assertThat(row.getField("amount")).isEqualTo(new BigDecimal("12.50"));
    assertThat(row.getField("at")).isEqualTo(UTC_TIME);
    assertThat(row.getField("ms"))
        .isEqualTo(Instant.ofEpochMilli(1796638530000L).atOffset(ZoneOffset.UTC));
    assertThat(row.getField("tags")).isEqualTo("[\"a\"]");
    assertThat(row.getField("flag")).isEqualTo(false);
  }

  private static Optional<Type> infer(Object value) {
    return RecordFields.inferType("f", value);
  }
}
