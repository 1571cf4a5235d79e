package io.floe.ingest.debezium;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.ingest.RowImage;
import io.floe.ingest.SchemaDrift;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Type;
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
        if (unchanged != null && field.isRequired()) {
          throw new FloeException(
              ErrorCode.SOURCE_TABLE_INVALID,
              "Cannot apply a change of "
                  + sourceTable
                  + ": key column "
                  + field.name()
                  + " is missing from the source row; was it dropped or renamed in "
                  + sourceName
                  + "? A table's key cannot change under a running pipeline: restore the column,"
                  + " or drop the Iceberg table to load the table again with its new key");
        }
        // A key image holds only the key columns; a column dropped at the source stays in the
        // Iceberg table, null in the rows written since.
        continue;
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
    return record;
  }

  @Override
  public Object sourceSchema() {
    return image.schema();
  }

  /**
   * Compares the image's columns, as Debezium typed them, with the table's: new columns, columns
   * whose type widened, and changes a column cannot follow.
   */
  @Override
  public SchemaDrift drift(Schema schema) {
    Map<String, Type> added = new LinkedHashMap<>();
    Map<String, Type> widened = new HashMap<>();
    Map<String, String> defaults = new HashMap<>();
    Map<String, Type> retyped = new LinkedHashMap<>();
    List<String> incompatible = new ArrayList<>();
    for (Field connectField : image.schema().fields()) {
      Types.NestedField column = schema.findField(connectField.name());
      if (column == null) {
        Type type = ConnectTypes.icebergType(connectField.schema());
        if (type == null) {
          incompatible.add(
              "new column "
                  + connectField.name()
                  + " has a type Floe cannot map yet ("
                  + describe(connectField.schema())
                  + ")");
        } else {
          added.put(connectField.name(), type);
          Object defaultValue = connectField.schema().defaultValue();
          if (defaultValue != null) {
            defaults.put(connectField.name(), String.valueOf(defaultValue));
          }
        }
        continue;
      }
      Type needed = ConnectTypes.fit(column.type(), connectField.schema());
      if (needed == null) {
        Type type = ConnectTypes.icebergType(connectField.schema());
        if (type != null && !schema.identifierFieldIds().contains(column.fieldId())) {
          retyped.put(connectField.name(), type);
          continue;
        }
        incompatible.add(
            "column "
                + connectField.name()
                + " is "
                + column.type()
                + " in Iceberg, and its values are now "
                + describe(connectField.schema())
                + ", which that type cannot hold exactly"
                + (type == null
                    ? " (and a type Floe cannot map yet)"
                    : "; it is a key column, and a table's key cannot change under a pipeline"));
      } else if (!needed.equals(column.type())) {
        widened.put(connectField.name(), needed);
      }
    }
    return added.isEmpty() && widened.isEmpty() && retyped.isEmpty() && incompatible.isEmpty()
        ? SchemaDrift.NONE
        : new SchemaDrift(added, widened, defaults, retyped, incompatible);
  }

  private static String describe(org.apache.kafka.connect.data.Schema schema) {
    return schema.name() == null ? schema.type().toString() : schema.type() + " " + schema.name();
  }
}
