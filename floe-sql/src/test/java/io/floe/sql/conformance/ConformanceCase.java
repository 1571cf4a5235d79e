package io.floe.sql.conformance;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One conformance query: the SQL Floe runs, the SQL the plain DuckDB runs to produce the expected
 * rows (the same text when the file gives none: plain tables of the same names hold the expected
 * data), and whether the row order is part of the answer.
 *
 * <p>The file format, one block per case:
 *
 * <pre>
 * -- name: category/case_name
 * -- ordered            (optional: compare in order; the query must order totally)
 * -- empty              (optional: the expected result may be empty)
 * SELECT ... FROM shop.orders ...
 * -- expected:          (optional)
 * SELECT ... FROM hist.orders_v2 ...
 * </pre>
 *
 * <p>Other lines that start with {@code --} are comments and not part of either query.
 *
 * <p>{@code ${orders.v2}} stands for the snapshot id of commit 2 of {@code shop.orders}, {@code
 * ${orders.v2.time}} for its commit time in UTC ({@code yyyy-MM-dd HH:mm:ss.SSS}), {@code
 * ${orders.v2.time_after}} for one millisecond later, {@code ${orders.v2.time_plus_02}} for the
 * commit time as a clock at UTC+02:00 shows it, and {@code ${orders.before_first}} for a time
 * before the table's first commit.
 */
record ConformanceCase(
    String category,
    String name,
    String floeSql,
    String expectedSql,
    boolean ordered,
    boolean mayBeEmpty,
    int line) {
  private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([a-z_]+(?:\\.[a-z_0-9]+)*)}");

  String displayName() {
    return "[" + category + "] " + name;
  }

  static List<ConformanceCase> load(String resource) {
    String text;
    try (InputStream in = ConformanceCase.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + resource);
      }
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return parse(text);
  }

  static List<ConformanceCase> parse(String text) {
    List<ConformanceCase> cases = new ArrayList<>();
    Set<String> names = new LinkedHashSet<>();
    String[] lines = text.split("\n", -1);
    int i = 0;
    while (i < lines.length) {
      String line = lines[i].strip();
      if (!line.startsWith("-- name:")) {
        if (!line.isEmpty() && !line.startsWith("--")) {
          throw new IllegalArgumentException("line " + (i + 1) + ": text outside a case: " + line);
        }
        i++;
        continue;
      }
      int start = i + 1;
      String fullName = line.substring("-- name:".length()).strip();
      int slash = fullName.indexOf('/');
      if (slash <= 0) {
        throw new IllegalArgumentException(
            "line " + start + ": case name must be category/name: " + fullName);
      }
      if (!names.add(fullName)) {
        throw new IllegalArgumentException("line " + start + ": duplicate case " + fullName);
      }
      boolean ordered = false;
      boolean empty = false;
      StringBuilder floe = new StringBuilder();
      StringBuilder expected = null;
      i++;
      for (; i < lines.length && !lines[i].strip().startsWith("-- name:"); i++) {
        String current = lines[i].strip();
        if (current.equals("-- ordered")) {
          ordered = true;
        } else if (current.equals("-- empty")) {
          empty = true;
        } else if (current.equals("-- expected:")) {
          expected = new StringBuilder();
        } else if (!current.isEmpty() && !current.startsWith("--")) {
          (expected == null ? floe : expected).append(lines[i]).append('\n');
        }
      }
      String floeSql = trim(floe.toString());
      if (floeSql.isEmpty()) {
        throw new IllegalArgumentException("line " + start + ": case " + fullName + " has no SQL");
      }
      String expectedSql = expected == null ? floeSql : trim(expected.toString());
      cases.add(
          new ConformanceCase(
              fullName.substring(0, slash),
              fullName.substring(slash + 1),
              floeSql,
              expectedSql,
              ordered,
              empty,
              start));
    }
    return cases;
  }

  private static String trim(String sql) {
    String trimmed = sql.strip();
    while (trimmed.endsWith(";")) {
      trimmed = trimmed.substring(0, trimmed.length() - 1).strip();
    }
    return trimmed;
  }

  /** This case with its placeholders replaced. */
  ConformanceCase bind(Map<String, String> values) {
    return new ConformanceCase(
        category,
        name,
        substitute(floeSql, values),
        substitute(expectedSql, values),
        ordered,
        mayBeEmpty,
        line);
  }

  private String substitute(String sql, Map<String, String> values) {
    Matcher matcher = PLACEHOLDER.matcher(sql);
    StringBuilder out = new StringBuilder();
    while (matcher.find()) {
      String value = values.get(matcher.group(1));
      if (value == null) {
        throw new IllegalArgumentException(
            "case " + displayName() + ": unknown placeholder ${" + matcher.group(1) + "}");
      }
      matcher.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    matcher.appendTail(out);
    return out.toString();
  }
}
