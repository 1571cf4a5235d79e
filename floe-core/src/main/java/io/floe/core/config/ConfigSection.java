package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A group of keys and nested sections under one YAML key: a single section or a list of them. A
 * section may have variants: further keys that depend on the value of its first key (a source's
 * {@code type}), each variant's keys allowed only with its value.
 */
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
  private final Map<String, List<ConfigKey<?>>> variants;

  ConfigSection(
      String name,
      Kind kind,
      String description,
      List<ConfigKey<?>> keys,
      List<ConfigSection> sections) {
    this(name, kind, description, keys, sections, Map.of());
  }

  /**
   * A section with variants: {@code variants} maps each value of its first key, as written in YAML,
   * to the keys that value allows besides {@code keys}.
   */
  ConfigSection(
      String name,
      Kind kind,
      String description,
      List<ConfigKey<?>> keys,
      List<ConfigSection> sections,
      Map<String, List<ConfigKey<?>>> variants) {
    this.name = requireNonNull(name, "name is null");
    this.kind = requireNonNull(kind, "kind is null");
    this.description = requireNonNull(description, "description is null");
    this.keys = List.copyOf(requireNonNull(keys, "keys is null"));
    this.sections = List.copyOf(requireNonNull(sections, "sections is null"));
    Map<String, List<ConfigKey<?>>> copied = new LinkedHashMap<>();
    requireNonNull(variants, "variants is null")
        .forEach((value, variantKeys) -> copied.put(value, List.copyOf(variantKeys)));
    this.variants = Collections.unmodifiableMap(copied);
    if (!variants.isEmpty() && keys.isEmpty()) {
      throw new IllegalArgumentException("A section with variants needs a first key to choose one");
    }
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

  /** The keys of each variant by the value of the first key that selects it; empty for none. */
  Map<String, List<ConfigKey<?>>> variants() {
    return variants;
  }

  /**
   * The keys read for a section whose first key has the value written {@code variant}: its keys,
   * then the variant's; every variant's keys when {@code variant} is null (the value was invalid).
   */
  List<ConfigKey<?>> keys(String variant) {
    List<ConfigKey<?>> result = new ArrayList<>(keys);
    if (variant == null) {
      variants.values().forEach(variantKeys -> variantKeys.forEach(key -> addOnce(result, key)));
    } else {
      variants.getOrDefault(variant, List.of()).forEach(key -> addOnce(result, key));
    }
    return result;
  }

  private static void addOnce(List<ConfigKey<?>> keys, ConfigKey<?> key) {
    if (!keys.contains(key)) {
      keys.add(key);
    }
  }

  /** Names allowed in this section (for the variant written {@code variant}), then its sections. */
  List<String> allowedKeys(String variant) {
    List<String> names = new ArrayList<>();
    keys(variant).forEach(key -> names.add(key.name()));
    sections.forEach(section -> names.add(section.name()));
    return names;
  }
}
