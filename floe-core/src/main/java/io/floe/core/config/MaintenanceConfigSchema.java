package io.floe.core.config;

import static io.floe.core.config.ConfigKey.derived;
import static io.floe.core.config.ConfigKey.optional;
import static io.floe.core.config.ConfigKey.required;

import io.floe.core.config.ConfigSection.Kind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The keys of the configuration file's {@code maintenance} section, declared once, and how their
 * values become a {@link MaintenanceConfig}; part of {@link FloeConfigSchema}.
 */
final class MaintenanceConfigSchema {
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

  private MaintenanceConfigSchema() {}

  /** Builds the {@code maintenance} section's record from values read without problems. */
  static MaintenanceConfig build(ConfigValues values) {
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
      ConfigValues maintenance = FloeConfigSchema.defaultRoot().section(MAINTENANCE);
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
}
