package io.floe.ingest.mariadb;

import io.floe.core.config.MariaDbSourceConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.ingest.SourceTable;
import io.floe.ingest.debezium.EngineProperties;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * Debezium embedded-engine properties for a MariaDB pipeline; public for the benchmark's no-op
 * consumer, which runs the connector exactly as a pipeline does.
 */
public final class MariaDbEngineProperties {
  /** How soon the binlog client reconnects to a silent server; the server's heartbeats follow. */
  static final int KEEP_ALIVE_MILLIS = 1000;

  private MariaDbEngineProperties() {}

  /**
   * The engine's properties for replicating {@code tables}.
   *
   * @param resumeOffset Debezium's offset (JSON) to resume from, or null to start with a full load
   * @param schemaHistory the file that keeps the DDL Debezium has seen, which it needs to decode
   *     the binlog's rows when it resumes
   * @param recoverHistory whether to rebuild a lost schema history from the tables' current
   *     definitions before streaming from {@code resumeOffset}
   */
  public static Properties build(
      PipelineConfig pipeline,
      List<SourceTable> tables,
      String resumeOffset,
      Path schemaHistory,
      boolean recoverHistory) {
    MariaDbSourceConfig source = (MariaDbSourceConfig) pipeline.source();
    MariaDbAddress address = MariaDbAddress.parse(source.url());
    Properties properties =
        EngineProperties.common(
            pipeline,
            "io.debezium.connector.mariadb.MariaDbConnector",
            tables,
            source.keys(),
            resumeOffset);
    properties.setProperty("database.hostname", address.host());
    properties.setProperty("database.port", Integer.toString(address.port()));
    properties.setProperty("database.user", source.user());
    properties.setProperty("database.password", source.password());
    properties.setProperty("database.server.id", Integer.toString(source.serverId()));
    properties.setProperty(
        "database.include.list",
        tables.stream()
            .map(table -> table.qualifiedName().substring(0, table.qualifiedName().indexOf('.')))
            .distinct()
            .map(EngineProperties::pattern)
            .collect(Collectors.joining(",")));
    properties.setProperty(
        "schema.history.internal", "io.debezium.storage.file.history.FileSchemaHistory");
    properties.setProperty("schema.history.internal.file.filename", schemaHistory.toString());
    properties.setProperty("include.schema.changes", "false");
    properties.setProperty("snapshot.mode", recoverHistory ? "recovery" : "initial");
    // A brief global read lock while the snapshot reads the binlog position and the schema; the
    // rows are then read in one consistent-snapshot transaction.
    properties.setProperty("snapshot.locking.mode", "minimal");
    properties.setProperty("bigint.unsigned.handling.mode", "precise");
    // The connector emits heartbeats only on binlog events, and an idle server sends the client
    // a heartbeat event every 0.8 keep-alive intervals (by default 48 s): with a keep-alive of
    // 1 s, the pipeline sees an event at least every 0.8 s and commits on time (the end of a full
    // load, the last transaction before a pause).
    properties.setProperty("connect.keep.alive.interval.ms", String.valueOf(KEEP_ALIVE_MILLIS));
    properties.setProperty("event.processing.failure.handling.mode", "fail");
    properties.setProperty("inconsistent.schema.handling.mode", "fail");
    return properties;
  }
}
