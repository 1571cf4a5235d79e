package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a YAML tree against a {@link ConfigSection}, substituting environment variables in values
 * and collecting every problem instead of stopping at the first one.
 */
final class ConfigReader {
  private static final Pattern VARIABLE =
      Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");

  private final Map<String, String> environment;
  private final List<String> problems = new ArrayList<>();

  ConfigReader(Map<String, String> environment) {
    this.environment = Map.copyOf(requireNonNull(environment, "environment is null"));
  }

  /** Problems found so far, each as {@code <key path>: <reason>}. */
  List<String> problems() {
    return List.copyOf(problems);
  }

  void problem(String path, String reason) {
    problems.add((path.isEmpty() ? "top level" : path) + ": " + reason);
  }

  ConfigValues readRoot(ConfigSection root, JsonNode node) {
    return readSection(root, node, "", null);
  }

  private ConfigValues readSection(
      ConfigSection section, JsonNode node, String path, ConfigValues parent) {
    ConfigValues values = new ConfigValues(parent);
    if (isAbsent(node)) {
      node = JsonNodeFactory.instance.objectNode();
    }
    if (!node.isObject()) {
      problem(path, "expected a section of keys but found " + describe(node));
      return values;
    }
    String variant = null;
    if (!section.variants().isEmpty()) {
      // The first key chooses the variant, whose keys are read after it.
      ConfigKey<?> chooser = section.keys().get(0);
      readKey(chooser, node.path(chooser.name()), child(path, chooser.name()), values);
      Object chosen = values.get(chooser);
      variant = chosen == null ? null : chooser.format(chosen);
    }
    List<String> allowed = section.allowedKeys(variant);
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!allowed.contains(name)) {
        problem(
            child(path, name),
            (section.allowedKeys(null).contains(name)
                    ? "not a key of " + section.keys().get(0).name() + " " + variant
                    : "unknown key")
                + "; allowed keys: "
                + String.join(", ", allowed));
      }
    }
    for (ConfigKey<?> key : section.keys(variant)) {
      if (!section.variants().isEmpty() && key == section.keys().get(0)) {
        continue; // read above
      }
      readKey(key, node.path(key.name()), child(path, key.name()), values);
    }
    for (ConfigSection nested : section.sections()) {
      JsonNode nestedNode = node.path(nested.name());
      String nestedPath = child(path, nested.name());
      if (isAbsent(nestedNode) && nested.kind() == ConfigSection.Kind.REQUIRED) {
        problem(nestedPath, "missing required section");
      } else if (nested.kind() != ConfigSection.Kind.LIST) {
        values.putSection(nested, readSection(nested, nestedNode, nestedPath, values));
      } else if (!isAbsent(nestedNode) && !nestedNode.isArray()) {
        problem(nestedPath, "expected a list of sections but found " + describe(nestedNode));
      } else {
        List<ConfigValues> elements = new ArrayList<>();
        for (int index = 0; index < nestedNode.size(); index++) {
          elements.add(
              readSection(nested, nestedNode.get(index), nestedPath + "[" + index + "]", values));
        }
        values.putList(nested, elements);
      }
    }
    return values;
  }

  private <T> void readKey(ConfigKey<T> key, JsonNode node, String path, ConfigValues values) {
    if (!isAbsent(node)) {
      values.putWritten(key, key.type().read(node, path, this));
    } else if (key.required()) {
      problem(path, "missing required key");
    } else {
      values.put(key, key.defaultValue(values, this, path));
    }
  }

  /** Reads the default written as YAML text, exactly like a value from the file. */
  <T> T readDefault(ValueType<T> type, String text, String path) {
    if (text.equals("[]")) {
      return type.read(JsonNodeFactory.instance.arrayNode(), path, this);
    }
    return type.read(TextNode.valueOf(text), path, this);
  }

  /** The text of a single value with environment variables substituted, or null if invalid. */
  String text(JsonNode node, String path) {
    if (!node.isValueNode()) {
      problem(path, "expected a single value but found " + describe(node));
      return null;
    }
    Matcher matcher = VARIABLE.matcher(node.asText());
    StringBuilder result = new StringBuilder();
    boolean valid = true;
    while (matcher.find()) {
      String name = matcher.group(1);
      String fallback = matcher.group(2);
      String value = environment.get(name);
      if (fallback != null && (value == null || value.isEmpty())) {
        value = fallback;
      }
      if (value == null) {
        problem(
            path,
            "environment variable "
                + name
                + " is not set; export it or write ${"
                + name
                + ":-value}");
        valid = false;
        value = "";
      }
      matcher.appendReplacement(result, Matcher.quoteReplacement(value));
    }
    matcher.appendTail(result);
    return valid ? result.toString() : null;
  }

  static String describe(JsonNode node) {
    if (node.isObject()) {
      return "a section";
    }
    if (node.isArray()) {
      return "a list";
    }
    return isAbsent(node) ? "no value" : "a single value";
  }

  private static boolean isAbsent(JsonNode node) {
    return node.isMissingNode() || node.isNull();
  }

  private static String child(String path, String name) {
    return path.isEmpty() ? name : path + "." + name;
  }
}
