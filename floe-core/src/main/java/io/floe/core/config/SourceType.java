package io.floe.core.config;

/** Kind of source; written in lower case in YAML ({@code postgres}). */
public enum SourceType {
  /** A PostgreSQL database's changes, through logical replication. */
  POSTGRES,
  /** A MariaDB server's changes, through its binary log. */
  MARIADB,
  /** Records of Kafka topics. */
  KAFKA,
  /** Records POSTed to Floe's HTTP ingest endpoint. */
  HTTP;

  /** Whether the source is a database whose tables are replicated (not a stream of records). */
  public boolean database() {
    return this == POSTGRES || this == MARIADB;
  }
}
