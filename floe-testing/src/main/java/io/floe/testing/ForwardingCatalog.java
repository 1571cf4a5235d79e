package io.floe.testing;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * A real catalog that a test wraps to inject a fault or to watch what is asked of it: every call
 * goes to the catalog it wraps unless a subclass overrides it.
 */
public class ForwardingCatalog implements Catalog, SupportsNamespaces {
  private final Catalog tables;
  private final SupportsNamespaces namespaces;

  /** Forwards to {@code delegate}, a catalog with namespaces (such as Floe's JDBC catalog). */
  public <C extends Catalog & SupportsNamespaces> ForwardingCatalog(C delegate) {
    this.tables = requireNonNull(delegate, "delegate is null");
    this.namespaces = delegate;
  }

  @Override
  public List<TableIdentifier> listTables(Namespace namespace) {
    return tables.listTables(namespace);
  }

  @Override
  public Table loadTable(TableIdentifier identifier) {
    return tables.loadTable(identifier);
  }

  @Override
  public Table createTable(
      TableIdentifier identifier,
      Schema schema,
      PartitionSpec spec,
      Map<String, String> properties) {
    return tables.createTable(identifier, schema, spec, properties);
  }

  @Override
  public boolean dropTable(TableIdentifier identifier, boolean purge) {
    return tables.dropTable(identifier, purge);
  }

  @Override
  public void renameTable(TableIdentifier from, TableIdentifier to) {
    tables.renameTable(from, to);
  }

  @Override
  public void createNamespace(Namespace namespace, Map<String, String> metadata) {
    namespaces.createNamespace(namespace, metadata);
  }

  @Override
  public List<Namespace> listNamespaces(Namespace namespace) {
    return namespaces.listNamespaces(namespace);
  }

  @Override
  public Map<String, String> loadNamespaceMetadata(Namespace namespace) {
    return namespaces.loadNamespaceMetadata(namespace);
  }

  @Override
  public boolean dropNamespace(Namespace namespace) {
    return namespaces.dropNamespace(namespace);
  }

  @Override
  public boolean setProperties(Namespace namespace, Map<String, String> properties) {
    return namespaces.setProperties(namespace, properties);
  }

  @Override
  public boolean removeProperties(Namespace namespace, Set<String> properties) {
    return namespaces.removeProperties(namespace, properties);
  }
}
