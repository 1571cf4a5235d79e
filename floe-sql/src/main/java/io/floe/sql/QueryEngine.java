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

  private static final java.util.concurrent.atomic.AtomicLong QUERY_IDS =
      new java.util.concurrent.atomic.AtomicLong();

  private final Catalog catalog;
  private final Path warehouse;
  private final Settings settings;
  private final Map<String, QueryExecution> running =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Engine-wide settings.
   *
   * @param maxQueryLength longest accepted query text, in characters
   * @param workDirectory where DuckDB spills and the file cache keeps copies of remote files
   * @param cacheSize bound of the file cache, in bytes
   */
  public record Settings(int maxQueryLength, Path workDirectory, long cacheSize) {
    public Settings {
      requireNonNull(workDirectory, "workDirectory is null");
    }

    /** Defaults: 1,000,000 characters, {@code <warehouse>/.floe/sql}, 10 GiB of cache. */
    public static Settings defaults(Path warehouse) {
      return new Settings(1_000_000, warehouse.resolve(".floe").resolve("sql"), 10L << 30);
    }
  }

  public QueryEngine(Catalog catalog, Path warehouse) {
    this(catalog, warehouse, Settings.defaults(warehouse));
  }

  public QueryEngine(Catalog catalog, Path warehouse, Settings settings) {
    this.catalog = requireNonNull(catalog, "catalog is null");
    this.warehouse = requireNonNull(warehouse, "warehouse is null").toAbsolutePath().normalize();
    this.settings = requireNonNull(settings, "settings is null");
  }

  /** Cancels a running query by id; returns false when no such query is running. */
  public boolean cancel(String queryId) {
    QueryExecution execution = running.get(queryId);
    if (execution == null) {
      return false;
    }
    execution.cancel();
    return true;
  }

  /** The queries running now. */
  public List<QueryExecution> running() {
    return List.copyOf(running.values());
  }

  /** Receives a query's result. */
  public interface ResultHandler {
    void columns(List<SqlColumn> columns);

    void row(Object[] values);
  }

  /** Runs one read statement, streaming its rows to {@code handler}; returns its statistics. */
  public QueryStats execute(String sql, QueryOptions options, ResultHandler handler) {
    try (QueryExecution execution = start(sql, options)) {
      handler.columns(execution.columns());
      for (Object[] row = execution.next(); row != null; row = execution.next()) {
        handler.row(row);
      }
      return execution.stats();
    }
  }

  /** Runs a query and returns all rows (for tests and small results). */
  public List<List<Object>> queryAll(String sql) {
    List<List<Object>> rows = new ArrayList<>();
    execute(
        sql,
        QueryOptions.local(),
        new ResultHandler() {
          @Override
          public void columns(List<SqlColumn> columns) {}

          @Override
          public void row(Object[] values) {
            rows.add(java.util.Arrays.asList(values));
          }
        });
    return rows;
  }

  /** Starts one read statement; read its rows from the returned execution and close it. */
  public QueryExecution start(String sql, QueryOptions options) {
    if (sql.length() > settings.maxQueryLength()) {
      throw new QueryException(
          ErrorCode.SQL_LIMIT_EXCEEDED,
          QueryException.SqlState.PROGRAM_LIMIT_EXCEEDED,
          "Cannot run query: its text is "
              + sql.length()
              + " characters long, more than the limit of "
              + settings.maxQueryLength()
              + " (sql.max-query-length)");
    }
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
    Connection connection = null;
    try {
      connection = DriverManager.getConnection("jdbc:duckdb:");
      prepare(connection, tables);
      Statement statement = connection.createStatement();
      ResultSet result = statement.executeQuery(sql);
      ResultSetMetaData metadata = result.getMetaData();
      List<SqlColumn> columns = new ArrayList<>();
      for (int i = 1; i <= metadata.getColumnCount(); i++) {
        columns.add(new SqlColumn(metadata.getColumnLabel(i), metadata.getColumnTypeName(i)));
      }
      Connection owned = connection;
      QueryExecution.Rows rows =
          new QueryExecution.Rows() {
            @Override
            public Object[] next() throws SQLException {
              if (!result.next()) {
                return null;
              }
              Object[] values = new Object[columns.size()];
              for (int i = 0; i < values.length; i++) {
                values[i] = SqlValues.normalize(result.getObject(i + 1));
              }
              return values;
            }

            @Override
            public void interrupt() throws SQLException {
              statement.cancel();
            }

            @Override
            public void close() throws SQLException {
              owned.close();
            }
          };
      QueryStats stats = new QueryStats("q-" + QUERY_IDS.incrementAndGet(), List.of(), 0, 0, false);
      return new QueryExecution(sql, columns, stats, "SELECT", rows, e -> translate(e, tables));
    } catch (SQLException e) {
      closeQuietly(connection, e);
      throw translate(e, tables);
    }
  }

  private static void closeQuietly(Connection connection, Exception failure) {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        failure.addSuppressed(e);
      }
    }
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
