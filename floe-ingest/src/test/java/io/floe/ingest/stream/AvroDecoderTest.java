package io.floe.ingest.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.Conversions;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.file.CodecFactory;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;

class AvroDecoderTest {
  private static final Schema DECIMAL_BYTES =
      LogicalTypes.decimal(10, 2).addToSchema(Schema.create(Schema.Type.BYTES));
  private static final Schema DECIMAL_FIXED =
      LogicalTypes.decimal(20, 4).addToSchema(Schema.createFixed("amount", null, "test", 9));

  private static final Schema ADDRESS =
      SchemaBuilder.record("Address")
          .namespace("test")
          .fields()
          .requiredString("city")
          .optionalInt("zip")
          .endRecord();

  /** Every primitive and logical type, nullable unions, and nested values. */
  private static final Schema ALL =
      SchemaBuilder.record("Everything")
          .namespace("test")
          .fields()
          .requiredLong("id")
          .requiredBoolean("flag")
          .requiredInt("small")
          .requiredFloat("ratio")
          .requiredDouble("score")
          .requiredString("name")
          .requiredBytes("blob")
          .name("hash")
          .type(Schema.createFixed("md5", null, "test", 4))
          .noDefault()
          .name("color")
          .type(Schema.createEnum("Color", null, "test", List.of("RED", "GREEN")))
          .noDefault()
          .name("day")
          .type(LogicalTypes.date().addToSchema(Schema.create(Schema.Type.INT)))
          .noDefault()
          .name("t_ms")
          .type(LogicalTypes.timeMillis().addToSchema(Schema.create(Schema.Type.INT)))
          .noDefault()
          .name("t_us")
          .type(LogicalTypes.timeMicros().addToSchema(Schema.create(Schema.Type.LONG)))
          .noDefault()
          .name("ts_ms")
          .type(LogicalTypes.timestampMillis().addToSchema(Schema.create(Schema.Type.LONG)))
          .noDefault()
          .name("ts_us")
          .type(LogicalTypes.timestampMicros().addToSchema(Schema.create(Schema.Type.LONG)))
          .noDefault()
          .name("lts_ms")
          .type(LogicalTypes.localTimestampMillis().addToSchema(Schema.create(Schema.Type.LONG)))
          .noDefault()
          .name("lts_us")
          .type(LogicalTypes.localTimestampMicros().addToSchema(Schema.create(Schema.Type.LONG)))
          .noDefault()
          .name("price")
          .type(DECIMAL_BYTES)
          .noDefault()
          .name("amount")
          .type(DECIMAL_FIXED)
          .noDefault()
          .name("uid")
          .type(LogicalTypes.uuid().addToSchema(Schema.create(Schema.Type.STRING)))
          .noDefault()
          .optionalString("note")
          .name("maybe_day")
          .type()
          .unionOf()
          .nullType()
          .and()
          .type(LogicalTypes.date().addToSchema(Schema.create(Schema.Type.INT)))
          .endUnion()
          .nullDefault()
          .name("address")
          .type(ADDRESS)
          .noDefault()
          .name("maybe_address")
          .type()
          .unionOf()
          .nullType()
          .and()
          .type(ADDRESS)
          .endUnion()
          .nullDefault()
          .name("tags")
          .type()
          .array()
          .items()
          .stringType()
          .noDefault()
          .name("scores")
          .type()
          .map()
          .values()
          .longType()
          .noDefault()
          .name("addresses")
          .type()
          .array()
          .items(ADDRESS)
          .noDefault()
          .endRecord();

  private static final GenericData WRITE_DATA = writeData();

  private static final LocalDate DAY = LocalDate.of(2026, 12, 7);
  private static final Instant INSTANT = Instant.parse("2026-12-07T10:15:30.123456Z");
  private static final UUID UID = UUID.fromString("1b4e28ba-2fa1-11d2-883f-0016d3cca427");

