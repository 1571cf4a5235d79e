package io.floe.server;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.catalog.SchemaHistory;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.jdbc.JdbcCatalog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code floe schema-history TABLE}: each schema the table has had, what changed from the one
 * before, and the first snapshot written with it, from the table's own metadata (see {@link
 * SchemaHistory}).
 */
@Command(
    name = "schema-history",
    mixinStandardHelpOptions = true,
    description =
        "List the schema changes of a table: each schema, what changed from the one before, and"
            + " the first snapshot written with it.")
final class SchemaHistoryCommand implements Callable<Integer> {
  @Mixin MaintainCommand.Warehouse warehouse = new MaintainCommand.Warehouse();

  @Parameters(index = "0", paramLabel = "TABLE", description = "The table, namespace.table.")
  String table;

  @Override
  public Integer call() {
    TableIdentifier identifier = MaintenanceArguments.table(table);
    List<SchemaHistory.Entry> history;
    try (JdbcCatalog catalog = FloeCatalog.open(warehouse.root(), warehouse.catalogConfig())) {
      Table loaded;
      try {
        loaded = catalog.loadTable(identifier);
      } catch (NoSuchTableException e) {
        throw new FloeException(
            ErrorCode.TABLE_NOT_FOUND,
            "Cannot list the schema history of "
                + identifier
                + ": no such table in the warehouse; check the name (namespace.table)",
            e);
      }
      history = SchemaHistory.of(loaded);
    }
    print(history, System.out);
    return 0;
  }

  static void print(List<SchemaHistory.Entry> history, PrintStream out) {
    out.printf("%-7s %-25s %-20s %s%n", "schema", "first written", "first snapshot", "changes");
    for (SchemaHistory.Entry entry : history) {
      out.printf(
          "%-7s %-25s %-20s %s%n",
          entry.schemaId() + (entry.current() ? "*" : ""),
          entry.firstWritten().map(Object::toString).orElse("-"),
          entry.firstSnapshotId().map(Object::toString).orElse("-"),
          String.join("; ", entry.changes()));
    }
  }
}
