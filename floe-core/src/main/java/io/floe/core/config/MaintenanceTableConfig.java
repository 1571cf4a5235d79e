package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * An entry of {@code maintenance.tables}: policy values for one table ({@code namespace.table}) or
 * for every table of a namespace ({@code namespace.*}). A key the entry leaves out is inherited,
 * see {@link MaintenanceConfig#effectivePolicy}.
 *
 * @param values the keys the entry sets, each with a value of the key's {@link
 *     MaintenancePolicy.Key#valueType()}
 */
public record MaintenanceTableConfig(String name, Map<MaintenancePolicy.Key, Object> values) {

  /** The table name that stands for every table of a namespace. */
  public static final String ALL = "*";

  public MaintenanceTableConfig {
    requireNonNull(name, "name is null");
    values = MaintenanceConfig.checkedValues(values);
  }
}
