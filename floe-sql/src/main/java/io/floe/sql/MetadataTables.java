package io.floe.sql;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.iceberg.DataTask;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.MetadataTableType;
import org.apache.iceberg.MetadataTableUtils;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Iceberg's metadata tables ({@code snapshots}, {@code history}, {@code files}, {@code manifests},
 * {@code partitions}, {@code refs} and the others Iceberg defines) with Iceberg's own schemas — the
 * columns Spark and PyIceberg return — loaded into a DuckDB table for one query.
 */
final class MetadataTables {
  private static final int ROWS_PER_INSERT = 500;

  private MetadataTables() {}

  /** The rows of a metadata table, read by Iceberg. */
  record Contents(Schema schema, List<Object[]> rows) {}

  static Contents read(Table table, MetadataTableType type) {
    Table metadata = MetadataTableUtils.createMetadataTableInstance(table, type);
    Schema schema = metadata.schema();
    List<Types.NestedField> fields = schema.columns();
    List<Object[]> rows = new ArrayList<>();
    try (CloseableIterable<FileScanTask> tasks = metadata.newScan().planFiles()) {
      for (FileScanTask task : tasks) {
        try (CloseableIterable<StructLike> taskRows = ((DataTask) task).rows()) {
          for (StructLike row : taskRows) {
            Object[] values = new Object[fields.size()];
            for (int i = 0; i < values.length; i++) {
              values[i] = row.get(i, Object.class);
            }
            rows.add(values);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Contents(schema, rows);
  }

  /**
   * Creates {@code name} in DuckDB holding the contents. In Trino's form ({@code "t$partitions"})
   * the columns Trino adds are there too: {@code total_size} in partitions, and {@code
   * added_rows_count}, {@code existing_rows_count} and {@code deleted_rows_count} in manifests.
   */
  static void load(
      Statement statement,
      String name,
      Contents contents,
      Table table,
      MetadataTableType type,
      boolean trinoForm)
      throws SQLException {
    if (!trinoForm
        || (type != MetadataTableType.PARTITIONS && type != MetadataTableType.MANIFESTS)) {
      load(statement, name, contents);
      return;
    }
    String rows = name.substring(0, name.length() - 1) + "_iceberg\"";
    load(statement, rows, contents);
    if (type == MetadataTableType.PARTITIONS) {
      statement.execute(
          "CREATE VIEW "
              + name
              + " AS SELECT *, total_data_file_size_in_bytes AS total_size FROM "
              + rows);
      return;
    }
    String counts = name.substring(0, name.length() - 1) + "_rows\"";
    statement.execute(
        "CREATE TABLE "
            + counts
            + " (path VARCHAR, added_rows_count BIGINT, existing_rows_count BIGINT,"
            + " deleted_rows_count BIGINT)");
    Snapshot snapshot = table.currentSnapshot();
    if (snapshot != null) {
      List<String> values = new ArrayList<>();
      for (ManifestFile manifest : snapshot.allManifests(table.io())) {
        values.add(
            "("
                + TableScanSql.literal(manifest.path())
                + ", "
                + manifest.addedRowsCount()
                + ", "
                + manifest.existingRowsCount()
                + ", "
                + manifest.deletedRowsCount()
                + ")");
      }
      if (!values.isEmpty()) {
        statement.execute("INSERT INTO " + counts + " VALUES " + String.join(", ", values));
      }
    }
    statement.execute(
        "CREATE VIEW "
            + name
            + " AS SELECT m.*, r.added_rows_count, r.existing_rows_count, r.deleted_rows_count"
            + " FROM "
            + rows
            + " m LEFT JOIN "
            + counts
            + " r ON m.path = r.path");
  }

  static void load(Statement statement, String name, Contents contents) throws SQLException {
    List<Types.NestedField> fields = contents.schema().columns();
    List<Integer> kept = new ArrayList<>();
    List<String> columns = new ArrayList<>();
    for (int i = 0; i < fields.size(); i++) {
      Type type = fields.get(i).type();
      if (representable(type)) {
        kept.add(i);
        columns.add(TableScanSql.quote(fields.get(i).name()) + " " + duckType(type));
      }
    }
    statement.execute("CREATE TABLE " + name + " (" + String.join(", ", columns) + ")");
    for (int from = 0; from < contents.rows().size(); from += ROWS_PER_INSERT) {
      List<Object[]> batch =
          contents.rows().subList(from, Math.min(contents.rows().size(), from + ROWS_PER_INSERT));
      StringBuilder insert = new StringBuilder("INSERT INTO ").append(name).append(" VALUES ");
      for (int r = 0; r < batch.size(); r++) {
        insert.append(r == 0 ? "(" : ", (");
        for (int k = 0; k < kept.size(); k++) {
          int column = kept.get(k);
          if (k > 0) {
            insert.append(", ");
          }
          literal(insert, batch.get(r)[column], fields.get(column).type());
        }
        insert.append(')');
      }
      statement.execute(insert.toString());
    }
  }

  /** Empty structs (the partition of an unpartitioned table) have no DuckDB type. */
  private static boolean representable(Type type) {
    if (type.isStructType()) {
      return type.asStructType().fields().stream().anyMatch(f -> representable(f.type()));
    }
    if (type.isListType()) {
      return representable(type.asListType().elementType());
    }
    if (type.isMapType()) {
      return representable(type.asMapType().keyType())
          && representable(type.asMapType().valueType());
    }
    return true;
  }

  static String duckType(Type type) {
    switch (type.typeId()) {
      case STRUCT:
        return "STRUCT("
            + type.asStructType().fields().stream()
                .filter(field -> representable(field.type()))
                .map(field -> TableScanSql.quote(field.name()) + " " + duckType(field.type()))
                .collect(Collectors.joining(", "))
            + ")";
      case MAP:
        return "MAP("
            + duckType(type.asMapType().keyType())
            + ", "
            + duckType(type.asMapType().valueType())
            + ")";
      case LIST:
        return duckType(type.asListType().elementType()) + "[]";
      default:
        return TableScanSql.duckType(type);
    }
  }

  private static void literal(StringBuilder sql, Object value, Type type) {
    if (value == null) {
      sql.append("NULL");
      return;
    }
    switch (type.typeId()) {
      case BOOLEAN:
      case INTEGER:
      case LONG:
        sql.append(value);
        break;
      case FLOAT:
      case DOUBLE:
        double number = ((Number) value).doubleValue();
        if (Double.isNaN(number) || Double.isInfinite(number)) {
          sql.append('\'').append(number).append("'::DOUBLE");
        } else {
          sql.append(value);
        }
        break;
      case DECIMAL:
        sql.append(((BigDecimal) value).toPlainString());
        break;
      case DATE:
        sql.append("DATE '")
            .append(LocalDate.ofEpochDay(((Number) value).longValue()))
            .append('\'');
        break;
      case TIMESTAMP:
        sql.append("make_timestamp(").append(value).append("::BIGINT)");
        if (((Types.TimestampType) type).shouldAdjustToUTC()) {
          sql.append("::TIMESTAMPTZ");
        }
        break;
      case BINARY:
      case FIXED:
        ByteBuffer buffer =
            value instanceof ByteBuffer
                ? ((ByteBuffer) value).duplicate()
                : ByteBuffer.wrap((byte[]) value);
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        sql.append("from_hex('").append(HexFormat.of().formatHex(bytes)).append("')");
        break;
      case STRUCT:
        StructLike struct = (StructLike) value;
        List<Types.NestedField> fields = type.asStructType().fields();
        sql.append('{');
        boolean first = true;
        for (int i = 0; i < fields.size(); i++) {
          if (!representable(fields.get(i).type())) {
            continue;
          }
          sql.append(first ? "" : ", ").append(TableScanSql.literal(fields.get(i).name()));
          sql.append(": ");
          literal(sql, struct.get(i, Object.class), fields.get(i).type());
          first = false;
        }
        sql.append('}');
        break;
      case MAP:
        sql.append("MAP {");
        boolean firstEntry = true;
        for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
          sql.append(firstEntry ? "" : ", ");
          literal(sql, entry.getKey(), type.asMapType().keyType());
          sql.append(": ");
          literal(sql, entry.getValue(), type.asMapType().valueType());
          firstEntry = false;
        }
        sql.append('}');
        break;
      case LIST:
        sql.append('[');
        boolean firstElement = true;
        for (Object element : (List<?>) value) {
          sql.append(firstElement ? "" : ", ");
          literal(sql, element, type.asListType().elementType());
          firstElement = false;
        }
        sql.append(']');
        break;
      default:
        sql.append(TableScanSql.literal(value.toString()));
        if (type.typeId() != Type.TypeID.STRING) {
          sql.append("::").append(TableScanSql.duckType(type));
        }
    }
  }
}
