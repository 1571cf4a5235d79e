package io.floe.core.config;

/** Where a pipeline's changes or records come from: one record type per {@link SourceType}. */
public sealed interface SourceConfig
    permits PostgresSourceConfig, MariaDbSourceConfig, KafkaSourceConfig, HttpSourceConfig {
  SourceType type();

  /** Whether the source is a stream of records (Kafka, HTTP) rather than a database's changes. */
  default boolean streaming() {
    return !type().database();
  }
}
