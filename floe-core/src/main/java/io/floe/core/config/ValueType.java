package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * How a configuration value is written in YAML and turned into a Java value, with the rules it must
 * follow. Rules are clauses in words ("must start with ...") that appear both in load problems and
 * in the reference documentation.
 */
final class ValueType<T> {
  private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");
  private static final Pattern INTEGER = Pattern.compile("[+-]?\\d{1,19}");
  private static final Pattern DECIMAL = Pattern.compile("\\d{1,9}(\\.\\d{1,9})?");
  private static final Pattern BYTE_SIZE =
      Pattern.compile("(\\d{1,19})(b|kb|mb|gb|tb|kib|mib|gib|tib)?", Pattern.CASE_INSENSITIVE);
  private static final String BYTE_SIZE_FORM =
      "a whole number of bytes, optionally followed by B, KB, MB, GB or TB (or KiB, MiB, GiB,"
          + " TiB) in any case (binary multiples: 1KB = 1KiB = 1024 bytes), such as 512MB, 1GiB"
          + " or 10GB";
  private static final String[] BYTE_UNITS = {"", "KB", "MB", "GB", "TB"};
  private static final String UNLIMITED = "unlimited";

  /** Reads a value, reporting problems to the reader; returns null when the value is invalid. */
  @FunctionalInterface
  private interface NodeReader<T> {
    T read(JsonNode node, String path, ConfigReader reader);
  }

  private record Rule<T>(Predicate<T> test, String text) {}

  private final String name;
  private final NodeReader<T> nodeReader;
  private final List<String> documentedRules;
  private final List<Rule<T>> rules;

  /** Parses a single value's text; null for values that are not single (lists). */
  private final Function<String, Optional<T>> parser;

  /** What {@link #parser} accepts, in words; null when {@link #parser} is. */
  private final String form;

  /** Writes a value back as text that {@link #parser} reads. */
  private final Function<T, String> formatter;

  private ValueType(
      String name,
      NodeReader<T> nodeReader,
      List<String> documentedRules,
      List<Rule<T>> rules,
      Function<String, Optional<T>> parser,
      String form,
      Function<T, String> formatter) {
    this.name = requireNonNull(name, "name is null");
    this.nodeReader = requireNonNull(nodeReader, "nodeReader is null");
    this.documentedRules = List.copyOf(requireNonNull(documentedRules, "documentedRules is null"));
    this.rules = List.copyOf(requireNonNull(rules, "rules is null"));
    this.parser = parser;
    this.form = form;
    this.formatter = requireNonNull(formatter, "formatter is null");
  }

  /**
   * A single value parsed from its text; {@code form} says what is accepted when parsing fails, and
   * is documented when {@code documented}.
   */
  private static <T> ValueType<T> scalar(
      String name, Function<String, Optional<T>> parser, String form, boolean documented) {
    return scalar(name, parser, form, documented, String::valueOf);
  }

  /** A {@link #scalar} whose values are written back as text by {@code formatter}. */
  private static <T> ValueType<T> scalar(
      String name,
      Function<String, Optional<T>> parser,
      String form,
      boolean documented,
      Function<T, String> formatter) {
    NodeReader<T> nodeReader =
        (node, path, reader) -> {
          String text = reader.text(node, path);
          if (text == null) {
            return null;
          }
          Optional<T> value = parser.apply(text);
          if (value.isEmpty()) {
            reader.problem(path, "invalid value '" + text + "'; " + form);
          }
          return value.orElse(null);
        };
    return new ValueType<>(
        name,
        nodeReader,
        documented ? List.of(form) : List.of(),
        List.of(),
        parser,
        form,
        formatter);
  }

  static ValueType<String> string() {
    return scalar("string", Optional::of, "any text", false);
  }

  /**
   * A name of something Floe declares (a pipeline, user, principal or workgroup): a lowercase
   * letter followed by at most 39 lowercase letters, digits or underscores.
   */
  static ValueType<String> lowercaseName() {
    return matching(
        "[a-z][a-z0-9_]{0,39}",
        "must start with a lowercase letter followed by at most 39 lowercase letters,"
            + " digits or underscores");
  }

  /** A string that matches {@code regex}; {@code rule} says in words what the regex allows. */
  static ValueType<String> matching(String regex, String rule) {
    Pattern pattern = Pattern.compile(regex);
    return parsed(
        "string",
        text -> Optional.of(text).filter(value -> pattern.matcher(value).matches()),
        rule);
  }

