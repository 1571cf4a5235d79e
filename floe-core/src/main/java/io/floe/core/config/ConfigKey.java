package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.util.function.Function;

/**
 * One configuration key, declared once: its YAML name, type (with validation), default and
 * description. Defaults are written as YAML text and read exactly like a value from the file, so
 * they pass the same validation.
 */
final class ConfigKey<T> {
  private final String name;
  private final ValueType<T> type;
  private final Function<ConfigValues, String> defaultText;
  private final String documentedDefault;
  private final String description;

  private ConfigKey(
      String name,
      ValueType<T> type,
      Function<ConfigValues, String> defaultText,
      String documentedDefault,
      String description) {
    this.name = requireNonNull(name, "name is null");
    this.type = requireNonNull(type, "type is null");
    this.defaultText = defaultText;
    this.documentedDefault = requireNonNull(documentedDefault, "documentedDefault is null");
    this.description = requireNonNull(description, "description is null");
  }

  static <T> ConfigKey<T> required(String name, ValueType<T> type, String description) {
    return new ConfigKey<>(name, type, null, "required", description);
  }

  static <T> ConfigKey<T> optional(
      String name, ValueType<T> type, String defaultText, String description) {
    requireNonNull(defaultText, "defaultText is null");
    return new ConfigKey<>(
        name,
        type,
        values -> defaultText,
        defaultText.isEmpty() ? "empty" : "`" + defaultText + "`",
        description);
  }

  /**
   * A key whose default text is computed from values read before it: the keys of its own section
   * and of enclosing sections ({@link ConfigValues#parent()}). The function returns null when those
   * values are invalid; their problems are reported already.
   */
  static <T> ConfigKey<T> derived(
      String name,
      ValueType<T> type,
      String documentedDefault,
      Function<ConfigValues, String> defaultText,
      String description) {
    return new ConfigKey<>(
        name,
        type,
        requireNonNull(defaultText, "defaultText is null"),
        documentedDefault,
        description);
  }

  String name() {
    return name;
  }

  ValueType<T> type() {
    return type;
  }

  boolean required() {
    return defaultText == null;
  }

  T defaultValue(ConfigValues values, ConfigReader reader, String path) {
    String text = defaultText.apply(values);
    return text == null ? null : reader.readDefault(type, text, path);
  }

  /** The default as shown in the reference documentation. */
  String documentedDefault() {
    return documentedDefault;
  }

  String description() {
    return description;
  }

  /** A value of this key as text it reads back; {@code value} must be of the key's type. */
  @SuppressWarnings("unchecked")
  String format(Object value) {
    return type.format((T) value);
  }
}
