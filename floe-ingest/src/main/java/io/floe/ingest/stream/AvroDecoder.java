package io.floe.ingest.stream;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Conversions;
import org.apache.avro.Schema;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;

/**
 * Decodes records whose value is Avro: with a configured schema ({@code avro-schema}), each value
 * is one binary-encoded datum of that schema, nothing before or after it; without one, each value
 * is an Avro object container file that carries its schema and holds exactly one datum (a file of
 * several datums is rejected, as one record must be one row). The datum must be a record; its
 * fields become the row's fields.
 *
 * <p>Values become the Java values {@link RecordFields} takes: strings and enum symbols {@link
 * String}, bytes and fixed {@code byte[]}, logical types their Java types (date {@link
 * java.time.LocalDate}, time-millis/micros {@link java.time.LocalTime},
 * timestamp-millis/micros/nanos {@link java.time.Instant}, local-timestamp-millis/micros/nanos
 * {@link java.time.LocalDateTime}, decimal {@link java.math.BigDecimal}, uuid {@link
 * java.util.UUID}), a union the value of its branch, nested records a {@link Map} of their fields
 * in order, arrays a {@link List}, maps a {@link Map} with string keys.
 *
 * <p>A record without a value (a Kafka tombstone) deletes its key, read as {@link JsonDecoder}
 * reads it: JSON, or for a single key column plain text.
 */
public final class AvroDecoder implements RecordDecoder {
  /** Avro's generic model with the conversions of every logical type it knows. */
  private static final GenericData DATA = genericData();

  private final List<String> keyColumns;

  /** The configured schema, or null when values are container files. */
  private final Schema schema;

  private final GenericDatumReader<Object> reader;
  private BinaryDecoder decoder;

  /**
   * A decoder of binary datums of {@code avroSchema}, or of container files when it is empty.
   *
   * @param avroSchema the Avro schema (JSON) of binary-encoded values, or empty (or blank)
   * @param keyColumns the table's key columns, for tombstones; empty for append tables
   * @throws IllegalArgumentException when {@code avroSchema} is not a valid Avro schema, or not a
   *     record schema
   */
  public AvroDecoder(String avroSchema, List<String> keyColumns) {
    requireNonNull(avroSchema, "avroSchema is null");
    this.keyColumns = List.copyOf(requireNonNull(keyColumns, "keyColumns is null"));
    if (avroSchema.isBlank()) {
      this.schema = null;
      this.reader = null;
      return;
    }
    Schema parsed;
    try {
      parsed = new Schema.Parser().parse(avroSchema);
    } catch (AvroRuntimeException e) {
      throw new IllegalArgumentException(
          "avro-schema is not a valid Avro schema: " + e.getMessage(), e);
    } catch (NullPointerException e) {
      // Avro 1.12's parser fails so on a type name it cannot resolve.
      throw new IllegalArgumentException(
          "avro-schema is not a valid Avro schema: it uses a type that is neither a primitive type"
              + " nor a named type defined in it ("
              + e.getMessage()
              + ")",
          e);
    }
    if (parsed.getType() != Schema.Type.RECORD) {
      throw new IllegalArgumentException(
          "avro-schema must be a record schema (each value is a row of named fields), not "
              + parsed.getType().getName()
              + "; wrap the value in a record: {\"type\": \"record\", \"name\": ..., \"fields\":"
              + " [...]}");
    }
    this.schema = parsed;
    this.reader = new GenericDatumReader<>(parsed, parsed, DATA);
  }

  @Override
  public DecodedRecord decode(byte[] key, byte[] value) {
    if (value == null) {
      return DecodedRecord.delete(JsonDecoder.keyFields(key, keyColumns, RejectReason.BAD_AVRO));
    }
    Object datum = schema == null ? containerDatum(value) : binaryDatum(value);
    if (!(datum instanceof GenericRecord record)) {
      // Cannot happen for record schemas; kept so that a surprise is a rejection, not a crash.
      throw new RecordRejectedException(
          RejectReason.BAD_AVRO,
          "The record's value is an Avro " + describe(datum) + ", not a record of fields");
    }
    return DecodedRecord.upsert(fields(record));
  }

  private Object binaryDatum(byte[] value) {
    decoder = DecoderFactory.get().binaryDecoder(value, decoder);
    Object datum;
    try {
      datum = reader.read(null, decoder);
    } catch (EOFException e) {
      throw bad("it ends in the middle of a datum (truncated, or written with another schema)", e);
    } catch (IOException | RuntimeException e) {
      throw bad("it does not match the schema (" + e.getMessage() + ")", e);
    }
    boolean end;
    try {
      end = decoder.isEnd();
    } catch (IOException e) {
      throw bad("its end cannot be read (" + e.getMessage() + ")", e);
    }
    if (!end) {
      throw bad(
          "it has bytes after the datum (written with another schema, or with a header such as"
              + " Confluent's 5-byte schema id, which Floe does not read)",
          null);
    }
    return datum;
  }