  /** A string turned into another value by {@code parser}, e.g. to normalize it. */
  static <T> ValueType<T> parsed(String name, Function<String, Optional<T>> parser, String rule) {
    return scalar(name, parser, rule, true);
  }

  static ValueType<Path> path() {
    return scalar(
        "path",
        text -> {
          try {
            return Optional.of(Path.of(text));
          } catch (InvalidPathException e) {
            return Optional.empty();
          }
        },
        "must be a valid file system path",
        false);
  }

  static ValueType<Duration> duration() {
    return scalar(
        "duration",
        ValueType::parseDuration,
        "write a number followed by ms, s, m, h or d (such as 250ms, 1s, 2m, 1h, 5d)"
            + " or an ISO-8601 duration (such as PT1S)",
        true,
        ValueType::formatDuration);
  }

  /** The duration in the largest unit that writes it exactly: {@code 3d}, {@code 90s}. */
  private static String formatDuration(Duration duration) {
    if (duration.isNegative() || duration.toNanosPart() % 1_000_000 != 0) {
      return duration.toString();
    }
    long millis = duration.toMillis();
    if (millis == 0) {
      return "0s";
    }
    long[] sizes = {86_400_000, 3_600_000, 60_000, 1_000};
    String[] units = {"d", "h", "m", "s"};
    for (int index = 0; index < sizes.length; index++) {
      if (millis % sizes[index] == 0) {
        return millis / sizes[index] + units[index];
      }
    }
    return millis + "ms";
  }

