package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.List;

/**
 * A loaded configuration file: the warehouse directory (absolute and normalized), the pipelines to
 * run and the SQL endpoints ({@link SqlConfig#defaults()} when the file has no {@code sql}
 * section). Built by {@link FloeConfigLoader}.
 */
public record FloeConfig(Path warehouse, List<PipelineConfig> pipelines, SqlConfig sql) {
  public FloeConfig {
    requireNonNull(warehouse, "warehouse is null");
    pipelines = List.copyOf(requireNonNull(pipelines, "pipelines is null"));
    requireNonNull(sql, "sql is null");
  }
}
