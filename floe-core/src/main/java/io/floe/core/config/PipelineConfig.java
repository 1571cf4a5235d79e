package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/** One pipeline: changes from one source database into one Iceberg namespace. */
public record PipelineConfig(
    String name, SourceConfig source, TargetConfig target, Duration commitInterval) {
  public PipelineConfig {
    requireNonNull(name, "name is null");
    requireNonNull(source, "source is null");
    requireNonNull(target, "target is null");
    requireNonNull(commitInterval, "commitInterval is null");
  }
}
