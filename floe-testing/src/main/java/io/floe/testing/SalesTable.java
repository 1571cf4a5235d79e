package io.floe.testing;

import io.floe.core.writer.CdcTableWriter;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;

/**
 * {@code raw.sales}, the small CDC table that the SQL tests query: {@code id} (the key), {@code
 * amount decimal(10, 2)} and {@code tags list<string>}, written by Floe's writer.
 */
public final class SalesTable {
  public static final TableIdentifier ID = TableIdentifier.of("raw", "sales");

  public static final Schema SCHEMA =
      new Schema(
          List.of(
              Types.NestedField.required(1, "id", Types.LongType.get()),
              Types.NestedField.optional(2, "amount", Types.DecimalType.of(10, 2)),
              Types.NestedField.optional(
                  3, "tags", Types.ListType.ofOptional(4, Types.StringType.get()))),
          Set.of(1));

  private SalesTable() {}

  /**
   * Creates the table (and namespace {@code raw}, when missing) with ids 1 to 10, amount 10 × id
   * and tags {@code ["t<id>"]}, in one commit; more changes go through the returned writer.
   */
  public static CdcTableWriter create(Catalog catalog) {
    Table table = createEmpty(catalog, ID);
    CdcTableWriter writer = CdcTableWriter.open(table);
    for (long id = 1; id <= 10; id++) {
      writer.upsert(row(id, id * 10), null);
    }
    writer.commit(Map.of());
    return writer;
  }

  /** An empty table of the same schema ({@link CdcTables#create}). */
  public static Table createEmpty(Catalog catalog, TableIdentifier identifier) {
    return CdcTables.create(catalog, identifier, SCHEMA);
  }

  /** A row with tags {@code ["t<id>"]}. */
  public static Record row(long id, long amount) {
    GenericRecord record = GenericRecord.create(SCHEMA);
    record.set(0, id);
    record.set(1, BigDecimal.valueOf(amount).setScale(2));
    record.set(2, List.of("t" + id));
    return record;
  }

  /** A row holding only the key, as the writer's deletes take it. */
  public static Record key(long id) {
    GenericRecord record = GenericRecord.create(SCHEMA);
    record.set(0, id);
    return record;
  }
}
