package io.floe.sql;

import io.floe.core.catalog.TableFiles;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Builds the DuckDB query that reads one Iceberg table: Iceberg plans the scan (files of the
 * current snapshot and the deletes that apply to them), DuckDB reads the Parquet files and removes
 * deleted rows with an anti-join on (file, row position).
 */
final class TableScanSql {
  private TableScanSql() {}

  /** The scan plan of a table, with files and bytes for reporting. */
  record Plan(String sql, int dataFiles, int deleteFiles, long bytes) {}

  static Plan plan(Table table) {
    Schema schema = table.schema();
    String columns =
        schema.columns().stream()
            .map(field -> "d." + quote(field.name()))
            .collect(Collectors.joining(", "));
    TableFiles files = TableFiles.load(table);
    Set<String> dataFiles = files.dataFiles().keySet();
    Set<String> deleteFiles = files.deleteFiles().keySet();
    if (dataFiles.isEmpty()) {
      return new Plan(emptySelect(schema), 0, 0, 0);
    }
    StringBuilder sql = new StringBuilder();
    sql.append("SELECT ").append(columns).append(" FROM read_parquet(").append(list(dataFiles));
    if (deleteFiles.isEmpty()) {
      sql.append(") d");
    } else {
      sql.append(", filename = true, file_row_number = true) d ANTI JOIN read_parquet(")
          .append(list(deleteFiles))
          .append(") p ON d.filename = p.file_path AND d.file_row_number = p.pos");
    }
    return new Plan(sql.toString(), dataFiles.size(), deleteFiles.size(), files.bytes());
  }

  private static String emptySelect(Schema schema) {
    return "SELECT "
        + schema.columns().stream()
            .map(field -> "CAST(NULL AS " + duckType(field.type()) + ") AS " + quote(field.name()))
            .collect(Collectors.joining(", "))
        + " WHERE false";
  }

  static String duckType(Type type) {
    switch (type.typeId()) {
      case BOOLEAN:
        return "BOOLEAN";
      case INTEGER:
        return "INTEGER";
      case LONG:
        return "BIGINT";
      case FLOAT:
        return "FLOAT";
      case DOUBLE:
        return "DOUBLE";
      case DATE:
        return "DATE";
      case TIME:
        return "TIME";
      case TIMESTAMP:
        return ((Types.TimestampType) type).shouldAdjustToUTC() ? "TIMESTAMPTZ" : "TIMESTAMP";
      case STRING:
        return "VARCHAR";
      case UUID:
        return "UUID";
      case BINARY:
      case FIXED:
        return "BLOB";
      case DECIMAL:
        Types.DecimalType decimal = (Types.DecimalType) type;
        return "DECIMAL(" + decimal.precision() + ", " + decimal.scale() + ")";
      case LIST:
        return duckType(((Types.ListType) type).elementType()) + "[]";
      default:
        return "VARCHAR";
    }
  }

  private static String list(Set<String> paths) {
    List<String> quoted = paths.stream().map(TableScanSql::literal).toList();
    return "[" + String.join(", ", quoted) + "]";
  }

  static String literal(String value) {
    return "'" + value.replace("'", "''") + "'";
  }

  static String quote(String identifier) {
    return "\"" + identifier.replace("\"", "\"\"") + "\"";
  }
}
