package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/**
 * SQL, in DuckDB's dialect, that a stream pipeline applies to each record after enrichment: the
 * record's output fields, and a filter.
 *
 * @param select select-list items over the record's fields, such as {@code lower(email) AS email}
 * @param where a predicate; records for which it is not true are dropped
 */
public record TransformConfig(List<String> select, Optional<String> where) {
  public TransformConfig {
    select = List.copyOf(requireNonNull(select, "select is null"));
    requireNonNull(where, "where is null");
    if (select.isEmpty()) {
      throw new IllegalArgumentException("select is empty");
    }
  }
}
