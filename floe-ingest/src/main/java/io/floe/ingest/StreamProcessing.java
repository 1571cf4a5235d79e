package io.floe.ingest;

import static java.util.Objects.requireNonNull;

import io.floe.core.config.EnrichConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.QualityRuleConfig;
import io.floe.ingest.enrich.Enricher;
import io.floe.ingest.enrich.ReferenceLookup;
import io.floe.ingest.quality.QualityGate;
import io.floe.ingest.quality.QualityResults;
import io.floe.ingest.transform.RecordTransform;
import io.floe.ingest.transform.RowPredicates;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.types.Type;

/**
 * What a stream pipeline does to its records between decoding and writing: the enrichments, the
 * transform and the table's quality rules, each optional. Opened with the pipeline, closed with it.
 */
final class StreamProcessing implements AutoCloseable {
  private final List<Enricher> enrichers;
  private final Optional<RecordTransform> transform;
  private final Optional<QualityGate> quality;
  private final Map<String, Type> addedTypes;

  private StreamProcessing(
      List<Enricher> enrichers,
      Optional<RecordTransform> transform,
      Optional<QualityGate> quality) {
    this.enrichers = List.copyOf(enrichers);
    this.transform = transform;
    this.quality = quality;
    Map<String, Type> types = new LinkedHashMap<>();
    if (transform.isEmpty()) {
      // A transform's output has the types DuckDB gives it; without one, added columns are typed
      // as in their reference.
      enrichers.forEach(enricher -> types.putAll(enricher.addedTypes()));
    }
    this.addedTypes = Map.copyOf(types);
  }

  /** Nothing between decoding and writing. */
  static StreamProcessing none() {
    return new StreamProcessing(List.of(), Optional.empty(), Optional.empty());
  }

  /**
   * Opens the pipeline's enrichments (their lookup indexes under {@code stateDirectory}), transform
   * and quality rules of {@code table}, its stream table {@code namespace.name}.
   */
  static StreamProcessing open(
      PipelineConfig config,
      Catalog catalog,
      String table,
      List<String> key,
      Path stateDirectory,
      QualityResults results,
      Clock clock) {
    requireNonNull(config, "config is null");
    Path lookups = stateDirectory.resolve("lookups").resolve(config.name());
    ReferenceLookup.deleteStale(lookups);
    List<AutoCloseable> opened = new ArrayList<>();
    try {
      List<Enricher> enrichers = new ArrayList<>();
      for (EnrichConfig enrich : config.enrich()) {
        ReferenceLookup lookup =
            ReferenceLookup.open(
                catalog,
                enrich.table(),
                enrich.key(),
                enrich.columns().stream().map(EnrichConfig.Column::name).toList(),
                lookups,
                enrich.memory());
        Enricher enricher = new Enricher(enrich, lookup);
        opened.add(enricher);
        enrichers.add(enricher);
      }
      Optional<RecordTransform> transform =
          config
              .transform()
              .map(
                  sql -> {
                    RecordTransform opened2 = RecordTransform.open(sql.select(), sql.where());
                    opened.add(opened2);
                    return opened2;
                  });
      Optional<QualityGate> quality = Optional.empty();
      if (!config.quality().isEmpty()) {
        QualityGate gate =
            qualityGate(
                config.name(),
                table,
                table,
                key,
                config.quality(),
                catalog,
                lookups,
                results,
                clock);
        opened.add(gate);
        quality = Optional.of(gate);
      }
      return new StreamProcessing(enrichers, transform, quality);
    } catch (RuntimeException e) {
      for (AutoCloseable closeable : opened) {
        try {
          closeable.close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  /**
   * The quality gate of a table's rules, stream or database alike: referential and unique rules
   * look values up in indexes under {@code lookups}, SQL rules are evaluated by DuckDB.
   *
   * @param table the table's name in results
   * @param tableName the table as the catalog names it ({@code namespace.table}), for unique rules
   */
  static QualityGate qualityGate(
      String pipeline,
      String table,
      String tableName,
      List<String> key,
      List<QualityRuleConfig> rules,
      Catalog catalog,
      Path lookups,
      QualityResults results,
      Clock clock) {
    List<String> predicates =
        rules.stream()
            .filter(rule -> rule.check() == QualityRuleConfig.Check.SQL)
            .map(QualityRuleConfig::predicate)
            .toList();
    return new QualityGate(
        pipeline,
        table,
        tableName,
        key,
        rules,
        (reference, keyColumns, valueColumns) ->
            ReferenceLookup.open(
                catalog, reference, keyColumns, valueColumns, lookups, LOOKUP_MEMORY),
        RowPredicates.open(predicates),
        results,
        clock);
  }

  /** Memory of each lookup index of a quality rule (referential, unique). */
  private static final long LOOKUP_MEMORY = 16L << 20;

  List<Enricher> enrichers() {
    return enrichers;
  }

  Optional<RecordTransform> transform() {
    return transform;
  }

  Optional<QualityGate> quality() {
    return quality;
  }

  /** The types of columns enrichment adds, known before a record brings a value. */
  Map<String, Type> addedTypes() {
    return addedTypes;
  }

  @Override
  public void close() {
    RuntimeException failure = null;
    List<AutoCloseable> all = new ArrayList<>(enrichers);
    transform.ifPresent(all::add);
    quality.ifPresent(all::add);
    for (AutoCloseable closeable : all) {
      try {
        closeable.close();
      } catch (Exception e) {
        if (failure == null) {
          failure = new IllegalStateException("Cannot close the stream's processing", e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
