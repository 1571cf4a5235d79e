package io.floe.ingest;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.StreamTableConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.iceberg.PartitionField;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.UpdatePartitionSpec;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.expressions.Term;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The Iceberg tables a pipeline writes: found in the catalog, or created for CDC. */
final class TargetTables {
  private static final Logger LOG = LoggerFactory.getLogger(TargetTables.class);

  private TargetTables() {}

  static void ensureNamespace(Catalog catalog, Namespace namespace) {
    if (catalog instanceof SupportsNamespaces namespaces
        && !namespaces.namespaceExists(namespace)) {
      namespaces.createNamespace(namespace);
    }
  }

  /**
   * The table {@code source} flows into: the existing one, which must have the source's key, or a
   * new format-v2 table set up for frequent small commits.
   *
   * @param partitionBy the table's declared partitioning: a new table gets it, an existing one
   *     whose spec differs is evolved to it; empty to create the table unpartitioned and leave an
   *     existing table's spec as it is
   */
  static Table loadOrCreate(
      Catalog catalog,
      String pipeline,
      TableIdentifier identifier,
      SourceTable source,
      Optional<List<StreamTableConfig.PartitionField>> partitionBy) {
    if (catalog.tableExists(identifier)) {
      Table table = catalog.loadTable(identifier);
      // Columns may differ: the source's schema may have changed while the pipeline was stopped;
      // the rows after the change evolve the table as they arrive. The key may not change.
      if (!table
          .schema()
          .identifierFieldNames()
          .equals(source.icebergSchema().identifierFieldNames())) {
        throw new FloeException(
            ErrorCode.SOURCE_TABLE_INVALID,
            "Cannot replicate "
                + source.qualifiedName()
                + " into "
                + identifier
                + ": the Iceberg table's key is "
                + table.schema().identifierFieldNames()
                + " but the source's is "
                + source.icebergSchema().identifierFieldNames()
                + "; a table's key cannot change under a pipeline: drop the Iceberg table to load"
                + " the table again with its new key");
      }
      partitionBy.ifPresent(fields -> followSpec(pipeline, table, fields));
      return table;
    }
    return create(
        catalog,
        pipeline,
        identifier,
        source,
        partitionSpec(source.icebergSchema(), partitionBy.orElse(List.of())));
  }

  /**
   * Evolves the table's partition spec to {@code partitionBy} if it differs (fields compared by
   * source column and transform, not order): a metadata change, files written before keep their
   * spec until a rewrite moves their rows.
   */
  private static void followSpec(
      String pipeline, Table table, List<StreamTableConfig.PartitionField> partitionBy) {
    PartitionSpec current = table.spec();
    PartitionSpec declared = partitionSpec(table.schema(), partitionBy);
    Set<String> have = fieldsOf(current);
    Set<String> want = fieldsOf(declared);
    if (have.equals(want)) {
      return;
    }
    UpdatePartitionSpec update = table.updateSpec();
    for (PartitionField field : current.fields()) {
      if (!want.contains(fieldOf(field))) {
        update.removeField(field.name());
      }
    }
    for (StreamTableConfig.PartitionField field : partitionBy) {
      PartitionField built = partitionSpec(table.schema(), List.of(field)).fields().get(0);
      if (!have.contains(fieldOf(built))) {
        update.addField(term(field));
      }
    }
    update.commit();
    table.refresh();
    LOG.info(
        "Pipeline {}: partition spec of {} changed from {} to {}; files written before keep their"
            + " spec (CALL system.rewrite_data_files('{}') rewrites them to the new one)",
        pipeline,
        table.name(),
        have.isEmpty() ? "unpartitioned" : have,
        want.isEmpty() ? "unpartitioned" : want,
        table.name());
  }

  private static Set<String> fieldsOf(PartitionSpec spec) {
    Set<String> fields = new TreeSet<>();
    spec.fields().forEach(field -> fields.add(fieldOf(field)));
    return fields;
  }

  private static String fieldOf(PartitionField field) {
    return field.transform() + "(" + field.sourceId() + ")";
  }

  /** The term of a partition field, for a spec update. */
  private static Term term(StreamTableConfig.PartitionField field) {
    return switch (field.transform()) {
      case "identity" -> Expressions.ref(field.column());
      case "year" -> Expressions.year(field.column());
      case "month" -> Expressions.month(field.column());
      case "day" -> Expressions.day(field.column());
      case "hour" -> Expressions.hour(field.column());
      case "bucket" -> Expressions.bucket(field.column(), field.argument());
      case "truncate" -> Expressions.truncate(field.column(), field.argument());
      default -> throw new IllegalArgumentException("Unknown transform " + field.transform());
    };
  }

