package io.floe.ingest.stream;

import java.util.Locale;

/**
 * Why a stream record went to the dead-letter table; its {@link #code} is the table's {@code
 * error_class}. All of these are permanent: the record fails the same way until the data or the
 * table changes. Transient failures (storage, catalog, the broker) never reject a record.
 */
public enum RejectReason {
  /** The value is not valid JSON, or not a JSON object. */
  BAD_JSON,
  /** The value is not valid Avro for the schema, or not an Avro container file. */
  BAD_AVRO,
  /** The value is not a Debezium change event Floe can apply. */
  BAD_CHANGE_EVENT,
  /** A field's value has another type than its column (text in a number column, say). */
  TYPE_MISMATCH,
  /** A field's value has its column's type but does not fit it (a too-large number, a bad date). */
  VALUE_OUT_OF_RANGE,
  /** The record is larger than the source's {@code max-record-bytes}. */
  OVERSIZED,
  /** A key column of an upsert table has no value in the record. */
  MISSING_KEY,
  /** A field has no column and the table's {@code unknown-fields} is {@code reject}. */
  UNKNOWN_FIELD,
  /** A field name cannot be a column name (it is empty or has characters columns cannot have). */
  INVALID_FIELD_NAME,
  /** No row of an enrichment's reference table has the record's key ({@code missing}). */
  REFERENCE_MISSING,
  /**
   * No row of an enrichment's reference table has the record's key yet, and the enrichment holds
   * such records: the record is replayed when the reference changes, until its {@code hold-for} has
   * passed. The one reason that is not permanent.
   */
  REFERENCE_PENDING,
  /** The pipeline's transform failed for the record (a cast of bad text, say). */
  TRANSFORM_FAILED,
  /** The row failed a quality rule whose action is {@code quarantine}. */
  QUALITY_FAILED;

  /** The code stored in the dead-letter table: the name in lower case, such as {@code bad_json}. */
  public String code() {
    return name().toLowerCase(Locale.ROOT);
  }
}
