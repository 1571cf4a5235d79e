package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * Where a pipeline writes: the Iceberg namespace that receives one table per source table of a
 * database, or the table (and dead-letter table) of a stream.
 */
public record TargetConfig(String namespace, Optional<StreamTableConfig> stream) {
  public TargetConfig {
    requireNonNull(namespace, "namespace is null");
    requireNonNull(stream, "stream is null");
  }

  /** The target of a database source. */
  public TargetConfig(String namespace) {
    this(namespace, Optional.empty());
  }
}
