package io.floe.ingest.mariadb;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.net.URI;

/** Host and port of a MariaDB JDBC URL ({@code jdbc:mariadb://host:port/database?options}). */
record MariaDbAddress(String host, int port) {
  static final int DEFAULT_PORT = 3306;

  static MariaDbAddress parse(String url) {
    try {
      URI uri = URI.create(url.substring("jdbc:".length()));
      if (uri.getHost() == null) {
        throw new IllegalArgumentException("no host");
      }
      return new MariaDbAddress(uri.getHost(), uri.getPort() < 0 ? DEFAULT_PORT : uri.getPort());
    } catch (IllegalArgumentException | StringIndexOutOfBoundsException e) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Cannot use source.url "
              + url
              + ": "
              + e.getMessage()
              + "; write it as jdbc:mariadb://host:port/ or jdbc:mariadb://host:port/database");
    }
  }
}
