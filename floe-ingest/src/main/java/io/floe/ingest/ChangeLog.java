package io.floe.ingest;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;

/**
 * A database table written as an append-only change log ({@code source.change-log}): one row per
 * change, with the row's columns (the new values; a delete's old ones; none for a truncate) and
 * three more: the operation, the source position of the change and when the source committed it.
 * Its Iceberg table has no key; replays are skipped by the table's checkpoint like any table's, so
 * each change is appended exactly once.
 */
public final class ChangeLog {
  /** {@code read}, {@code insert}, {@code update}, {@code delete} or {@code truncate}. */
  public static final String OPERATION = "_op";

  /** The source position of the change, as the source writes it (an LSN, a binlog place). */
  public static final String POSITION = "_position";

  /** When the source committed the change. */
  public static final String COMMITTED_AT = "_committed_at";

  private ChangeLog() {}

  /**
   * The change log's schema over a table's columns: each column optional (a truncate's row has no
   * values), no key, then the three change columns.
   */
  public static Schema schema(List<Types.NestedField> columns) {
    List<Types.NestedField> fields = new ArrayList<>();
    int id = 0;
    for (Types.NestedField column : columns) {
      fields.add(Types.NestedField.optional(column.fieldId(), column.name(), column.type()));
      id = Math.max(id, column.fieldId());
    }
    fields.add(
        Types.NestedField.required(
            id + 1, OPERATION, Types.StringType.get(), "read, insert, update, delete or truncate"));
    fields.add(
        Types.NestedField.required(
            id + 2, POSITION, Types.StringType.get(), "The source position of the change"));
    fields.add(
        Types.NestedField.required(
            id + 3,
            COMMITTED_AT,
            Types.TimestampType.withZone(),
            "When the source committed the change"));
    return new Schema(fields);
  }

  /**
   * Whether a database table's Iceberg schema is a change log's: a copy of a table always has a
   * key, a change log never does.
   */
  public static boolean is(Schema schema) {
    return schema.identifierFieldIds().isEmpty();
  }

  /** The row a change appends to a change log of {@code schema}. */
  static Record record(SourceEvent.Change change, Schema schema) {
    Record row =
        change.row() == null ? GenericRecord.create(schema) : change.row().toRecord(schema, null);
    row.setField(OPERATION, change.operation().name().toLowerCase(Locale.ROOT));
    row.setField(POSITION, describe(change.position().summary()));
    row.setField(
        COMMITTED_AT,
        OffsetDateTime.ofInstant(Instant.ofEpochMilli(change.sourceMillis()), ZoneOffset.UTC));
    return row;
  }

  /**
   * A position as text: its summary properties but the connector's offset, {@code key=value} joined
   * by spaces ({@code commit-lsn=23876544 order-lsn=23876100}).
   */
  private static String describe(Map<String, String> summary) {
    return summary.entrySet().stream()
        .filter(entry -> !entry.getKey().endsWith(".offset"))
        .sorted(Map.Entry.comparingByKey())
        .map(entry -> withoutPrefix(entry.getKey()) + "=" + entry.getValue())
        .collect(Collectors.joining(" "));
  }

  /** A summary key without {@link SourcePosition#SUMMARY_PREFIX}. */
  private static String withoutPrefix(String key) {
    String prefix = SourcePosition.SUMMARY_PREFIX;
    return key.startsWith(prefix) ? key.substring(prefix.length()) : key;
  }
}
