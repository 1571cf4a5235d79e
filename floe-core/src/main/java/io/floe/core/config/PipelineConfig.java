package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One pipeline: changes from one source database, or records of one stream, into Iceberg tables.
 *
 * @param enrich the reference lookups of a stream's records, in order; empty for a database source
 * @param transform the SQL applied to a stream's records after enrichment, if any
 * @param quality the data quality rules of the pipeline's tables
 */
public record PipelineConfig(
    String name,
    SourceConfig source,
    TargetConfig target,
    Duration commitInterval,
    List<EnrichConfig> enrich,
    Optional<TransformConfig> transform,
    List<QualityRuleConfig> quality) {
  public PipelineConfig {
    requireNonNull(name, "name is null");
    requireNonNull(source, "source is null");
    requireNonNull(target, "target is null");
    requireNonNull(commitInterval, "commitInterval is null");
    enrich = List.copyOf(requireNonNull(enrich, "enrich is null"));
    requireNonNull(transform, "transform is null");
    quality = List.copyOf(requireNonNull(quality, "quality is null"));
  }

  /** A pipeline that writes what it reads, without enrichment, transforms or quality rules. */
  public PipelineConfig(
      String name, SourceConfig source, TargetConfig target, Duration commitInterval) {
    this(name, source, target, commitInterval, List.of(), Optional.empty(), List.of());
  }
}
