package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.util.EnumMap;
import java.util.Map;

/**
 * The policy a table is maintained by, and where each of its values comes from. Built by {@link
 * MaintenanceConfig#effectivePolicy}.
 *
 * @param table the table, {@code namespace.table}
 * @param sources where each key's value comes from; holds every key
 */
public record EffectiveMaintenancePolicy(
    String table, MaintenancePolicy policy, Map<MaintenancePolicy.Key, Source> sources) {

  /** Kinds of places a policy value comes from, from the weakest to the strongest. */
  public enum Kind {
    /** The key's declared default. */
    DEFAULT("default"),
    /** The configuration file: the {@code maintenance} section or an entry of its tables. */
    CONFIG("config"),
    /** The table's property {@code floe.maintenance.<key>}. */
    TABLE_PROPERTY("table property"),
    /** An option of the command or request that runs an operation. */
    OPTION("option");

    private final String label;

    Kind(String label) {
      this.label = label;
    }

    /** The kind in words, as shown to users: {@code default}, {@code table property}. */
    public String label() {
      return label;
    }
  }

  /**
   * Where one value comes from.
   *
   * @param origin the key path, entry, property or option that set it, such as {@code
   *     maintenance.tables[1] (raw.*)} or {@code floe.maintenance.retain-last}; empty for a default
   */
  public record Source(Kind kind, String origin) {
    static final Source DEFAULT = new Source(Kind.DEFAULT, "");

    public Source {
      requireNonNull(kind, "kind is null");
      requireNonNull(origin, "origin is null");
    }

    /** The source in words: {@code default}, {@code table property floe.maintenance.x}. */
    @Override
    public String toString() {
      return origin.isEmpty() ? kind.label() : kind.label() + " " + origin;
    }
  }

  public EffectiveMaintenancePolicy {
    requireNonNull(table, "table is null");
    requireNonNull(policy, "policy is null");
    Map<MaintenancePolicy.Key, Source> copy = new EnumMap<>(MaintenancePolicy.Key.class);
    copy.putAll(requireNonNull(sources, "sources is null"));
    for (MaintenancePolicy.Key key : MaintenancePolicy.Key.values()) {
      requireNonNull(copy.get(key), () -> "no source for " + key.configName());
    }
    sources = Map.copyOf(copy);
  }

  /** Where the value of {@code key} comes from. */
  public Source source(MaintenancePolicy.Key key) {
    return sources.get(key);
  }

  /**
   * This policy with one value set by an option of a command or request, read like the table
   * property of the same key.
   *
   * @param option the option as the user wrote it, such as {@code --target-file-size}
   * @throws FloeException with {@link ErrorCode#CONFIG_INVALID} when the text is not a valid value
   */
  public EffectiveMaintenancePolicy with(MaintenancePolicy.Key key, String text, String option) {
    requireNonNull(key, "key is null");
    requireNonNull(text, "text is null");
    requireNonNull(option, "option is null");
    StringBuilder reason = new StringBuilder();
    Object value = MaintenanceConfigSchema.parsePolicyValue(key, text.trim(), reason);
    if (value == null) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID, "Cannot use " + option + " " + text + ": " + reason);
    }
    Map<MaintenancePolicy.Key, Object> values = new EnumMap<>(policy.values());
    values.put(key, value);
    Map<MaintenancePolicy.Key, Source> newSources = new EnumMap<>(sources);
    newSources.put(key, new Source(Kind.OPTION, option));
    return new EffectiveMaintenancePolicy(table, MaintenancePolicy.of(values), newSources);
  }
}
