package io.floe.ingest.postgres;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.PostgresSourceConfig;
import io.floe.ingest.SourceTable;
import io.floe.ingest.debezium.DebeziumSource;
import io.floe.ingest.debezium.TableOffsetStore;
import io.floe.ingest.debezium.ValueConverter;
import java.net.URI;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;

/** Debezium embedded-engine properties for a PostgreSQL pipeline. */
final class PostgresEngineProperties {
  /** Heartbeats let the pipeline commit on time, and advance the slot, when the source is idle. */
  static final int HEARTBEAT_MILLIS = 200;

  private PostgresEngineProperties() {}

  /**
   * The engine's properties for replicating {@code tables}, resuming from {@code resumeOffset}
   * (Debezium's JSON form) or, when it is null, starting with a full load.
   */
  static Properties build(PipelineConfig pipeline, List<SourceTable> tables, String resumeOffset) {
    PostgresSourceConfig source = (PostgresSourceConfig) pipeline.source();
    URI uri = parseUrl(source.url());
    Properties properties = new Properties();
    properties.setProperty("name", "floe-" + pipeline.name());
    properties.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
    TableOffsetStore.configure(properties, resumeOffset);
    properties.setProperty(
        "database.hostname", uri.getHost() == null ? "localhost" : uri.getHost());
    properties.setProperty(
        "database.port", String.valueOf(uri.getPort() < 0 ? 5432 : uri.getPort()));
    properties.setProperty("database.dbname", uri.getPath().replaceFirst("^/", ""));
    properties.setProperty("database.user", source.user());
    properties.setProperty("database.password", source.password());
    properties.setProperty("topic.prefix", DebeziumSource.topicPrefix(pipeline));
    properties.setProperty("plugin.name", "pgoutput");
    properties.setProperty("slot.name", source.slotName());
    properties.setProperty("publication.name", source.publication());
    properties.setProperty("publication.autocreate.mode", "disabled");
    properties.setProperty(
        "table.include.list",
        tables.stream()
            .map(table -> table.qualifiedName().replace(".", "\\.").replace("$", "\\$"))
            .collect(Collectors.joining(",")));
    if (!source.keys().isEmpty()) {
      // Tables without a primary key: their events are keyed by the columns source.keys names.
      properties.setProperty(
          "message.key.columns",
          source.keys().entrySet().stream()
              .map(entry -> entry.getKey() + ":" + String.join(",", entry.getValue()))
              .collect(Collectors.joining(";")));
    }
    properties.setProperty("snapshot.mode", "initial");
    // Floe resumes from the oldest position its tables hold; a table that saw no change for long
    // holds an old one, which the slot may have moved past. The slot only moves after every table
    // has committed what lies before it, so when it is ahead, streaming starts at the slot (and
    // without moving the slot back, which PostgreSQL refuses).
    properties.setProperty("offset.mismatch.strategy", "trust_slot");
    properties.setProperty("decimal.handling.mode", "precise");
    properties.setProperty("time.precision.mode", "adaptive_time_microseconds");
    properties.setProperty("binary.handling.mode", "bytes");
    properties.setProperty("interval.handling.mode", "string");
    properties.setProperty("hstore.handling.mode", "json");
    properties.setProperty("tombstones.on.delete", "false");
    properties.setProperty("skipped.operations", "none");
    properties.setProperty("provide.transaction.metadata", "true");
    properties.setProperty("unavailable.value.placeholder", ValueConverter.UNCHANGED_PLACEHOLDER);
    properties.setProperty("heartbeat.interval.ms", String.valueOf(HEARTBEAT_MILLIS));
    properties.setProperty("poll.interval.ms", "10");
    properties.setProperty("max.batch.size", "8192");
    properties.setProperty("max.queue.size", "32768");
    properties.setProperty("snapshot.fetch.size", "10000");
    properties.setProperty("status.update.interval.ms", "1000");
    properties.setProperty("errors.max.retries", "-1");
    return properties;
  }

  private static URI parseUrl(String url) {
    try {
      // jdbc:postgresql://host:port/database?options
      URI uri = URI.create(url.substring("jdbc:".length()));
      if (uri.getPath() == null || uri.getPath().length() <= 1) {
        throw new IllegalArgumentException("no database name");
      }
      return uri;
    } catch (IllegalArgumentException | StringIndexOutOfBoundsException e) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Cannot use source.url "
              + url
              + ": "
              + e.getMessage()
              + "; write it as jdbc:postgresql://host:port/database");
    }
  }
}
