package io.floe.core.config;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The values read for one section. A value that was invalid is null; values are only turned into
 * records once the whole file read without problems.
 */
final class ConfigValues {
  private final ConfigValues parent;
  private final Map<ConfigKey<?>, Object> values = new HashMap<>();
  private final Set<ConfigKey<?>> written = new HashSet<>();
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

  /** Puts a value written in the file, as opposed to a default. */
  <T> void putWritten(ConfigKey<T> key, T value) {
    values.put(key, value);
    written.add(key);
  }

  /** Whether the file wrote the key's value, as opposed to leaving it to its default. */
  boolean written(ConfigKey<?> key) {
    return written.contains(key);
  }

  void putSection(ConfigSection section, ConfigValues sectionValues) {
    sections.put(section, sectionValues);
  }

  void putList(ConfigSection section, List<ConfigValues> elements) {
    lists.put(section, List.copyOf(elements));
  }
}
