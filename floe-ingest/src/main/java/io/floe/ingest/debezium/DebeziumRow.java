package io.floe.ingest.debezium;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.ingest.RowImage;
import java.util.BitSet;
import java.util.List;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;

/** A row image of a Debezium change event: a Kafka Connect struct. */
public final class DebeziumRow implements RowImage {
  private final String sourceName;
  private final String sourceTable;
  private final Struct image;

  /**
   * @param sourceName the source's product name for messages ("PostgreSQL", "MariaDB")
   * @param sourceTable the table's qualified name, for messages and value conversion
   */
  public DebeziumRow(String sourceName, String sourceTable, Struct image) {
    this.sourceName = requireNonNull(sourceName, "sourceName is null");
    this.sourceTable = requireNonNull(sourceTable, "sourceTable is null");
    this.image = requireNonNull(image, "image is null");
  }

  @Override
  public Record toRecord(Schema schema, BitSet unchanged) {
    List<Types.NestedField> fields = schema.columns();
    GenericRecord record = GenericRecord.create(schema);
    for (int position = 0; position < fields.size(); position++) {
      Types.NestedField field = fields.get(position);
      Field connectField = image.schema().field(field.name());
      if (connectField == null) {
        if (unchanged == null) {
          // A key image: only key columns are present.
          continue;
        }
        throw new FloeException(
            ErrorCode.SOURCE_TABLE_INVALID,
            "Cannot apply a change of "
                + sourceTable
                + ": column "
                + field.name()
                + " is missing from the source row; was it dropped or renamed in "
                + sourceName
                + "?"
                + " Schema changes are not replicated yet: restore the column or reload the table");
      }
      Object raw = image.get(connectField);
      if (unchanged != null && ValueConverter.isUnchanged(raw)) {
        unchanged.set(position);
        continue;
      }
      record.set(
          position,
          ValueConverter.convert(
              sourceTable + "." + field.name(), field.type(), connectField.schema(), raw));
    }
    if (unchanged != null && image.schema().fields().size() > fields.size()) {
      throw new FloeException(
          ErrorCode.SOURCE_TABLE_INVALID,
          "Cannot apply a change of "
              + sourceTable
              + ": the source row has columns the Iceberg table lacks ("
              + image.schema().fields().size()
              + " vs "
              + fields.size()
              + "); schema changes are not replicated yet: restart the pipeline after reloading"
              + " the table");
    }
    return record;
  }
}
