package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;

/** Extracts the primary key (the schema's identifier fields) of rows as a hashable value. */
final class RowKeys {
  private final String tableName;
  private final int[] keyPositions;
  private final String[] keyNames;
  private final Schema keySchemaWithPosition;

  /**
   * Keys by the identifier fields of {@code schema}, the schema of table {@code tableName}.
   *
   * @throws FloeException if the schema has no identifier fields, or nested ones
   */
  RowKeys(String tableName, Schema schema) {
    this.tableName = requireNonNull(tableName, "tableName is null");
    List<Integer> ids = new ArrayList<>(schema.identifierFieldIds());
    if (ids.isEmpty()) {
      throw new FloeException(
          ErrorCode.TABLE_UNSUPPORTED,
          "Cannot write CDC changes to table "
              + tableName
              + ": it has no identifier fields, which Floe uses as its primary key; set them to"
              + " the source's primary key columns, or drop the table and let the pipeline create"
              + " it; schema: "
              + schema);
    }
    List<Types.NestedField> columns = schema.columns();
    List<Types.NestedField> keyFields = new ArrayList<>();
    this.keyPositions = new int[ids.size()];
    this.keyNames = new String[ids.size()];
    int next = 0;
    for (int position = 0; position < columns.size(); position++) {
      if (ids.contains(columns.get(position).fieldId())) {
        keyPositions[next] = position;
        keyNames[next] = columns.get(position).name();
        keyFields.add(columns.get(position));
        next++;
      }
    }
    if (next != ids.size()) {
      throw new FloeException(
          ErrorCode.TABLE_UNSUPPORTED,
          "Cannot write CDC changes to table "
              + tableName
              + ": some of its identifier fields are nested in structs, which Floe cannot use as a"
              + " primary key; make top-level columns its identifier fields; schema: "
              + schema);
    }
    this.keySchemaWithPosition = ParquetRows.withPosition(new Schema(keyFields));
  }

  Schema keySchemaWithPosition() {
    return keySchemaWithPosition;
  }

  /**
   * The key of a full row.
   *
   * @throws FloeException if a key column is NULL
   */
  Object keyOf(Record row) {
    if (keyPositions.length == 1) {
      return normalize(row.get(keyPositions[0]), 0);
    }
    Object[] values = new Object[keyPositions.length];
    for (int i = 0; i < keyPositions.length; i++) {
      values[i] = normalize(row.get(keyPositions[i]), i);
    }
    return Arrays.asList(values);
  }

  /**
   * The key of a row read with {@link #keySchemaWithPosition()}.
   *
   * @throws FloeException if a key column is NULL
   */
  Object keyOfProjection(Record projected) {
    if (keyPositions.length == 1) {
      return normalize(projected.get(0), 0);
    }
    Object[] values = new Object[keyPositions.length];
    for (int i = 0; i < keyPositions.length; i++) {
      values[i] = normalize(projected.get(i), i);
    }
    return Arrays.asList(values);
  }

  private Object normalize(Object value, int keyField) {
    if (value == null) {
      // A primary key column cannot be NULL in the source, nor in Iceberg (identifier fields are
      // required): whatever sent this row sent something Floe cannot apply.
      throw new FloeException(
          ErrorCode.SOURCE_DATA_INVALID,
          "Cannot apply a change to table "
              + tableName
              + ": primary key column "
              + keyNames[keyField]
              + " of a row is NULL; check the source table's primary key and replica identity,"
              + " then reload the table (drop it and restart the pipeline)");
    }
    if (value instanceof CharSequence) {
      return value.toString();
    }
    if (value instanceof ByteBuffer) {
      ByteBuffer buffer = (ByteBuffer) value;
      byte[] bytes = new byte[buffer.remaining()];
      buffer.duplicate().get(bytes);
      return ByteBuffer.wrap(bytes);
    }
    return value;
  }
}
