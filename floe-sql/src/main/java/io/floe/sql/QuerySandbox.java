package io.floe.sql;

import static java.util.Objects.requireNonNull;

import io.floe.sql.ScanPlan.DataScan;
import io.floe.sql.ScanPlan.MetadataScan;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.iceberg.Schema;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * Sets up a fresh in-memory DuckDB for one query so that the user's statement can read nothing but
 * what was planned for it: a view per table reference over exactly its planned files (a metadata
 * table is loaded as a table), those files as the only readable paths, the query's own spill
 * directory as the only writable one, external access off, and the configuration locked before the
 * statement runs, so that it cannot undo any of this.
 */
final class QuerySandbox {
  private final CatalogTables tables;

  /**
   * @param tables whose names and columns {@code information_schema} describes, when asked
   */
  QuerySandbox(CatalogTables tables) {
    this.tables = requireNonNull(tables, "tables is null");
  }

  /**
   * Prepares {@code connection}, of a fresh instance, for a query.
   *
   * @param temporary the query's spill directory
   * @param local the local paths of the planned files
   * @param catalogTables whether the query reads {@code information_schema} or the {@code
   *     pg_catalog} views, which then describe Floe's tables
   */
  void prepare(
      Connection connection,
      List<ScanPlan> scans,
      Path temporary,
      LocalFiles local,
      boolean catalogTables)
      throws SQLException {
    Set<String> allowed = new LinkedHashSet<>();
    try (Statement statement = connection.createStatement()) {
      statement.execute("SET TimeZone = 'UTC'");
      statement.execute("SET errors_as_json = true");
      if (catalogTables) {
        createCatalogTables(statement);
      }
      statement.execute("SET temp_directory = " + TableScanSql.literal(temporary.toString()));
      for (ScanPlan scan : scans) {
        String name = TableScanSql.quote(scan.reference().placeholder());
        if (scan instanceof ScanPlan.SystemScan system) {
          MetadataTables.load(statement, name, system.contents());
          continue;
        }
        if (scan instanceof MetadataScan metadata) {
          MetadataTables.load(
              statement,
              name,
              metadata.contents(),
              metadata.table(),
              metadata.reference().metadata(),
              metadata.reference().written().contains("$"));
          continue;
        }
        DataScan data = (DataScan) scan;
        Stream.concat(
                data.files().dataFiles().keySet().stream(),
                data.files().deleteFiles().keySet().stream())
            .map(local::path)
            .forEach(allowed::add);
        statement.execute(
            "CREATE VIEW "
                + name
                + " AS "
                + TableScanSql.sql(data.schema(), data.files(), local::path));
      }
      statement.execute(
          "SET allowed_paths = ["
              + allowed.stream().map(TableScanSql::literal).collect(Collectors.joining(", "))
              + "]");
      statement.execute(
          "SET allowed_directories = [" + TableScanSql.literal(temporary + "/") + "]");
      statement.execute("SET enable_external_access = false");
      statement.execute("SET lock_configuration = true");
    }
  }

  /**
   * Empty tables named and typed like every Floe table, so that {@code information_schema} and the
   * {@code pg_catalog} views describe Floe's tables; references to the tables themselves are
   * rewritten to their scans and never read these.
   */
  private void createCatalogTables(Statement statement) throws SQLException {
    for (String namespace : tables.namespaces()) {
      statement.execute("CREATE SCHEMA IF NOT EXISTS " + TableScanSql.quote(namespace));
      for (Map.Entry<TableIdentifier, Schema> table : tables.schemas(namespace).entrySet()) {
        statement.execute(
            "CREATE TABLE "
                + TableScanSql.quote(namespace)
                + "."
                + TableScanSql.quote(table.getKey().name())
                + " ("
                + table.getValue().columns().stream()
                    .map(
                        field ->
                            TableScanSql.quote(field.name())
                                + " "
                                + MetadataTables.duckType(field.type()))
                    .collect(Collectors.joining(", "))
                + ")");
      }
    }
  }
}
