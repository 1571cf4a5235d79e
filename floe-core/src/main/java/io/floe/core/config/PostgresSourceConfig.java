package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;

/**
 * The PostgreSQL database a pipeline captures changes from. Tables are always qualified ({@code
 * schema.table}). {@link #toString()} hides the password so the record can be logged.
 *
 * @param keys the key columns of tables without a primary key, by table
 * @param changeLog tables written as an append-only change log, one row per change
 */
public record PostgresSourceConfig(
    SourceType type,
    String url,
    String user,
    String password,
    List<String> tables,
    Map<String, List<String>> keys,
    List<String> changeLog,
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
    keys = Map.copyOf(requireNonNull(keys, "keys is null"));
    changeLog = List.copyOf(requireNonNull(changeLog, "changeLog is null"));
    requireNonNull(slotName, "slotName is null");
    requireNonNull(publication, "publication is null");
    requireNonNull(unboundedNumeric, "unboundedNumeric is null");
  }

  /** A source without change-log tables. */
  public PostgresSourceConfig(
      SourceType type,
      String url,
      String user,
      String password,
      List<String> tables,
      Map<String, List<String>> keys,
      String slotName,
      String publication,
      UnboundedNumeric unboundedNumeric) {
    this(
        type,
        url,
        user,
        password,
        tables,
        keys,
        List.of(),
        slotName,
        publication,
        unboundedNumeric);
  }

  /** A source whose tables all have primary keys. */
  public PostgresSourceConfig(
      SourceType type,
      String url,
      String user,
      String password,
      List<String> tables,
      String slotName,
      String publication,
      UnboundedNumeric unboundedNumeric) {
    this(type, url, user, password, tables, Map.of(), slotName, publication, unboundedNumeric);
  }

  @Override
  public String toString() {
    return "PostgresSourceConfig[type=%s, url=%s, user=%s, password=%s, tables=%s, keys=%s, changeLog=%s, slotName=%s, publication=%s, unboundedNumeric=%s]"
        .formatted(
            type,
            url,
            user,
            password.isEmpty() ? "" : "****",
            tables,
            keys,
            changeLog,
            slotName,
            publication,
            unboundedNumeric);
  }
}
