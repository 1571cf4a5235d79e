package io.floe.ingest.transform;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A stream pipeline's transform: select-list items and a filter in DuckDB's SQL, applied to each
 * record's fields, in batches. Records are grouped by the types of their own fields, so that a
 * record's result does not depend on the records beside it; a field that a record lacks but others
 * had is NULL for it. When a batch fails (a cast of bad text, say), its records are evaluated one
 * by one, so that only the failing ones fail. Functions such as {@code random()} or {@code now()}
 * give other values when a record is processed again.
 *
 * <p>Not thread-safe: the pipeline's thread uses it.
 */
public final class RecordTransform implements AutoCloseable {
  /** What the transform made of a record. */
  public sealed interface Outcome permits Row, Filtered, Failed {}

  /** The record's output fields, by name, in the select list's order. */
  public record Row(Map<String, Object> fields) implements Outcome {
    public Row {
      requireNonNull(fields, "fields is null");
    }
  }

  /** The filter did not keep the record. */
  public enum Filtered implements Outcome {
    INSTANCE
  }

  /** The record's evaluation failed, with DuckDB's message. */
  public record Failed(String message) implements Outcome {
    public Failed {
      requireNonNull(message, "message is null");
    }
  }

  private final DuckBatch duck;
  private final String select;
  private final Optional<String> where;

  /** Fields seen in any record so far: one a record lacks is NULL for it. */
  private final Set<String> knownFields = new LinkedHashSet<>();

  private RecordTransform(DuckBatch duck, String select, Optional<String> where) {
    this.duck = duck;
    this.select = select;
    this.where = where;
  }

  /**
   * The transform of these select-list items and filter.
   *
   * @throws FloeException with {@link ErrorCode#CONFIG_INVALID} when an expression does not parse
   */
  public static RecordTransform open(List<String> select, Optional<String> where) {
    requireNonNull(select, "select is null");
    requireNonNull(where, "where is null");
    DuckBatch duck = DuckBatch.open();
    try {
      for (String item : select) {
        String error = duck.syntaxError("SELECT " + item + " FROM t");
        if (error != null) {
          throw invalid("transform.select item '" + item + "'", error);
        }
      }
      if (where.isPresent()) {
        String error = duck.syntaxError("SELECT * FROM t WHERE " + where.get());
        if (error != null) {
          throw invalid("transform.where '" + where.get() + "'", error);
        }
      }
      return new RecordTransform(duck, String.join(", ", select), where);
    } catch (RuntimeException e) {
      duck.close();
      throw e;
    }
  }

  private static FloeException invalid(String what, String error) {
    return new FloeException(
        ErrorCode.CONFIG_INVALID,
        "The pipeline's "
            + what
            + " is not valid SQL: "
            + error
            + "; write an expression of DuckDB's SQL over the record's fields, such as"
            + " lower(email) AS email");
  }

  /** One outcome per record, in their order. */
  public List<Outcome> apply(List<Map<String, Object>> records) {
    for (Map<String, Object> record : records) {
      knownFields.addAll(record.keySet());
    }
    Outcome[] outcomes = new Outcome[records.size()];
    Map<List<String>, List<Integer>> groups = new LinkedHashMap<>();
    for (int i = 0; i < records.size(); i++) {
      groups.computeIfAbsent(signature(records.get(i)), key -> new ArrayList<>()).add(i);
    }
    for (Map.Entry<List<String>, List<Integer>> group : groups.entrySet()) {
      try {
        evaluate(group.getKey(), group.getValue(), records, outcomes);
      } catch (SQLException batchFailure) {
        for (int index : group.getValue()) {
          try {
            evaluate(group.getKey(), List.of(index), records, outcomes);
          } catch (SQLException e) {
            outcomes[index] = new Failed(DuckBatch.message(e));
          }
        }
      }
    }
    return List.of(outcomes);
  }

  /** The names and DuckDB types of a record's non-null fields, alternately. */
  private static List<String> signature(Map<String, Object> record) {
    List<String> signature = new ArrayList<>(record.size() * 2);
    for (Map.Entry<String, Object> field : record.entrySet()) {
      if (field.getValue() != null) {
        signature.add(field.getKey());
        signature.add(DuckBatch.typeOf(field.getValue()));
      }
    }
    return signature;
  }

  private void evaluate(
      List<String> signature,
      List<Integer> indexes,
      List<Map<String, Object>> records,
      Outcome[] outcomes)
      throws SQLException {
    List<String> names = new ArrayList<>();
    List<String> types = new ArrayList<>();
    for (int i = 0; i < signature.size(); i += 2) {
      names.add(signature.get(i));
      types.add(signature.get(i + 1));
    }
    List<Object[]> rows = new ArrayList<>(indexes.size());
    for (int index : indexes) {
      Map<String, Object> record = records.get(index);
      Object[] row = new Object[names.size() + 1];
      row[0] = (long) index;
      for (int i = 0; i < names.size(); i++) {
        row[i + 1] = DuckBatch.forType(record.get(names.get(i)), types.get(i));
      }
      rows.add(row);
    }
    duck.load(names, types, rows);
    // The record's fields, then NULL for the fields it lacks (in the record's own order first).
    Map<String, Object> first = records.get(indexes.get(0));
    List<String> columns = new ArrayList<>();
    columns.add(DuckBatch.ROW);
    Set<String> typed = new LinkedHashSet<>(names);
    for (String field : first.keySet()) {
      columns.add(
          typed.contains(field) ? DuckBatch.quote(field) : "NULL AS " + DuckBatch.quote(field));
    }
    for (String field : knownFields) {
      if (!first.containsKey(field)) {
        columns.add("NULL AS " + DuckBatch.quote(field));
      }
    }
    String sql =
        "WITH record AS (SELECT "
            + String.join(", ", columns)
            + " FROM "
            + DuckBatch.TABLE
            + ") SELECT "
            + DuckBatch.ROW
            + ", "
            + select
            + " FROM record"
            + where.map(predicate -> " WHERE " + predicate).orElse("");
    for (int index : indexes) {
      outcomes[index] = Filtered.INSTANCE;
    }
    try (Statement statement = duck.statement();
        ResultSet results = statement.executeQuery(sql)) {
      ResultSetMetaData meta = results.getMetaData();
      int count = meta.getColumnCount();
      while (results.next()) {
        int index = (int) results.getLong(1);
        Map<String, Object> fields = new LinkedHashMap<>();
        for (int column = 2; column <= count; column++) {
          String name = meta.getColumnLabel(column);
          if (name.equals(DuckBatch.ROW)) {
            continue; // The row number, again, from a *.
          }
          fields.put(name, DuckBatch.value(results, column, meta.getColumnTypeName(column)));
        }
        outcomes[index] = new Row(fields);
      }
    }
  }

  @Override
  public void close() {
    duck.close();
  }
}
