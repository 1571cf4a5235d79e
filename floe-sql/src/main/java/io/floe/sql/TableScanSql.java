package io.floe.sql;

import io.floe.core.catalog.TableFiles;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Builds the DuckDB query that reads one planned Iceberg table scan: DuckDB reads the Parquet files
 * Iceberg planned and removes deleted rows with an anti-join on (file, row position).
 */
final class TableScanSql {
  private TableScanSql() {}

  /**
   * The DuckDB query reading the planned files, with {@code localPath} giving the readable path of
   * each file location (itself for local files, a cached copy for remote ones).
   */
  static String sql(Schema schema, TableFiles files, Function<String, String> localPath) {
    if (files.dataFiles().isEmpty()) {
      return emptySelect(schema);
    }
    String columns =
        schema.columns().stream()
            .map(field -> "d." + quote(field.name()))
            .collect(Collectors.joining(", "));
    Set<String> dataFiles = files.dataFiles().keySet();
    Set<String> deleteFiles = files.deleteFiles().keySet();
    StringBuilder sql = new StringBuilder();
    sql.append("SELECT ")
        .append(columns)
        .append(" FROM read_parquet(")
        .append(list(dataFiles, localPath));
    if (deleteFiles.isEmpty()) {
      sql.append(") d");
      return sql.toString();
    }
    sql.append(", filename = true, file_row_number = true) d ANTI JOIN ");
    boolean mapped = dataFiles.stream().anyMatch(file -> !file.equals(localPath.apply(file)));
    if (mapped) {
      // Delete files name data files by location; DuckDB knows them by their local path.
      sql.append("(SELECT m.path AS file_path, p.pos FROM read_parquet(")
          .append(list(deleteFiles, localPath))
          .append(") p JOIN (VALUES ")
          .append(
              dataFiles.stream()
                  .map(file -> "(" + literal(file) + ", " + literal(localPath.apply(file)) + ")")
                  .collect(Collectors.joining(", ")))
          .append(") m(location, path) ON p.file_path = m.location) p");
    } else {
      sql.append("read_parquet(").append(list(deleteFiles, localPath)).append(") p");
    }
    sql.append(" ON d.filename = p.file_path AND d.file_row_number = p.pos");
    return sql.toString();
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

  private static String list(Set<String> paths, Function<String, String> localPath) {
    List<String> quoted = paths.stream().map(path -> literal(localPath.apply(path))).toList();
    return "[" + String.join(", ", quoted) + "]";
  }

  static String literal(String value) {
    return "'" + value.replace("'", "''") + "'";
  }

  static String quote(String identifier) {
    return "\"" + identifier.replace("\"", "\"\"") + "\"";
  }
}
