package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * The MariaDB server a pipeline captures changes from, through its binary log. Tables are always
 * qualified ({@code database.table}). {@link #toString()} hides the password so the record can be
 * logged.
 *
 * @param url {@code jdbc:mariadb://host:port/} with an optional database
 * @param serverId the id Floe's binlog client presents to the server, unique among its replicas
 */
public record MariaDbSourceConfig(
    SourceType type, String url, String user, String password, List<String> tables, int serverId)
    implements SourceConfig {
  public MariaDbSourceConfig {
    requireNonNull(type, "type is null");
    requireNonNull(url, "url is null");
    requireNonNull(user, "user is null");
    requireNonNull(password, "password is null");
    tables = List.copyOf(requireNonNull(tables, "tables is null"));
    if (serverId <= 0) {
      throw new IllegalArgumentException("serverId must be positive: " + serverId);
    }
  }

  @Override
  public String toString() {
    return "MariaDbSourceConfig[type=%s, url=%s, user=%s, password=%s, tables=%s, serverId=%d]"
        .formatted(type, url, user, password.isEmpty() ? "" : "****", tables, serverId);
  }
}
