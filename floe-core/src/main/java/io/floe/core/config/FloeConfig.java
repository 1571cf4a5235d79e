package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.List;

/**
 * A loaded configuration file: the warehouse directory (absolute and normalized) and the pipelines
 * to run. Built by {@link FloeConfigLoader}.
 */
public record FloeConfig(Path warehouse, List<PipelineConfig> pipelines) {
  public FloeConfig {
    requireNonNull(warehouse, "warehouse is null");
    pipelines = List.copyOf(requireNonNull(pipelines, "pipelines is null"));
  }
}
