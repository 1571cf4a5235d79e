package io.floe.sql;

import io.floe.core.catalog.TableFiles;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Builds the DuckDB query that reads one planned Iceberg table scan: DuckDB reads the Parquet files
 * Iceberg planned and removes deleted rows with an anti-join on row position.
 *
 * <p>Files without deletes are read together, without row positions. Each file with deletes is read
 * on its own and anti-joined on its row positions alone, an integer key: joining all files at once
 * on (file name, position) hashes the file name of every row, which costs several times as much as
 * the scan itself. Above {@link #PER_FILE_JOINS} files with deletes, one combined join is used, to
 * keep the query small.
 */
final class TableScanSql {
  /** Most data files with deletes that are joined one by one. */
  static final int PER_FILE_JOINS = 64;

  private TableScanSql() {}

  /**
   * The DuckDB query reading the planned files, with {@code localPath} giving the readable path of
   * each file location (itself for local files, a cached copy for remote ones).
   */
  static String sql(Schema schema, TableFiles files, Function<String, String> localPath) {
    return sql(schema, files, localPath, Map.of());
  }

  /**
   * As {@link #sql(Schema, TableFiles, Function)}, reading the data files in {@code resident} (by
   * location) from the DuckDB table named there, which holds the file's rows with its deleted rows
   * already removed ({@link ResidentFiles}).
   */
  static String sql(
      Schema schema,
      TableFiles files,
      Function<String, String> localPath,
      Map<String, String> resident) {
    if (files.dataFiles().isEmpty()) {
      return emptySelect(schema);
    }
    String columns =
        schema.columns().stream()
            .map(field -> "d." + quote(field.name()))
            .collect(Collectors.joining(", "));
    List<String> parts = new ArrayList<>();
    Set<String> clean = new LinkedHashSet<>();
    Set<String> withDeletes = new LinkedHashSet<>();
    for (String file : files.dataFiles().keySet()) {
      Set<DeleteFile> deletes = files.deletesByDataFile().get(file);
      if (resident.containsKey(file)) {
        parts.add("SELECT " + columns + " FROM " + resident.get(file) + " d");
      } else {
        (deletes == null || deletes.isEmpty() ? clean : withDeletes).add(file);
      }
    }
    if (withDeletes.size() > PER_FILE_JOINS) {
      Set<String> read = new LinkedHashSet<>(clean);
      read.addAll(withDeletes);
      parts.add(combinedJoin(columns, read, files.deleteFiles().keySet(), localPath));
      return String.join(" UNION ALL ", parts);
    }
    if (!clean.isEmpty()) {
      parts.add("SELECT " + columns + " FROM read_parquet(" + list(clean, localPath) + ") d");
    }
    for (String file : withDeletes) {
      // Delete files name data files by location, which the literal matches also for cached copies.
      parts.add(
          "SELECT "
              + columns
              + " FROM read_parquet("
              + literal(localPath.apply(file))
              + ", file_row_number = true) d ANTI JOIN (SELECT pos FROM read_parquet("
              + list(files.deleteLocations(file), localPath)
              + ") WHERE file_path = "
              + literal(file)
              + ") p ON d.file_row_number = p.pos");
    }
    return String.join(" UNION ALL ", parts);
  }

  /** One anti-join of all data files on (file name, row position). */
  private static String combinedJoin(
      String columns,
      Set<String> dataFiles,
      Set<String> deleteFiles,
      Function<String, String> localPath) {
    StringBuilder sql = new StringBuilder();
    sql.append("SELECT ")
        .append(columns)
        .append(" FROM read_parquet(")
        .append(list(dataFiles, localPath));
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
