package io.floe.server;

import static java.util.Objects.requireNonNull;

import io.floe.core.catalog.SchemaHistory;
import io.floe.sql.SystemTable;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NoSuchNamespaceException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.types.Types;

/**
 * {@code system.schema_history}: one row per schema of every table of the catalog, with what
 * changed from the schema before and the first snapshot written with it ({@link SchemaHistory}),
 * read from the tables' metadata for each query. A table dropped while it is read is left out.
 */
final class SchemaHistoryTable implements SystemTable {
  private static final Schema SCHEMA =
      new Schema(
          Types.NestedField.required(1, "table_name", Types.StringType.get(), "namespace.table"),
          Types.NestedField.required(2, "schema_id", Types.IntegerType.get()),
          Types.NestedField.optional(
              3,
              "first_snapshot_id",
              Types.LongType.get(),
              "The first snapshot written with the schema; null if none is yet"),
          Types.NestedField.optional(4, "first_written", Types.TimestampType.withZone()),
          Types.NestedField.required(
              5,
              "changes",
              Types.StringType.get(),
              "What changed from the schema before (added, dropped, renamed, changed), '; '"
                  + " between changes; the columns of the first schema"),
          Types.NestedField.required(
              6, "is_current", Types.BooleanType.get(), "Whether it is the table's schema now"));

  private final Catalog catalog;

  SchemaHistoryTable(Catalog catalog) {
    this.catalog = requireNonNull(catalog, "catalog is null");
  }

  @Override
  public String name() {
    return "schema_history";
  }

  @Override
  public Schema schema() {
    return SCHEMA;
  }

  @Override
  public List<Object[]> rows() {
    List<Object[]> rows = new ArrayList<>();
    for (TableIdentifier identifier : tables()) {
      Table table;
      try {
        table = catalog.loadTable(identifier);
      } catch (NoSuchTableException e) {
        continue; // Dropped since it was listed.
      }
      for (SchemaHistory.Entry entry : SchemaHistory.of(table)) {
        rows.add(
            new Object[] {
              identifier.toString(),
              entry.schemaId(),
              entry.firstSnapshotId().orElse(null),
              entry
                  .firstWritten()
                  .map(at -> ChronoUnit.MICROS.between(Instant.EPOCH, at))
                  .orElse(null),
              String.join("; ", entry.changes()),
              entry.current()
            });
      }
    }
    return rows;
  }

  private List<TableIdentifier> tables() {
    List<TableIdentifier> tables = new ArrayList<>();
    if (!(catalog instanceof SupportsNamespaces namespaces)) {
      return tables;
    }
    List<Namespace> pending = new ArrayList<>(namespaces.listNamespaces());
    while (!pending.isEmpty()) {
      Namespace namespace = pending.remove(pending.size() - 1);
      try {
        tables.addAll(catalog.listTables(namespace));
        pending.addAll(namespaces.listNamespaces(namespace));
      } catch (NoSuchNamespaceException e) {
        // Dropped since it was listed.
      }
    }
    tables.sort((left, right) -> left.toString().compareTo(right.toString()));
    return tables;
  }
}
