package io.floe.core.config;

/** How a stream's record values are encoded; written in lower case in YAML. */
public enum RecordFormat {
  /** One JSON object per record. */
  JSON,
  /**
   * Avro: an Avro object container file per record (the schema embedded), or binary-encoded datums
   * of the schema the configuration gives.
   */
  AVRO,
  /**
   * Debezium change events in JSON (with or without the {@code schema}/{@code payload} envelope of
   * Kafka Connect's JSON converter): {@code op} says whether the row was created, updated or
   * deleted, {@code after} and {@code before} hold the row.
   */
  DEBEZIUM
}
