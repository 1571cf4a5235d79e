package io.floe.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code floe schema-history}: a table's schemas and their changes, and a missing table. */
class SchemaHistoryCommandTest {
  @TempDir Path warehouse;

  private static CommandRun floe(String... args) {
    return CommandRun.floe(args);
  }

  @Test
  void listsTheSchemasOfATable() {
    try (JdbcCatalog catalog =
        FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults())) {
      catalog.createNamespace(Namespace.of("raw"));
      Table table =
          catalog.createTable(
              TableIdentifier.of("raw", "orders"),
              new Schema(
                  List.of(
                      Types.NestedField.required(1, "id", Types.IntegerType.get()),
                      Types.NestedField.optional(2, "qty", Types.IntegerType.get())),
                  Set.of(1)));
      table.updateSchema().addColumn("note", Types.StringType.get()).commit();
      table.updateSchema().updateColumn("qty", Types.LongType.get()).commit();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }

    CommandRun run = floe("schema-history", "-w", warehouse.toString(), "raw.orders");

    assertThat(run.exitCode()).as(run.err()).isZero();
    List<String> lines = run.out().lines().toList();
    assertThat(lines).hasSize(4);
    assertThat(lines.get(0)).startsWith("schema").contains("first written", "changes");
    assertThat(lines.get(1)).startsWith("0 ").endsWith("created with id int (key), qty int");
    assertThat(lines.get(2)).startsWith("1 ").endsWith("added note string");
    assertThat(lines.get(3)).startsWith("2* ").endsWith("changed qty from int to long");

    // The same history, queryable.
    CommandRun query =
        floe(
            "sql",
            "-w",
            warehouse.toString(),
            "--format",
            "csv",
            "SELECT schema_id, changes, is_current, first_snapshot_id IS NULL AS unwritten"
                + " FROM system.schema_history WHERE table_name = 'raw.orders' ORDER BY schema_id");
    assertThat(query.exitCode()).as(query.err()).isZero();
    assertThat(query.out().lines().toList())
        .containsExactly(
            "schema_id,changes,is_current,unwritten",
            "0,\"created with id int (key), qty int\",false,true",
            "1,added note string,false,true",
            "2,changed qty from int to long,true,true");
  }

  @Test
  void explainsAMissingTable() {
    CommandRun run = floe("schema-history", "-w", warehouse.toString(), "raw.nothing");

    assertThat(run.exitCode()).isNotZero();
    assertThat(run.err())
        .contains("Cannot list the schema history of raw.nothing: no such table")
        .doesNotContain("\tat ");
  }
}
