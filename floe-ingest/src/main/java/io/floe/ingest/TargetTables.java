package io.floe.ingest;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
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
      List<String> existing =
          table.schema().columns().stream().map(Types.NestedField::name).toList();
      if (!existing.equals(source.columns())
          || !table
              .schema()
              .identifierFieldNames()
              .equals(source.icebergSchema().identifierFieldNames())) {
        throw new FloeException(
            ErrorCode.SOURCE_TABLE_INVALID,
            "Cannot replicate "
                + source.qualifiedName()
                + " into "
                + identifier
                + ": the Iceberg table has columns "
                + existing
                + " and key "
                + table.schema().identifierFieldNames()
                + " but the source has "
                + source.columns()
                + " and key "
                + source.icebergSchema().identifierFieldNames()
                + "; schema changes are not replicated yet: drop the Iceberg table to reload it");
      }
      return table;
    }
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
    return catalog.createTable(
        identifier, source.icebergSchema(), PartitionSpec.unpartitioned(), properties);
  }
}