  private static Optional<Duration> parseDuration(String text) {
    Matcher matcher = DURATION.matcher(text);
    if (matcher.matches()) {
      long amount = Long.parseLong(matcher.group(1));
      return Optional.of(
          switch (matcher.group(2)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            default -> Duration.ofDays(amount);
          });
    }
    try {
      return Optional.of(Duration.parse(text));
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }

  /** {@code true} or {@code false}, in lower case. */
  static ValueType<Boolean> bool() {
    return scalar(
        "boolean",
        text ->
            switch (text) {
              case "true" -> Optional.of(Boolean.TRUE);
              case "false" -> Optional.of(Boolean.FALSE);
              default -> Optional.empty();
            },
        "write true or false",
        false);
  }

  /**
   * A whole number from {@code min} to {@code max}, written as a YAML number or as text such as
   * {@code "5433"}.
   */
  static ValueType<Integer> integer(int min, int max) {
    return scalar(
        "integer",
        text -> {
          if (!INTEGER.matcher(text).matches()) {
            return Optional.empty();
          }
          try {
            long value = Long.parseLong(text);
            return value >= min && value <= max
                ? Optional.of(Math.toIntExact(value))
                : Optional.empty();
          } catch (NumberFormatException e) {
            return Optional.empty();
          }
        },
        "must be an integer between " + min + " and " + max,
        true);
  }

  /**
   * A number of bytes: a whole number, optionally followed by a unit B, KB, MB, GB or TB (binary
   * multiples of 1024, in any case), such as {@code 512MB}.
   */
  static ValueType<Long> byteSize() {
    return scalar(
        "byte size",
        ValueType::parseByteSize,
        "write " + BYTE_SIZE_FORM,
        true,
        ValueType::formatByteSize);
  }

  /** A {@link #byteSize()} or the word {@code unlimited}, which reads as {@link Long#MAX_VALUE}. */
  static ValueType<Long> byteSizeOrUnlimited() {
    return scalar(
        "byte size or `" + UNLIMITED + "`",
        text -> text.equals(UNLIMITED) ? Optional.of(Long.MAX_VALUE) : parseByteSize(text),
        "write " + UNLIMITED + " or " + BYTE_SIZE_FORM,
        true,
        size -> size == Long.MAX_VALUE ? UNLIMITED : formatByteSize(size));
  }

  /** The size in the largest unit that writes it exactly: {@code 512MB}, {@code 1000}. */
  private static String formatByteSize(long bytes) {
    for (int unit = BYTE_UNITS.length - 1; unit > 0; unit--) {
      long size = 1L << (10 * unit);
      if (bytes != 0 && bytes % size == 0) {
        return bytes / size + BYTE_UNITS[unit];
      }
    }
    return Long.toString(bytes);
  }

  /**
   * A number such as {@code 0.1} or {@code 2}: digits, optionally followed by a dot and more
   * digits.
   */
  static ValueType<Double> decimal() {
    return scalar(
        "number",
        text ->
            DECIMAL.matcher(text).matches()
                ? Optional.of(Double.parseDouble(text))
                : Optional.empty(),
        "write a number such as 0.1 or 2",
        false,
        value -> BigDecimal.valueOf(value).stripTrailingZeros().toPlainString());
  }

  private static Optional<Long> parseByteSize(String text) {
    Matcher matcher = BYTE_SIZE.matcher(text);
    if (!matcher.matches()) {
      return Optional.empty();
    }
    String unit =
        matcher.group(2) == null
            ? "b"
            : matcher.group(2).toLowerCase(Locale.ROOT).replace("ib", "b");
    int shift =
        switch (unit) {
          case "kb" -> 10;
          case "mb" -> 20;
          case "gb" -> 30;
          case "tb" -> 40;
          default -> 0;
        };
    try {
      return Optional.of(Math.multiplyExact(Long.parseLong(matcher.group(1)), 1L << shift));
    } catch (ArithmeticException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** One of the constants of {@code type}, written in lower case. */
  static <E extends Enum<E>> ValueType<E> enumeration(Class<E> type) {
    List<String> choices =
        Arrays.stream(type.getEnumConstants())
            .map(constant -> constant.name().toLowerCase(Locale.ROOT))
            .toList();
    return scalar(
        choices.stream().map(choice -> "`" + choice + "`").collect(Collectors.joining(" or ")),
        text ->
            Arrays.stream(type.getEnumConstants())
                .filter(constant -> constant.name().toLowerCase(Locale.ROOT).equals(text))
                .findFirst(),
        "allowed values: " + String.join(", ", choices),
        false,
        constant -> constant.name().toLowerCase(Locale.ROOT));
  }

  /** A YAML list whose entries are of {@code element} type and must not repeat. */
  static <E> ValueType<List<E>> distinctList(String name, ValueType<E> element) {
    NodeReader<List<E>> nodeReader =
        (node, path, reader) -> {
          if (!node.isArray()) {
            reader.problem(path, "expected a list but found " + ConfigReader.describe(node));
            return null;
          }
          List<E> values = new ArrayList<>();
          Map<E, Integer> firstIndexes = new HashMap<>();
          boolean valid = true;
          for (int index = 0; index < node.size(); index++) {
            String elementPath = path + "[" + index + "]";
            E value = element.read(node.get(index), elementPath, reader);
            if (value == null) {
              valid = false;
              continue;
            }
            Integer first = firstIndexes.putIfAbsent(value, index);
            if (first != null) {
              reader.problem(
                  elementPath,
                  "duplicate entry '" + value + "', already listed at " + path + "[" + first + "]");
              valid = false;
            }
            values.add(value);
          }
          return valid ? values : null;
        };
    List<String> documented = new ArrayList<>();
    element.documentedRules.forEach(rule -> documented.add("each entry " + rule));
    documented.add("entries must not repeat");
    return new ValueType<>(
        name, nodeReader, documented, List.of(), null, null, values -> values.toString());
  }

  /** This type with one more rule that a parsed value must follow. */
  ValueType<T> where(Predicate<T> test, String rule) {
    List<String> newDocumentedRules = new ArrayList<>(documentedRules);
    newDocumentedRules.add(rule);
    List<Rule<T>> newRules = new ArrayList<>(rules);
    newRules.add(new Rule<>(test, rule));
    return new ValueType<>(name, nodeReader, newDocumentedRules, newRules, parser, form, formatter);
  }

  String name() {
    return name;
  }

  /** The rules in words, for the reference documentation. */
  List<String> documentedRules() {
    return documentedRules;
  }

  /**
   * Reads text written outside the configuration file, such as a table property or a command line
   * option: taken literally, without environment variables.
   *
   * @param reasons receives, when the text is invalid, what is allowed in words ("must be ...")
   * @return the value, or null when the text is invalid
   */
  T parse(String text, List<String> reasons) {
    if (parser == null) {
      throw new IllegalStateException("a " + name + " is not written as one text");
    }
    Optional<T> value = parser.apply(text);
    if (value.isEmpty()) {
      reasons.add(form);
      return null;
    }
    for (Rule<T> rule : rules) {
      if (!rule.test().test(value.get())) {
        reasons.add(rule.text());
        return null;
      }
    }
    return value.get();
  }

  /** The value as text that this type reads back: {@code 1h}, {@code 512MB}, {@code daily}. */
  String format(T value) {
    return formatter.apply(value);
  }

  T read(JsonNode node, String path, ConfigReader reader) {
    T value = nodeReader.read(node, path, reader);
    if (value == null) {
      return null;
    }
    for (Rule<T> rule : rules) {
      if (!rule.test().test(value)) {
        reader.problem(path, rule.text());
        return null;
      }
    }
    return value;
  }
}
