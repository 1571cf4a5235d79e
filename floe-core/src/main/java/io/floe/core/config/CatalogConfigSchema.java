package io.floe.core.config;

import static io.floe.core.config.ConfigKey.optional;
import static io.floe.core.config.ConfigKey.required;

import io.floe.core.config.ConfigSection.Kind;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The keys of the configuration file's {@code catalog} and {@code principals} sections, declared
 * once, and how their values become a {@link CatalogConfig} and {@link PrincipalConfig}s; part of
 * {@link FloeConfigSchema}.
 */
final class CatalogConfigSchema {
  private static final Duration MINIMUM_TOKEN_LIFETIME = Duration.ofMinutes(1);
  private static final Duration MAXIMUM_TOKEN_LIFETIME = Duration.ofHours(24);

  static final ConfigKey<Boolean> ENABLED =
      optional(
          "enabled",
          ValueType.bool(),
          "true",
          "Whether `floe run` and `floe demo` serve the Iceberg REST catalog, so that Spark,"
              + " Trino, Flink, PyIceberg and DuckDB read and write the warehouse's tables.");
  static final ConfigKey<String> LISTEN_ADDRESS =
      optional(
          "listen-address",
          ValueType.string().where(address -> !address.isEmpty(), "must not be empty"),
          "127.0.0.1",
          "Address the REST catalog binds; `0.0.0.0` accepts connections on every interface.");
  static final ConfigKey<Integer> PORT =
      optional(
          "port",
          ValueType.integer(0, 65535),
          "8181",
          "Port of the REST catalog (`http://<address>:<port>/` is the URI engines are given);"
              + " `0` picks a free port, which is logged.");
  static final ConfigKey<String> DATABASE =
      optional(
          "database",
          ValueType.string()
              .where(
                  url -> url.isEmpty() || url.startsWith("jdbc:postgresql://"),
                  "must be empty or start with jdbc:postgresql://"),
          "",
          "JDBC URL of a PostgreSQL database that holds the catalog, such as"
              + " `jdbc:postgresql://db.internal:5432/floe`, so that a team shares one metastore;"
              + " every process (`floe run`, `floe sql`, `floe maintain`) on the warehouse opens"
              + " it, and the maintenance history is kept there too. Empty keeps the catalog in"
              + " the embedded SQLite file `catalog.db` of the warehouse directory (of"
              + " `state-directory` for a warehouse in object storage).");
  static final ConfigKey<String> DATABASE_USER =
      optional("database-user", ValueType.string(), "", "User of the catalog database.");
  static final ConfigKey<String> DATABASE_PASSWORD =
      optional(
          "database-password",
          ValueType.string(),
          "",
          "Password of the catalog database user. Write `${CATALOG_PASSWORD}` to keep it out of"
              + " the file.");
  static final ConfigKey<Duration> TOKEN_LIFETIME =
      optional(
          "token-lifetime",
          ValueType.duration()
              .where(
                  lifetime ->
                      lifetime.compareTo(MINIMUM_TOKEN_LIFETIME) >= 0
                          && lifetime.compareTo(MAXIMUM_TOKEN_LIFETIME) <= 0,
                  "must be between 1m and 24h"),
          "1h",
          "How long a bearer token issued by `POST /v1/oauth/tokens` is valid; clients such as"
              + " Iceberg's fetch a new one before it expires.");
  static final ConfigKey<Boolean> ANONYMOUS_ACCESS =
      optional(
          "anonymous-access",
          ValueType.bool(),
          "false",
          "Whether REST catalog requests without a token are served. Leave it off unless every"
              + " client that can reach the port may read and change every table.");

  static final ConfigKey<String> PRINCIPAL_NAME =
      required(
          "name",
          ValueType.lowercaseName(),
          "Name of the principal: its OAuth2 client id for the REST catalog and its user name"
              + " for the SQL endpoints. Unique within `principals` and `sql.users`.");
  static final ConfigKey<String> PRINCIPAL_SECRET =
      required(
          "secret",
          ValueType.string()
              .where(secret -> secret.length() >= 4, "must have at least 4 characters"),
          "Secret of the principal: its OAuth2 client secret and its SQL password. Write"
              + " `${SPARK_SECRET}` (any environment variable) to keep it out of the file. The"
              + " REST catalog keeps only a salted hash of it.");
  static final ConfigKey<String> PRINCIPAL_WORKGROUP =
      optional(
          "workgroup",
          ValueType.lowercaseName(),
          SqlConfig.PRIMARY_WORKGROUP,
          "Workgroup whose limits apply to the principal's SQL queries: `primary` or the name of"
              + " a workgroup declared in `sql.workgroups`.");

  static final ConfigSection CATALOG =
      new ConfigSection(
          "catalog",
          Kind.OPTIONAL,
          "The Iceberg catalog of the warehouse: where it is kept, and the Iceberg REST catalog"
              + " endpoint that serves it to other engines.",
          List.of(
              ENABLED,
              LISTEN_ADDRESS,
              PORT,
              DATABASE,
              DATABASE_USER,
              DATABASE_PASSWORD,
              TOKEN_LIFETIME,
              ANONYMOUS_ACCESS),
          List.of());
  static final ConfigSection PRINCIPALS =
      new ConfigSection(
          "principals",
          Kind.LIST,
          "Users and services that may use the REST catalog and the SQL endpoints. Every REST"
              + " catalog request needs a token issued to one of them, unless"
              + " `catalog.anonymous-access` is on.",
          List.of(PRINCIPAL_NAME, PRINCIPAL_SECRET, PRINCIPAL_WORKGROUP),
          List.of());

  private CatalogConfigSchema() {}

  static CatalogConfig catalog(ConfigValues values) {
    String database = values.get(DATABASE);
    return new CatalogConfig(
        values.get(ENABLED),
        values.get(LISTEN_ADDRESS),
        values.get(PORT),
        database.isEmpty() ? Optional.empty() : Optional.of(database),
        values.get(DATABASE_USER),
        values.get(DATABASE_PASSWORD),
        values.get(TOKEN_LIFETIME),
        values.get(ANONYMOUS_ACCESS));
  }

  static List<PrincipalConfig> principals(List<ConfigValues> values) {
    return values.stream()
        .map(
            principal ->
                new PrincipalConfig(
                    principal.get(PRINCIPAL_NAME),
                    principal.get(PRINCIPAL_SECRET),
                    principal.get(PRINCIPAL_WORKGROUP)))
        .toList();
  }
}