  /**
   * The table of a stream (or its dead-letter table): the existing one, whose columns may have
   * grown since (records' new fields, columns added to the configuration: added now) and whose spec
   * is evolved to a declared partitioning that differs, or a new one with the declared columns and
   * partitioning.
   */
  static Table loadOrCreateStream(
      Catalog catalog,
      String pipeline,
      TableIdentifier identifier,
      SourceTable source,
      List<StreamTableConfig.PartitionField> partitionBy) {
    Schema declared = source.icebergSchema();
    if (!catalog.tableExists(identifier)) {
      return create(catalog, pipeline, identifier, source, partitionSpec(declared, partitionBy));
    }
    Table table = catalog.loadTable(identifier);
    if (!partitionBy.isEmpty()) {
      followSpec(pipeline, table, partitionBy);
    }
    Schema existing = table.schema();
    if (!existing.identifierFieldNames().equals(declared.identifierFieldNames())) {
      throw new FloeException(
          ErrorCode.SOURCE_TABLE_INVALID,
          "Cannot write stream "
              + source.qualifiedName()
              + " into "
              + identifier
              + ": the table's key is "
              + existing.identifierFieldNames()
              + " but the configuration's is "
              + declared.identifierFieldNames()
              + "; set target.key to the table's key, or write to a new table (target.table)");
    }
    List<Types.NestedField> added = new ArrayList<>();
    for (Types.NestedField column : declared.columns()) {
      Types.NestedField current = existing.findField(column.name());
      if (current == null) {
        added.add(column);
      } else if (!current.type().equals(column.type())) {
        throw new FloeException(
            ErrorCode.SOURCE_TABLE_INVALID,
            "Cannot write stream "
                + source.qualifiedName()
                + " into "
                + identifier
                + ": column "
                + column.name()
                + " has type "
                + current.type()
                + " in the table but "
                + column.type()
                + " in target.columns; declare it as "
                + current.type()
                + ", or declare a new column for the new type");
      }
    }
    if (!added.isEmpty()) {
      UpdateSchema update = table.updateSchema();
      added.forEach(column -> update.addColumn(column.name(), column.type(), column.doc()));
      update.commit();
      table.refresh();
      LOG.info(
          "Pipeline {}: added the columns {} declared in the configuration to {}",
          pipeline,
          added.stream().map(Types.NestedField::name).toList(),
          identifier);
    }
    return table;
  }

  /**
   * The partition spec of {@code partitionBy} over the declared columns.
   *
   * @throws FloeException if a column is missing or a transform does not suit its type
   */
  private static PartitionSpec partitionSpec(
      Schema schema, List<StreamTableConfig.PartitionField> partitionBy) {
    PartitionSpec.Builder spec = PartitionSpec.builderFor(schema);
    for (StreamTableConfig.PartitionField field : partitionBy) {
      try {
        switch (field.transform()) {
          case "identity" -> spec.identity(field.column());
          case "year" -> spec.year(field.column());
          case "month" -> spec.month(field.column());
          case "day" -> spec.day(field.column());
          case "hour" -> spec.hour(field.column());
          case "bucket" -> spec.bucket(field.column(), field.argument());
          case "truncate" -> spec.truncate(field.column(), field.argument());
          default -> throw new IllegalArgumentException("Unknown transform " + field.transform());
        }
      } catch (IllegalArgumentException | org.apache.iceberg.exceptions.ValidationException e) {
        throw new FloeException(
            ErrorCode.CONFIG_INVALID,
            "Cannot partition by "
                + field.transform()
                + "("
                + field.column()
                + "): "
                + e.getMessage()
                + "; name a column of the table, with a transform that suits its type (day,"
                + " hour, month and year need a date or timestamp; truncate a string, an integer"
                + " or a decimal), in target.partition-by",
            e);
      }
    }
    return spec.build();
  }

  private static Table create(
      Catalog catalog,
      String pipeline,
      TableIdentifier identifier,
      SourceTable source,
      PartitionSpec spec) {
    Map<String, String> properties = new HashMap<>();
    properties.put(TableProperties.FORMAT_VERSION, "2");
    properties.put(TableProperties.PARQUET_COMPRESSION, "zstd");
    properties.put(TableProperties.DELETE_MODE, "merge-on-read");
    properties.put(TableProperties.UPDATE_MODE, "merge-on-read");
    // CDC commits are small and frequent: merge their manifests early so that planning a read
    // opens a handful of manifests rather than one or two per commit.
    properties.put(TableProperties.MANIFEST_MIN_MERGE_COUNT, "3");
    // A commit a second writes a metadata file a second: keep only the latest ones.
    properties.put(TableProperties.METADATA_DELETE_AFTER_COMMIT_ENABLED, "true");
    properties.put(TableProperties.METADATA_PREVIOUS_VERSIONS_MAX, "50");
    properties.put("floe.source", source.qualifiedName());
    properties.put("floe.pipeline", pipeline);
    LOG.info("Pipeline {}: creating table {}", pipeline, identifier);
    return catalog.createTable(identifier, source.icebergSchema(), spec, properties);
  }
}
