package io.floe.ingest.stream;

/**
 * Turns a stream record's bytes into fields ({@link DecodedRecord}), for one value format (JSON,
 * Avro, Debezium change events). Decoders are stateless apart from caches and safe to use from one
 * thread at a time.
 */
@FunctionalInterface
public interface RecordDecoder {
  /**
   * Decodes a record.
   *
   * @param key the record's key bytes, or null (Kafka records may have none; HTTP records never do)
   * @param value the record's value bytes, or null for a Kafka tombstone (a deletion of the key in
   *     an upsert table)
   * @throws RecordRejectedException when the bytes are not a valid record of the format: {@link
   *     RejectReason#BAD_JSON}, {@link RejectReason#BAD_AVRO}, {@link
   *     RejectReason#BAD_CHANGE_EVENT}, or {@link RejectReason#MISSING_KEY} for a tombstone whose
   *     key cannot be read
   */
  DecodedRecord decode(byte[] key, byte[] value);
}
