package io.floe.ingest.stream;

import static java.util.Objects.requireNonNull;

import io.floe.ingest.RowImage;
import java.util.BitSet;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.Record;

/**
 * One record of a stream, as a stream source delivers it inside a {@link
 * io.floe.ingest.SourceEvent.Change}: its bytes, where it came from, and the decoder of its format.
 * The pipeline decodes it ({@link #decode}), matches its fields to the table's columns ({@link
 * RecordFields}), and writes the record with its error to the dead-letter table when either fails.
 *
 * @param id identifies the record among all records of its pipeline, for ever: the dead-letter
 *     table's key, such as {@code kafka:clicks:2:1041} (topic, partition, offset) or {@code
 *     http:000000000042} (the sequence number the ingest log gave it)
 * @param origin where the record came from, for people: {@code clicks/2@1041}, {@code batch b-17
 *     record 3}
 * @param key the record's key bytes, or null
 * @param value the record's value bytes, or null for a tombstone
 * @param timestampMillis when the record was produced or received (epoch milliseconds)
 */
public record StreamRecord(
    String id,
    String origin,
    byte[] key,
    byte[] value,
    long timestampMillis,
    RecordDecoder decoder,
    long maxRecordBytes)
    implements RowImage {
  public StreamRecord {
    requireNonNull(id, "id is null");
    requireNonNull(origin, "origin is null");
    requireNonNull(decoder, "decoder is null");
  }

  /** The record's size as the source's limit counts it: key and value bytes. */
  public long size() {
    return (key == null ? 0L : key.length) + (value == null ? 0L : value.length);
  }

  /**
   * The record's fields, or why they cannot be had.
   *
   * @throws RecordRejectedException when the record is larger than its source allows or its bytes
   *     are invalid
   */
  public DecodedRecord decode() {
    if (size() > maxRecordBytes) {
      throw new RecordRejectedException(
          RejectReason.OVERSIZED,
          "The record has "
              + size()
              + " bytes, more than the source's max-record-bytes of "
              + maxRecordBytes
              + "; raise max-record-bytes, or split the record at its producer");
    }
    return decoder.decode(key, value);
  }

  /** The record as a row of {@code schema}, with unknown fields left out. */
  @Override
  public Record toRecord(Schema schema, BitSet unchanged) {
    return RecordFields.toRecord(decode().fields(), schema);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof StreamRecord record && record.id.equals(id);
  }

  @Override
  public int hashCode() {
    return id.hashCode();
  }

  @Override
  public String toString() {
    return "StreamRecord[" + id + " from " + origin + ", " + size() + " bytes]";
  }
}
