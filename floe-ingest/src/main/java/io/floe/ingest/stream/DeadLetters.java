package io.floe.ingest.stream;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;

/**
 * The dead-letter table of a stream pipeline: one row per record that could not be written, keyed
 * by the record's id, with its raw bytes, a best-effort text of them, where it came from, why it
 * failed, and how often. A record that fails again (after a replay) replaces its row with one more
 * attempt.
 */
public final class DeadLetters {
  public static final String RECORD_ID = "record_id";
  public static final String ERROR_CLASS = "error_class";
  public static final String ERROR_MESSAGE = "error_message";
  public static final String SOURCE_POSITION = "source_position";
  public static final String RAW_KEY = "raw_key";
  public static final String RAW_VALUE = "raw_value";
  public static final String RAW_TEXT = "raw_text";
  public static final String RECORD_TIME = "record_time";
  public static final String ATTEMPTS = "attempts";
  public static final String FIRST_SEEN = "first_seen";
  public static final String LAST_SEEN = "last_seen";
  public static final String REPLAY_ID = "replay_id";

  /** The dead-letter table's schema; {@code record_id} is its key. */
  public static final Schema SCHEMA =
      new Schema(
          List.of(
              Types.NestedField.required(
                  1, RECORD_ID, Types.StringType.get(), "The record's id in its source, unique"),
              Types.NestedField.required(
                  2,
                  ERROR_CLASS,
                  Types.StringType.get(),
                  "Why it failed: bad_json, bad_avro, bad_change_event, type_mismatch,"
                      + " value_out_of_range, oversized, missing_key, unknown_field,"
                      + " invalid_field_name, reference_missing, reference_pending,"
                      + " transform_failed, quality_failed"),
              Types.NestedField.required(
                  3, ERROR_MESSAGE, Types.StringType.get(), "What is wrong, in words"),
              Types.NestedField.required(
                  4,
                  SOURCE_POSITION,
                  Types.StringType.get(),
                  "Where it came from: topic/partition@offset, or the HTTP batch and record"),
              Types.NestedField.optional(
                  5, RAW_KEY, Types.BinaryType.get(), "The record's key bytes, as received"),
              Types.NestedField.optional(
                  6, RAW_VALUE, Types.BinaryType.get(), "The record's value bytes, as received"),
              Types.NestedField.optional(
                  7,
                  RAW_TEXT,
                  Types.StringType.get(),
                  "The value as UTF-8 text (U+FFFD where it is not valid UTF-8)"),
              Types.NestedField.required(
                  8,
                  RECORD_TIME,
                  Types.TimestampType.withZone(),
                  "When the record was produced or received"),
              Types.NestedField.required(
                  9, ATTEMPTS, Types.IntegerType.get(), "How often it was tried and failed"),
              Types.NestedField.required(
                  10, FIRST_SEEN, Types.TimestampType.withZone(), "When it first failed"),
              Types.NestedField.required(
                  11, LAST_SEEN, Types.TimestampType.withZone(), "When it last failed"),
              Types.NestedField.optional(
                  12,
                  REPLAY_ID,
                  Types.StringType.get(),
                  "The replay moving it into the table, while one does; else null")),
          Set.of(1));

  private DeadLetters() {}

  /**
   * The dead-letter row of {@code record}, which failed for {@code failure} at {@code now}, its
   * {@code attempts}-th failure, the first at {@code firstSeen}.
   */
  public static Record row(
      Schema schema,
      StreamRecord record,
      RecordRejectedException failure,
      int attempts,
      Instant firstSeen,
      Instant now) {
    GenericRecord row = GenericRecord.create(schema);
    row.setField(RECORD_ID, record.id());
    row.setField(ERROR_CLASS, failure.reason().code());
    row.setField(ERROR_MESSAGE, failure.getMessage());
    row.setField(SOURCE_POSITION, record.origin());
    row.setField(RAW_KEY, record.key() == null ? null : ByteBuffer.wrap(record.key()));
    row.setField(RAW_VALUE, record.value() == null ? null : ByteBuffer.wrap(record.value()));
    row.setField(RAW_TEXT, text(record.value()));
    row.setField(RECORD_TIME, utc(Instant.ofEpochMilli(record.timestampMillis())));
    row.setField(ATTEMPTS, attempts);
    row.setField(FIRST_SEEN, utc(firstSeen));
    row.setField(LAST_SEEN, utc(now));
    return row;
  }

  /**
   * The stream record a dead-letter row keeps, to be decoded again with {@code decoder} (a replay).
   */
  public static StreamRecord record(Record row, RecordDecoder decoder, long maxRecordBytes) {
    return new StreamRecord(
        (String) row.getField(RECORD_ID),
        (String) row.getField(SOURCE_POSITION),
        bytes(row.getField(RAW_KEY)),
        bytes(row.getField(RAW_VALUE)),
        ((OffsetDateTime) row.getField(RECORD_TIME)).toInstant().toEpochMilli(),
        decoder,
        maxRecordBytes);
  }

  private static byte[] bytes(Object value) {
    if (value == null) {
      return null;
    }
    ByteBuffer buffer = ((ByteBuffer) value).duplicate();
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(bytes);
    return bytes;
  }

  /** The dead-letter table's key row of a record id, to delete it. */
  public static Record key(Schema schema, String recordId) {
    GenericRecord row = GenericRecord.create(schema);
    row.setField(RECORD_ID, recordId);
    return row;
  }

  private static OffsetDateTime utc(Instant instant) {
    return instant.atOffset(ZoneOffset.UTC);
  }

  /** The bytes as UTF-8 text, with U+FFFD for what is not; null for no bytes. */
  private static String text(byte[] bytes) {
    return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
  }
}
