package io.floe.core.config;

import static io.floe.core.config.ConfigKey.derived;
import static io.floe.core.config.ConfigKey.optional;
import static io.floe.core.config.ConfigKey.required;

import com.fasterxml.jackson.databind.node.MissingNode;
import io.floe.core.config.ConfigSection.Kind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/** Every key of the configuration file, declared once, and how the values become records. */
final class FloeConfigSchema {
  private static final ValueType<String> NAME =
      ValueType.matching(
          "[a-z][a-z0-9_]{0,39}",
          "must start with a lowercase letter followed by at most 39 lowercase letters,"
              + " digits or underscores");
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
  private static final Duration MINIMUM_COMMIT_INTERVAL = Duration.ofMillis(100);
  private static final Duration MAXIMUM_COMMIT_INTERVAL = Duration.ofHours(1);
  private static final Duration MINIMUM_QUERY_TIMEOUT = Duration.ofSeconds(1);
  private static final Duration MAXIMUM_QUERY_TIMEOUT = Duration.ofHours(24);
  private static final Duration MAXIMUM_RESULT_REUSE = Duration.ofDays(7);
  private static final Duration MINIMUM_MAINTENANCE_INTERVAL = Duration.ofSeconds(1);
  private static final Duration MAXIMUM_MAINTENANCE_INTERVAL = Duration.ofDays(7);
  private static final Duration MINIMUM_ORPHAN_AGE = Duration.ofMinutes(1);
  private static final ValueType<Duration> EXPIRE_AGE =
      ValueType.duration().where(age -> !age.isNegative(), "must be 0s or longer");
  private static final ValueType<Duration> ORPHAN_AGE =
      ValueType.duration()
          .where(
              age -> age.compareTo(MINIMUM_ORPHAN_AGE) >= 0,
              "must be 1m or longer, since younger files may belong to a commit in progress");
  private static final ValueType<Integer> RETAIN_COUNT = ValueType.integer(1, Integer.MAX_VALUE);
  private static final ValueType<Integer> MANIFEST_COUNT = ValueType.integer(2, Integer.MAX_VALUE);
  private static final ValueType<MaintenancePolicy.Milestones> MILESTONE_CHOICE =
      ValueType.enumeration(MaintenancePolicy.Milestones.class);
  private static final ValueType<Long> TARGET_SIZE =
      ValueType.byteSize().where(size -> size > 0, "must be greater than 0");
  private static final ValueType<Integer> MIN_INPUT_FILES = ValueType.integer(1, Integer.MAX_VALUE);
  private static final ValueType<Double> DELETE_RATIO =
      ValueType.decimal().where(ratio -> ratio > 0, "must be greater than 0");
  private static final String SORT_TERM =
      "[A-Za-z_][A-Za-z0-9_$]*(\\.[A-Za-z_][A-Za-z0-9_$]*)*"
          + "(\\s+(?i:asc|desc))?(\\s+(?i:nulls)\\s+(?i:first|last))?";
  private static final ValueType<String> SORT_ORDER_TEXT =
      ValueType.matching(
          "|\\s*" + SORT_TERM + "(\\s*,\\s*" + SORT_TERM + ")*\\s*",
          "must be empty, or columns separated by commas, each optionally followed by ASC or"
              + " DESC and by NULLS FIRST or NULLS LAST (such as id DESC NULLS LAST, name)");
  private static final int MAXIMUM_CONCURRENT_TABLES = 64;
  private static final ValueType<String> MAINTENANCE_TABLE =
      ValueType.matching(
          "[^.\\s*]+(\\.[^.\\s*]+)*\\.([^.\\s*]+|\\*)",
          "must be namespace.table, or namespace.* for every table of the namespace");

  static final ConfigKey<Path> WAREHOUSE =
      optional(
          "warehouse",
          ValueType.path(),
          "./floe-data",
          "Directory where Floe keeps its Iceberg tables and catalog. A relative path resolves"
              + " against the directory of the configuration file.");

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
      required("type", ValueType.enumeration(SourceType.class), "Kind of source database.");
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

  static final ConfigKey<String> NAMESPACE =
      derived(
          "namespace",
          NAME,
          "the pipeline name",
          prefixedPipelineName(""),
          "Iceberg namespace that receives one table per captured source table.");

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

