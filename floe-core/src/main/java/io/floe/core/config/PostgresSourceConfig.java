package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * The PostgreSQL database a pipeline captures changes from. Tables are always qualified ({@code
 * schema.table}). {@link #toString()} hides the password so the record can be logged.
 */
public record PostgresSourceConfig(
    SourceType type,
    String url,
    String user,
    String password,
    List<String> tables,
    String slotName,
    String publication,
    UnboundedNumeric unboundedNumeric)
    implements SourceConfig {
  public PostgresSourceConfig {
    requireNonNull(type, "type is null");
    requireNonNull(url, "url is null");
    requireNonNull(user, "user is null");
    requireNonNull(password, "password is null");
    tables = List.copyOf(requireNonNull(tables, "tables is null"));
    requireNonNull(slotName, "slotName is null");
    requireNonNull(publication, "publication is null");
    requireNonNull(unboundedNumeric, "unboundedNumeric is null");
  }

  @Override
  public String toString() {
    return "PostgresSourceConfig[type=%s, url=%s, user=%s, password=%s, tables=%s, slotName=%s, publication=%s, unboundedNumeric=%s]"
        .formatted(
            type,
            url,
            user,
            password.isEmpty() ? "" : "****",
            tables,
            slotName,
            publication,
            unboundedNumeric);
  }
}
