package io.floe.ingest.mariadb;

import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Maps MariaDB column types to Iceberg types, for the values Debezium's MariaDB connector sends as
 * {@link MariaDbEngineProperties} configures it (see docs/sources.md for the table users read).
 */
final class MariaDbTypes {
  /** Iceberg decimals hold at most 38 digits; wider MariaDB decimals become exact text. */
  private static final int MAX_PRECISION = 38;

  private MariaDbTypes() {}

  /**
   * The Iceberg type of a column, or null if the type is not supported.
   *
   * @param dataType {@code information_schema.COLUMNS.DATA_TYPE} ({@code int})
   * @param columnType {@code COLUMN_TYPE} ({@code int(10) unsigned}, {@code bit(1)})
   */
  static Type icebergType(String dataType, String columnType, long precision, long scale) {
    boolean unsigned = columnType.contains("unsigned");
    switch (dataType) {
      case "tinyint":
      case "smallint":
      case "mediumint":
      case "year":
        return Types.IntegerType.get();
      case "int":
      case "integer":
        return unsigned ? Types.LongType.get() : Types.IntegerType.get();
      case "bigint":
        return unsigned ? Types.DecimalType.of(20, 0) : Types.LongType.get();
      case "decimal":
      case "numeric":
        return precision > MAX_PRECISION
            ? Types.StringType.get()
            : Types.DecimalType.of((int) precision, (int) scale);
      case "float":
        return Types.FloatType.get();
      case "double":
      case "real":
        return Types.DoubleType.get();
      case "bit":
        return columnType.equals("bit(1)") ? Types.BooleanType.get() : Types.BinaryType.get();
      case "char":
      case "varchar":
      case "tinytext":
      case "text":
      case "mediumtext":
      case "longtext":
      case "json":
      case "enum":
      case "set":
        return Types.StringType.get();
      case "binary":
      case "varbinary":
      case "tinyblob":
      case "blob":
      case "mediumblob":
      case "longblob":
        return Types.BinaryType.get();
      case "date":
        return Types.DateType.get();
      case "time":
        return Types.TimeType.get();
      case "datetime":
        return Types.TimestampType.withoutZone();
      case "timestamp":
        return Types.TimestampType.withZone();
      default:
        return null;
    }
  }
}
