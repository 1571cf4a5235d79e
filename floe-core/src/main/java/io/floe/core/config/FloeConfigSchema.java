package io.floe.core.config;

import static io.floe.core.config.ConfigKey.derived;
import static io.floe.core.config.ConfigKey.optional;
import static io.floe.core.config.ConfigKey.required;

import com.fasterxml.jackson.databind.node.MissingNode;
import io.floe.core.config.ConfigSection.Kind;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Every key of the configuration file, declared once, and how the values become records. */
final class FloeConfigSchema {
  private static final ValueType<String> NAME = ValueType.lowercaseName();
  private static final ValueType<String> POSTGRES_NAME =
      ValueType.matching(
          "[a-z0-9_]{1,63}", "must be 1 to 63 lowercase letters, digits or underscores");
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]*");
  private static final ValueType<String> TABLE =
      ValueType.parsed(
          "table",
          FloeConfigSchema::qualifiedTable,
          "must be schema.table, or table for a table in schema public, where each name starts"
              + " with a letter or underscore followed by letters, digits, underscores or $");
  private static final Pattern TABLE_KEY_PATTERN =
      Pattern.compile(
          "\\s*([A-Za-z0-9_$.]+)\\s*\\(\\s*([A-Za-z0-9_$]+(?:\\s*,\\s*[A-Za-z0-9_$]+)*)\\s*\\)\\s*");
  private static final ValueType<String> TABLE_KEY =
      ValueType.parsed(
          "table key",
          text -> {
            java.util.regex.Matcher matcher = TABLE_KEY_PATTERN.matcher(text);
            return matcher.matches()
                ? Optional.of(matcher.group(1) + "(" + matcher.group(2).replaceAll("\\s", "") + ")")
                : Optional.empty();
          },
          "must be table (column, ...), such as shop.events (event_id, seq)");
  private static final ValueType<String> MARIADB_TABLE =
      ValueType.parsed(
          "table",
          FloeConfigSchema::databaseTable,
          "must be database.table, where each name is letters, digits, underscores or $");
  private static final Duration MINIMUM_COMMIT_INTERVAL = Duration.ofMillis(100);
  private static final Duration MAXIMUM_COMMIT_INTERVAL = Duration.ofHours(1);
  private static final Duration MINIMUM_QUERY_TIMEOUT = Duration.ofSeconds(1);
  private static final Duration MAXIMUM_QUERY_TIMEOUT = Duration.ofHours(24);
  private static final Duration MAXIMUM_RESULT_REUSE = Duration.ofDays(7);

  /** A bucket name as S3 allows it: 3 to 63 lowercase letters, digits, dots and hyphens. */
  private static final Pattern S3_LOCATION =
      Pattern.compile("s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^/]+)*/?");

  static final ConfigKey<String> WAREHOUSE =
      optional(
          "warehouse",
          ValueType.parsed(
              "path or s3:// location",
              FloeConfigSchema::warehouseLocation,
              "must be a directory path, or s3://bucket/prefix for S3-compatible object storage"
                  + " (other schemes are not supported; reach other stores through their S3"
                  + " API)"),
          "./floe-data",
          "Where Floe keeps its Iceberg tables: a local directory (a relative path resolves"
              + " against the directory of the configuration file), which also holds the"
              + " embedded catalog database `catalog.db` and the SQL engine's work files, or"
              + " `s3://bucket/prefix` in S3-compatible object storage (see `storage`), whose"
              + " catalog database and work files are kept in `state-directory`.");
  static final ConfigKey<Path> STATE_DIRECTORY =
      optional(
          "state-directory",
          ValueType.path(),
          "./floe-data",
          "Local directory of a warehouse in object storage: the embedded catalog database"
              + " `catalog.db` (unless `catalog.database` names a PostgreSQL database) and the"
              + " SQL engine's work files and cache. A relative path resolves against the"
              + " directory of the configuration file. Only for an `s3://` warehouse; a local"
              + " warehouse keeps these in its own directory.");

  static final ConfigKey<String> STORAGE_ENDPOINT =
      optional(
          "endpoint",
          ValueType.string()
              .where(
                  endpoint ->
                      endpoint.isEmpty()
                          || endpoint.startsWith("http://")
                          || endpoint.startsWith("https://"),
                  "must be empty or start with http:// or https://"),
          "",
          "S3 API endpoint of the object storage, such as `http://minio.internal:9000`; empty"
              + " for AWS S3's endpoint of `region`.");
  static final ConfigKey<String> STORAGE_REGION =
      optional(
          "region",
          ValueType.string().where(region -> !region.isEmpty(), "must not be empty"),
          "us-east-1",
          "Region of the bucket, which requests are signed for; S3-compatible servers usually"
              + " accept `us-east-1`.");
  static final ConfigKey<Boolean> STORAGE_PATH_STYLE_ACCESS =
      optional(
          "path-style-access",
          ValueType.bool(),
          "false",
          "Whether buckets are addressed as `<endpoint>/<bucket>` instead of"
              + " `<bucket>.<endpoint>`; most S3-compatible servers (MinIO, Ceph, s3proxy) need"
              + " `true`.");
  static final ConfigKey<String> STORAGE_ACCESS_KEY_ID =
      optional(
          "access-key-id",
          ValueType.string(),
          "",
          "Access key id; empty (together with `secret-access-key`) uses the AWS SDK's default"
              + " credentials: environment, profile or instance role.");
  static final ConfigKey<String> STORAGE_SECRET_ACCESS_KEY =
      optional(
          "secret-access-key",
          ValueType.string(),
          "",
          "Secret access key of `access-key-id`. Write `${S3_SECRET_ACCESS_KEY}` (any"
              + " environment variable) to keep it out of the file; it is never logged.");

  static final ConfigKey<String> PIPELINE_NAME =
      required(
          "name",
          NAME,
          "Name of the pipeline, used in logs and as the base of default names. Unique within the"
              + " file.");
  static final ConfigKey<Duration> COMMIT_INTERVAL =
      optional(
          "commit-interval",
          ValueType.duration()
              .where(
                  interval ->
                      interval.compareTo(MINIMUM_COMMIT_INTERVAL) >= 0
                          && interval.compareTo(MAXIMUM_COMMIT_INTERVAL) <= 0,
                  "must be between 100ms and 1h"),
          "1s",
          "How often captured changes are committed to the Iceberg tables. Shorter intervals give"
              + " fresher data but more, smaller files.");

  static final ConfigKey<SourceType> SOURCE_TYPE =
      required(
          "type",
          ValueType.enumeration(SourceType.class),
          "Kind of source: `postgres` or `mariadb` (a database's changes), `kafka` (records of"
              + " topics) or `http` (records POSTed to Floe).");
  static final ConfigKey<String> URL =
      required(
          "url",
          ValueType.string()
              .where(
                  url -> url.startsWith("jdbc:postgresql://"),
                  "must start with jdbc:postgresql://"),
          "JDBC URL of the database, such as `jdbc:postgresql://127.0.0.1:5432/shop`.");
  static final ConfigKey<String> USER =
      required(
          "user",
          ValueType.string().where(user -> !user.isEmpty(), "must not be empty"),
          "Database user; it needs the REPLICATION attribute and SELECT on the captured tables.");
  static final ConfigKey<String> PASSWORD =
      optional(
          "password",
          ValueType.string(),
          "",
          "Password of the user. Write `${PGPASSWORD}` to keep it out of the file.");
  static final ConfigKey<List<String>> TABLES =
      required(
          "tables",
          ValueType.distinctList("list of tables", TABLE)
              .where(tables -> !tables.isEmpty(), "must list at least one table"),
          "Tables to capture, each written `schema.table` or `table`.");
  static final ConfigKey<String> SLOT_NAME =
      derived(
          "slot-name",
          POSTGRES_NAME,
          "`floe_` + pipeline name",
          prefixedPipelineName("floe_"),
          "Logical replication slot Floe reads changes from; it holds the pipeline's position in"
              + " the write-ahead log.");
  static final ConfigKey<String> PUBLICATION =
      derived(
          "publication",
          POSTGRES_NAME,
          "`floe_` + pipeline name",
          prefixedPipelineName("floe_"),
          "PostgreSQL publication that lists the captured tables.");
  static final ConfigKey<UnboundedNumeric> UNBOUNDED_NUMERIC =
      optional(
          "unbounded-numeric",
          ValueType.enumeration(UnboundedNumeric.class),
          "decimal",
          "How PostgreSQL `numeric` columns declared without precision are stored: `decimal` ="
              + " Iceberg `decimal(38,10)` (a value that does not fit exactly stops the pipeline"
              + " with an error naming the column), `string` = exact text.");

  static final ConfigKey<String> MARIADB_URL =
      required(
          "url",
          ValueType.string()
              .where(
                  url -> url.startsWith("jdbc:mariadb://") || url.startsWith("jdbc:mysql://"),
                  "must start with jdbc:mariadb://"),
          "JDBC URL of the server, such as `jdbc:mariadb://127.0.0.1:3306/shop`; the database in"
              + " it is only where Floe connects, the tables name theirs.");
  static final ConfigKey<String> MARIADB_USER =
      required(
          "user",
          ValueType.string().where(user -> !user.isEmpty(), "must not be empty"),
          "Database user; it needs `SELECT`, `RELOAD`, `REPLICATION SLAVE` and `BINLOG MONITOR`"
              + " (`REPLICATION CLIENT` before MariaDB 10.5).");
  static final ConfigKey<List<String>> MARIADB_TABLES =
      required(
          "tables",
          ValueType.distinctList("list of tables", MARIADB_TABLE)
              .where(tables -> !tables.isEmpty(), "must list at least one table"),
          "Tables to capture, each written `database.table`.");
  static final ConfigKey<Integer> SERVER_ID =
      derived(
          "server-id",
          ValueType.integer(1, Integer.MAX_VALUE),
          "a number from 100000 to 999999 derived from the pipeline name",
          values -> {
            String name = values.parent().get(PIPELINE_NAME);
            return name == null
                ? null
                : Integer.toString(100_000 + Math.floorMod(name.hashCode(), 900_000));
          },
          "Id of Floe's binlog client among the server's replicas: every client of one server"
              + " needs its own, so give one when two Floe installations read the same server.");

  static final ConfigKey<List<String>> KEYS =
      optional(
          "keys",
          ValueType.distinctList("list of table keys", TABLE_KEY),
          "[]",
          "Keys of tables without a primary key, each written `table (column, ...)` with the table"
              + " as `tables` names it: columns whose values you vouch are unique and never null in"
              + " the table (rows sharing a key would collapse into one). Without an entry, a table"
              + " without a primary key is refused. A PostgreSQL table also needs `REPLICA IDENTITY"
              + " FULL`, so that updates and deletes carry the key's old values.");

  private static final String CHANGE_LOG_DOC =
      "Tables written as an append-only change log instead of a copy: one row per change, with"
          + " the row's columns (the new values; a delete's old ones) and `_op` (`read`, `insert`,"
          + " `update`, `delete` or `truncate`), `_position` (the source position of the change)"
          + " and `_committed_at` (when the source committed it). For tables without a primary"
          + " key whose rows you cannot key, or to keep every version. PostgreSQL sources only so"
          + " far; the table needs `REPLICA IDENTITY FULL`, so that updates and deletes carry"
          + " their old values.";
  static final ConfigKey<List<String>> CHANGE_LOG =
      optional("change-log", ValueType.distinctList("list of tables", TABLE), "[]", CHANGE_LOG_DOC);
  static final ConfigKey<List<String>> MARIADB_CHANGE_LOG =
      optional(
          "change-log",
          ValueType.distinctList("list of tables", MARIADB_TABLE),
          "[]",
          CHANGE_LOG_DOC);

  static final ConfigKey<String> NAMESPACE =
      derived(
          "namespace",
          NAME,
          "the pipeline name",
          prefixedPipelineName(""),
          "Iceberg namespace that receives one table per captured source table, or a stream"
              + " pipeline's table and dead-letter table.");

  static final ConfigKey<String> LISTEN_ADDRESS =
      optional(
          "listen-address",
          ValueType.string().where(address -> !address.isEmpty(), "must not be empty"),
          "127.0.0.1",
          "Address the SQL endpoints bind; `0.0.0.0` accepts connections on every interface.");
  static final ConfigKey<Integer> POSTGRES_PORT =
      optional(
          "postgres-port",
          ValueType.integer(0, 65535),
          "5433",
          "Port of the PostgreSQL wire protocol endpoint; `0` picks a free port, which is logged.");
  static final ConfigKey<Integer> HTTP_PORT =
      optional(
          "http-port",
          ValueType.integer(0, 65535),
          "8080",
          "Port of the HTTP query API; `0` picks a free port, which is logged.");
  static final ConfigKey<Duration> QUERY_TIMEOUT =
      optional(
          "query-timeout",
          ValueType.duration()
              .where(
                  timeout ->
                      timeout.compareTo(MINIMUM_QUERY_TIMEOUT) >= 0
                          && timeout.compareTo(MAXIMUM_QUERY_TIMEOUT) <= 0,
                  "must be between 1s and 24h"),
          "5m",
          "Queries running longer are cancelled.");
  static final ConfigKey<Integer> MAX_QUERY_LENGTH =
      optional(
          "max-query-length",
          ValueType.integer(1, 10_000_000),
          "1000000",
          "Longest accepted query text, in characters; longer queries are refused.");
  static final ConfigKey<Long> CACHE_SIZE =
      optional(
          "cache-size",
          ValueType.byteSize(),
          "10GB",
          "Bound of the local cache of data files fetched from object storage.");
  static final ConfigKey<Long> RESIDENT_SIZE =
      optional(
          "resident-size",
          ValueType.byteSize(),
          "1GB",
          "Memory (estimated) for large data files of tables queried in the last 10 minutes, held"
              + " with their deleted rows removed so that queries do not apply position deletes;"
              + " 0 holds none.");

  static final ConfigKey<String> SQL_USER_NAME =
      required("name", NAME, "Name the user logs in with. Unique within `sql.users`.");
  static final ConfigKey<String> SQL_USER_PASSWORD =
      required(
          "password",
          ValueType.string().where(password -> !password.isEmpty(), "must not be empty"),
          "Password of the user. Write `${ANALYST_PASSWORD}` (any environment variable) to keep"
              + " it out of the file.");
  static final ConfigKey<String> SQL_USER_WORKGROUP =
      optional(
          "workgroup",
          NAME,
          SqlConfig.PRIMARY_WORKGROUP,
          "Workgroup whose limits apply to the user's queries: `primary` or the name of a"
              + " workgroup declared in `sql.workgroups`.");

  static final ConfigKey<String> WORKGROUP_NAME =
      required(
          "name",
          NAME,
          "Name of the workgroup, referred to by `sql.users[].workgroup`. Unique within"
              + " `sql.workgroups`; declaring `primary` sets the limits of the default"
              + " workgroup.");
  static final ConfigKey<Long> BYTES_SCANNED_LIMIT =
      optional(
          "bytes-scanned-limit",
          ValueType.byteSizeOrUnlimited(),
          "unlimited",
          "Queries whose plan would scan more bytes of data files are refused before they run.");
  static final ConfigKey<Duration> RESULT_REUSE =
      optional(
          "result-reuse",
          ValueType.duration()
              .where(
                  reuse -> !reuse.isNegative() && reuse.compareTo(MAXIMUM_RESULT_REUSE) <= 0,
                  "must be between 0s and 168h (7 days)"),
          "0s",
          "How long an identical query over unchanged tables is answered from its stored result;"
              + " `0s` turns result reuse off.");

  // The type is read first; each type allows its own keys after it.
  static final ConfigSection SOURCE =
      new ConfigSection(
          "source",
          Kind.REQUIRED,
          "The database or stream to capture changes or records from.",
          List.of(SOURCE_TYPE),
          List.of(),
          sourceVariants());

  private static Map<String, List<ConfigKey<?>>> sourceVariants() {
    Map<String, List<ConfigKey<?>>> variants = new LinkedHashMap<>();
    variants.put(
        "postgres",
        List.of(
            URL,
            USER,
            PASSWORD,
            TABLES,
            KEYS,
            CHANGE_LOG,
            SLOT_NAME,
            PUBLICATION,
            UNBOUNDED_NUMERIC));
    variants.put(
        "mariadb",
        List.of(
            MARIADB_URL,
            MARIADB_USER,
            PASSWORD,
            MARIADB_TABLES,
            KEYS,
            MARIADB_CHANGE_LOG,
            SERVER_ID));
    variants.put("kafka", StreamConfigSchema.KAFKA_KEYS);
    variants.put("http", StreamConfigSchema.HTTP_KEYS);
    return variants;
  }

  static final ConfigSection TARGET =
      new ConfigSection(
          "target",
          Kind.OPTIONAL,
          "Where the captured changes are written.",
          Stream.concat(Stream.of(NAMESPACE), StreamConfigSchema.TARGET_KEYS.stream()).toList(),
          List.of());
  static final ConfigSection PIPELINES =
      new ConfigSection(
          "pipelines",
          Kind.LIST,
          "Pipelines to run, each copying changes from one source database into one Iceberg"
              + " namespace.",
          List.of(PIPELINE_NAME, COMMIT_INTERVAL),
          List.of(
              SOURCE,
              TARGET,
              ProcessingConfigSchema.ENRICH,
              ProcessingConfigSchema.TRANSFORM,
              ProcessingConfigSchema.QUALITY));
  static final ConfigSection SQL_USERS =
      new ConfigSection(
          "users",
          Kind.LIST,
          "Users allowed to run SQL queries.",
          List.of(SQL_USER_NAME, SQL_USER_PASSWORD, SQL_USER_WORKGROUP),
          List.of());
  static final ConfigSection WORKGROUPS =
      new ConfigSection(
          "workgroups",
          Kind.LIST,
          "Limits shared by the queries of the users of a workgroup. The `primary` workgroup"
              + " exists without being declared, with no scan limit and no result reuse.",
          List.of(WORKGROUP_NAME, BYTES_SCANNED_LIMIT, RESULT_REUSE),
          List.of());
  static final ConfigSection SQL =
      new ConfigSection(
          "sql",
          Kind.OPTIONAL,
          "SQL access to the Iceberg tables through the PostgreSQL wire protocol and an HTTP"
              + " query API.",
          List.of(
              LISTEN_ADDRESS,
              POSTGRES_PORT,
              HTTP_PORT,
              QUERY_TIMEOUT,
              MAX_QUERY_LENGTH,
              CACHE_SIZE,
              RESIDENT_SIZE),
          List.of(SQL_USERS, WORKGROUPS));
  static final ConfigSection STORAGE =
      new ConfigSection(
          "storage",
          Kind.OPTIONAL,
          "How Floe reaches a warehouse in S3-compatible object storage (`warehouse:"
              + " s3://bucket/prefix`); only for such a warehouse.",
          List.of(
              STORAGE_ENDPOINT,
              STORAGE_REGION,
              STORAGE_PATH_STYLE_ACCESS,
              STORAGE_ACCESS_KEY_ID,
              STORAGE_SECRET_ACCESS_KEY),
          List.of());
  static final ConfigSection ROOT =
      ConfigSection.root(
          List.of(WAREHOUSE, STATE_DIRECTORY),
          List.of(
              STORAGE,
              PIPELINES,
              SQL,
              MaintenanceConfigSchema.MAINTENANCE,
              CatalogConfigSchema.CATALOG,
              CatalogConfigSchema.PRINCIPALS));

  /** A complete configuration file, shown in the reference documentation. */
  static final String EXAMPLE =
      """
      warehouse: ./floe-data
      pipelines:
        - name: shop
          source:
            type: postgres
            url: jdbc:postgresql://127.0.0.1:5432/shop
            user: floe
            password: ${PGPASSWORD}
            tables: [public.customers, public.orders, public.products]
          target:
            namespace: raw
          commit-interval: 1s
          quality:
            - check: not_null
              table: public.orders
              columns: [customer_id]
              action: block
        - name: clicks
          source:
            type: kafka
            bootstrap-servers: 127.0.0.1:9092
            topics: [clicks]
            format: json
          target:
            namespace: raw
            mode: append
            columns: [event_id string, user_id long, url string, event_time timestamptz]
            partition-by: [day(event_time)]
            unknown-fields: add
          enrich:
            - table: raw.products
              key: [id]
              on: [product_id]
              columns: [name AS product_name, price]
              missing: hold
              hold-for: 1m
              snapshot-column: products_snapshot
          transform:
            select: ["* EXCLUDE (debug)", "lower(url) AS url"]
            where: "user_id IS NOT NULL"
          quality:
            - check: referential
              column: user_id
              reference: raw.customers
              reference-column: id
              action: quarantine
            - check: freshness
              column: event_time
              max-age: 1h
        - name: devices
          source:
            type: http
          target:
            namespace: raw
            mode: upsert
            key: [device_id]
            columns: [device_id string, temperature double, seen_at timestamptz]
          commit-interval: 500ms
      sql:
        listen-address: 127.0.0.1
        postgres-port: 5433
        http-port: 8080
        query-timeout: 5m
        cache-size: 10GB
        resident-size: 1GB
        users:
          - name: analyst
            password: ${ANALYST_PASSWORD}
            workgroup: adhoc
        workgroups:
          - name: adhoc
            bytes-scanned-limit: 1GB
            result-reuse: 10m
      maintenance:
        interval: 1h
        max-concurrent-tables: 2
        max-io-rate: 64MB
        expire-older-than: 5d
        retain-last: 100
        orphan-older-than: 3d
        target-file-size: 256MB
        tables:
          - name: raw.*
            milestones: daily
          - name: raw.orders
            retain-last: 500
            sort-order: customer_id, created_at DESC
      catalog:
        listen-address: 127.0.0.1
        port: 8181
        token-lifetime: 1h
      principals:
        - name: spark
          secret: ${SPARK_SECRET}
        - name: bi
          secret: ${BI_SECRET}
          workgroup: adhoc
      """;

  private FloeConfigSchema() {}

  /**
   * Reports pipelines that share a name; names must be unique because defaults derive from them.
   */
  static void checkPipelineNames(ConfigValues root, ConfigReader reader) {
    checkUnique(root.list(PIPELINES), PIPELINE_NAME, "pipelines", "pipeline", reader);
    List<ConfigValues> pipelines = root.list(PIPELINES);
    for (int index = 0; index < pipelines.size(); index++) {
      ConfigValues pipeline = pipelines.get(index);
      StreamConfigSchema.check(pipeline, "pipelines[" + index + "]", reader);
      ConfigValues source = pipeline.section(SOURCE);
      SourceType type = source == null ? null : source.get(SOURCE_TYPE);
      if (type != null) {
        List<String> tables =
            switch (type) {
              case POSTGRES -> source.get(TABLES);
              case MARIADB -> source.get(MARIADB_TABLES);
              case KAFKA, HTTP -> List.of();
            };
        if (type.database()) {
          checkTableKeys(source, "pipelines[" + index + "]", type, tables, reader);
          checkTablePartitionings(
              pipeline.section(TARGET), "pipelines[" + index + "]", type, tables, reader);
        }
        ProcessingConfigSchema.check(
            pipeline,
            "pipelines[" + index + "]",
            !type.database(),
            tables == null ? List.of() : tables,
            reader);
      }
    }
  }

  /** Reports entries of {@code maintenance.tables} that name the same table or namespace. */
  static void checkMaintenance(ConfigValues root, ConfigReader reader) {
    checkUnique(
        root.section(MaintenanceConfigSchema.MAINTENANCE)
            .list(MaintenanceConfigSchema.MAINTENANCE_TABLES),
        MaintenanceConfigSchema.MAINTENANCE_TABLE_NAME,
        "maintenance.tables",
        "table",
        reader);
  }

  /**
   * Reports users, principals and workgroups that share a name, and users and principals whose
   * workgroup is neither {@code primary} nor declared.
   */
  static void checkSql(ConfigValues root, ConfigReader reader) {
    ConfigValues sql = root.section(SQL);
    List<ConfigValues> users = sql.list(SQL_USERS);
    List<ConfigValues> principals = root.list(CatalogConfigSchema.PRINCIPALS);
    List<ConfigValues> workgroups = sql.list(WORKGROUPS);
    checkUnique(users, SQL_USER_NAME, "sql.users", "user", reader);
    checkUnique(principals, CatalogConfigSchema.PRINCIPAL_NAME, "principals", "principal", reader);
    Set<String> userNames = new LinkedHashSet<>();
    users.forEach(user -> userNames.add(user.get(SQL_USER_NAME)));
    for (int index = 0; index < principals.size(); index++) {
      String name = principals.get(index).get(CatalogConfigSchema.PRINCIPAL_NAME);
      if (name != null && userNames.contains(name)) {
        reader.problem(
            "principals[" + index + "].name",
            "'"
                + name
                + "' is also a user in sql.users; principals log in to the SQL endpoints too,"
                + " so remove one of the two");
      }
    }
    checkUnique(workgroups, WORKGROUP_NAME, "sql.workgroups", "workgroup", reader);
    Set<String> allowed = new LinkedHashSet<>();
    allowed.add(SqlConfig.PRIMARY_WORKGROUP);
    for (ConfigValues workgroup : workgroups) {
      String name = workgroup.get(WORKGROUP_NAME);
      if (name == null) {
        return; // An invalid workgroup name is reported already; do not guess what was meant.
      }
      allowed.add(name);
    }
    checkWorkgroups(users, SQL_USER_WORKGROUP, "sql.users", allowed, reader);
    checkWorkgroups(
        principals, CatalogConfigSchema.PRINCIPAL_WORKGROUP, "principals", allowed, reader);
  }

  private static void checkWorkgroups(
      List<ConfigValues> elements,
      ConfigKey<String> key,
      String path,
      Set<String> allowed,
      ConfigReader reader) {
    for (int index = 0; index < elements.size(); index++) {
      String workgroup = elements.get(index).get(key);
      if (workgroup != null && !allowed.contains(workgroup)) {
        reader.problem(
            path + "[" + index + "]." + key.name(),
            "unknown workgroup '"
                + workgroup
                + "'; allowed workgroups: "
                + String.join(", ", allowed));
      }
    }
  }

  /** Reports elements of a list section whose {@code key} repeats that of an earlier element. */
  private static void checkUnique(
      List<ConfigValues> elements,
      ConfigKey<String> key,
      String path,
      String noun,
      ConfigReader reader) {
    Map<String, Integer> firstIndexes = new HashMap<>();
    for (int index = 0; index < elements.size(); index++) {
      String name = elements.get(index).get(key);
      Integer first = name == null ? null : firstIndexes.putIfAbsent(name, index);
      if (first != null) {
        reader.problem(
            path + "[" + index + "]." + key.name(),
            "duplicate "
                + noun
                + " name '"
                + name
                + "', already used by "
                + path
                + "["
                + first
                + "]");
      }
    }
  }

  /** Builds the records from values read without problems. */
  static FloeConfig build(ConfigValues root, Path baseDirectory) {
    return new FloeConfig(
        warehouse(root, baseDirectory),
        root.list(PIPELINES).stream().map(FloeConfigSchema::pipeline).toList(),
        sql(root.section(SQL)),
        MaintenanceConfigSchema.build(root.section(MaintenanceConfigSchema.MAINTENANCE)),
        CatalogConfigSchema.catalog(root.section(CatalogConfigSchema.CATALOG)),
        CatalogConfigSchema.principals(root.list(CatalogConfigSchema.PRINCIPALS)));
  }

  private static WarehouseConfig warehouse(ConfigValues root, Path baseDirectory) {
    String location = root.get(WAREHOUSE);
    StorageConfig storage = storage(root.section(STORAGE));
    if (!location.startsWith(WarehouseConfig.S3_PREFIX)) {
      Path directory = baseDirectory.resolve(location).toAbsolutePath().normalize();
      return new WarehouseConfig(directory.toString(), directory, storage);
    }
    return new WarehouseConfig(
        location,
        baseDirectory.resolve(root.get(STATE_DIRECTORY)).toAbsolutePath().normalize(),
        storage);
  }

  private static StorageConfig storage(ConfigValues values) {
    String endpoint = values.get(STORAGE_ENDPOINT);
    return new StorageConfig(
        endpoint.isEmpty() ? Optional.empty() : Optional.of(endpoint),
        values.get(STORAGE_REGION),
        values.get(STORAGE_PATH_STYLE_ACCESS),
        values.get(STORAGE_ACCESS_KEY_ID),
        values.get(STORAGE_SECRET_ACCESS_KEY));
  }

  /** The {@code catalog} section of a file that has none. */
  static CatalogConfig catalogDefaults() {
    return CatalogConfigSchema.catalog(defaultRoot().section(CatalogConfigSchema.CATALOG));
  }

  /** The {@code storage} section of a file that has none. */
  static StorageConfig storageDefaults() {
    return storage(defaultRoot().section(STORAGE));
  }

  /**
   * Reports {@code state-directory} and {@code storage} keys written for a local warehouse, where
   * they would be ignored, and an access key id without its secret or the other way round.
   */
  static void checkStorage(ConfigValues root, ConfigReader reader) {
    String location = root.get(WAREHOUSE);
    if (location == null) {
      return; // Reported already.
    }
    boolean local = !location.startsWith(WarehouseConfig.S3_PREFIX);
    if (local && root.written(STATE_DIRECTORY)) {
      reader.problem(
          STATE_DIRECTORY.name(),
          "only a warehouse in object storage (warehouse: s3://bucket/prefix) has a separate"
              + " state directory; the local warehouse "
              + location
              + " keeps its state in its own directory, so remove state-directory");
    }
    ConfigValues storage = root.section(STORAGE);
    for (ConfigKey<?> key : STORAGE.keys()) {
      if (local && storage.written(key)) {
        reader.problem(
            STORAGE.name() + "." + key.name(),
            "only a warehouse in object storage (warehouse: s3://bucket/prefix) uses the storage"
                + " section; the local warehouse "
                + location
                + " does not, so remove the key or set warehouse to an s3:// location");
      }
    }
    String accessKeyId = storage.get(STORAGE_ACCESS_KEY_ID);
    String secretAccessKey = storage.get(STORAGE_SECRET_ACCESS_KEY);
    if (accessKeyId != null && secretAccessKey != null && !local) {
      if (!accessKeyId.isEmpty() && secretAccessKey.isEmpty()) {
        reader.problem(
            STORAGE.name() + "." + STORAGE_SECRET_ACCESS_KEY.name(),
            "missing while storage.access-key-id is set; set both keys, or neither to use the"
                + " AWS SDK's default credentials");
      } else if (accessKeyId.isEmpty() && !secretAccessKey.isEmpty()) {
        reader.problem(
            STORAGE.name() + "." + STORAGE_ACCESS_KEY_ID.name(),
            "missing while storage.secret-access-key is set; set both keys, or neither to use"
                + " the AWS SDK's default credentials");
      }
    }
  }

  /** The location as written, an s3:// one without its trailing slash; empty when invalid. */
  private static Optional<String> warehouseLocation(String text) {
    if (text.isEmpty()) {
      return Optional.empty();
    }
    if (text.contains("://")) {
      return S3_LOCATION.matcher(text).matches()
          ? Optional.of(text.endsWith("/") ? text.substring(0, text.length() - 1) : text)
          : Optional.empty();
    }
    try {
      return Optional.of(Path.of(text).toString());
    } catch (InvalidPathException e) {
      return Optional.empty();
    }
  }

  /** The {@code maintenance} section of a file that has none. */
  static MaintenanceConfig maintenanceDefaults() {
    return MaintenanceConfigSchema.build(
        defaultRoot().section(MaintenanceConfigSchema.MAINTENANCE));
  }

  /** The configuration of a file with nothing in it: every key at its declared default. */
  static ConfigValues defaultRoot() {
    ConfigReader reader = new ConfigReader(Map.of());
    ConfigValues root = reader.readRoot(ROOT, MissingNode.getInstance());
    if (!reader.problems().isEmpty()) {
      throw new IllegalStateException("invalid default: " + String.join("; ", reader.problems()));
    }
    return root;
  }

  /** The {@code sql} section of a file that has none: every key read from its declared default. */
  static SqlConfig sqlDefaults() {
    return sql(defaultRoot().section(SQL));
  }

  private static SqlConfig sql(ConfigValues values) {
    return new SqlConfig(
        values.get(LISTEN_ADDRESS),
        values.get(POSTGRES_PORT),
        values.get(HTTP_PORT),
        values.get(QUERY_TIMEOUT),
        values.get(MAX_QUERY_LENGTH),
        values.get(CACHE_SIZE),
        values.get(RESIDENT_SIZE),
        values.list(SQL_USERS).stream()
            .map(
                user ->
                    new SqlUserConfig(
                        user.get(SQL_USER_NAME),
                        user.get(SQL_USER_PASSWORD),
                        user.get(SQL_USER_WORKGROUP)))
            .toList(),
        values.list(WORKGROUPS).stream()
            .map(
                workgroup ->
                    new WorkgroupConfig(
                        workgroup.get(WORKGROUP_NAME),
                        workgroup.get(BYTES_SCANNED_LIMIT),
                        workgroup.get(RESULT_REUSE)))
            .toList());
  }

  private static PipelineConfig pipeline(ConfigValues values) {
    ConfigValues source = values.section(SOURCE);
    ConfigValues target = values.section(TARGET);
    SourceConfig sourceConfig =
        switch (source.get(SOURCE_TYPE)) {
          case POSTGRES ->
              new PostgresSourceConfig(
                  source.get(SOURCE_TYPE),
                  source.get(URL),
                  source.get(USER),
                  source.get(PASSWORD),
                  source.get(TABLES),
                  tableKeys(source.get(KEYS), FloeConfigSchema::qualifiedTable),
                  source.get(CHANGE_LOG),
                  source.get(SLOT_NAME),
                  source.get(PUBLICATION),
                  source.get(UNBOUNDED_NUMERIC));
          case MARIADB ->
              new MariaDbSourceConfig(
                  source.get(SOURCE_TYPE),
                  source.get(MARIADB_URL),
                  source.get(MARIADB_USER),
                  source.get(PASSWORD),
                  source.get(MARIADB_TABLES),
                  tableKeys(source.get(KEYS), FloeConfigSchema::databaseTable),
                  source.get(MARIADB_CHANGE_LOG),
                  source.get(SERVER_ID));
          case KAFKA -> StreamConfigSchema.kafka(source);
          case HTTP -> StreamConfigSchema.http(source);
        };
    return new PipelineConfig(
        values.get(PIPELINE_NAME),
        sourceConfig,
        sourceConfig.streaming()
            ? new TargetConfig(target.get(NAMESPACE), Optional.of(StreamConfigSchema.table(target)))
            : new TargetConfig(
                target.get(NAMESPACE),
                Optional.empty(),
                tablePartitionings(
                    target.get(StreamConfigSchema.PARTITION_BY), qualifier(sourceConfig.type()))),
        values.get(COMMIT_INTERVAL),
        ProcessingConfigSchema.enrich(values),
        ProcessingConfigSchema.transform(values),
        ProcessingConfigSchema.quality(values));
  }

  private static Function<ConfigValues, String> prefixedPipelineName(String prefix) {
    return values -> {
      String name = values.parent().get(PIPELINE_NAME);
      return name == null ? null : prefix + name;
    };
  }

  /**
   * The columns of each {@code keys} entry by its table, named as {@code qualify} names tables
   * ({@code orders} is {@code public.orders} for PostgreSQL); an entry whose table does not parse
   * is kept as written, for {@link #checkTableKeys} to report.
   */
  private static Map<String, List<String>> tableKeys(
      List<String> entries, Function<String, Optional<String>> qualify) {
    Map<String, List<String>> keys = new LinkedHashMap<>();
    for (String entry : entries) {
      int open = entry.indexOf('(');
      String table = entry.substring(0, open);
      keys.put(
          qualify.apply(table).orElse(table),
          List.of(entry.substring(open + 1, entry.length() - 1).split(",", -1)));
    }
    return keys;
  }

  /**
   * The fields of each table of a database pipeline's {@code partition-by}, by the table named as
   * {@code qualify} names tables; entries that are not {@code table (transform, ...)} are left out,
   * for {@link #checkTablePartitionings} to report.
   */
  private static Map<String, List<StreamTableConfig.PartitionField>> tablePartitionings(
      List<String> entries, Function<String, Optional<String>> qualify) {
    Map<String, List<StreamTableConfig.PartitionField>> partitionings = new LinkedHashMap<>();
    for (String entry : entries) {
      StreamConfigSchema.tablePartitioning(entry)
          .ifPresent(
              parsed ->
                  partitionings.put(
                      qualify.apply(parsed.getKey()).orElse(parsed.getKey()), parsed.getValue()));
    }
    return partitionings;
  }

  /**
   * Reports a database pipeline's {@code partition-by} entries that are not {@code table
   * (transform, ...)}, or whose table {@code tables} does not list, or that repeat a table.
   */
  static void checkTablePartitionings(
      ConfigValues target, String path, SourceType type, List<String> tables, ConfigReader reader) {
    List<String> entries = target == null ? null : target.get(StreamConfigSchema.PARTITION_BY);
    if (entries == null || tables == null) {
      return; // Reported already.
    }
    Set<String> seen = new LinkedHashSet<>();
    for (int index = 0; index < entries.size(); index++) {
      String entry = entries.get(index);
      String at = path + ".target.partition-by[" + index + "]";
      var parsed = StreamConfigSchema.tablePartitioning(entry);
      if (parsed.isEmpty()) {
        reader.problem(
            at,
            "a database source writes one table per source table: write each entry as the table"
                + " and its transforms, such as 'orders (day(created_at), bucket(16, id))'");
        continue;
      }
      String table = qualifier(type).apply(parsed.get().getKey()).orElse(parsed.get().getKey());
      if (!tables.contains(table)) {
        reader.problem(
            at,
            "table "
                + table
                + " is not in source.tables; list it there, or remove its partitioning (write"
                + " each entry as table (transform, ...), such as 'orders (day(created_at))')");
      } else if (!seen.add(table)) {
        reader.problem(at, "table " + table + " is partitioned twice; keep one entry for it");
      }
    }
  }

  /** How a database source's configuration qualifies the tables it names. */
  private static Function<String, Optional<String>> qualifier(SourceType type) {
    return type == SourceType.POSTGRES
        ? FloeConfigSchema::qualifiedTable
        : FloeConfigSchema::databaseTable;
  }

  /**
   * Reports {@code keys} entries of tables that {@code tables} does not list, and {@code
   * change-log} entries that it does not list or that have a key entry.
   */
  static void checkTableKeys(
      ConfigValues source, String path, SourceType type, List<String> tables, ConfigReader reader) {
    List<String> entries = source.get(KEYS);
    if (entries == null || tables == null) {
      return; // Reported already.
    }
    Map<String, List<String>> keys = tableKeys(entries, qualifier(type));
    int index = 0;
    for (String table : keys.keySet()) {
      if (!tables.contains(table)) {
        reader.problem(
            path + ".source.keys[" + index + "]",
            "table " + table + " is not in source.tables; list it there, or remove its key");
      }
      index++;
    }
    List<String> changeLog =
        source.get(type == SourceType.POSTGRES ? CHANGE_LOG : MARIADB_CHANGE_LOG);
    if (changeLog == null) {
      return; // Reported already.
    }
    for (index = 0; index < changeLog.size(); index++) {
      String table = changeLog.get(index);
      if (type != SourceType.POSTGRES) {
        reader.problem(
            path + ".source.change-log[" + index + "]",
            "change logs are written from PostgreSQL sources only so far; give table "
                + table
                + " a key in source.keys (keys: [\""
                + table
                + " (column, ...)\"]), or add a primary key");
      } else if (!tables.contains(table)) {
        reader.problem(
            path + ".source.change-log[" + index + "]",
            "table " + table + " is not in source.tables; list it there, or remove it here");
      } else if (keys.containsKey(table)) {
        reader.problem(
            path + ".source.change-log[" + index + "]",
            "table "
                + table
                + " is in source.keys too; a change log has no key: remove one of the entries");
      }
    }
  }

  private static Optional<String> databaseTable(String text) {
    String[] names = text.split("\\.", -1);
    return names.length == 2
            && Arrays.stream(names).allMatch(name -> name.matches("[A-Za-z0-9_$]{1,64}"))
        ? Optional.of(text)
        : Optional.empty();
  }

  private static Optional<String> qualifiedTable(String text) {
    String[] names = text.split("\\.", -1);
    if (names.length > 2
        || !Arrays.stream(names).allMatch(name -> IDENTIFIER.matcher(name).matches())) {
      return Optional.empty();
    }
    return Optional.of(names.length == 1 ? "public." + text : text);
  }
}
