package io.floe.core.config;

/** Kind of source; written in lower case in YAML ({@code postgres}). */
public enum SourceType {
  /** A PostgreSQL database's changes, through logical replication. */
  POSTGRES,
  /** Records of Kafka topics. */
  KAFKA,
  /** Records POSTed to Floe's HTTP ingest endpoint. */
  HTTP
}
