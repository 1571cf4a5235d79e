package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;

/**
 * The catalog: its database (the embedded SQLite file in the warehouse unless {@code database}
 * names another), and the Iceberg REST catalog endpoint that serves it to other engines. A port of
 * 0 means a free port is picked when the endpoint starts. {@link #toString()} hides the database
 * password so the record can be logged.
 *
 * @param enabled whether {@code floe run} serves the REST catalog
 * @param database JDBC URL of the catalog database, empty for the embedded SQLite file
 * @param anonymousAccess whether requests without a token are served (as principal {@code
 *     anonymous})
 */
public record CatalogConfig(
    boolean enabled,
    String listenAddress,
    int port,
    Optional<String> database,
    String databaseUser,
    String databasePassword,
    Duration tokenLifetime,
    boolean anonymousAccess) {
  public CatalogConfig {
    requireNonNull(listenAddress, "listenAddress is null");
    requireNonNull(database, "database is null");
    requireNonNull(databaseUser, "databaseUser is null");
    requireNonNull(databasePassword, "databasePassword is null");
    requireNonNull(tokenLifetime, "tokenLifetime is null");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port is out of range: " + port);
    }
  }

  /** The configuration used when the file has no {@code catalog} section. */
  public static CatalogConfig defaults() {
    // Through FloeConfigSchema, which initializes CatalogConfigSchema: the other way round, the
    // root section would be built before the catalog section it holds.
    return FloeConfigSchema.catalogDefaults();
  }

  /** This configuration with the REST catalog on another address and port. */
  public CatalogConfig withEndpoint(String address, int newPort) {
    return new CatalogConfig(
        enabled,
        address,
        newPort,
        database,
        databaseUser,
        databasePassword,
        tokenLifetime,
        anonymousAccess);
  }

  @Override
  public String toString() {
    return ("CatalogConfig[enabled=%s, listenAddress=%s, port=%d, database=%s, databaseUser=%s,"
            + " databasePassword=***, tokenLifetime=%s, anonymousAccess=%s]")
        .formatted(
            enabled,
            listenAddress,
            port,
            database.orElse("(embedded)"),
            databaseUser,
            tokenLifetime,
            anonymousAccess);
  }
}