  private static GenericRecord everything() {
    GenericRecord address =
        new GenericRecordBuilder(ADDRESS).set("city", "Oslo").set("zip", 150).build();
    GenericRecord other = new GenericRecordBuilder(ADDRESS).set("city", "Bergen").build();
    Map<String, Long> scores = new LinkedHashMap<>();
    scores.put("a", 1L);
    scores.put("b", 2L);
    return new GenericRecordBuilder(ALL)
        .set("id", 42L)
        .set("flag", true)
        .set("small", -7)
        .set("ratio", 1.5f)
        .set("score", 2.25)
        .set("name", "Ada")
        .set("blob", ByteBuffer.wrap(new byte[] {1, 2, 3}))
        .set("hash", new GenericData.Fixed(ALL.getField("hash").schema(), new byte[] {9, 8, 7, 6}))
        .set("color", new GenericData.EnumSymbol(ALL.getField("color").schema(), "GREEN"))
        .set("day", DAY)
        .set("t_ms", LocalTime.of(10, 15, 30, 123_000_000))
        .set("t_us", LocalTime.of(10, 15, 30, 123_456_000))
        .set("ts_ms", INSTANT.truncatedTo(ChronoUnit.MILLIS))
        .set("ts_us", INSTANT)
        .set("lts_ms", LocalDateTime.of(2026, 12, 7, 10, 15, 30, 123_000_000))
        .set("lts_us", LocalDateTime.of(2026, 12, 7, 10, 15, 30, 123_456_000))
        .set("price", new BigDecimal("12.34"))
        .set("amount", new BigDecimal("-1234567890.1234"))
        .set("uid", UID)
        .set("note", null)
        .set("maybe_day", DAY)
        .set("address", address)
        .set("maybe_address", null)
        .set("tags", List.of("x", "y"))
        .set("scores", scores)
        .set("addresses", List.of(address, other))
        .build();
  }

  @Test
  void decodesBinaryDatumsOfEveryType() {
    AvroDecoder decoder = new AvroDecoder(ALL.toString(), List.of("id"));

    DecodedRecord record = decoder.decode(null, datum(everything()));

    assertEverything(record);
    // The configured reader is reused: a second datum decodes the same.
    assertEverything(decoder.decode(null, datum(everything())));
  }

  @Test
  void decodesContainerFilesOfEveryType() {
    AvroDecoder decoder = new AvroDecoder("", List.of());

    assertEverything(decoder.decode(null, file(ALL, CodecFactory.nullCodec(), everything())));
    assertEverything(decoder.decode(null, file(ALL, CodecFactory.deflateCodec(6), everything())));
  }

  private static void assertEverything(DecodedRecord record) {
    assertThat(record.operation()).isEqualTo(DecodedRecord.Operation.UPSERT);
    Map<String, Object> fields = record.fields();
    assertThat(fields.keySet())
        .containsExactlyElementsOf(ALL.getFields().stream().map(Schema.Field::name).toList());
    assertThat(fields)
        .containsEntry("id", 42L)
        .containsEntry("flag", true)
        .containsEntry("small", -7)
        .containsEntry("ratio", 1.5f)
        .containsEntry("score", 2.25)
        .containsEntry("name", "Ada")
        .containsEntry("color", "GREEN")
        .containsEntry("day", DAY)
        .containsEntry("t_ms", LocalTime.of(10, 15, 30, 123_000_000))
        .containsEntry("t_us", LocalTime.of(10, 15, 30, 123_456_000))
        .containsEntry("ts_ms", INSTANT.truncatedTo(ChronoUnit.MILLIS))
        .containsEntry("ts_us", INSTANT)
        .containsEntry("lts_ms", LocalDateTime.of(2026, 12, 7, 10, 15, 30, 123_000_000))
        .containsEntry("lts_us", LocalDateTime.of(2026, 12, 7, 10, 15, 30, 123_456_000))
        .containsEntry("price", new BigDecimal("12.34"))
        .containsEntry("amount", new BigDecimal("-1234567890.1234"))
        .containsEntry("uid", UID)
        .containsEntry("note", null)
        .containsEntry("maybe_day", DAY)
        .containsEntry("maybe_address", null)
        .containsEntry("tags", List.of("x", "y"))
        .containsEntry("scores", Map.of("a", 1L, "b", 2L));
    assertThat(fields.get("name")).isInstanceOf(String.class);
    assertThat((byte[]) fields.get("blob")).containsExactly(1, 2, 3);
    assertThat((byte[]) fields.get("hash")).containsExactly(9, 8, 7, 6);
    Map<String, Object> oslo = new LinkedHashMap<>();
    oslo.put("city", "Oslo");
    oslo.put("zip", 150);
    Map<String, Object> bergen = new LinkedHashMap<>();
    bergen.put("city", "Bergen");
    bergen.put("zip", null);
    assertThat(fields.get("address")).isEqualTo(oslo);
    assertThat(new java.util.ArrayList<Object>(((Map<?, ?>) fields.get("address")).keySet()))
        .containsExactly("city", "zip");
    assertThat(fields.get("addresses")).isEqualTo(List.of(oslo, bergen));
    assertThat(new java.util.ArrayList<Object>(((Map<?, ?>) fields.get("scores")).keySet()))
        .containsExactly("a", "b");
  }

