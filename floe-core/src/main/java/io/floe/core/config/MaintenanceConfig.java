package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The {@code maintenance} section: whether {@code floe run} maintains its tables, how often each
 * table is checked, the default policy, and per-table or per-namespace overrides. Built by {@link
 * FloeConfigLoader}; {@link #defaults()} when the file has no {@code maintenance} section.
 *
 * @param defaultPolicy the policy of a table that no entry of {@code tables} names
 * @param tables overrides, each naming one table ({@code namespace.table}) or every table of a
 *     namespace ({@code namespace.*})
 */
public record MaintenanceConfig(
    boolean enabled,
    Duration interval,
    MaintenancePolicy defaultPolicy,
    List<MaintenanceTableConfig> tables) {

  public MaintenanceConfig {
    requireNonNull(interval, "interval is null");
    requireNonNull(defaultPolicy, "defaultPolicy is null");
    tables = List.copyOf(requireNonNull(tables, "tables is null"));
  }

  /** The configuration used when the file has no {@code maintenance} section. */
  public static MaintenanceConfig defaults() {
    return FloeConfigSchema.maintenanceDefaults();
  }

  /**
   * The policy of a table: each value from the entry naming the table, else from the entry of its
   * namespace ({@code namespace.*}), else from the defaults.
   *
   * @param namespace the table's namespace, levels joined by dots
   * @param table the table's name within its namespace
   */
  public MaintenancePolicy policy(String namespace, String table) {
    requireNonNull(namespace, "namespace is null");
    requireNonNull(table, "table is null");
    MaintenanceTableConfig exact = entry(namespace + "." + table);
    MaintenanceTableConfig namespaceEntry = entry(namespace + "." + MaintenanceTableConfig.ALL);
    return new MaintenancePolicy(
        resolve(exact, namespaceEntry, MaintenanceTableConfig::expireOlderThan)
            .orElse(defaultPolicy.expireOlderThan()),
        resolve(exact, namespaceEntry, MaintenanceTableConfig::retainLast)
            .orElse(defaultPolicy.retainLast()),
        resolve(exact, namespaceEntry, MaintenanceTableConfig::milestones)
            .orElse(defaultPolicy.milestones()),
        resolve(exact, namespaceEntry, MaintenanceTableConfig::orphanOlderThan)
            .orElse(defaultPolicy.orphanOlderThan()),
        resolve(exact, namespaceEntry, MaintenanceTableConfig::rewriteManifestsAbove)
            .orElse(defaultPolicy.rewriteManifestsAbove()));
  }

  private MaintenanceTableConfig entry(String name) {
    for (MaintenanceTableConfig entry : tables) {
      if (entry.name().equals(name)) {
        return entry;
      }
    }
    return null;
  }

  private static <T> Optional<T> resolve(
      MaintenanceTableConfig exact,
      MaintenanceTableConfig namespaceEntry,
      Function<MaintenanceTableConfig, Optional<T>> value) {
    Optional<T> resolved = exact == null ? Optional.empty() : value.apply(exact);
    if (resolved.isEmpty() && namespaceEntry != null) {
      resolved = value.apply(namespaceEntry);
    }
    return resolved;
  }
}
