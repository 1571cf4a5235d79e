package io.floe.ingest.transform;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.ingest.quality.QualityGate;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * The SQL predicates of a table's {@code sql} quality rules, in DuckDB's dialect, evaluated over
 * batches of the table's rows (typed as its columns). A row fails a predicate that is false or null
 * for it, or whose evaluation fails for it; a batch that fails is evaluated row by row, so that
 * only the failing rows fail.
 *
 * <p>Not thread-safe: the pipeline's thread uses it.
 */
public final class RowPredicates implements QualityGate.Predicates {
  private final DuckBatch duck;
  private final List<String> predicates;

  /** The rows loaded last, by identity, and their schema: the rules of a batch share them. */
  private List<Record> loaded;

  private Schema loadedSchema;

  private RowPredicates(DuckBatch duck, List<String> predicates) {
    this.duck = duck;
    this.predicates = List.copyOf(predicates);
  }

  /**
   * The predicates, checked to parse.
   *
   * @throws FloeException with {@link ErrorCode#CONFIG_INVALID} when one does not
   */
  public static RowPredicates open(List<String> predicates) {
    requireNonNull(predicates, "predicates is null");
    DuckBatch duck = DuckBatch.open();
    try {
      for (String predicate : predicates) {
        String error = duck.syntaxError("SELECT * FROM t WHERE " + predicate);
        if (error != null) {
          throw new FloeException(
              ErrorCode.CONFIG_INVALID,
              "The predicate '"
                  + predicate
                  + "' of a sql quality rule is not valid SQL: "
                  + error
                  + "; write a condition of DuckDB's SQL over the table's columns, such as qty"
                  + " * price < 100000");
        }
      }
      return new RowPredicates(duck, predicates);
    } catch (RuntimeException e) {
      duck.close();
      throw e;
    }
  }

  @Override
  public List<String> failures(int predicate, Schema schema, List<Record> rows) {
    String text = predicates.get(predicate);
    String[] failures = new String[rows.size()];
    try {
      load(schema, rows, null);
      evaluate(text, failures);
    } catch (SQLException batchFailure) {
      for (int row = 0; row < rows.size(); row++) {
        try {
          load(schema, rows, row);
          evaluate(text, failures);
        } catch (SQLException e) {
          failures[row] = "evaluating '" + text + "' failed: " + DuckBatch.message(e);
        }
      }
      loaded = null; // The table holds one row now.
    }
    return Arrays.asList(failures);
  }

  /** Loads the rows (or the one row {@code only}) unless they are loaded already. */
  private void load(Schema schema, List<Record> rows, Integer only) throws SQLException {
    if (only == null && rows == loaded && schema == loadedSchema) {
      return;
    }
    List<String> names = new ArrayList<>();
    List<String> types = new ArrayList<>();
    List<Integer> positions = new ArrayList<>();
    List<Types.NestedField> columns = schema.columns();
    for (int i = 0; i < columns.size(); i++) {
      String type = duckType(columns.get(i).type());
      if (type != null) {
        names.add(columns.get(i).name());
        types.add(type);
        positions.add(i);
      }
    }
    List<Object[]> values = new ArrayList<>();
    for (int row = only == null ? 0 : only; row < (only == null ? rows.size() : only + 1); row++) {
      Record record = rows.get(row);
      Object[] line = new Object[names.size() + 1];
      line[0] = (long) row;
      for (int i = 0; i < positions.size(); i++) {
        line[i + 1] = record.get(positions.get(i));
      }
      values.add(line);
    }
    duck.load(names, types, values);
    loaded = only == null ? rows : null;
    loadedSchema = schema;
  }

  private void evaluate(String predicate, String[] failures) throws SQLException {
    String sql =
        "SELECT " + DuckBatch.ROW + ", (" + predicate + ") IS TRUE FROM " + DuckBatch.TABLE;
    try (Statement statement = duck.statement();
        ResultSet results = statement.executeQuery(sql)) {
      while (results.next()) {
        int row = (int) results.getLong(1);
        failures[row] = results.getBoolean(2) ? null : "'" + predicate + "' is not true";
      }
    }
  }

  /** The DuckDB type of a column, or null for a nested column (not loaded). */
  private static String duckType(Type type) {
    return switch (type.typeId()) {
      case BOOLEAN -> "BOOLEAN";
      case INTEGER -> "INTEGER";
      case LONG -> "BIGINT";
      case FLOAT -> "FLOAT";
      case DOUBLE -> "DOUBLE";
      case DECIMAL -> {
        Types.DecimalType decimal = (Types.DecimalType) type;
        yield "DECIMAL(" + decimal.precision() + "," + decimal.scale() + ")";
      }
      case STRING -> "VARCHAR";
      case DATE -> "DATE";
      case TIME -> "TIME";
      case TIMESTAMP ->
          ((Types.TimestampType) type).shouldAdjustToUTC() ? "TIMESTAMPTZ" : "TIMESTAMP";
      case UUID -> "UUID";
      case BINARY, FIXED -> "BLOB";
      default -> null;
    };
  }

  @Override
  public void close() {
    duck.close();
  }
}
