package io.floe.ingest.stream;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A stream record's value as named fields, and what it does to the table.
 *
 * <p>Field values are Java values as decoders produce them: null, {@link Boolean}, {@link Integer},
 * {@link Long}, {@link java.math.BigInteger}, {@link Float}, {@link Double}, {@link
 * java.math.BigDecimal}, {@link String}, {@code byte[]}, {@link java.nio.ByteBuffer}, {@link
 * java.time.LocalDate}, {@link java.time.LocalTime}, {@link java.time.LocalDateTime}, {@link
 * java.time.Instant}, {@link java.time.OffsetDateTime}, {@link java.util.UUID}, and for nested
 * values {@link java.util.List} and {@link Map} (with string keys), or a {@link
 * com.fasterxml.jackson.databind.JsonNode} for JSON kept as it came.
 *
 * @param operation {@link Operation#UPSERT} for a row (appended in append mode), {@link
 *     Operation#DELETE} for a deletion of the row with the key in {@code fields}
 * @param fields the row's fields in the record's order, or for a delete its key fields
 */
public record DecodedRecord(Operation operation, Map<String, Object> fields) {
  /** What a record does. */
  public enum Operation {
    UPSERT,
    DELETE
  }

  public DecodedRecord {
    requireNonNull(operation, "operation is null");
    // Field values may be null: copy into a map that allows them.
    fields = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(fields, "fields")));
  }

  public static DecodedRecord upsert(Map<String, Object> fields) {
    return new DecodedRecord(Operation.UPSERT, fields);
  }

  public static DecodedRecord delete(Map<String, Object> keyFields) {
    return new DecodedRecord(Operation.DELETE, keyFields);
  }
}
