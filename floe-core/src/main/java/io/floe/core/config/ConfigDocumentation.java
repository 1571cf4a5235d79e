package io.floe.core.config;

import java.util.List;

/** Writes the Markdown reference of a configuration from its key declarations. */
final class ConfigDocumentation {
  private ConfigDocumentation() {}

  static String markdown(ConfigSection root, String example) {
    StringBuilder markdown = new StringBuilder();
    markdown.append(
        """
        # Configuration reference

        <!-- Generated from the key declarations in io.floe.core.config; do not edit. To update, run
             ./mvnw -pl floe-core test -Dtest=ConfigDocsTest -Dfloe.regenerateDocs=true -->

        Floe reads its configuration from one YAML file with kebab-case keys. Unknown keys and \
        invalid values stop Floe at startup with one message listing every problem, each naming \
        the key path (such as `pipelines[0].source.tables`) and what is allowed.

        Any value may refer to environment variables: `${NAME}` is replaced by the value of \
        `NAME`, and `${NAME:-default}` by `default` when `NAME` is unset or empty. Use this for \
        secrets such as passwords. Substitution happens in values only, never in keys. A relative \
        path resolves against the directory of the configuration file.
        """);
    appendSection(markdown, root, "");
    markdown
        .append("\n## Example\n\n```yaml\n")
        .append(example)
        .append(example.endsWith("\n") ? "" : "\n")
        .append("```\n");
    return markdown.toString();
  }

  private static void appendSection(StringBuilder markdown, ConfigSection section, String path) {
    String prefix = path.isEmpty() ? "" : path + ".";
    markdown
        .append("\n## ")
        .append(path.isEmpty() ? "Top level" : "`" + path + "`")
        .append("\n\n| Key | Type | Default | Description |\n| --- | --- | --- | --- |\n");
    section.keys().forEach(key -> appendKey(markdown, prefix, key));
    section
        .variants()
        .forEach(
            (variant, keys) -> {
              String chooser = prefix + section.keys().get(0).name();
              markdown
                  .append("| *with `")
                  .append(chooser)
                  .append(": ")
                  .append(variant)
                  .append("`* | | | |\n");
              keys.forEach(key -> appendKey(markdown, prefix, key));
            });
    for (ConfigSection nested : section.sections()) {
      appendRow(
          markdown,
          prefix + nested.name(),
          nested.kind() == ConfigSection.Kind.LIST ? "list of sections" : "section",
          switch (nested.kind()) {
            case REQUIRED -> "required";
            case LIST -> "empty";
            default -> "all keys default";
          },
          nested.description());
    }
    for (ConfigSection nested : section.sections()) {
      appendSection(
          markdown,
          nested,
          prefix + nested.name() + (nested.kind() == ConfigSection.Kind.LIST ? "[]" : ""));
    }
  }

  private static void appendKey(StringBuilder markdown, String prefix, ConfigKey<?> key) {
    StringBuilder description = new StringBuilder(key.description());
    key.type().documentedRules().forEach(rule -> description.append(' ').append(sentence(rule)));
    appendRow(
        markdown,
        prefix + key.name(),
        key.type().name(),
        key.documentedDefault(),
        description.toString());
  }

  private static void appendRow(
      StringBuilder markdown, String key, String type, String defaultValue, String description) {
    markdown.append("| `").append(key).append('`');
    for (String cell : List.of(type, defaultValue, description)) {
      markdown.append(" | ").append(cell.replace("|", "\\|"));
    }
    markdown.append(" |\n");
  }

  private static String sentence(String rule) {
    return Character.toUpperCase(rule.charAt(0)) + rule.substring(1) + ".";
  }
}
