package io.floe.ingest.debezium;

import io.floe.core.config.PipelineConfig;
import io.floe.ingest.SourceTable;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * The Debezium engine properties every Floe database source sets the same way: the engine, its
 * offsets (kept by the tables, {@link TableOffsetStore}), the tables and their keys, and the value
 * representations {@link ValueConverter} and {@link DebeziumSource} read. Each source adds its
 * connector's own.
 */
public final class EngineProperties {
  /** Heartbeats let the pipeline commit on time when the source is idle. */
  public static final int HEARTBEAT_MILLIS = 200;

  private EngineProperties() {}

  /**
   * The common properties for replicating {@code tables} with {@code connectorClass}, resuming from
   * {@code resumeOffset} (Debezium's JSON form) or, when it is null, starting with a full load.
   *
   * @param keys the key columns of tables without a primary key, by table ({@code source.keys})
   */
  public static Properties common(
      PipelineConfig pipeline,
      String connectorClass,
      List<SourceTable> tables,
      Map<String, List<String>> keys,
      String resumeOffset) {
    Properties properties = new Properties();
    properties.setProperty("name", "floe-" + pipeline.name());
    properties.setProperty("connector.class", connectorClass);
    TableOffsetStore.configure(properties, resumeOffset);
    properties.setProperty("topic.prefix", DebeziumSource.topicPrefix(pipeline));
    properties.setProperty(
        "table.include.list",
        tables.stream()
            .map(table -> pattern(table.qualifiedName()))
            .collect(Collectors.joining(",")));
    if (!keys.isEmpty()) {
      // Tables without a primary key: their events are keyed by the columns source.keys names.
      properties.setProperty(
          "message.key.columns",
          keys.entrySet().stream()
              .map(entry -> entry.getKey() + ":" + String.join(",", entry.getValue()))
              .collect(Collectors.joining(";")));
    }
    properties.setProperty("decimal.handling.mode", "precise");
    properties.setProperty("time.precision.mode", "adaptive_time_microseconds");
    properties.setProperty("binary.handling.mode", "bytes");
    properties.setProperty("tombstones.on.delete", "false");
    properties.setProperty("skipped.operations", "none");
    properties.setProperty("provide.transaction.metadata", "true");
    properties.setProperty("heartbeat.interval.ms", String.valueOf(HEARTBEAT_MILLIS));
    properties.setProperty("poll.interval.ms", "10");
    properties.setProperty("max.batch.size", "8192");
    properties.setProperty("max.queue.size", "32768");
    properties.setProperty("snapshot.fetch.size", "10000");
    properties.setProperty("errors.max.retries", "-1");
    return properties;
  }

  /** A qualified name as a regular expression that matches only it. */
  public static String pattern(String name) {
    return name.replace(".", "\\.").replace("$", "\\$");
  }
}
