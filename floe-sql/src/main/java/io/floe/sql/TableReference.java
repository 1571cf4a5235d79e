package io.floe.sql;

import static java.util.Objects.requireNonNull;

import org.apache.iceberg.MetadataTableType;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * One reference to a Floe table in a query, as written, and the name DuckDB sees it under.
 *
 * @param placeholder the view name that replaces the reference in the query DuckDB runs
 * @param written the reference as the user wrote it, time travel clause included
 * @param table the Iceberg table
 * @param metadata the metadata table read, or null for the table's rows
 * @param travel the version asked for, or null for the current snapshot
 */
record TableReference(
    String placeholder,
    String written,
    TableIdentifier table,
    MetadataTableType metadata,
    TimeTravel travel) {
  TableReference {
    requireNonNull(placeholder, "placeholder is null");
    requireNonNull(written, "written is null");
    requireNonNull(table, "table is null");
  }

  /** A time travel clause: a snapshot id, a branch or tag name, or a point in time. */
  record TimeTravel(Kind kind, String expression) {
    enum Kind {
      /** {@code FOR VERSION AS OF <expression>}: a snapshot id, or a branch or tag name. */
      VERSION,
      /** {@code FOR TIMESTAMP AS OF <expression>}. */
      TIMESTAMP,
      /** Spark's {@code t.branch_<name>} and {@code t.tag_<name>}: the expression is the name. */
      REF
    }

    TimeTravel {
      requireNonNull(kind, "kind is null");
      requireNonNull(expression, "expression is null");
    }
  }
}
