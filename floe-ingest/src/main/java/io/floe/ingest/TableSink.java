package io.floe.ingest;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.writer.CdcTableWriter;
import io.floe.ingest.postgres.SourceTable;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;

/** One source table flowing into one Iceberg table: converts events and feeds the writer. */
final class TableSink {
  final SourceTable source;
  final CdcTableWriter writer;
  final String tableName;

  /** Commit LSN of the last source transaction this table holds; older replays are skipped. */
  long committedLsn;

  long loadedRows;
  long appliedChanges;
  long skippedChanges;
  long estimatedRows;
  long loadedAtLastReport;

  /** The summary of the last commit holding this table's checkpoint, repeated by rewrites. */
  Map<String, String> lastSummary;

  private final List<Types.NestedField> fields;

  TableSink(SourceTable source, Table table, long committedLsn) {
    this.source = source;
    this.writer = CdcTableWriter.open(table);
    this.tableName = table.name();
    this.committedLsn = committedLsn;
    this.fields = table.schema().columns();
    this.estimatedRows = source.estimatedRows();
  }

  /**
   * Converts a Debezium row image; fields the source left unchanged are flagged in {@code
   * unchanged}.
   */
  Record toRecord(Struct image, BitSet unchanged) {
    GenericRecord record = GenericRecord.create(writer.schema());
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
            "Cannot apply change to "
                + tableName
                + ": column "
                + field.name()
                + " is missing from the source row; was it dropped or renamed in PostgreSQL?"
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
              source.qualifiedName() + "." + field.name(),
              field.type(),
              connectField.schema(),
              raw));
    }
    if (unchanged != null && image.schema().fields().size() > fields.size()) {
      throw new FloeException(
          ErrorCode.SOURCE_TABLE_INVALID,
          "Cannot apply change to "
              + tableName
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