  static final ConfigKey<Boolean> MAINTENANCE_ENABLED =
      optional(
          "enabled",
          ValueType.bool(),
          "true",
          "Whether `floe run` maintains the tables of the warehouse while it replicates.");
  static final ConfigKey<Duration> MAINTENANCE_INTERVAL =
      optional(
          "interval",
          ValueType.duration()
              .where(
                  interval ->
                      interval.compareTo(MINIMUM_MAINTENANCE_INTERVAL) >= 0
                          && interval.compareTo(MAXIMUM_MAINTENANCE_INTERVAL) <= 0,
                  "must be between 1s and 7d"),
          "1m",
          "How often every table of every namespace is checked and the maintenance that is due"
              + " runs, `max-concurrent-tables` tables at a time. A CDC table commits every"
              + " second, so deleted rows gather fast: checking every minute keeps compaction"
              + " ahead of them, and a check that finds nothing due only plans the table. Orphan"
              + " file removal, which lists the table's files, runs at most once a day per table.");
  static final ConfigKey<Integer> MAX_CONCURRENT_TABLES =
      optional(
          "max-concurrent-tables",
          ValueType.integer(1, MAXIMUM_CONCURRENT_TABLES),
          "1",
          "How many tables are maintained at once. The operations of one table always run one"
              + " after another. Raise it when a pass over many tables takes longer than"
              + " `interval`; each table maintained at once takes a thread and competes with"
              + " ingestion and queries for the disks.");
  static final ConfigKey<Long> MAX_IO_RATE =
      optional(
          "max-io-rate",
          ValueType.byteSizeOrUnlimited(),
          "64MB",
          "Bytes per second that compaction (`compact`) may read and write, shared by every table"
              + " maintained at once, so that ingestion and queries on the same disks keep their"
              + " pace. The default leaves most of a common disk to them (a SATA SSD moves about"
              + " 500 MB/s, a cloud block volume 125 to 250 MB/s) and still compacts a 512 MiB"
              + " group of files, read once and written once, in about 16 seconds. `0` or"
              + " `unlimited` removes the bound. Snapshot expiry, orphan file removal and manifest"
              + " rewrites are not bounded: they read and delete metadata, not data.");
  static final ConfigKey<Duration> EXPIRE_OLDER_THAN =
      optional(
          "expire-older-than",
          EXPIRE_AGE,
          "10m",
          "Snapshots committed longer ago expire, and the files only they reference are deleted,"
              + " except the most recent (`retain-last`) and the milestones. This is how far back"
              + " time travel reaches. A pipeline commits about once per `commit-interval`, and"
              + " every snapshot kept makes the metadata file that each commit writes and each"
              + " query reads larger: at one commit a second, an hour of snapshots is a 3.7 MB"
              + " metadata file, with which the writer's commits take 1.5 to 2 times as long and"
              + " loading the table 25 to 43 ms, against 0.6 MB and 5 to 8 ms for 10 minutes"
              + " (`bench/run.sh snapshot-growth`). Keep it short for CDC tables and use"
              + " milestones to keep older points in time.");
  static final ConfigKey<Integer> RETAIN_LAST =
      optional(
          "retain-last",
          RETAIN_COUNT,
          "100",
          "How many of a table's most recent snapshots never expire, whatever their age.");
  static final ConfigKey<MaintenancePolicy.Milestones> MILESTONES =
      optional(
          "milestones",
          MILESTONE_CHOICE,
          "none",
          "Snapshots that never expire, kept for time travel at a coarser grain: `daily` or"
              + " `monthly` keeps the first snapshot of each UTC day or month.");
  static final ConfigKey<Duration> ORPHAN_OLDER_THAN =
      optional(
          "orphan-older-than",
          ORPHAN_AGE,
          "3d",
          "Files under a table's location that its metadata does not reference are deleted once"
              + " they are older than this.");
  static final ConfigKey<Integer> REWRITE_MANIFESTS_ABOVE =
      optional(
          "rewrite-manifests-above",
          MANIFEST_COUNT,
          "20",
          "The data manifests of a table's current snapshot are rewritten, clustered by"
              + " partition, when there are more than this many.");

