package io.floe.ingest.postgres;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.PostgresSourceConfig;
import io.floe.ingest.SourceTable;
import io.floe.ingest.debezium.EngineProperties;
import io.floe.ingest.debezium.ValueConverter;
import java.net.URI;
import java.util.List;
import java.util.Properties;

/** Debezium embedded-engine properties for a PostgreSQL pipeline. */
final class PostgresEngineProperties {
  private PostgresEngineProperties() {}

  /**
   * The engine's properties for replicating {@code tables}, resuming from {@code resumeOffset}
   * (Debezium's JSON form) or, when it is null, starting with a full load.
   */
  static Properties build(PipelineConfig pipeline, List<SourceTable> tables, String resumeOffset) {
    PostgresSourceConfig source = (PostgresSourceConfig) pipeline.source();
    URI uri = parseUrl(source.url());
    Properties properties =
        EngineProperties.common(
            pipeline,
            "io.debezium.connector.postgresql.PostgresConnector",
            tables,
            source.keys(),
            resumeOffset);
    properties.setProperty(
        "database.hostname", uri.getHost() == null ? "localhost" : uri.getHost());
    properties.setProperty(
        "database.port", String.valueOf(uri.getPort() < 0 ? 5432 : uri.getPort()));
    properties.setProperty("database.dbname", uri.getPath().replaceFirst("^/", ""));
    properties.setProperty("database.user", source.user());
    properties.setProperty("database.password", source.password());
    properties.setProperty("plugin.name", "pgoutput");
    properties.setProperty("slot.name", source.slotName());
    properties.setProperty("publication.name", source.publication());
    properties.setProperty("publication.autocreate.mode", "disabled");
    properties.setProperty("snapshot.mode", "initial");
    // Floe resumes from the oldest position its tables hold; a table that saw no change for long
    // holds an old one, which the slot may have moved past. The slot only moves after every table
    // has committed what lies before it, so when it is ahead, streaming starts at the slot (and
    // without moving the slot back, which PostgreSQL refuses).
    properties.setProperty("offset.mismatch.strategy", "trust_slot");
    properties.setProperty("interval.handling.mode", "string");
    properties.setProperty("hstore.handling.mode", "json");
    properties.setProperty("unavailable.value.placeholder", ValueConverter.UNCHANGED_PLACEHOLDER);
    properties.setProperty("status.update.interval.ms", "1000");
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
