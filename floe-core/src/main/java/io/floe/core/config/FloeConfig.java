package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * A loaded configuration file: the warehouse (a local directory, absolute and normalized, or a
 * location in object storage with its local state directory and storage settings), the pipelines to
 * run, the SQL endpoints ({@link SqlConfig#defaults()} when the file has no {@code sql} section),
 * table maintenance ({@link MaintenanceConfig#defaults()} when the file has no {@code maintenance}
 * section), the catalog and its REST endpoint ({@link CatalogConfig#defaults()}), and the
 * principals that may use the REST catalog and the SQL endpoints. Built by {@link
 * FloeConfigLoader}.
 */
public record FloeConfig(
    WarehouseConfig warehouse,
    List<PipelineConfig> pipelines,
    SqlConfig sql,
    MaintenanceConfig maintenance,
    CatalogConfig catalog,
    List<PrincipalConfig> principals) {
  public FloeConfig {
    requireNonNull(warehouse, "warehouse is null");
    pipelines = List.copyOf(requireNonNull(pipelines, "pipelines is null"));
    requireNonNull(sql, "sql is null");
    requireNonNull(maintenance, "maintenance is null");
    requireNonNull(catalog, "catalog is null");
    principals = List.copyOf(requireNonNull(principals, "principals is null"));
  }
}