  @Test
  void decodedValuesConvertToTheirColumns() {
    AvroDecoder decoder = new AvroDecoder(ALL.toString(), List.of("id"));
    Map<String, Object> fields = decoder.decode(null, datum(everything())).fields();
    org.apache.iceberg.Schema table =
        new org.apache.iceberg.Schema(
            Types.NestedField.required(1, "id", Types.LongType.get()),
            Types.NestedField.optional(2, "small", Types.IntegerType.get()),
            Types.NestedField.optional(3, "blob", Types.BinaryType.get()),
            Types.NestedField.optional(4, "hash", Types.BinaryType.get()),
            Types.NestedField.optional(5, "ts_us", Types.TimestampType.withZone()),
            Types.NestedField.optional(6, "lts_us", Types.TimestampType.withoutZone()),
            Types.NestedField.optional(7, "price", Types.DecimalType.of(10, 2)),
            Types.NestedField.optional(8, "uid", Types.UUIDType.get()),
            Types.NestedField.optional(9, "address", Types.StringType.get(), RecordFields.JSON_DOC),
            Types.NestedField.optional(10, "color", Types.StringType.get()),
            Types.NestedField.optional(11, "t_us", Types.TimeType.get()),
            Types.NestedField.optional(12, "day", Types.DateType.get()));

    org.apache.iceberg.data.Record row = RecordFields.toRecord(fields, table);

    assertThat(row.getField("id")).isEqualTo(42L);
    assertThat(row.getField("small")).isEqualTo(-7);
    assertThat(row.getField("blob")).isEqualTo(ByteBuffer.wrap(new byte[] {1, 2, 3}));
    assertThat(row.getField("ts_us").toString()).isEqualTo("2026-12-07T10:15:30.123456Z");
    assertThat(row.getField("price")).isEqualTo(new BigDecimal("12.34"));
    assertThat(row.getField("uid")).isEqualTo(UID);
    assertThat(row.getField("address")).isEqualTo("{\"city\":\"Oslo\",\"zip\":150}");
    assertThat(row.getField("color")).isEqualTo("GREEN");
    assertThat(row.getField("day")).isEqualTo(DAY);
    for (Map.Entry<String, Object> field : fields.entrySet()) {
      // Every decoded value has a type that inference knows.
      RecordFields.inferType(field.getKey(), field.getValue());
    }
  }

  @Test
  void tombstonesDeleteTheirKey() {
    AvroDecoder decoder = new AvroDecoder(ALL.toString(), List.of("id"));

    assertThat(decoder.decode("{\"id\": 42}".getBytes(StandardCharsets.UTF_8), null))
        .isEqualTo(DecodedRecord.delete(Map.of("id", 42L)));
    assertThat(decoder.decode("abc".getBytes(StandardCharsets.UTF_8), null))
        .isEqualTo(DecodedRecord.delete(Map.of("id", "abc")));
    assertThatThrownBy(() -> new AvroDecoder("", List.of()).decode(new byte[] {1}, null))
        .isInstanceOfSatisfying(
            RecordRejectedException.class,
            e -> assertThat(e.reason()).isEqualTo(RejectReason.MISSING_KEY));
  }

  @Test
  void rejectsTruncatedDatums() {
    AvroDecoder decoder = new AvroDecoder(ALL.toString(), List.of("id"));
    byte[] datum = datum(everything());

    assertRejected(() -> decoder.decode(null, Arrays.copyOf(datum, datum.length - 3)), "truncated");
    assertRejected(() -> decoder.decode(null, new byte[0]), "truncated");
    // The decoder is still good after a bad value.
    assertEverything(decoder.decode(null, datum));
  }

  @Test
  void rejectsTrailingBytes() {
    AvroDecoder decoder = new AvroDecoder(ALL.toString(), List.of("id"));
    byte[] datum = datum(everything());
    byte[] longer = Arrays.copyOf(datum, datum.length + 2);

    assertRejected(() -> decoder.decode(null, longer), "bytes after the datum");
  }