  private RecordRejectedException bad(String what, Exception cause) {
    String message =
        "The record's value is not one binary Avro datum of avro-schema "
            + schema.getFullName()
            + ": "
            + what;
    return cause == null
        ? new RecordRejectedException(RejectReason.BAD_AVRO, message)
        : new RecordRejectedException(RejectReason.BAD_AVRO, message, cause);
  }

  private static Object containerDatum(byte[] value) {
    try (DataFileStream<Object> stream =
        new DataFileStream<>(
            new ByteArrayInputStream(value), new GenericDatumReader<>(null, null, DATA))) {
      Schema fileSchema = stream.getSchema();
      if (fileSchema.getType() != Schema.Type.RECORD) {
        throw new RecordRejectedException(
            RejectReason.BAD_AVRO,
            "The record's value is an Avro container file of "
                + fileSchema.getType().getName()
                + " datums; Floe reads files of records (named fields), one per value");
      }
      if (!stream.hasNext()) {
        throw new RecordRejectedException(
            RejectReason.BAD_AVRO,
            "The record's value is an Avro container file without a datum; send one record per"
                + " file");
      }
      Object datum = stream.next();
      if (stream.hasNext()) {
        throw new RecordRejectedException(
            RejectReason.BAD_AVRO,
            "The record's value is an Avro container file of more than one datum; send one"
                + " record per value (a file of one datum), or configure avro-schema and send"
                + " binary datums");
      }
      return datum;
    } catch (RecordRejectedException e) {
      throw e;
    } catch (EOFException e) {
      throw new RecordRejectedException(
          RejectReason.BAD_AVRO,
          "The record's value is not a complete Avro container file: it ends too early"
              + " (truncated)",
          e);
    } catch (IOException | RuntimeException e) {
      throw new RecordRejectedException(
          RejectReason.BAD_AVRO,
          "The record's value is not a valid Avro container file ("
              + e.getMessage()
              + "); without avro-schema each value must be a container file that carries its"
              + " schema, and with it a binary datum",
          e);
    }
  }

  /** A record's fields as Java values, in the schema's order. */
  private static Map<String, Object> fields(GenericRecord record) {
    Map<String, Object> fields = new LinkedHashMap<>();
    for (Schema.Field field : record.getSchema().getFields()) {
      fields.put(field.name(), value(record.get(field.pos())));
    }
    return fields;
  }

  /** An Avro generic value (logical types already converted) as a Java value. */
  private static Object value(Object value) {
    if (value instanceof CharSequence text) {
      return text.toString();
    }
    if (value instanceof GenericEnumSymbol<?> symbol) {
      return symbol.toString();
    }
    if (value instanceof GenericFixed fixed) {
      return fixed.bytes().clone();
    }
    if (value instanceof ByteBuffer buffer) {
      ByteBuffer copy = buffer.duplicate();
      byte[] bytes = new byte[copy.remaining()];
      copy.get(bytes);
      return bytes;
    }
    if (value instanceof GenericRecord record) {
      return fields(record);
    }
    if (value instanceof Collection<?> items) {
      List<Object> list = new ArrayList<>(items.size());
      for (Object item : items) {
        list.add(value(item));
      }
      return list;
    }
    if (value instanceof Map<?, ?> map) {
      Map<String, Object> result = new LinkedHashMap<>();
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        result.put(entry.getKey().toString(), value(entry.getValue()));
      }
      return result;
    }
    // null, Boolean, Integer, Long, Float, Double, and the logical types' Java values.
    return value;
  }

  private static String describe(Object datum) {
    return datum == null ? "null" : datum.getClass().getSimpleName();
  }

  private static GenericData genericData() {
    GenericData data = new GenericData();
    Arrays.asList(
            new TimeConversions.DateConversion(),
            new TimeConversions.TimeMillisConversion(),
            new TimeConversions.TimeMicrosConversion(),
            new TimeConversions.TimestampMillisConversion(),
            new TimeConversions.TimestampMicrosConversion(),
            new TimeConversions.TimestampNanosConversion(),
            new TimeConversions.LocalTimestampMillisConversion(),
            new TimeConversions.LocalTimestampMicrosConversion(),
            new TimeConversions.LocalTimestampNanosConversion(),
            new Conversions.DecimalConversion(),
            new Conversions.UUIDConversion())
        .forEach(data::addLogicalTypeConversion);
    return data;
  }
}
