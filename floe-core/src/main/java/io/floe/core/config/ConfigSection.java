package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;

/** A group of keys and nested sections under one YAML key: a single section or a list of them. */
final class ConfigSection {
  enum Kind {
    ROOT,
    REQUIRED,
    OPTIONAL,
    LIST
  }

  private final String name;
  private final Kind kind;
  private final String description;
  private final List<ConfigKey<?>> keys;
  private final List<ConfigSection> sections;

  ConfigSection(
      String name,
      Kind kind,
      String description,
      List<ConfigKey<?>> keys,
      List<ConfigSection> sections) {
    this.name = requireNonNull(name, "name is null");
    this.kind = requireNonNull(kind, "kind is null");
    this.description = requireNonNull(description, "description is null");
    this.keys = List.copyOf(requireNonNull(keys, "keys is null"));
    this.sections = List.copyOf(requireNonNull(sections, "sections is null"));
  }

  static ConfigSection root(List<ConfigKey<?>> keys, List<ConfigSection> sections) {
    return new ConfigSection("", Kind.ROOT, "", keys, sections);
  }

  String name() {
    return name;
  }

  Kind kind() {
    return kind;
  }

  String description() {
    return description;
  }

  List<ConfigKey<?>> keys() {
    return keys;
  }

  List<ConfigSection> sections() {
    return sections;
  }

  /** Names allowed in this section: its keys, then its nested sections. */
  List<String> allowedKeys() {
    List<String> names = new ArrayList<>();
    keys.forEach(key -> names.add(key.name()));
    sections.forEach(section -> names.add(section.name()));
    return names;
  }
}
