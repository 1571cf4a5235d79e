package io.floe.ingest.postgres;

import io.floe.core.config.UnboundedNumeric;
import java.util.Set;
import java.util.function.IntSupplier;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Maps PostgreSQL column types to Iceberg types. The Debezium value representations these imply are
 * handled by {@link io.floe.ingest.debezium.ValueConverter}.
 */
final class PostgresTypes {
  /** Iceberg's largest decimal precision. */
  static final int MAX_PRECISION = 38;

  /** Scale used for {@code numeric} without declared precision when mapped to decimal. */
  static final int UNBOUNDED_SCALE = 10;

  private static final Set<String> TEXT_TYPES =
      Set.of(
          "text",
          "varchar",
          "bpchar",
          "name",
          "citext",
          "json",
          "jsonb",
          "xml",
          "inet",
          "cidr",
          "macaddr",
          "macaddr8",
          "interval",
          "timetz",
          "tsvector",
          "ltree");

  private PostgresTypes() {}

  /**
   * The Iceberg type of a column, or null if the type is not supported.
   *
   * @param typeName {@code pg_type.typname} (for arrays, the element's)
   * @param typeType {@code pg_type.typtype} ('e' for enums)
   * @param typeModifier {@code pg_attribute.atttypmod}
   */
  static Type icebergType(
      String typeName, String typeType, int typeModifier, UnboundedNumeric unboundedNumeric) {
    if ("e".equals(typeType)) {
      return Types.StringType.get();
    }
    switch (typeName) {
      case "int2":
      case "int4":
        return Types.IntegerType.get();
      case "int8":
        return Types.LongType.get();
      case "float4":
        return Types.FloatType.get();
      case "float8":
        return Types.DoubleType.get();
      case "bool":
        return Types.BooleanType.get();
      case "bytea":
        return Types.BinaryType.get();
      case "date":
        return Types.DateType.get();
      case "time":
        return Types.TimeType.get();
      case "timestamp":
        return Types.TimestampType.withoutZone();
      case "timestamptz":
        return Types.TimestampType.withZone();
      case "uuid":
        return Types.UUIDType.get();
      case "money":
        return Types.DecimalType.of(19, 2);
      case "numeric":
        return numeric(typeModifier, unboundedNumeric);
      default:
        return TEXT_TYPES.contains(typeName) ? Types.StringType.get() : null;
    }
  }

  private static Type numeric(int typeModifier, UnboundedNumeric unboundedNumeric) {
    if (typeModifier < 0) {
      return unboundedNumeric == UnboundedNumeric.STRING
          ? Types.StringType.get()
          : Types.DecimalType.of(MAX_PRECISION, UNBOUNDED_SCALE);
    }
    int precision = ((typeModifier - 4) >> 16) & 0xFFFF;
    int scale = (typeModifier - 4) & 0xFFFF;
    if (precision > MAX_PRECISION) {
      return Types.StringType.get();
    }
    return Types.DecimalType.of(precision, scale);
  }

  /** Wraps an element type into a list type with fresh ids. */
  static Type list(Type element, IntSupplier nextId) {
    return Types.ListType.ofOptional(nextId.getAsInt(), element);
  }
}
