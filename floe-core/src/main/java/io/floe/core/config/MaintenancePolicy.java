package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * How one table is maintained: its data files are compacted when {@code compact} is on (toward
 * {@code targetFileSize}, see the keys); snapshots committed more than {@code expireOlderThan} ago
 * expire, except the {@code retainLast} most recent and the milestones; the current snapshot's data
 * manifests are rewritten when there are more than {@code rewriteManifestsAbove}; unreferenced
 * files older than {@code orphanOlderThan} are deleted.
 *
 * <p>Each value comes from the first of: the table's property {@code floe.maintenance.<key>}, the
 * entry of {@code maintenance.tables} naming the table, the entry naming its namespace, the {@code
 * maintenance} section, the key's default ({@link MaintenanceConfig#effectivePolicy}).
 *
 * @param targetFileSize size in bytes compacted files aim at
 * @param compactMinInputFiles fewest small files of a partition worth compacting together
 * @param compactDeleteRatio a data file whose deleted rows make up at least this fraction of its
 *     rows is rewritten to fold them away
 * @param sortOrder sort order of compacted files, as Spark's {@code sort_order} argument writes it
 *     ({@code "id DESC NULLS LAST, name"}); empty for none
 */
public record MaintenancePolicy(
    Duration expireOlderThan,
    int retainLast,
    Milestones milestones,
    Duration orphanOlderThan,
    int rewriteManifestsAbove,
    boolean compact,
    long targetFileSize,
    int compactMinInputFiles,
    double compactDeleteRatio,
    String sortOrder) {

  /**
   * Snapshots kept for time travel at a coarser grain: the first snapshot of each UTC day or month.
   */
  public enum Milestones {
    NONE,
    DAILY,
    MONTHLY
  }

  /**
   * The keys of a policy, named as in the configuration's {@code maintenance} section and, prefixed
   * with {@link #TABLE_PROPERTY_PREFIX}, as table properties.
   */
  public enum Key {
    EXPIRE_OLDER_THAN("expire-older-than", Duration.class),
    RETAIN_LAST("retain-last", Integer.class),
    MILESTONES("milestones", Milestones.class),
    ORPHAN_OLDER_THAN("orphan-older-than", Duration.class),
    REWRITE_MANIFESTS_ABOVE("rewrite-manifests-above", Integer.class),
    COMPACT("compact", Boolean.class),
    TARGET_FILE_SIZE("target-file-size", Long.class),
    COMPACT_MIN_INPUT_FILES("compact-min-input-files", Integer.class),
    COMPACT_DELETE_RATIO("compact-delete-ratio", Double.class),
    SORT_ORDER("sort-order", String.class);

    /** Table properties with this prefix set a table's policy: {@code floe.maintenance.<key>}. */
    public static final String TABLE_PROPERTY_PREFIX = "floe.maintenance.";

    private final String configName;
    private final Class<?> valueType;

    Key(String configName, Class<?> valueType) {
      this.configName = configName;
      this.valueType = valueType;
    }

    /** The key's name in the configuration file, such as {@code retain-last}. */
    public String configName() {
      return configName;
    }

    /** The table property that sets the key, such as {@code floe.maintenance.retain-last}. */
    public String tableProperty() {
      return TABLE_PROPERTY_PREFIX + configName;
    }

    /** The Java type of the key's values. */
    public Class<?> valueType() {
      return valueType;
    }

    /** The key with this configuration name, such as {@code retain-last}. */
    public static Optional<Key> named(String configName) {
      requireNonNull(configName, "configName is null");
      return Arrays.stream(values()).filter(key -> key.configName.equals(configName)).findFirst();
    }

    /** Checks that {@code value} may be this key's value, and returns it. */
    Object check(Object value) {
      requireNonNull(value, () -> configName + " is null");
      if (!valueType.isInstance(value)) {
        throw new IllegalArgumentException(
            configName + " must be a " + valueType.getSimpleName() + ", not " + value.getClass());
      }
      return value;
    }
  }

  public MaintenancePolicy {
    requireNonNull(expireOlderThan, "expireOlderThan is null");
    requireNonNull(milestones, "milestones is null");
    requireNonNull(orphanOlderThan, "orphanOlderThan is null");
    requireNonNull(sortOrder, "sortOrder is null");
  }

  /** Every key at its declared default. */
  public static MaintenancePolicy defaults() {
    return MaintenanceConfigSchema.policyDefaults();
  }

  /** The value of one key: a Duration, Integer, Milestones, Boolean, Long, Double or String. */
  public Object value(Key key) {
    requireNonNull(key, "key is null");
    return switch (key) {
      case EXPIRE_OLDER_THAN -> expireOlderThan;
      case RETAIN_LAST -> retainLast;
      case MILESTONES -> milestones;
      case ORPHAN_OLDER_THAN -> orphanOlderThan;
      case REWRITE_MANIFESTS_ABOVE -> rewriteManifestsAbove;
      case COMPACT -> compact;
      case TARGET_FILE_SIZE -> targetFileSize;
      case COMPACT_MIN_INPUT_FILES -> compactMinInputFiles;
      case COMPACT_DELETE_RATIO -> compactDeleteRatio;
      case SORT_ORDER -> sortOrder;
    };
  }

  /** The value of one key as the configuration file writes it: {@code 1h}, {@code 512MB}. */
  public String text(Key key) {
    return MaintenanceConfigSchema.formatPolicyValue(key, value(key));
  }

  /** Every key's value, in the order of {@link Key}. */
  public Map<Key, Object> values() {
    Map<Key, Object> values = new EnumMap<>(Key.class);
    for (Key key : Key.values()) {
      values.put(key, value(key));
    }
    return Collections.unmodifiableMap(values);
  }

  /** The policy of every key's value; {@code values} must hold every key. */
  static MaintenancePolicy of(Map<Key, Object> values) {
    for (Key key : Key.values()) {
      key.check(values.get(key));
    }
    return new MaintenancePolicy(
        (Duration) values.get(Key.EXPIRE_OLDER_THAN),
        (Integer) values.get(Key.RETAIN_LAST),
        (Milestones) values.get(Key.MILESTONES),
        (Duration) values.get(Key.ORPHAN_OLDER_THAN),
        (Integer) values.get(Key.REWRITE_MANIFESTS_ABOVE),
        (Boolean) values.get(Key.COMPACT),
        (Long) values.get(Key.TARGET_FILE_SIZE),
        (Integer) values.get(Key.COMPACT_MIN_INPUT_FILES),
        (Double) values.get(Key.COMPACT_DELETE_RATIO),
        (String) values.get(Key.SORT_ORDER));
  }
}