  static final ConfigKey<Boolean> COMPACT =
      optional(
          "compact",
          ValueType.bool(),
          "true",
          "Whether data files are compacted (rewrite-data-files): small files of a partition are"
              + " rewritten together toward `target-file-size`, and files with many deleted rows"
              + " are rewritten without them. It runs first on every table, every `interval`,"
              + " bounded by `max-io-rate`.");
  static final ConfigKey<Long> TARGET_FILE_SIZE =
      optional(
          "target-file-size",
          TARGET_SIZE,
          "512MB",
          "Size compacted data files aim at; as Iceberg's `write.target-file-size-bytes`.");
  static final ConfigKey<Integer> COMPACT_MIN_INPUT_FILES =
      optional(
          "compact-min-input-files",
          MIN_INPUT_FILES,
          "5",
          "Fewest small files of a partition that are worth compacting together; as Spark's"
              + " `min-input-files`. Files with many deleted rows (`compact-delete-ratio`) are"
              + " rewritten whatever their number.");
  static final ConfigKey<Double> COMPACT_DELETE_RATIO =
      optional(
          "compact-delete-ratio",
          DELETE_RATIO,
          "0.1",
          "A data file whose deleted rows (by position deletes) make up at least this fraction"
              + " of its rows is rewritten without them, whatever its size; a value above 1"
              + " never applies.");
  static final ConfigKey<String> SORT_ORDER =
      optional(
          "sort-order",
          SORT_ORDER_TEXT,
          "",
          "Order of the rows in compacted files, as Spark's `sort_order` argument writes it"
              + " (`id DESC NULLS LAST, name`). Empty sets none: rows follow the table's own sort"
              + " order if it has one (Floe's tables have none), else the order they arrived in.");

  static final ConfigKey<String> MAINTENANCE_TABLE_NAME =
      required(
          "name",
          MAINTENANCE_TABLE,
          "The table (`namespace.table`) or every table of a namespace (`namespace.*`) whose"
              + " policy this entry sets. Unique within `maintenance.tables`.");
  static final ConfigKey<Duration> TABLE_EXPIRE_OLDER_THAN = inherited(EXPIRE_OLDER_THAN);
  static final ConfigKey<Integer> TABLE_RETAIN_LAST = inherited(RETAIN_LAST);
  static final ConfigKey<MaintenancePolicy.Milestones> TABLE_MILESTONES = inherited(MILESTONES);
  static final ConfigKey<Duration> TABLE_ORPHAN_OLDER_THAN = inherited(ORPHAN_OLDER_THAN);
  static final ConfigKey<Integer> TABLE_REWRITE_MANIFESTS_ABOVE =
      inherited(REWRITE_MANIFESTS_ABOVE);
  static final ConfigKey<Boolean> TABLE_COMPACT = inherited(COMPACT);
  static final ConfigKey<Long> TABLE_TARGET_FILE_SIZE = inherited(TARGET_FILE_SIZE);
  static final ConfigKey<Integer> TABLE_COMPACT_MIN_INPUT_FILES =
      inherited(COMPACT_MIN_INPUT_FILES);
  static final ConfigKey<Double> TABLE_COMPACT_DELETE_RATIO = inherited(COMPACT_DELETE_RATIO);
  static final ConfigKey<String> TABLE_SORT_ORDER = inherited(SORT_ORDER);

  /** The keys of a policy in the {@code maintenance} section, declared above. */
  private static final Map<MaintenancePolicy.Key, ConfigKey<?>> POLICY_KEYS =
      policyKeys(
          EXPIRE_OLDER_THAN,
          RETAIN_LAST,
          MILESTONES,
          ORPHAN_OLDER_THAN,
          REWRITE_MANIFESTS_ABOVE,
          COMPACT,
          TARGET_FILE_SIZE,
          COMPACT_MIN_INPUT_FILES,
          COMPACT_DELETE_RATIO,
          SORT_ORDER);

  /** The same keys in an entry of {@code maintenance.tables}. */
  private static final Map<MaintenancePolicy.Key, ConfigKey<?>> TABLE_POLICY_KEYS =
      policyKeys(
          TABLE_EXPIRE_OLDER_THAN,
          TABLE_RETAIN_LAST,
          TABLE_MILESTONES,
          TABLE_ORPHAN_OLDER_THAN,
          TABLE_REWRITE_MANIFESTS_ABOVE,
          TABLE_COMPACT,
          TABLE_TARGET_FILE_SIZE,
          TABLE_COMPACT_MIN_INPUT_FILES,
          TABLE_COMPACT_DELETE_RATIO,
          TABLE_SORT_ORDER);

