package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where a pipeline writes: the Iceberg namespace that receives one table per source table of a
 * database, or the table (and dead-letter table) of a stream.
 *
 * @param partitionBy a database pipeline's partitioning of its tables, by qualified source table
 *     name ({@code public.orders}, {@code shop.orders}); a table without an entry keeps the spec it
 *     has (unpartitioned when Floe creates it), one with an empty list is unpartitioned
 */
public record TargetConfig(
    String namespace,
    Optional<StreamTableConfig> stream,
    Map<String, List<StreamTableConfig.PartitionField>> partitionBy) {
  public TargetConfig {
    requireNonNull(namespace, "namespace is null");
    requireNonNull(stream, "stream is null");
    partitionBy = Map.copyOf(requireNonNull(partitionBy, "partitionBy is null"));
  }

  /** The target of a stream, or of a database source whose tables are unpartitioned. */
  public TargetConfig(String namespace, Optional<StreamTableConfig> stream) {
    this(namespace, stream, Map.of());
  }

  /** The target of a database source whose tables are unpartitioned. */
  public TargetConfig(String namespace) {
    this(namespace, Optional.empty());
  }

  /** The partitioning declared for a source table, if any. */
  public Optional<List<StreamTableConfig.PartitionField>> partitionBy(String sourceTable) {
    return Optional.ofNullable(partitionBy.get(sourceTable));
  }
}
