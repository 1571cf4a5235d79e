package io.floe.sql;

import static java.util.Objects.requireNonNull;

/**
 * A result column: its name and DuckDB type name, such as {@code INTEGER}, {@code DECIMAL(10,2)},
 * {@code TIMESTAMP WITH TIME ZONE}, {@code VARCHAR[]} or {@code STRUCT(a INTEGER)}.
 */
public record SqlColumn(String name, String type) {
  public SqlColumn {
    requireNonNull(name, "name is null");
    requireNonNull(type, "type is null");
  }
}
