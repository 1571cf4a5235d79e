package io.floe.sql.pgwire;

import static java.util.Objects.requireNonNull;

import io.floe.sql.SqlColumn;

/** A result column as a RowDescription describes it. */
record PgColumn(String name, PgType type, int typeModifier) {
  PgColumn {
    requireNonNull(name, "name is null");
    requireNonNull(type, "type is null");
  }

  static PgColumn of(SqlColumn column) {
    return new PgColumn(
        column.name(), PgType.of(column.type()), PgType.typeModifier(column.type()));
  }

  static PgColumn text(String name) {
    return new PgColumn(name, PgType.TEXT, -1);
  }
}