  @Test
  void rejectsDatumsOfAnotherSchema() {
    Schema other =
        SchemaBuilder.record("Other").fields().requiredString("a").requiredLong("b").endRecord();
    AvroDecoder decoder = new AvroDecoder(other.toString(), List.of());
    byte[] datum = datum(everything());

    assertThatThrownBy(() -> decoder.decode(null, datum))
        .isInstanceOfSatisfying(
            RecordRejectedException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(RejectReason.BAD_AVRO);
              assertThat(e.getMessage()).contains("avro-schema Other");
            });
  }

  @Test
  void rejectsBadBytes() {
    AvroDecoder decoder = new AvroDecoder(ALL.toString(), List.of());
    // A negative string length at the name field.
    byte[] bad = new byte[] {84, 1, 2, 0, 0, (byte) 0xc0, 0x3f, 0, 0, 0, 0, 0, 0, 2, 0x40, 3};

    assertRejected(() -> decoder.decode(null, bad), "The record's value is not one binary Avro");
    // An enum index out of range.
    Schema enumRecord =
        SchemaBuilder.record("E")
            .fields()
            .name("c")
            .type(Schema.createEnum("C", null, null, List.of("A")))
            .noDefault()
            .endRecord();
    assertRejected(
        () -> new AvroDecoder(enumRecord.toString(), List.of()).decode(null, new byte[] {10}),
        "does not match the schema");
  }

  @Test
  void rejectsValuesThatAreNotContainerFiles() {
    AvroDecoder decoder = new AvroDecoder("", List.of());

    assertRejected(
        () -> decoder.decode(null, "{\"id\": 1}".getBytes(StandardCharsets.UTF_8)),
        "not a valid Avro container file");
    // A binary datum without the file's header.
    assertRejected(
        () -> decoder.decode(null, datum(everything())), "not a valid Avro container file");
    byte[] file = file(ALL, CodecFactory.nullCodec(), everything());
    assertRejected(
        () -> decoder.decode(null, Arrays.copyOf(file, file.length - 20)), "container file");
    assertRejected(() -> decoder.decode(null, Arrays.copyOf(file, 2)), "container file");
  }

  @Test
  void rejectsContainerFilesOfSeveralOrNoDatums() {
    AvroDecoder decoder = new AvroDecoder("", List.of());

    assertRejected(
        () -> decoder.decode(null, file(ALL, CodecFactory.nullCodec(), everything(), everything())),
        "more than one datum");
    assertRejected(
        () -> decoder.decode(null, file(ALL, CodecFactory.nullCodec())), "without a datum");
  }

  @Test
  void rejectsContainerFilesOfDatumsThatAreNotRecords() {
    Schema strings = Schema.create(Schema.Type.STRING);
    assertRejected(
        () ->
            new AvroDecoder("", List.of())
                .decode(null, file(strings, CodecFactory.nullCodec(), "x")),
        "container file of string datums");
  }

  @Test
  void refusesSchemasThatDoNotParseOrAreNotRecords() {
    assertThatThrownBy(() -> new AvroDecoder("{\"type\": \"record\"", List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("avro-schema is not a valid Avro schema: ");
    assertThatThrownBy(() -> new AvroDecoder("{\"type\": \"nonsense\"}", List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("neither a primitive type nor a named type defined in it");
    assertThatThrownBy(() -> new AvroDecoder("\"string\"", List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be a record schema")
        .hasMessageContaining("not string");
  }

  @Test
  void theFactoryGivesAvroDecoders() {
    assertThat(RecordDecoders.of(io.floe.core.config.RecordFormat.AVRO, "", List.of()))
        .isInstanceOf(AvroDecoder.class);
    assertThatThrownBy(
            () -> RecordDecoders.of(io.floe.core.config.RecordFormat.AVRO, "[", List.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static void assertRejected(Runnable decode, String message) {
    assertThatThrownBy(decode::run)
        .isInstanceOfSatisfying(
            RecordRejectedException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(RejectReason.BAD_AVRO);
              assertThat(e.getMessage()).contains(message);
            });
  }

  private static byte[] datum(GenericRecord record) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    try {
      new GenericDatumWriter<GenericRecord>(record.getSchema(), WRITE_DATA).write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return out.toByteArray();
  }

  private static byte[] file(Schema schema, CodecFactory codec, Object... datums) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (DataFileWriter<Object> writer =
        new DataFileWriter<>(new GenericDatumWriter<>(schema, WRITE_DATA))) {
      writer.setCodec(codec);
      writer.create(schema, out);
      for (Object datum : datums) {
        writer.append(datum);
      }
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return out.toByteArray();
  }

  private static GenericData writeData() {
    GenericData data = new GenericData();
    data.addLogicalTypeConversion(new TimeConversions.DateConversion());
    data.addLogicalTypeConversion(new TimeConversions.TimeMillisConversion());
    data.addLogicalTypeConversion(new TimeConversions.TimeMicrosConversion());
    data.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
    data.addLogicalTypeConversion(new TimeConversions.TimestampMicrosConversion());
    data.addLogicalTypeConversion(new TimeConversions.LocalTimestampMillisConversion());
    data.addLogicalTypeConversion(new TimeConversions.LocalTimestampMicrosConversion());
    data.addLogicalTypeConversion(new Conversions.DecimalConversion());
    data.addLogicalTypeConversion(new Conversions.UUIDConversion());
    return data;
  }
}
