package io.floe.core.config;

import static java.util.Objects.requireNonNull;

/** Where a pipeline writes: the Iceberg namespace that receives one table per source table. */
public record TargetConfig(String namespace) {
  public TargetConfig {
    requireNonNull(namespace, "namespace is null");
  }
}
