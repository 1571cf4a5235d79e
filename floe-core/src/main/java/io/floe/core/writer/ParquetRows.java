package io.floe.core.writer;

import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.MetadataColumns;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;

/** Reads Parquet files written by Iceberg as generic records, optionally with row positions. */
final class ParquetRows {
  private ParquetRows() {}

  static CloseableIterable<Record> read(FileIO io, String location, Schema projection) {
    return Parquet.read(io.newInputFile(location))
        .project(projection)
        .createReaderFunc(fileSchema -> GenericParquetReaders.buildReader(projection, fileSchema))
        .build();
  }

  /** The projection plus Iceberg's {@code _pos} metadata column, last. */
  static Schema withPosition(Schema projection) {
    List<Types.NestedField> fields = new ArrayList<>(projection.columns());
    fields.add(MetadataColumns.ROW_POSITION);
    return new Schema(fields);
  }

  /** The row position of a record read with {@link #withPosition}. */
  static long position(Record row) {
    return (Long) row.get(row.size() - 1);
  }
}
