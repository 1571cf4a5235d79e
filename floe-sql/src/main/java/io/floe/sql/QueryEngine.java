package io.floe.sql;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * Answers SQL over Floe's Iceberg tables. Iceberg plans each referenced table's scan of its current
 * snapshot (data files and the position deletes that apply); DuckDB executes the query over those
 * Parquet files. Tables are named {@code namespace.table}.
 *
 * <p>Each query runs in a fresh in-memory DuckDB whose file access is confined to the warehouse and
 * whose configuration is locked before the user's statement runs; only read statements are
 * accepted.
 */
public final class QueryEngine {
  private static final Set<String> READ_STATEMENTS =
      Set.of("SELECT", "WITH", "VALUES", "FROM", "TABLE");

  private final Catalog catalog;
  private final Path warehouse;

  public QueryEngine(Catalog catalog, Path warehouse) {
    this.catalog = requireNonNull(catalog, "catalog is null");
    this.warehouse = requireNonNull(warehouse, "warehouse is null").toAbsolutePath().normalize();
  }

  /** Receives a query's result. */
  public interface ResultHandler {
    void columns(List<String> names, List<String> types) throws SQLException;

    void row(ResultSet row) throws SQLException;
  }

  /** Runs one read statement, streaming its rows to {@code handler}. */
  public void execute(String sql, ResultHandler handler) {
    SqlText text = new SqlText(sql);
    String keyword = text.firstKeyword();
    if (keyword.isEmpty()) {
      throw new FloeException(ErrorCode.SQL_INVALID, "Cannot run query: the statement is empty");
    }
    if (!READ_STATEMENTS.contains(keyword)) {
      throw new FloeException(
          ErrorCode.SQL_NOT_ALLOWED,
          "Cannot run "
              + keyword
              + " statement: only queries (SELECT, WITH, VALUES) are accepted here");
    }
    if (text.hasMultipleStatements()) {
      throw new FloeException(
          ErrorCode.SQL_NOT_ALLOWED, "Cannot run several statements at once: send one query");
    }
    Map<TableIdentifier, Table> tables = referencedTables(text);
    try (Connection connection = DriverManager.getConnection("jdbc:duckdb:")) {
      prepare(connection, tables);
      try (Statement statement = connection.createStatement();
          ResultSet result = statement.executeQuery(sql)) {
        ResultSetMetaData metadata = result.getMetaData();
        List<String> names = new ArrayList<>();
        List<String> types = new ArrayList<>();
        for (int i = 1; i <= metadata.getColumnCount(); i++) {
          names.add(metadata.getColumnLabel(i));
          types.add(metadata.getColumnTypeName(i));
        }
        handler.columns(names, types);
        while (result.next()) {
          handler.row(result);
        }
      }
    } catch (SQLException e) {
      throw translate(e, tables);
    }
  }

  /** Runs a query and returns all rows as Java objects (for tests and small results). */
  public List<List<Object>> queryAll(String sql) {
    List<List<Object>> rows = new ArrayList<>();
    execute(
        sql,
        new ResultHandler() {
          private int columns;

          @Override
          public void columns(List<String> names, List<String> types) {
            columns = names.size();
          }

          @Override
          public void row(ResultSet row) throws SQLException {
            List<Object> values = new ArrayList<>(columns);
            for (int i = 1; i <= columns; i++) {
              values.add(row.getObject(i));
            }
            rows.add(values);
          }
        });
    return rows;
  }

  private Map<TableIdentifier, Table> referencedTables(SqlText text) {
    Set<String> namespaces = namespaces();
    Map<TableIdentifier, Table> tables = new LinkedHashMap<>();
    for (SqlText.QualifiedName name : text.qualifiedNames()) {
      if (!namespaces.contains(name.namespace())) {
        continue;
      }
      TableIdentifier identifier = TableIdentifier.of(name.namespace(), name.name());
      if (tables.containsKey(identifier)) {
        continue;
      }
      if (!catalog.tableExists(identifier)) {
        throw new FloeException(
            ErrorCode.TABLE_NOT_FOUND,
            "Cannot query "
                + identifier
                + ": no such table; tables in namespace "
                + name.namespace()
                + ": "
                + tableNames(name.namespace()));
      }
      tables.put(identifier, catalog.loadTable(identifier));
    }
    return tables;
  }

  private Set<String> namespaces() {
    if (!(catalog instanceof SupportsNamespaces)) {
      return Set.of();
    }
    return ((SupportsNamespaces) catalog)
        .listNamespaces().stream().map(Namespace::toString).collect(Collectors.toSet());
  }

  private String tableNames(String namespace) {
    List<String> names =
        catalog.listTables(Namespace.of(namespace)).stream()
            .map(TableIdentifier::name)
            .sorted()
            .toList();
    return names.isEmpty() ? "(none)" : String.join(", ", names);
  }

  private void prepare(Connection connection, Map<TableIdentifier, Table> tables)
      throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute("SET TimeZone = 'UTC'");
      Set<String> schemas = new HashSet<>();
      for (Map.Entry<TableIdentifier, Table> entry : tables.entrySet()) {
        String namespace = entry.getKey().namespace().toString();
        if (schemas.add(namespace)) {
          statement.execute("CREATE SCHEMA " + TableScanSql.quote(namespace));
        }
        TableScanSql.Plan plan = TableScanSql.plan(entry.getValue());
        statement.execute(
            "CREATE VIEW "
                + TableScanSql.quote(namespace)
                + "."
                + TableScanSql.quote(entry.getKey().name())
                + " AS "
                + plan.sql());
      }
      statement.execute(
          "SET allowed_directories = [" + TableScanSql.literal(warehouse.toString() + "/") + "]");
      statement.execute("SET enable_external_access = false");
      statement.execute("SET lock_configuration = true");
    }
  }

  private FloeException translate(SQLException e, Map<TableIdentifier, Table> tables) {
    String message = e.getMessage() == null ? e.toString() : e.getMessage();
    String lower = message.toLowerCase(Locale.ROOT);
    if (lower.contains("catalog error") && lower.contains("does not exist")) {
      List<String> known = new ArrayList<>();
      for (String namespace : namespaces()) {
        catalog.listTables(Namespace.of(namespace)).forEach(id -> known.add(id.toString()));
      }
      return new FloeException(
          ErrorCode.TABLE_NOT_FOUND,
          "Cannot run query: "
              + message
              + "\nName tables as namespace.table; available tables: "
              + (known.isEmpty() ? "(none)" : String.join(", ", known.stream().sorted().toList())),
          e);
    }
    if (lower.contains("parser error")
        || lower.contains("binder error")
        || lower.contains("conversion error")) {
      return new FloeException(ErrorCode.SQL_INVALID, "Cannot run query: " + message, e);
    }
    if (lower.contains("permission error")
        || lower.contains("disabled")
        || lower.contains("not allowed")) {
      return new FloeException(
          ErrorCode.SQL_NOT_ALLOWED,
          "Cannot run query: " + message + "\nOnly Floe's tables can be read through this service.",
          e);
    }
    return new FloeException(
        ErrorCode.SQL_FAILED, "Cannot run query over " + tables.keySet() + ": " + message, e);
  }
}
