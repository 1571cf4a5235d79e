package io.floe.testing;

import java.util.Map;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;

/** Iceberg tables for tests, of the kind Floe's writer writes: format v2, unpartitioned. */
public final class CdcTables {
  private CdcTables() {}

  /** Creates an empty table; its namespace is created when missing. */
  public static Table create(Catalog catalog, TableIdentifier identifier, Schema schema) {
    if (catalog instanceof SupportsNamespaces namespaces
        && !namespaces.namespaceExists(identifier.namespace())) {
      namespaces.createNamespace(identifier.namespace());
    }
    return catalog.createTable(
        identifier, schema, PartitionSpec.unpartitioned(), Map.of("format-version", "2"));
  }
}
