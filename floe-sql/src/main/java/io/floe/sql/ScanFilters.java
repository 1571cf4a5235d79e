package io.floe.sql;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.iceberg.Schema;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.expressions.Binder;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Finds, in DuckDB's parse tree of a query, the filters Iceberg can prune files with: conjuncts of
 * a SELECT's WHERE clause that compare a column of one of its Floe tables with a constant ({@code
 * =, <, <=, >, >=, BETWEEN, IN, IS NOT NULL}).
 *
 * <p>Pruning is safe for every such conjunct, even on the inner side of an outer join: each one
 * rejects rows whose column is NULL, so a row it removes from a table's scan could only have
 * produced result rows that the WHERE clause removes anyway. DuckDB still evaluates the whole WHERE
 * clause; Iceberg only skips files that cannot hold a matching row. A constant whose meaning could
 * differ between DuckDB and Iceberg (a float column, an inexact decimal, a cast to another type) is
 * not pushed.
 */
final class ScanFilters {
  private static final Set<String> COMPARISONS =
      Set.of(
          "COMPARE_EQUAL",
          "COMPARE_LESSTHAN",
          "COMPARE_GREATERTHAN",
          "COMPARE_LESSTHANOREQUALTO",
          "COMPARE_GREATERTHANOREQUALTO");
  private static final DateTimeFormatter LOCAL_TIMESTAMP =
      new DateTimeFormatterBuilder()
          .append(DateTimeFormatter.ISO_LOCAL_DATE)
          .optionalStart()
          .appendLiteral(' ')
          .optionalEnd()
          .optionalStart()
          .appendLiteral('T')
          .optionalEnd()
          .optionalStart()
          .appendPattern("HH:mm")
          .optionalStart()
          .appendPattern(":ss")
          .optionalStart()
          .appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true)
          .optionalEnd()
          .optionalEnd()
          .optionalEnd()
          .optionalStart()
          .appendOffset("+HH:mm", "Z")
          .optionalEnd()
          .optionalStart()
          .appendOffset("+HH", "Z")
          .optionalEnd()
          .parseDefaulting(ChronoField.HOUR_OF_DAY, 0)
          .toFormatter(Locale.ROOT);

  private final Map<String, Schema> schemas;
  private final Map<String, List<Expression>> filters = new LinkedHashMap<>();

  private ScanFilters(Map<String, Schema> schemas) {
    this.schemas = schemas;
  }

  /**
   * The filter of each placeholder view (see {@link TableReference}) in the serialized parse tree;
   * placeholders without a usable filter are absent.
   */
  static Map<String, Expression> extract(JsonNode tree, Map<String, Schema> schemas) {
    ScanFilters extractor = new ScanFilters(schemas);
    extractor.walk(tree);
    Map<String, Expression> result = new HashMap<>();
    extractor.filters.forEach(
        (placeholder, expressions) -> {
          Expression combined = Expressions.alwaysTrue();
          for (Expression expression : expressions) {
            combined = Expressions.and(combined, expression);
          }
          result.put(placeholder, combined);
        });
    return result;
  }

  /**
   * The whole of a WHERE condition on one table's columns, from DuckDB's parse tree, as an Iceberg
   * expression: comparisons ({@code =, <>, <, <=, >, >=}), {@code BETWEEN}, {@code [NOT] IN} and
   * {@code IS [NOT] NULL} of a column with constants, combined with AND, OR and NOT.
   *
   * @throws IllegalArgumentException naming the part that is not such a condition
   */
  static Expression condition(JsonNode where, Schema schema) {
    ScanFilters columns = new ScanFilters(Map.of(WHOLE_CONDITION, schema));
    Expression expression = columns.strict(where);
    try {
      Binder.bind(schema.asStruct(), expression, false);
    } catch (ValidationException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    return expression;
  }

  private static final String WHOLE_CONDITION = "";

  private Expression strict(JsonNode node) {
    String type = node.path("type").asText();
    switch (type) {
      case "CONJUNCTION_AND":
      case "CONJUNCTION_OR":
        Expression combined = null;
        for (JsonNode child : node.path("children")) {
          Expression part = strict(child);
          combined =
              combined == null
                  ? part
                  : type.equals("CONJUNCTION_AND")
                      ? Expressions.and(combined, part)
                      : Expressions.or(combined, part);
        }
        return combined;
      case "OPERATOR_NOT":
        return Expressions.not(strict(node.path("children").path(0)));
      case "OPERATOR_IS_NULL":
        return Expressions.isNull(strictColumn(node.path("children").path(0)).name);
      case "OPERATOR_IS_NOT_NULL":
        return Expressions.notNull(strictColumn(node.path("children").path(0)).name);
      case "COMPARE_BETWEEN":
        {
          Column column = strictColumn(node.path("input"));
          return Expressions.and(
              Expressions.greaterThanOrEqual(column.name, strictValue(node.path("lower"), column)),
              Expressions.lessThanOrEqual(column.name, strictValue(node.path("upper"), column)));
        }
      case "COMPARE_IN":
      case "COMPARE_NOT_IN":
        {
          JsonNode children = node.path("children");
          Column column = strictColumn(children.path(0));
          List<Object> values = new ArrayList<>();
          for (int i = 1; i < children.size(); i++) {
            values.add(strictValue(children.get(i), column));
          }
          return type.equals("COMPARE_IN")
              ? Expressions.in(column.name, values.toArray())
              : Expressions.notIn(column.name, values.toArray());
        }
      case "COMPARE_NOTEQUAL":
      case "COMPARE_EQUAL":
      case "COMPARE_LESSTHAN":
      case "COMPARE_GREATERTHAN":
      case "COMPARE_LESSTHANOREQUALTO":
      case "COMPARE_GREATERTHANOREQUALTO":
        {
          if (isColumn(node.path("left")) == isColumn(node.path("right"))) {
            throw new IllegalArgumentException(
                "'"
                    + describe(node.path("left"))
                    + "' and '"
                    + describe(node.path("right"))
                    + "': compare one column with a constant");
          }
          boolean flipped = !isColumn(node.path("left"));
          Column column = strictColumn(flipped ? node.path("right") : node.path("left"));
          Object value = strictValue(flipped ? node.path("left") : node.path("right"), column);
          return type.equals("COMPARE_NOTEQUAL")
              ? Expressions.notEqual(column.name, value)
              : comparison(flipped ? flip(type) : type, column.name, value);
        }
      default:
        throw new IllegalArgumentException(
            "'"
                + describe(node)
                + "' is not a condition on the table's files; use comparisons (=, <>, <, <=, >,"
                + " >=), BETWEEN, [NOT] IN and IS [NOT] NULL of a column with constants, combined"
                + " with AND, OR and NOT");
    }
  }

  private Column strictColumn(JsonNode node) {
    JsonNode names = node.path("column_names");
    if (!isColumn(node) || names.size() != 1) {
      throw new IllegalArgumentException(
          "'" + describe(node) + "' is not a column of the table; name one column by itself");
    }
    Column column = column(WHOLE_CONDITION, names.get(0).asText());
    if (column == null) {
      throw new IllegalArgumentException(
          "the table has no column "
              + names.get(0).asText()
              + " of a primitive type; its columns: "
              + String.join(
                  ", ",
                  schemas.get(WHOLE_CONDITION).columns().stream()
                      .map(Types.NestedField::name)
                      .toList()));
    }
    return column;
  }

  private static Object strictValue(JsonNode node, Column column) {
    Object value = value(node, column.type);
    if (value == null) {
      throw new IllegalArgumentException(
          "cannot compare column "
              + column.name
              + " ("
              + column.type
              + ") with '"
              + describe(node)
              + "'; write a constant of the column's type, such as a number or a quoted date");
    }
    return value;
  }

  /** The text of an expression for messages: a constant's text, a column's name, or its kind. */
  private static String describe(JsonNode node) {
    if ("CONSTANT".equals(node.path("class").asText())) {
      return node.path("literal").path("text").asText();
    }
    if (isColumn(node)) {
      List<String> names = new ArrayList<>();
      node.path("column_names").forEach(name -> names.add(name.asText()));
      return String.join(".", names);
    }
    String function = node.path("function_name").asText();
    return function.isEmpty() ? node.path("type").asText().toLowerCase(Locale.ROOT) : function;
  }

  private void walk(JsonNode node) {
    if (node.isObject() && "SELECT_NODE".equals(node.path("type").asText())) {
      Map<String, String> bindings = new HashMap<>();
      bindTables(node.path("from_table"), bindings);
      if (!bindings.isEmpty() && node.hasNonNull("where_clause")) {
        conjuncts(node.get("where_clause"), bindings);
      }
    }
    for (JsonNode child : node) {
      if (child.isContainerNode()) {
        walk(child);
      }
    }
  }

  /** Binds alias → placeholder for the Floe tables directly in a FROM clause (not subqueries). */
  private void bindTables(JsonNode from, Map<String, String> bindings) {
    String type = from.path("type").asText();
    if (type.equals("JOIN")) {
      bindTables(from.path("left"), bindings);
      bindTables(from.path("right"), bindings);
    } else if (type.equals("BASE_TABLE") && from.path("schema_name").asText().isEmpty()) {
      String table = from.path("table_name").asText();
      if (schemas.containsKey(table)) {
        String alias = from.path("alias").asText();
        bindings.put((alias.isEmpty() ? table : alias).toLowerCase(Locale.ROOT), table);
      }
    }
  }

  private void conjuncts(JsonNode expression, Map<String, String> bindings) {
    String type = expression.path("type").asText();
    if (type.equals("CONJUNCTION_AND")) {
      for (JsonNode child : expression.path("children")) {
        conjuncts(child, bindings);
      }
      return;
    }
    if (COMPARISONS.contains(type)) {
      JsonNode left = expression.path("left");
      JsonNode right = expression.path("right");
      boolean flipped = !isColumn(left);
      JsonNode column = flipped ? right : left;
      JsonNode constant = flipped ? left : right;
      Column resolved = resolve(column, bindings);
      if (resolved != null) {
        Object value = value(constant, resolved.type);
        if (value != null) {
          push(resolved, comparison(flipped ? flip(type) : type, resolved.name, value));
        }
      }
    } else if (type.equals("COMPARE_BETWEEN")) {
      Column resolved = resolve(expression.path("input"), bindings);
      if (resolved != null) {
        Object lower = value(expression.path("lower"), resolved.type);
        Object upper = value(expression.path("upper"), resolved.type);
        if (lower != null) {
          push(resolved, Expressions.greaterThanOrEqual(resolved.name, lower));
        }
        if (upper != null) {
          push(resolved, Expressions.lessThanOrEqual(resolved.name, upper));
        }
      }
    } else if (type.equals("COMPARE_IN")) {
      JsonNode children = expression.path("children");
      Column resolved = children.size() > 1 ? resolve(children.get(0), bindings) : null;
      if (resolved != null) {
        List<Object> values = new ArrayList<>();
        for (int i = 1; i < children.size(); i++) {
          Object value = value(children.get(i), resolved.type);
          if (value == null) {
            return;
          }
          values.add(value);
        }
        push(resolved, Expressions.in(resolved.name, values.toArray()));
      }
    } else if (type.equals("OPERATOR_IS_NOT_NULL")) {
      Column resolved = resolve(expression.path("children").path(0), bindings);
      if (resolved != null) {
        push(resolved, Expressions.notNull(resolved.name));
      }
    }
  }

  private record Column(String placeholder, String name, Type type) {}

  private static boolean isColumn(JsonNode node) {
    return "COLUMN_REF".equals(node.path("class").asText());
  }

  private Column resolve(JsonNode node, Map<String, String> bindings) {
    if (!isColumn(node)) {
      return null;
    }
    JsonNode names = node.path("column_names");
    if (names.size() == 2) {
      String placeholder = bindings.get(names.get(0).asText().toLowerCase(Locale.ROOT));
      return placeholder == null ? null : column(placeholder, names.get(1).asText());
    }
    if (names.size() != 1) {
      return null;
    }
    Column found = null;
    for (String placeholder : bindings.values()) {
      Column column = column(placeholder, names.get(0).asText());
      if (column != null) {
        if (found != null) {
          return null; // ambiguous; DuckDB reports it
        }
        found = column;
      }
    }
    return found;
  }

  private Column column(String placeholder, String name) {
    Types.NestedField field = schemas.get(placeholder).caseInsensitiveFindField(name);
    if (field == null || !field.type().isPrimitiveType()) {
      return null;
    }
    return new Column(
        placeholder, schemas.get(placeholder).findColumnName(field.fieldId()), field.type());
  }

  private void push(Column column, Expression expression) {
    try {
      Binder.bind(schemas.get(column.placeholder).asStruct(), expression, false);
    } catch (ValidationException | IllegalArgumentException e) {
      return; // not expressible for Iceberg; DuckDB still applies the condition
    }
    filters.computeIfAbsent(column.placeholder, key -> new ArrayList<>()).add(expression);
  }

  private static String flip(String type) {
    switch (type) {
      case "COMPARE_LESSTHAN":
        return "COMPARE_GREATERTHAN";
      case "COMPARE_GREATERTHAN":
        return "COMPARE_LESSTHAN";
      case "COMPARE_LESSTHANOREQUALTO":
        return "COMPARE_GREATERTHANOREQUALTO";
      case "COMPARE_GREATERTHANOREQUALTO":
        return "COMPARE_LESSTHANOREQUALTO";
      default:
        return type;
    }
  }

  private static Expression comparison(String type, String name, Object value) {
    switch (type) {
      case "COMPARE_LESSTHAN":
        return Expressions.lessThan(name, value);
      case "COMPARE_GREATERTHAN":
        return Expressions.greaterThan(name, value);
      case "COMPARE_LESSTHANOREQUALTO":
        return Expressions.lessThanOrEqual(name, value);
      case "COMPARE_GREATERTHANOREQUALTO":
        return Expressions.greaterThanOrEqual(name, value);
      default:
        return Expressions.equal(name, value);
    }
  }

  /**
   * The constant as a value of the column's Iceberg type, or null when it is not a constant or its
   * meaning for that type is not certain.
   */
  static Object value(JsonNode node, Type type) {
    String cast = null;
    JsonNode constant = node;
    if ("CAST".equals(node.path("class").asText())) {
      if (node.path("try_cast").asBoolean(false)) {
        return null;
      }
      cast = node.path("type_expr").path("type_name").asText().toLowerCase(Locale.ROOT);
      constant = node.path("child");
    }
    if (!"CONSTANT".equals(constant.path("class").asText())) {
      return null;
    }
    String kind = constant.path("literal").path("kind").asText();
    String text = constant.path("literal").path("text").asText();
    try {
      switch (type.typeId()) {
        case INTEGER:
        case LONG:
          if (cast != null || !(kind.equals("INTEGER") || kind.equals("STRING"))) {
            return null;
          }
          long number = Long.parseLong(text.trim());
          if (type.typeId() == Type.TypeID.INTEGER) {
            return number == (int) number ? (Object) (int) number : null;
          }
          return number;
        case DECIMAL:
          if (cast != null || kind.equals("BOOLEAN") || kind.equals("NULL")) {
            return null;
          }
          return new BigDecimal(text.trim())
              .setScale(((Types.DecimalType) type).scale(), RoundingMode.UNNECESSARY);
        case DOUBLE:
          if (cast != null || !(kind.equals("INTEGER") || kind.equals("NUMERIC"))) {
            return null;
          }
          return Double.parseDouble(text);
        case STRING:
          if (!kind.equals("STRING") || !(cast == null || cast.equals("varchar"))) {
            return null;
          }
          return text;
        case DATE:
          if (!kind.equals("STRING") || !(cast == null || cast.equals("date"))) {
            return null;
          }
          return (int) LocalDate.parse(text.trim()).toEpochDay();
        case TIMESTAMP:
          if (!kind.equals("STRING")) {
            return null;
          }
          boolean zoned = ((Types.TimestampType) type).shouldAdjustToUTC();
          if (cast != null
              && !(zoned
                  ? cast.equals("timestamptz") || cast.equals("timestamp with time zone")
                  : cast.equals("timestamp"))) {
            return null;
          }
          return micros(text.trim(), zoned);
        case UUID:
          if (!kind.equals("STRING") || !(cast == null || cast.equals("uuid"))) {
            return null;
          }
          return UUID.fromString(text.trim());
        case BOOLEAN:
          if (cast != null || !kind.equals("BOOLEAN")) {
            return null;
          }
          return Boolean.parseBoolean(text);
        default:
          return null;
      }
    } catch (NumberFormatException | ArithmeticException | DateTimeParseException e) {
      return null; // DuckDB reports or converts it; no pruning for this condition
    }
  }

  private static Long micros(String text, boolean zoned) {
    var parsed = LOCAL_TIMESTAMP.parse(text);
    LocalDateTime local =
        LocalDateTime.of(LocalDate.from(parsed), java.time.LocalTime.from(parsed));
    OffsetDateTime instant;
    if (parsed.isSupported(ChronoField.OFFSET_SECONDS)) {
      if (!zoned) {
        return null; // DuckDB would cast the zoned text in its own way; do not guess
      }
      instant = local.atOffset(ZoneOffset.ofTotalSeconds(parsed.get(ChronoField.OFFSET_SECONDS)));
    } else {
      instant = local.atOffset(ZoneOffset.UTC);
    }
    return ChronoUnit.MICROS.between(
        OffsetDateTime.of(1970, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC), instant);
  }
}
