package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.EffectiveMaintenancePolicy.Kind;
import io.floe.core.config.EffectiveMaintenancePolicy.Source;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The {@code maintenance} section: whether {@code floe run} maintains its tables, how often and how
 * many at once, the I/O bound of compaction, the policy values of every table, and per-table or
 * per-namespace overrides. Built by {@link FloeConfigLoader}; {@link #defaults()} when the file has
 * no {@code maintenance} section.
 *
 * @param maxConcurrentTables how many tables are maintained at once; each table's operations run
 *     one after another
 * @param maxIoRate bytes per second that compaction reads and writes, shared by every table
 *     maintained at once; 0 for no bound
 * @param policyValues the policy keys the section sets; every other key takes its default
 * @param tables overrides, each naming one table ({@code namespace.table}) or every table of a
 *     namespace ({@code namespace.*})
 */
public record MaintenanceConfig(
    boolean enabled,
    Duration interval,
    int maxConcurrentTables,
    long maxIoRate,
    Map<MaintenancePolicy.Key, Object> policyValues,
    List<MaintenanceTableConfig> tables) {

  public MaintenanceConfig {
    requireNonNull(interval, "interval is null");
    if (maxConcurrentTables < 1) {
      throw new IllegalArgumentException(
          "maxConcurrentTables must be at least 1, was " + maxConcurrentTables);
    }
    if (maxIoRate < 0) {
      throw new IllegalArgumentException("maxIoRate must not be negative, was " + maxIoRate);
    }
    policyValues = checkedValues(policyValues);
    tables = List.copyOf(requireNonNull(tables, "tables is null"));
  }

  /** The configuration used when the file has no {@code maintenance} section. */
  public static MaintenanceConfig defaults() {
    return FloeConfigSchema.maintenanceDefaults();
  }

  /** The policy of a table that no entry of {@link #tables} names and that has no properties. */
  public MaintenancePolicy defaultPolicy() {
    Map<MaintenancePolicy.Key, Object> values =
        new EnumMap<>(MaintenancePolicy.defaults().values());
    values.putAll(policyValues);
    return MaintenancePolicy.of(values);
  }

  /**
   * The policy of a table from the configuration alone, as {@link #effectivePolicy} without table
   * properties.
   *
   * @param namespace the table's namespace, levels joined by dots
   * @param table the table's name within its namespace
   */
  public MaintenancePolicy policy(String namespace, String table) {
    return effectivePolicy(namespace, table, Map.of()).policy();
  }

  /**
   * The policy of a table and where each value comes from: each value from the table's property
   * {@code floe.maintenance.<key>}, else from the entry of {@link #tables} naming the table, else
   * from the entry of its namespace ({@code namespace.*}), else from the {@code maintenance}
   * section, else the key's default. Properties that do not start with {@code floe.maintenance.}
   * are ignored.
   *
   * @param namespace the table's namespace, levels joined by dots
   * @param table the table's name within its namespace
   * @param tableProperties the table's properties
   * @throws FloeException with {@link ErrorCode#CONFIG_INVALID} naming every {@code
   *     floe.maintenance.*} property whose name is unknown or whose value is invalid
   */
  public EffectiveMaintenancePolicy effectivePolicy(
      String namespace, String table, Map<String, String> tableProperties) {
    requireNonNull(namespace, "namespace is null");
    requireNonNull(table, "table is null");
    requireNonNull(tableProperties, "tableProperties is null");
    String name = namespace + "." + table;
    List<String> problems = new ArrayList<>();
    Map<MaintenancePolicy.Key, Object> properties = properties(tableProperties, problems);
    if (!problems.isEmpty()) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Cannot read the maintenance policy of table "
              + name
              + ": "
              + String.join("; ", problems)
              + ". Set valid values (floe maintain policy "
              + name
              + " --set key=value) or remove the properties (--unset key)");
    }
    int exact = entry(name);
    int namespaceEntry = entry(namespace + "." + MaintenanceTableConfig.ALL);
    MaintenancePolicy defaults = MaintenancePolicy.defaults();
    Map<MaintenancePolicy.Key, Object> values = new EnumMap<>(MaintenancePolicy.Key.class);
    Map<MaintenancePolicy.Key, Source> sources = new EnumMap<>(MaintenancePolicy.Key.class);
    for (MaintenancePolicy.Key key : MaintenancePolicy.Key.values()) {
      if (properties.containsKey(key)) {
        values.put(key, properties.get(key));
        sources.put(key, new Source(Kind.TABLE_PROPERTY, key.tableProperty()));
      } else if (exact >= 0 && tables.get(exact).values().containsKey(key)) {
        values.put(key, tables.get(exact).values().get(key));
        sources.put(key, entrySource(exact));
      } else if (namespaceEntry >= 0 && tables.get(namespaceEntry).values().containsKey(key)) {
        values.put(key, tables.get(namespaceEntry).values().get(key));
        sources.put(key, entrySource(namespaceEntry));
      } else if (policyValues.containsKey(key)) {
        values.put(key, policyValues.get(key));
        sources.put(key, new Source(Kind.CONFIG, "maintenance." + key.configName()));
      } else {
        values.put(key, defaults.value(key));
        sources.put(key, Source.DEFAULT);
      }
    }
    return new EffectiveMaintenancePolicy(name, MaintenancePolicy.of(values), sources);
  }

  /** The values of the {@code floe.maintenance.*} properties; problems go to {@code problems}. */
  private static Map<MaintenancePolicy.Key, Object> properties(
      Map<String, String> tableProperties, List<String> problems) {
    Map<MaintenancePolicy.Key, Object> values = new EnumMap<>(MaintenancePolicy.Key.class);
    for (Map.Entry<String, String> property : tableProperties.entrySet()) {
      String name = property.getKey();
      if (!name.startsWith(MaintenancePolicy.Key.TABLE_PROPERTY_PREFIX)) {
        continue;
      }
      String keyName = name.substring(MaintenancePolicy.Key.TABLE_PROPERTY_PREFIX.length());
      MaintenancePolicy.Key key = MaintenancePolicy.Key.named(keyName).orElse(null);
      if (key == null) {
        problems.add(
            "table property "
                + name
                + " is unknown (the maintenance properties are "
                + Arrays.stream(MaintenancePolicy.Key.values())
                    .map(MaintenancePolicy.Key::tableProperty)
                    .collect(Collectors.joining(", "))
                + ")");
        continue;
      }
      String text = property.getValue() == null ? "" : property.getValue();
      StringBuilder reason = new StringBuilder();
      Object value = MaintenanceConfigSchema.parsePolicyValue(key, text.trim(), reason);
      if (value == null) {
        problems.add(
            "table property " + name + " has the invalid value '" + text + "' (" + reason + ")");
      } else {
        values.put(key, value);
      }
    }
    problems.sort(null);
    return values;
  }

  private int entry(String name) {
    for (int index = 0; index < tables.size(); index++) {
      if (tables.get(index).name().equals(name)) {
        return index;
      }
    }
    return -1;
  }

  private Source entrySource(int index) {
    return new Source(
        Kind.CONFIG, "maintenance.tables[" + index + "] (" + tables.get(index).name() + ")");
  }

  /** An unmodifiable copy of policy values, each checked to be of its key's type. */
  static Map<MaintenancePolicy.Key, Object> checkedValues(
      Map<MaintenancePolicy.Key, Object> values) {
    requireNonNull(values, "values is null");
    Map<MaintenancePolicy.Key, Object> copy = new EnumMap<>(MaintenancePolicy.Key.class);
    values.forEach((key, value) -> copy.put(requireNonNull(key, "key is null"), key.check(value)));
    return Map.copyOf(copy);
  }
}
