package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;

/**
 * The MariaDB server a pipeline captures changes from, through its binary log. Tables are always
 * qualified ({@code database.table}). {@link #toString()} hides the password so the record can be
 * logged.
 *
 * @param url {@code jdbc:mariadb://host:port/} with an optional database
 * @param keys the key columns of tables without a primary key, by table
 * @param changeLog tables written as an append-only change log, one row per change
 * @param serverId the id Floe's binlog client presents to the server, unique among its replicas
 */
public record MariaDbSourceConfig(
    SourceType type,
    String url,
    String user,
    String password,
    List<String> tables,
    Map<String, List<String>> keys,
    List<String> changeLog,
    int serverId)
    implements SourceConfig {
  public MariaDbSourceConfig {
    requireNonNull(type, "type is null");
    requireNonNull(url, "url is null");
    requireNonNull(user, "user is null");
    requireNonNull(password, "password is null");
    tables = List.copyOf(requireNonNull(tables, "tables is null"));
    keys = Map.copyOf(requireNonNull(keys, "keys is null"));
    changeLog = List.copyOf(requireNonNull(changeLog, "changeLog is null"));
    if (serverId <= 0) {
      throw new IllegalArgumentException("serverId must be positive: " + serverId);
    }
  }

  /** A source without change-log tables. */
  public MariaDbSourceConfig(
      SourceType type,
      String url,
      String user,
      String password,
      List<String> tables,
      Map<String, List<String>> keys,
      int serverId) {
    this(type, url, user, password, tables, keys, List.of(), serverId);
  }

  /** A source whose tables all have primary keys. */
  public MariaDbSourceConfig(
      SourceType type,
      String url,
      String user,
      String password,
      List<String> tables,
      int serverId) {
    this(type, url, user, password, tables, Map.of(), serverId);
  }

  @Override
  public String toString() {
    return "MariaDbSourceConfig[type=%s, url=%s, user=%s, password=%s, tables=%s, keys=%s, changeLog=%s, serverId=%d]"
        .formatted(
            type, url, user, password.isEmpty() ? "" : "****", tables, keys, changeLog, serverId);
  }
}
