package io.floe.ingest.debezium;

import java.util.Map;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.apache.kafka.connect.data.Schema;

/**
 * The Iceberg type of a column from the Kafka Connect schema Debezium gives its values (as every
 * Floe source configures its connector), for columns that appear at the source while a pipeline
 * runs, and to see a column's type widen. It agrees with the sources' own type mappings for the
 * types it knows; others answer null.
 */
final class ConnectTypes {
  private static final int MAX_PRECISION = 38;

  private ConnectTypes() {}

  static Type icebergType(Schema schema) {
    String name = schema.name();
    if (name != null) {
      switch (name) {
        case "io.debezium.time.Date":
          return Types.DateType.get();
        case "io.debezium.time.Time":
        case "io.debezium.time.MicroTime":
        case "io.debezium.time.NanoTime":
          return Types.TimeType.get();
        case "io.debezium.time.Timestamp":
        case "io.debezium.time.MicroTimestamp":
        case "io.debezium.time.NanoTimestamp":
          return Types.TimestampType.withoutZone();
        case "io.debezium.time.ZonedTimestamp":
          return Types.TimestampType.withZone();
        case "io.debezium.time.Year":
          return Types.IntegerType.get();
        case "io.debezium.data.Uuid":
          return Types.UUIDType.get();
        case "io.debezium.data.Bits":
          return schema.type() == Schema.Type.BOOLEAN
              ? Types.BooleanType.get()
              : Types.BinaryType.get();
        case "org.apache.kafka.connect.data.Decimal":
          return decimal(schema.parameters());
        case "io.debezium.data.VariableScaleDecimal":
          return null; // Unbounded numerics: the source's configuration decides (inspected only).
        default:
          if (name.startsWith("io.debezium.data.geometry")) {
            return null;
          }
      }
    }
    switch (schema.type()) {
      case INT8:
      case INT16:
      case INT32:
        return Types.IntegerType.get();
      case INT64:
        return Types.LongType.get();
      case FLOAT32:
        return Types.FloatType.get();
      case FLOAT64:
        return Types.DoubleType.get();
      case BOOLEAN:
        return Types.BooleanType.get();
      case STRING:
        return Types.StringType.get();
      case BYTES:
        return Types.BinaryType.get();
      default:
        return null;
    }
  }

  /**
   * The type a column of Iceberg type {@code column} needs for values of a Connect schema: {@code
   * column} itself when they fit it, a wider type Iceberg can promote it to in place (int to long,
   * float to double, a decimal's precision up), or null when the column cannot follow the change.
   */
  static Type fit(Type column, Schema schema) {
    String name = schema.name();
    Schema.Type type = schema.type();
    boolean integer =
        type == Schema.Type.INT8 || type == Schema.Type.INT16 || type == Schema.Type.INT32;
    switch (column.typeId()) {
      case INTEGER:
        if (integer && (name == null || name.equals("io.debezium.time.Year"))) {
          return column;
        }
        return type == Schema.Type.INT64 && name == null ? Types.LongType.get() : null;
      case LONG:
        return (integer || type == Schema.Type.INT64) && name == null ? column : null;
      case FLOAT:
        if (type == Schema.Type.FLOAT32) {
          return column;
        }
        return type == Schema.Type.FLOAT64 ? Types.DoubleType.get() : null;
      case DOUBLE:
        return type == Schema.Type.FLOAT32
                || type == Schema.Type.FLOAT64
                || (integer && name == null)
            ? column
            : null;
      case DECIMAL:
        if ("io.debezium.data.VariableScaleDecimal".equals(name)) {
          return column;
        }
        if ("org.apache.kafka.connect.data.Decimal".equals(name)) {
          Types.DecimalType decimal = (Types.DecimalType) column;
          Type wider = decimal(schema.parameters());
          if (!(wider instanceof Types.DecimalType widened)) {
            // Unknown precision (the value is checked against the column), or wider than 38.
            return wider == null ? column : null;
          }
          if (widened.scale() != decimal.scale()) {
            return null;
          }
          return widened.precision() > decimal.precision() ? widened : column;
        }
        return null;
      case STRING:
        if (type == Schema.Type.STRING) {
          return column;
        }
        // Numbers and booleans become their exact text; times and binaries would not.
        boolean exactText =
            name == null
                ? integer
                    || type == Schema.Type.INT64
                    || type == Schema.Type.BOOLEAN
                    || type == Schema.Type.FLOAT32
                    || type == Schema.Type.FLOAT64
                : name.equals("org.apache.kafka.connect.data.Decimal")
                    || name.equals("io.debezium.data.VariableScaleDecimal")
                    || name.equals("io.debezium.time.Year");
        return exactText ? column : null;
      case BOOLEAN:
        return type == Schema.Type.BOOLEAN ? column : null;
      case BINARY:
        return type == Schema.Type.BYTES ? column : null;
      case LIST:
        return type == Schema.Type.ARRAY ? column : null;
      default:
        // Dates, times, timestamps and uuids: the type the column was created from.
        Type expected = icebergType(schema);
        return expected != null && expected.equals(column) ? column : null;
    }
  }

  private static Type decimal(Map<String, String> parameters) {
    if (parameters == null || !parameters.containsKey("scale")) {
      return null;
    }
    int scale = Integer.parseInt(parameters.get("scale"));
    String precision = parameters.get("connect.decimal.precision");
    if (precision == null) {
      return null;
    }
    int digits = Integer.parseInt(precision);
    return digits > MAX_PRECISION ? Types.StringType.get() : Types.DecimalType.of(digits, scale);
  }
}
