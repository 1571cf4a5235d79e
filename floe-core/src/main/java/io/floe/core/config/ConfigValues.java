package io.floe.core.config;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The values read for one section. A value that was invalid is null; values are only turned into
 * records once the whole file read without problems.
 */
final class ConfigValues {
  private final ConfigValues parent;
  private final Map<ConfigKey<?>, Object> values = new HashMap<>();
  private final Map<ConfigSection, ConfigValues> sections = new HashMap<>();
  private final Map<ConfigSection, List<ConfigValues>> lists = new HashMap<>();

  ConfigValues(ConfigValues parent) {
    this.parent = parent;
  }

  /** The values of the enclosing section; null for the top level. */
  ConfigValues parent() {
    return parent;
  }

  @SuppressWarnings("unchecked")
  <T> T get(ConfigKey<T> key) {
    return (T) values.get(key);
  }

  ConfigValues section(ConfigSection section) {
    return sections.get(section);
  }

  List<ConfigValues> list(ConfigSection section) {
    return lists.getOrDefault(section, List.of());
  }

  <T> void put(ConfigKey<T> key, T value) {
    values.put(key, value);
  }

  void putSection(ConfigSection section, ConfigValues sectionValues) {
    sections.put(section, sectionValues);
  }

  void putList(ConfigSection section, List<ConfigValues> elements) {
    lists.put(section, List.copyOf(elements));
  }
}
