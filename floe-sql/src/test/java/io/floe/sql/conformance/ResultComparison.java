package io.floe.sql.conformance;

import io.floe.sql.SqlValues;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Compares a query's rows with the expected rows: in order, or as multisets. Values are normalized
 * first: every integral and decimal number compares by value ({@link BigDecimal#compareTo}),
 * floating point numbers with a relative tolerance of 1e-9, timestamps (with or without time zone,
 * taken as UTC) as instants.
 */
final class ResultComparison {
  static final double RELATIVE_TOLERANCE = 1e-9;
  private static final int SHOWN = 10;

  private ResultComparison() {}

  /** The differences between the two results, or null when they match. */
  static String differences(
      List<List<Object>> expectedRows, List<List<Object>> actualRows, boolean ordered) {
    List<List<Object>> expected = normalize(expectedRows);
    List<List<Object>> actual = normalize(actualRows);
    if (ordered) {
      return orderedDifferences(expected, actual);
    }
    expected.sort(ROWS);
    actual.sort(ROWS);
    List<List<Object>> missing = new ArrayList<>();
    List<List<Object>> unexpected = new ArrayList<>();
    int i = 0;
    int j = 0;
    while (i < expected.size() || j < actual.size()) {
      if (i == expected.size()) {
        unexpected.add(actual.get(j++));
      } else if (j == actual.size()) {
        missing.add(expected.get(i++));
      } else if (rowsMatch(expected.get(i), actual.get(j))) {
        i++;
        j++;
      } else if (ROWS.compare(expected.get(i), actual.get(j)) < 0) {
        missing.add(expected.get(i++));
      } else {
        unexpected.add(actual.get(j++));
      }
    }
    if (missing.isEmpty() && unexpected.isEmpty()) {
      return null;
    }
    StringBuilder text = new StringBuilder();
    text.append("expected ")
        .append(expected.size())
        .append(" rows, got ")
        .append(actual.size())
        .append("; ")
        .append(missing.size())
        .append(" expected rows missing, ")
        .append(unexpected.size())
        .append(" rows not expected");
    appendRows(text, "missing (expected but not returned)", missing);
    appendRows(text, "not expected (returned but not expected)", unexpected);
    return text.toString();
  }

  private static String orderedDifferences(List<List<Object>> expected, List<List<Object>> actual) {
    int common = Math.min(expected.size(), actual.size());
    for (int i = 0; i < common; i++) {
      if (!rowsMatch(expected.get(i), actual.get(i))) {
        return "row "
            + (i + 1)
            + " differs (of "
            + expected.size()
            + " expected, "
            + actual.size()
            + " returned):\n  expected "
            + expected.get(i)
            + "\n  actual   "
            + actual.get(i);
      }
    }
    if (expected.size() != actual.size()) {
      List<List<Object>> extra =
          expected.size() > actual.size()
              ? expected.subList(common, expected.size())
              : actual.subList(common, actual.size());
      StringBuilder text =
          new StringBuilder(
              "expected " + expected.size() + " rows, got " + actual.size() + " (prefix matches)");
      appendRows(text, expected.size() > actual.size() ? "missing" : "not expected", extra);
      return text.toString();
    }
    return null;
  }

  private static void appendRows(StringBuilder text, String title, List<List<Object>> rows) {
    if (rows.isEmpty()) {
      return;
    }
    text.append("\n").append(title).append(":");
    for (int i = 0; i < Math.min(SHOWN, rows.size()); i++) {
      text.append("\n  ").append(rows.get(i));
    }
    if (rows.size() > SHOWN) {
      text.append("\n  ... ").append(rows.size() - SHOWN).append(" more");
    }
  }

  private static List<List<Object>> normalize(List<List<Object>> rows) {
    List<List<Object>> normalized = new ArrayList<>(rows.size());
    for (List<Object> row : rows) {
      List<Object> values = new ArrayList<>(row.size());
      for (Object value : row) {
        values.add(normalize(value));
      }
      normalized.add(values);
    }
    return normalized;
  }

  /** A value in comparable form. */
  static Object normalize(Object value) {
    if (value == null) {
      return null;
    }
    if (value instanceof BigDecimal) {
      return value;
    }
    if (value instanceof Long
        || value instanceof Integer
        || value instanceof Short
        || value instanceof Byte) {
      return BigDecimal.valueOf(((Number) value).longValue());
    }
    if (value instanceof BigInteger) {
      return new BigDecimal((BigInteger) value);
    }
    if (value instanceof Float || value instanceof Double) {
      return ((Number) value).doubleValue();
    }
    if (value instanceof OffsetDateTime) {
      return ((OffsetDateTime) value).toInstant();
    }
    if (value instanceof LocalDateTime) {
      return ((LocalDateTime) value).toInstant(ZoneOffset.UTC);
    }
    if (value instanceof java.sql.Timestamp) {
      return ((java.sql.Timestamp) value).toInstant();
    }
    if (value instanceof byte[]) {
      return ByteBuffer.wrap((byte[]) value);
    }
    if (value instanceof List) {
      List<Object> list = new ArrayList<>();
      for (Object element : (List<?>) value) {
        list.add(normalize(element));
      }
      return list;
    }
    if (value instanceof SqlValues.SqlStruct) {
      return normalize(((SqlValues.SqlStruct) value).fields());
    }
    if (value instanceof Map) {
      Map<Object, Object> map = new LinkedHashMap<>();
      for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
        map.put(normalize(entry.getKey()), normalize(entry.getValue()));
      }
      return map;
    }
    return value;
  }

  static boolean rowsMatch(List<Object> expected, List<Object> actual) {
    if (expected.size() != actual.size()) {
      return false;
    }
    for (int i = 0; i < expected.size(); i++) {
      if (!valuesMatch(expected.get(i), actual.get(i))) {
        return false;
      }
    }
    return true;
  }

  static boolean valuesMatch(Object expected, Object actual) {
    if (expected == null || actual == null) {
      return expected == actual;
    }
    if (expected instanceof Double || actual instanceof Double) {
      if (!(expected instanceof Number) || !(actual instanceof Number)) {
        return false;
      }
      double e = ((Number) expected).doubleValue();
      double a = ((Number) actual).doubleValue();
      if (Double.compare(e, a) == 0) {
        return true;
      }
      return Math.abs(e - a) <= RELATIVE_TOLERANCE * Math.max(Math.abs(e), Math.abs(a));
    }
    if (expected instanceof BigDecimal && actual instanceof BigDecimal) {
      return ((BigDecimal) expected).compareTo((BigDecimal) actual) == 0;
    }
    if (expected instanceof List && actual instanceof List) {
      List<?> e = (List<?>) expected;
      List<?> a = (List<?>) actual;
      if (e.size() != a.size()) {
        return false;
      }
      for (int i = 0; i < e.size(); i++) {
        if (!valuesMatch(e.get(i), a.get(i))) {
          return false;
        }
      }
      return true;
    }
    if (expected instanceof Map && actual instanceof Map) {
      Map<?, ?> e = (Map<?, ?>) expected;
      Map<?, ?> a = (Map<?, ?>) actual;
      if (!e.keySet().equals(a.keySet())) {
        return false;
      }
      for (Map.Entry<?, ?> entry : e.entrySet()) {
        if (!valuesMatch(entry.getValue(), a.get(entry.getKey()))) {
          return false;
        }
      }
      return true;
    }
    return Objects.equals(expected, actual);
  }

  /** A total order on normalized rows, so that two multisets can be sorted and walked together. */
  static final Comparator<List<Object>> ROWS =
      (left, right) -> {
        Iterator<Object> l = left.iterator();
        Iterator<Object> r = right.iterator();
        while (l.hasNext() && r.hasNext()) {
          int c = compareValues(l.next(), r.next());
          if (c != 0) {
            return c;
          }
        }
        return Boolean.compare(l.hasNext(), r.hasNext());
      };

  private static int rank(Object value) {
    if (value == null) {
      return 0;
    }
    if (value instanceof Number) {
      return 1;
    }
    if (value instanceof String) {
      return 2;
    }
    if (value instanceof Boolean) {
      return 3;
    }
    if (value instanceof Instant) {
      return 4;
    }
    return 5;
  }

  @SuppressWarnings("unchecked")
  private static int compareValues(Object left, Object right) {
    int rl = rank(left);
    int rr = rank(right);
    if (rl != rr) {
      return Integer.compare(rl, rr);
    }
    if (left == null) {
      return 0;
    }
    if (left instanceof Number) {
      // Key: (double value, kind, exact value): a total order even across kinds.
      int c = Double.compare(((Number) left).doubleValue(), ((Number) right).doubleValue());
      if (c != 0) {
        return c;
      }
      boolean ld = left instanceof Double;
      boolean rd = right instanceof Double;
      if (ld != rd) {
        return Boolean.compare(ld, rd);
      }
      return ld ? 0 : ((BigDecimal) left).compareTo((BigDecimal) right);
    }
    if (left instanceof Comparable
        && right instanceof Comparable
        && left.getClass().equals(right.getClass())) {
      return ((Comparable<Object>) left).compareTo(right);
    }
    int c = left.getClass().getName().compareTo(right.getClass().getName());
    return c != 0 ? c : String.valueOf(left).compareTo(String.valueOf(right));
  }
}