  // The type is read first; a future source type (mysql) gets its own keys after it.
  static final ConfigSection SOURCE =
      new ConfigSection(
          "source",
          Kind.REQUIRED,
          "The database to capture changes from.",
          List.of(
              SOURCE_TYPE, URL, USER, PASSWORD, TABLES, SLOT_NAME, PUBLICATION, UNBOUNDED_NUMERIC),
          List.of());
  static final ConfigSection TARGET =
      new ConfigSection(
          "target",
          Kind.OPTIONAL,
          "Where the captured changes are written.",
          List.of(NAMESPACE),
          List.of());
  static final ConfigSection PIPELINES =
      new ConfigSection(
          "pipelines",
          Kind.LIST,
          "Pipelines to run, each copying changes from one source database into one Iceberg"
              + " namespace.",
          List.of(PIPELINE_NAME, COMMIT_INTERVAL),
          List.of(SOURCE, TARGET));
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
  static final ConfigSection MAINTENANCE_TABLES =
      new ConfigSection(
          "tables",
          Kind.LIST,
          "Policies of single tables or namespaces. A key left out is inherited: a table's entry"
              + " from its namespace's entry (`namespace.*`), that from the `maintenance` section.",
          concat(List.of(MAINTENANCE_TABLE_NAME), TABLE_POLICY_KEYS.values()),
          List.of());
  static final ConfigSection MAINTENANCE =
      new ConfigSection(
          "maintenance",
          Kind.OPTIONAL,
          "Table maintenance that `floe run` does in the background: compaction, manifest"
              + " rewrite, snapshot expiry and orphan file removal. The keys from"
              + " `expire-older-than` on set the policy of every table; `tables` overrides them"
              + " per table or namespace, and a table property `floe.maintenance.<key>` (such as"
              + " `floe.maintenance.retain-last=20`) overrides both for its table.",
          concat(
              List.of(
                  MAINTENANCE_ENABLED, MAINTENANCE_INTERVAL, MAX_CONCURRENT_TABLES, MAX_IO_RATE),
              POLICY_KEYS.values()),
          List.of(MAINTENANCE_TABLES));
  static final ConfigSection ROOT =
      ConfigSection.root(List.of(WAREHOUSE), List.of(PIPELINES, SQL, MAINTENANCE));

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
            tables: [public.customers, public.orders]
          target:
            namespace: raw
          commit-interval: 1s
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
      """;

  private FloeConfigSchema() {}

  /**
   * Reports pipelines that share a name; names must be unique because defaults derive from them.
   */
  static void checkPipelineNames(ConfigValues root, ConfigReader reader) {
    checkUnique(root.list(PIPELINES), PIPELINE_NAME, "pipelines", "pipeline", reader);
  }

  /** Reports entries of {@code maintenance.tables} that name the same table or namespace. */
  static void checkMaintenance(ConfigValues root, ConfigReader reader) {
    checkUnique(
        root.section(MAINTENANCE).list(MAINTENANCE_TABLES),
        MAINTENANCE_TABLE_NAME,
        "maintenance.tables",
        "table",
        reader);
  }

  /**
   * Reports users and workgroups that share a name, and users whose workgroup is neither {@code
   * primary} nor declared.
   */
  static void checkSql(ConfigValues root, ConfigReader reader) {
    ConfigValues sql = root.section(SQL);
    List<ConfigValues> users = sql.list(SQL_USERS);
    List<ConfigValues> workgroups = sql.list(WORKGROUPS);
    checkUnique(users, SQL_USER_NAME, "sql.users", "user", reader);
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
    for (int index = 0; index < users.size(); index++) {
      String workgroup = users.get(index).get(SQL_USER_WORKGROUP);
      if (workgroup != null && !allowed.contains(workgroup)) {
        reader.problem(
            "sql.users[" + index + "].workgroup",
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
    Path warehouse = baseDirectory.resolve(root.get(WAREHOUSE)).toAbsolutePath().normalize();
    return new FloeConfig(
        warehouse,
        root.list(PIPELINES).stream().map(FloeConfigSchema::pipeline).toList(),
        sql(root.section(SQL)),
        maintenance(root.section(MAINTENANCE)));
  }

  /** The {@code maintenance} section of a file that has none. */
  static MaintenanceConfig maintenanceDefaults() {
    return maintenance(defaultRoot().section(MAINTENANCE));
  }

  private static ConfigValues defaultRoot() {
    ConfigReader reader = new ConfigReader(Map.of());
    ConfigValues root = reader.readRoot(ROOT, MissingNode.getInstance());
    if (!reader.problems().isEmpty()) {
      throw new IllegalStateException("invalid default: " + String.join("; ", reader.problems()));
    }
    return root;
  }

  private static MaintenanceConfig maintenance(ConfigValues values) {
    long maxIoRate = values.get(MAX_IO_RATE);
    Map<MaintenancePolicy.Key, Object> written = new EnumMap<>(MaintenancePolicy.Key.class);
    POLICY_KEYS.forEach(
        (key, configKey) -> {
          if (values.written(configKey)) {
            written.put(key, values.get(configKey));
          }
        });
    return new MaintenanceConfig(
        values.get(MAINTENANCE_ENABLED),
        values.get(MAINTENANCE_INTERVAL),
        values.get(MAX_CONCURRENT_TABLES),
        maxIoRate == Long.MAX_VALUE ? 0 : maxIoRate,
        written,
        values.list(MAINTENANCE_TABLES).stream()
            .map(
                table -> {
                  Map<MaintenancePolicy.Key, Object> set =
                      new EnumMap<>(MaintenancePolicy.Key.class);
                  TABLE_POLICY_KEYS.forEach(
                      (key, configKey) -> {
                        Object value = table.get(configKey);
                        if (value != null) {
                          set.put(key, value);
                        }
                      });
                  return new MaintenanceTableConfig(table.get(MAINTENANCE_TABLE_NAME), set);
                })
            .toList());
  }

  /** Every policy key at its declared default. */
  static MaintenancePolicy policyDefaults() {
    return PolicyDefaults.POLICY;
  }

  /** Holds the defaults, read once on first use. */
  private static final class PolicyDefaults {
    static final MaintenancePolicy POLICY = readPolicyDefaults();

    private static MaintenancePolicy readPolicyDefaults() {
      ConfigValues maintenance = defaultRoot().section(MAINTENANCE);
      Map<MaintenancePolicy.Key, Object> values = new EnumMap<>(MaintenancePolicy.Key.class);
      POLICY_KEYS.forEach((key, configKey) -> values.put(key, maintenance.get(configKey)));
      return MaintenancePolicy.of(values);
    }
  }

  /**
   * Reads a policy value written outside the configuration file (a table property, an option), with
   * the rules of the key's declaration.
   *
   * @param reason receives what is allowed, in words, when the text is invalid
   * @return the value, or null when the text is invalid
   */
  static Object parsePolicyValue(MaintenancePolicy.Key key, String text, StringBuilder reason) {
    List<String> reasons = new ArrayList<>();
    Object value = POLICY_KEYS.get(key).type().parse(text, reasons);
    reason.append(String.join("; ", reasons));
    return value;
  }

  /** A policy value as the configuration file writes it. */
  static String formatPolicyValue(MaintenancePolicy.Key key, Object value) {
    return POLICY_KEYS.get(key).format(key.check(value));
  }

  /** Maps each key of {@link MaintenancePolicy.Key}, in its order, to its declaration. */
  private static Map<MaintenancePolicy.Key, ConfigKey<?>> policyKeys(ConfigKey<?>... declared) {
    MaintenancePolicy.Key[] keys = MaintenancePolicy.Key.values();
    if (declared.length != keys.length) {
      throw new IllegalStateException("expected a declaration for each of " + List.of(keys));
    }
    Map<MaintenancePolicy.Key, ConfigKey<?>> map = new EnumMap<>(MaintenancePolicy.Key.class);
    for (int index = 0; index < keys.length; index++) {
      if (!declared[index].name().equals(keys[index].configName())) {
        throw new IllegalStateException(
            "declaration " + declared[index].name() + " does not match " + keys[index]);
      }
      map.put(keys[index], declared[index]);
    }
    return Collections.unmodifiableMap(map);
  }

  private static List<ConfigKey<?>> concat(
      List<ConfigKey<?>> first, Collection<ConfigKey<?>> second) {
    List<ConfigKey<?>> keys = new ArrayList<>(first);
    keys.addAll(second);
    return keys;
  }

  /**
   * The same key in an entry of {@code maintenance.tables}: without a default of its own, so that a
   * value left out is inherited.
   */
  private static <T> ConfigKey<T> inherited(ConfigKey<T> key) {
    return derived(
        key.name(),
        key.type(),
        "inherited",
        values -> null,
        "Overrides `maintenance." + key.name() + "` for this table or namespace.");
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
    return new PipelineConfig(
        values.get(PIPELINE_NAME),
        new SourceConfig(
            source.get(SOURCE_TYPE),
            source.get(URL),
            source.get(USER),
            source.get(PASSWORD),
            source.get(TABLES),
            source.get(SLOT_NAME),
            source.get(PUBLICATION),
            source.get(UNBOUNDED_NUMERIC)),
        new TargetConfig(values.section(TARGET).get(NAMESPACE)),
        values.get(COMMIT_INTERVAL));
  }

  private static Function<ConfigValues, String> prefixedPipelineName(String prefix) {
    return values -> {
      String name = values.parent().get(PIPELINE_NAME);
      return name == null ? null : prefix + name;
    };
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
