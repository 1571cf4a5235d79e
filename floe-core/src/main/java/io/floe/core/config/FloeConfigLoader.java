package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Loads the YAML configuration file. Every problem of a file is reported at once in one {@link
 * FloeException} with code {@link ErrorCode#CONFIG_INVALID}, one problem per line, each naming the
 * full key path and what is allowed. A file that cannot be read or is not valid YAML fails with
 * {@link ErrorCode#CONFIG_UNREADABLE}.
 */
public final class FloeConfigLoader {
  private static final YAMLFactory YAML = new YAMLFactory();

  private FloeConfigLoader() {}

  /**
   * Loads {@code file}, substituting variables from {@link System#getenv()} and resolving relative
   * paths against the file's directory.
   */
  public static FloeConfig load(Path file) {
    requireNonNull(file, "file is null");
    String yaml;
    try {
      yaml = Files.readString(file);
    } catch (IOException e) {
      throw new FloeException(
          ErrorCode.CONFIG_UNREADABLE, "Cannot read configuration " + file + ": " + describe(e), e);
    }
    return parse(yaml, file.toAbsolutePath().getParent(), System.getenv(), file.toString());
  }

  /**
   * Parses configuration text. Relative paths resolve against {@code baseDirectory}; {@code
   * sourceName} names the text in error messages, usually the file name.
   */
  public static FloeConfig parse(
      String yaml, Path baseDirectory, Map<String, String> environment, String sourceName) {
    requireNonNull(yaml, "yaml is null");
    requireNonNull(baseDirectory, "baseDirectory is null");
    requireNonNull(environment, "environment is null");
    requireNonNull(sourceName, "sourceName is null");
    JsonNode tree;
    try (YAMLParser parser = YAML.createParser(yaml)) {
      tree = parser.nextToken() == null ? MissingNode.getInstance() : readNode(parser);
    } catch (IOException e) {
      throw new FloeException(
          ErrorCode.CONFIG_UNREADABLE,
          "Cannot read configuration " + sourceName + ": " + describe(e),
          e);
    }
    ConfigReader reader = new ConfigReader(environment);
    ConfigValues root = reader.readRoot(FloeConfigSchema.ROOT, tree);
    FloeConfigSchema.checkStorage(root, reader);
    FloeConfigSchema.checkPipelineNames(root, reader);
    FloeConfigSchema.checkSql(root, reader);
    FloeConfigSchema.checkMaintenance(root, reader);
    List<String> problems = reader.problems();
    if (!problems.isEmpty()) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Cannot load configuration " + sourceName + ": " + String.join("\n", problems));
    }
    return FloeConfigSchema.build(root, baseDirectory);
  }

  /** The Markdown reference of every key, as checked in at {@code docs/configuration.md}. */
  public static String referenceDocumentation() {
    return ConfigDocumentation.markdown(FloeConfigSchema.ROOT, FloeConfigSchema.EXAMPLE);
  }

  /**
   * Reads the value at the current token. Scalars keep their text as written: YAML would turn
   * {@code 0123} into 83 and {@code yes} into true, which is wrong for passwords and names.
   */
  private static JsonNode readNode(YAMLParser parser) throws IOException {
    if (parser.isCurrentAlias()) {
      throw new JsonParseException(
          parser,
          "YAML aliases such as *" + parser.getText() + " are not supported; repeat the value",
          parser.currentTokenLocation());
    }
    switch (parser.currentToken()) {
      case START_OBJECT -> {
        ObjectNode object = JsonNodeFactory.instance.objectNode();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
          String name = parser.currentName();
          if (object.has(name)) {
            throw new JsonParseException(
                parser, "duplicate key '" + name + "'", parser.currentTokenLocation());
          }
          parser.nextToken();
          object.set(name, readNode(parser));
        }
        return object;
      }
      case START_ARRAY -> {
        ArrayNode array = JsonNodeFactory.instance.arrayNode();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
          array.add(readNode(parser));
        }
        return array;
      }
      case VALUE_NULL -> {
        return NullNode.getInstance();
      }
      default -> {
        return TextNode.valueOf(parser.getText());
      }
    }
  }

  private static String describe(IOException e) {
    if (e instanceof JsonProcessingException yamlError) {
      // SnakeYAML adds indented lines quoting the file; the location comes from Jackson instead.
      String reason =
          yamlError
              .getOriginalMessage()
              .lines()
              .filter(line -> !line.isBlank() && !line.startsWith(" "))
              .collect(Collectors.joining("; "));
      JsonLocation location = yamlError.getLocation();
      return location == null
          ? reason
          : "line " + location.getLineNr() + ", column " + location.getColumnNr() + ": " + reason;
    }
    if (e instanceof NoSuchFileException) {
      return "the file does not exist";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof MalformedInputException) {
      return "the file is not UTF-8 text";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
