package io.floe.sql;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Schema;
import org.apache.iceberg.StaticTableOperations;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NoSuchTableException;

/**
 * The catalog's tables as the engine reads them: each loaded once and then refreshed (see {@link
 * #current}), shared by the queries' planning and the resident files' follower; and listed, for
 * error messages and for DuckDB's {@code information_schema}.
 */
final class CatalogTables {
  /** Tables whose loaded form is kept. */
  private static final int TABLES_KEPT = 256;

  private final Catalog catalog;
  private final Map<TableIdentifier, Table> loaded = LeastRecentlyUsed.map(TABLES_KEPT);

  CatalogTables(Catalog catalog) {
    this.catalog = requireNonNull(catalog, "catalog is null");
  }

  /**
   * The table as the catalog has it now, read-only. A table loaded before is refreshed, which reads
   * its metadata file only when a commit changed it: a table that commits every second has a
   * metadata file of up to a megabyte, which queries in between, and the follower, then share.
   *
   * @throws NoSuchTableException when the catalog has no such table
   */
  Table current(TableIdentifier identifier) {
    Table table = loaded.get(identifier);
    if (table == null) {
      table = catalog.loadTable(identifier);
      if (!(table instanceof HasTableOperations)) {
        return table;
      }
      loaded.put(identifier, table);
    }
    TableMetadata current;
    synchronized (table) {
      try {
        table.refresh();
      } catch (NoSuchTableException e) {
        loaded.remove(identifier, table);
        throw e;
      }
      current = ((HasTableOperations) table).operations().current();
    }
    return new BaseTable(new StaticTableOperations(current, table.io()), table.name());
  }

  /**
   * Whether the catalog has the table; one loaded before is taken to (loading it again then tells),
   * as the catalog answers by loading its metadata.
   */
  boolean exists(TableIdentifier identifier) {
    return loaded.containsKey(identifier) || catalog.tableExists(identifier);
  }

  /** The catalog's namespaces; none when the catalog has no namespaces. */
  Set<String> namespaces() {
    if (!(catalog instanceof SupportsNamespaces)) {
      return Set.of();
    }
    return ((SupportsNamespaces) catalog)
        .listNamespaces().stream().map(Namespace::toString).collect(Collectors.toSet());
  }

  /** The schemas of a namespace's tables, as listed; a table dropped while listing is left out. */
  Map<TableIdentifier, Schema> schemas(String namespace) {
    Map<TableIdentifier, Schema> schemas = new LinkedHashMap<>();
    for (TableIdentifier identifier : catalog.listTables(Namespace.of(namespace))) {
      try {
        schemas.put(identifier, catalog.loadTable(identifier).schema());
      } catch (NoSuchTableException e) {
        // Dropped while listing.
      }
    }
    return schemas;
  }

  /** Every table as {@code namespace.table}, sorted, for messages; {@code (none)} when none. */
  String allNames() {
    List<String> names = new ArrayList<>();
    for (String namespace : namespaces()) {
      catalog.listTables(Namespace.of(namespace)).forEach(id -> names.add(id.toString()));
    }
    return names.isEmpty() ? "(none)" : String.join(", ", names.stream().sorted().toList());
  }

  /** The names of a namespace's tables, sorted, for messages; {@code (none)} when none. */
  String names(String namespace) {
    List<String> names =
        catalog.listTables(Namespace.of(namespace)).stream()
            .map(TableIdentifier::name)
            .sorted()
            .toList();
    return names.isEmpty() ? "(none)" : String.join(", ", names);
  }
}
