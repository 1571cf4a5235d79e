package io.floe.core.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SchemaHistoryTest {
  @TempDir Path warehouse;

  @Test
  void listsEachSchemaWithItsChangesAndFirstSnapshot() throws Exception {
    try (JdbcCatalog catalog =
        FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults())) {
      catalog.createNamespace(Namespace.of("raw"));
      Table table =
          catalog.createTable(
              TableIdentifier.of("raw", "orders"),
              new Schema(
                  List.of(
                      Types.NestedField.required(1, "id", Types.IntegerType.get()),
                      Types.NestedField.optional(2, "qty", Types.IntegerType.get()),
                      Types.NestedField.optional(3, "note", Types.StringType.get())),
                  Set.of(1)));
      append(table);
      table.updateSchema().addColumn("price", Types.DecimalType.of(10, 2)).commit();
      table
          .updateSchema()
          .updateColumn("qty", Types.LongType.get())
          .renameColumn("note", "comment")
          .commit();
      append(table);
      table.updateSchema().deleteColumn("comment").commit();

      List<SchemaHistory.Entry> history = SchemaHistory.of(table);

      assertThat(history).extracting(SchemaHistory.Entry::schemaId).containsExactly(0, 1, 2, 3);
      assertThat(history.get(0).changes())
          .containsExactly("created with id int (key), qty int, note string");
      assertThat(history.get(0).firstSnapshotId()).isPresent();
      assertThat(history.get(1).changes()).containsExactly("added price decimal(10, 2)");
      assertThat(history.get(1).firstSnapshotId()).isEmpty();
      assertThat(history.get(2).changes())
          .containsExactly("changed qty from int to long", "renamed note to comment");
      assertThat(history.get(2).firstSnapshotId()).isPresent();
      assertThat(history.get(2).firstWritten()).isPresent();
      assertThat(history.get(3).changes()).containsExactly("dropped comment");
      assertThat(history.get(3).current()).isTrue();
      assertThat(history.get(2).current()).isFalse();
    }
  }

  private static void append(Table table) {
    table
        .newFastAppend()
        .appendFile(
            DataFiles.builder(PartitionSpec.unpartitioned())
                .withPath(table.location() + "/data/" + System.nanoTime() + ".parquet")
                .withFileSizeInBytes(10)
                .withRecordCount(1)
                .build())
        .commit();
  }
}
