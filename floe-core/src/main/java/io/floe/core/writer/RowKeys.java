package io.floe.core.writer;

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
  private final int[] keyPositions;
  private final Schema keySchemaWithPosition;

  RowKeys(Schema schema) {
    List<Integer> ids = new ArrayList<>(schema.identifierFieldIds());
    if (ids.isEmpty()) {
      throw new FloeException(
          ErrorCode.TABLE_STATE_INVALID,
          "Cannot write CDC changes to a table without identifier fields; schema: " + schema);
    }
    List<Types.NestedField> columns = schema.columns();
    List<Types.NestedField> keyFields = new ArrayList<>();
    this.keyPositions = new int[ids.size()];
    int next = 0;
    for (int position = 0; position < columns.size(); position++) {
      if (ids.contains(columns.get(position).fieldId())) {
        keyPositions[next++] = position;
        keyFields.add(columns.get(position));
      }
    }
    if (next != ids.size()) {
      throw new FloeException(
          ErrorCode.TABLE_STATE_INVALID,
          "Cannot use nested identifier fields as a CDC key; schema: " + schema);
    }
    this.keySchemaWithPosition = ParquetRows.withPosition(new Schema(keyFields));
  }

  Schema keySchemaWithPosition() {
    return keySchemaWithPosition;
  }

  /** The key of a full row. */
  Object keyOf(Record row) {
    if (keyPositions.length == 1) {
      return normalize(row.get(keyPositions[0]));
    }
    Object[] values = new Object[keyPositions.length];
    for (int i = 0; i < keyPositions.length; i++) {
      values[i] = normalize(row.get(keyPositions[i]));
    }
    return Arrays.asList(values);
  }

  /** The key of a row read with {@link #keySchemaWithPosition()}. */
  Object keyOfProjection(Record projected) {
    if (keyPositions.length == 1) {
      return normalize(projected.get(0));
    }
    Object[] values = new Object[keyPositions.length];
    for (int i = 0; i < keyPositions.length; i++) {
      values[i] = normalize(projected.get(i));
    }
    return Arrays.asList(values);
  }

  private static Object normalize(Object value) {
    if (value == null) {
      throw new FloeException(
          ErrorCode.TABLE_STATE_INVALID, "Cannot index a row whose primary key holds a NULL");
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
