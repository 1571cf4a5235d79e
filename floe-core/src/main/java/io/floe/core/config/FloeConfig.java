package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.List;

/**
 * A loaded configuration file: the warehouse directory (absolute and normalized), the pipelines to
 * run, the SQL endpoints ({@link SqlConfig#defaults()} when the file has no {@code sql} section)
 * and table maintenance ({@link MaintenanceConfig#defaults()} when the file has no {@code
 * maintenance} section). Built by {@link FloeConfigLoader}.
 */
public record FloeConfig(
    Path warehouse, List<PipelineConfig> pipelines, SqlConfig sql, MaintenanceConfig maintenance) {
  public FloeConfig {
    requireNonNull(warehouse, "warehouse is null");
    pipelines = List.copyOf(requireNonNull(pipelines, "pipelines is null"));
    requireNonNull(sql, "sql is null");
    requireNonNull(maintenance, "maintenance is null");
  }
}
