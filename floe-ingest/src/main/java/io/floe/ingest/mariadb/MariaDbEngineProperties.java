package io.floe.ingest.mariadb;

import io.floe.core.config.MariaDbSourceConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.ingest.SourceTable;
import io.floe.ingest.debezium.DebeziumSource;
import io.floe.ingest.debezium.TableOffsetStore;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * Debezium embedded-engine properties for a MariaDB pipeline; public for the benchmark's no-op
 * consumer, which runs the connector exactly as a pipeline does.
 */
public final class MariaDbEngineProperties {
  /** Heartbeats let the pipeline commit on time when the source is idle. */
  static final int HEARTBEAT_MILLIS = 200;

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
    Properties properties = new Properties();
    properties.setProperty("name", "floe-" + pipeline.name());
    properties.setProperty("connector.class", "io.debezium.connector.mariadb.MariaDbConnector");
    TableOffsetStore.configure(properties, resumeOffset);
    properties.setProperty("database.hostname", address.host());
    properties.setProperty("database.port", Integer.toString(address.port()));
    properties.setProperty("database.user", source.user());
    properties.setProperty("database.password", source.password());
    properties.setProperty("database.server.id", Integer.toString(source.serverId()));
    properties.setProperty("topic.prefix", DebeziumSource.topicPrefix(pipeline));
    properties.setProperty(
        "database.include.list",
        tables.stream()
            .map(table -> quote(table.qualifiedName().substring(0, dot(table))))
            .distinct()
            .collect(Collectors.joining(",")));
    properties.setProperty(
        "table.include.list",
        tables.stream()
            .map(table -> quote(table.qualifiedName()))
            .collect(Collectors.joining(",")));
    if (!source.keys().isEmpty()) {
      // Tables without a primary key: their events are keyed by the columns source.keys names.
      properties.setProperty(
          "message.key.columns",
          source.keys().entrySet().stream()
              .map(entry -> entry.getKey() + ":" + String.join(",", entry.getValue()))
              .collect(Collectors.joining(";")));
    }
    properties.setProperty(
        "schema.history.internal", "io.debezium.storage.file.history.FileSchemaHistory");
    properties.setProperty("schema.history.internal.file.filename", schemaHistory.toString());
    properties.setProperty("include.schema.changes", "false");
    properties.setProperty("snapshot.mode", recoverHistory ? "recovery" : "initial");
    // A brief global read lock while the snapshot reads the binlog position and the schema; the
    // rows are then read in one consistent-snapshot transaction.
    properties.setProperty("snapshot.locking.mode", "minimal");
    properties.setProperty("decimal.handling.mode", "precise");
    properties.setProperty("bigint.unsigned.handling.mode", "precise");
    properties.setProperty("time.precision.mode", "adaptive_time_microseconds");
    properties.setProperty("binary.handling.mode", "bytes");
    properties.setProperty("tombstones.on.delete", "false");
    properties.setProperty("skipped.operations", "none");
    properties.setProperty("provide.transaction.metadata", "true");
    properties.setProperty("heartbeat.interval.ms", String.valueOf(HEARTBEAT_MILLIS));
    // The connector emits heartbeats only on binlog events, and an idle server sends the client
    // a heartbeat event every 0.8 keep-alive intervals (by default 48 s): with a keep-alive of
    // 1 s, the pipeline sees an event at least every 0.8 s and commits on time (the end of a full
    // load, the last transaction before a pause).
    properties.setProperty("connect.keep.alive.interval.ms", String.valueOf(KEEP_ALIVE_MILLIS));
    properties.setProperty("poll.interval.ms", "10");
    properties.setProperty("max.batch.size", "8192");
    properties.setProperty("max.queue.size", "32768");
    properties.setProperty("snapshot.fetch.size", "10000");
    properties.setProperty("event.processing.failure.handling.mode", "fail");
    properties.setProperty("inconsistent.schema.handling.mode", "fail");
    properties.setProperty("errors.max.retries", "-1");
    return properties;
  }

  private static int dot(SourceTable table) {
    return table.qualifiedName().indexOf('.');
  }

  /** A name as a regular expression that matches only it. */
  private static String quote(String name) {
    return name.replace(".", "\\.").replace("$", "\\$");
  }
}
