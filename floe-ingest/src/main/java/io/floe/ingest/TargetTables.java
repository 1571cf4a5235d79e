package io.floe.ingest;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.StreamTableConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
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
   * The table {@code source} flows into: the existing one, which must have the source's columns and
   * key, or a new format-v2 table set up for frequent small commits.
   */
  static Table loadOrCreate(
      Catalog catalog, String pipeline, TableIdentifier identifier, SourceTable source) {
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
      return table;
    }
    return create(catalog, pipeline, identifier, source, PartitionSpec.unpartitioned());
  }

  /**
   * The table of a stream (or its dead-letter table): the existing one, whose columns may have
   * grown since (records' new fields, columns added to the configuration: added now), or a new one
   * with the declared columns and partitioning.
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

  /** The partition spec of {@code partitionBy} over the declared columns. */
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
                + "; choose a transform that suits the column's type (day, hour, month and year"
                + " need a date or timestamp)",
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
