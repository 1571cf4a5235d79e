package io.floe.sql;

import static java.util.Objects.requireNonNull;

import io.floe.core.Bytes;
import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.sql.QueryException.SqlState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.iceberg.catalog.Catalog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers SQL over Floe's Iceberg tables. Iceberg plans each table reference's scan — the snapshot
 * chosen by time travel, the files left after partition and min/max pruning with the query's
 * filters, and the position deletes that apply — and DuckDB executes the query over those Parquet
 * files. Tables are named {@code namespace.table}; see {@link QueryRewriter} for the time travel
 * and metadata table forms.
 *
 * <p>Each query runs in a fresh in-memory DuckDB that may read only the files planned for it and
 * whose configuration is locked before the user's statement runs; only read statements ({@code
 * SELECT}, {@code WITH}, {@code VALUES}, {@code FROM}, {@code TABLE}) and {@code EXPLAIN [ANALYZE]}
 * of them are accepted.
 *
 * <p>Except when it reads a resident file: the large data files with deletes of the tables queried
 * lately are held in one long-lived DuckDB with their deleted rows removed ({@link ResidentFiles}),
 * which a follower thread keeps in step with each table's current snapshot. A query whose snapshot
 * plans exactly the deletes a resident file holds runs in that instance instead, in a transaction
 * that keeps those deletes fixed while it runs, and reads the file without joining its deletes.
 * That instance reads only the warehouse and the file cache and is locked from the start; queries
 * that name DuckDB's catalog, or whose tables it could not check, run in a fresh instance.
 */
public final class QueryEngine implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(QueryEngine.class);
  private static final Set<String> READ_STATEMENTS =
      Set.of("SELECT", "WITH", "VALUES", "FROM", "TABLE");
  private static final AtomicLong QUERY_IDS = new AtomicLong();
  private static final ScheduledExecutorService TIMER =
      Executors.newSingleThreadScheduledExecutor(
          runnable -> {
            Thread thread = new Thread(runnable, "floe-query-timeouts");
            thread.setDaemon(true);
            return thread;
          });
  private static final String PLAN_COLUMN = "QUERY PLAN";
  private static final int REUSE_MAX_ROWS = 10_000;

  private final Settings settings;
  private final RunningQueries running = new RunningQueries();
  private final ResultReuse reuse = new ResultReuse(64);
  private final FreshDuckDb instances = new FreshDuckDb(2);
  private final Procedures procedures;
  private final CatalogTables tables;
  private final ScanPlanner planner;
  private final LocalPaths localPaths;
  private final ResidentFollower resident;
  private final QuerySandbox sandbox;
  private final ExplainOutput explainOutput = new ExplainOutput(TIMER);

  /**
   * Engine-wide settings.
   *
   * @param maxQueryLength longest accepted query text, in characters
   * @param workDirectory where DuckDB spills and the file cache keeps copies of remote files
   * @param cacheSize bound of the file cache, in bytes
   * @param residentSize bound of the data files held resident with their deletes applied, in
   *     estimated bytes of memory; 0 holds none
   * @param residentMinRows fewest rows of a data file held resident
   */
  public record Settings(
      int maxQueryLength,
      Path workDirectory,
      long cacheSize,
      long residentSize,
      long residentMinRows) {
    /** Data files of fewer rows are read with their deletes anti-joined, never held resident. */
    public static final long RESIDENT_MIN_ROWS = 50_000;

    /** Default bound of the resident files, estimated bytes in memory. */
    public static final long RESIDENT_SIZE = 1L << 30;

    public Settings {
      requireNonNull(workDirectory, "workDirectory is null");
    }

    /** With the default bound of resident files ({@link ResidentFiles}). */
    public Settings(int maxQueryLength, Path workDirectory, long cacheSize) {
      this(maxQueryLength, workDirectory, cacheSize, RESIDENT_SIZE, RESIDENT_MIN_ROWS);
    }

    /** Defaults: 1,000,000 characters, {@code <warehouse>/.floe/sql}, 10 GiB of cache. */
    public static Settings defaults(Path warehouse) {
      return new Settings(1_000_000, warehouse.resolve(".floe").resolve("sql"), 10L << 30);
    }
  }

  /** With the default settings ({@link Settings#defaults}). */
  public QueryEngine(Catalog catalog, Path warehouse, Procedures procedures) {
    this(catalog, warehouse, Settings.defaults(warehouse), procedures);
  }

  /**
   * @param procedures runs the {@code CALL system.*} procedures, through the warehouse's
   *     maintenance as whoever builds the engine configured it
   */
  public QueryEngine(Catalog catalog, Path warehouse, Settings settings, Procedures procedures) {
    requireNonNull(catalog, "catalog is null");
    requireNonNull(warehouse, "warehouse is null");
    this.settings = requireNonNull(settings, "settings is null");
    this.procedures = requireNonNull(procedures, "procedures is null");
    this.tables = new CatalogTables(catalog);
    this.planner = new ScanPlanner(tables);
    Path cache = settings.workDirectory().resolve("cache");
    this.localPaths = new LocalPaths(cache, settings.cacheSize());
    this.resident =
        new ResidentFollower(
            tables,
            planner,
            localPaths,
            List.of(warehouse, cache),
            settings.workDirectory().resolve("tmp").resolve("resident"),
            settings.residentSize(),
            settings.residentMinRows());
    this.sandbox = new QuerySandbox(tables);
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
    return queryAll(sql, QueryOptions.local());
  }

  /** Runs a query with the given options and returns all rows. */
  public List<List<Object>> queryAll(String sql, QueryOptions options) {
    List<List<Object>> rows = new ArrayList<>();
    execute(
        sql,
        options,
        new ResultHandler() {
          @Override
          public void columns(List<SqlColumn> columns) {}

          @Override
          public void row(Object[] values) {
            rows.add(Arrays.asList(values));
          }
        });
    return rows;
  }

  /** Cancels a running query by id; returns false when no such query is running. */
  public boolean cancel(String queryId) {
    return running.cancel(queryId);
  }

  /** The queries running now, oldest first. */
  public List<QueryExecution> running() {
    return running.all();
  }

  /** The queries running now, with who started them and where; the endpoints find theirs here. */
  /**
   * Makes queries read {@code table} as {@code system.<name>}, in place of any Iceberg table of
   * that name.
   */
  public void addSystemTable(SystemTable table) {
    planner.addSystemTable(requireNonNull(table, "table is null"));
  }

  public RunningQueries runningQueries() {
    return running;
  }

  /**
   * Starts one read statement; read its rows from the returned execution and close it.
   *
   * @throws QueryException or another {@link FloeException} when the query cannot run
   */
  public QueryExecution start(String sql, QueryOptions options) {
    requireNonNull(sql, "sql is null");
    requireNonNull(options, "options is null");
    if (sql.length() > settings.maxQueryLength()) {
      throw new QueryException(
          ErrorCode.SQL_LIMIT_EXCEEDED,
          SqlState.PROGRAM_LIMIT_EXCEEDED,
          "Cannot run query: its text is "
              + sql.length()
              + " characters long, more than the limit of "
              + settings.maxQueryLength()
              + " (sql.max-query-length)");
    }
    SqlText text = new SqlText(sql);
    String keyword = text.firstKeyword();
    int from = 0;
    boolean explain = false;
    boolean analyze = false;
    if (keyword.equals("EXPLAIN")) {
      explain = true;
      from = 1;
      if (text.tokens().size() > 1 && text.tokens().get(1).isWord("analyze")) {
        analyze = true;
        from = 2;
      }
      keyword = text.tokens().size() > from ? new SqlText(text.from(from)).firstKeyword() : "";
    }
    if (keyword.isEmpty()) {
      throw new QueryException(
          ErrorCode.SQL_INVALID, SqlState.SYNTAX_ERROR, "Cannot run query: the statement is empty");
    }
    if (keyword.equals("CALL") && !explain) {
      if (text.hasMultipleStatements()) {
        throw new QueryException(
            ErrorCode.SQL_NOT_ALLOWED,
            SqlState.SYNTAX_ERROR,
            "Cannot run several statements at once: send one CALL");
      }
      return call(sql, text, options);
    }
    if (!READ_STATEMENTS.contains(keyword)) {
      throw new QueryException(
          ErrorCode.SQL_NOT_ALLOWED,
          SqlState.INSUFFICIENT_PRIVILEGE,
          "Cannot run "
              + keyword
              + " statement: only queries (SELECT, WITH, VALUES, FROM, TABLE), EXPLAIN [ANALYZE]"
              + " of them and CALL system.<procedure>(...) are accepted here",
          text.tokens().get(Math.min(from, text.tokens().size() - 1)).start() + 1,
          null);
    }
    if (text.hasMultipleStatements()) {
      throw new QueryException(
          ErrorCode.SQL_NOT_ALLOWED,
          SqlState.SYNTAX_ERROR,
          "Cannot run several statements at once: send one query");
    }
    Set<String> namespaces = tables.namespaces();
    QueryRewriter.Rewritten rewritten =
        new QueryRewriter(
                text,
                namespace -> namespaces.contains(namespace) || planner.isSystemNamespace(namespace),
                table -> planner.isSystemTable(table) || tables.exists(table))
            .rewrite(from);
    String queryId = String.format(Locale.ROOT, "q-%06d", QUERY_IDS.incrementAndGet());
    long planningStart = System.nanoTime();
    Path temporary = settings.workDirectory().resolve("tmp").resolve(queryId);
    Connection connection = null;
    LocalFiles local = null;
    ErrorTranslator errors = new ErrorTranslator(sql, rewritten, 0, tables::allNames);
    try {
      Optional<ResidentFiles> residentFiles = resident.files();
      // Planning only parses the query: the resident instance's connection serves when the query
      // may run there, sparing a fresh instance.
      connection = residentFiles.isPresent() ? residentFiles.get().connect() : instances.take();
      ScanPlanner.PlannedQuery planned = planner.plan(connection, rewritten, errors);
      List<ScanPlan> scans = planned.scans();
      long bytes = scans.stream().mapToLong(ScanPlan::bytes).sum();
      String reuseKey = reuseKey(options, sql, scans);
      List<TableScan> described = scans.stream().map(ScanPlan::describe).toList();
      if (!explain && options.workgroup().reusesResults()) {
        ResultReuse.Entry stored = reuse.get(reuseKey, options.workgroup().resultReuse());
        if (stored != null) {
          closeQuietly(connection, null);
          connection = null;
          QueryStats stats =
              new QueryStats(queryId, described, 0, millisSince(planningStart), true);
          LOG.info(
              "Query {} by {} ({}) answered from a result stored {} ago",
              queryId,
              options.user(),
              options.workgroup().name(),
              Duration.ofNanos(System.nanoTime() - stored.storedNanos()));
          return register(
              new QueryExecution(
                  sql,
                  stored.columns(),
                  stats,
                  "SELECT",
                  new HeldRows(stored.rows()),
                  errors::translate),
              options);
        }
      }
      checkLimit(options.workgroup(), bytes, scans);
      resident.markHot(scans);
      Files.createDirectories(temporary);
      local = localPaths.of(scans);
      boolean readsResident =
          residentFiles.isPresent()
              && !explain
              && !namesCatalogObjects(text)
              && planned.sourcesChecked()
              && resident.beginQuery(residentFiles.get(), connection, scans, local);
      if (!readsResident) {
        if (residentFiles.isPresent()) {
          closeQuietly(connection, null);
          connection = null;
          connection = instances.take();
        }
        sandbox.prepare(connection, scans, temporary, local, readsCatalog(text));
      }
      QueryStats stats =
          new QueryStats(queryId, described, bytes, millisSince(planningStart), false);
      if (explain) {
        List<Object[]> lines =
            explainOutput.lines(
                connection, rewritten, scans, stats, analyze, errors, options.timeout());
        closeQuietly(connection, null);
        connection = null;
        local.close();
        local = null;
        deleteQuietly(temporary);
        return register(
            new QueryExecution(
                sql,
                List.of(new SqlColumn(PLAN_COLUMN, "VARCHAR")),
                stats,
                "EXPLAIN",
                new HeldRows(lines),
                errors::translate),
            options);
      }
      PreparedStatement statement = connection.prepareStatement(rewritten.sql());
      List<SqlColumn> columns = columns(statement.getMetaData());
      LocalFiles held = local;
      QueryExecution execution =
          new QueryExecution(
              sql,
              columns,
              stats,
              "SELECT",
              new LiveRows(connection, statement, columns.size(), () -> release(held, temporary)),
              errors::translate);
      connection = null;
      local = null;
      if (options.workgroup().reusesResults()) {
        execution.onCompletion(
            (done, rows) -> {
              if (rows != null) {
                reuse.put(reuseKey, new ResultReuse.Entry(columns, rows, System.nanoTime()));
              }
            },
            REUSE_MAX_ROWS);
      }
      return register(execution, options);
    } catch (SQLException e) {
      FloeException translated = errors.translate(e);
      closeQuietly(connection, translated);
      release(local, temporary);
      throw translated;
    } catch (IOException e) {
      closeQuietly(connection, e);
      release(local, temporary);
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      closeQuietly(connection, e);
      release(local, temporary);
      throw e;
    }
  }

  private static void release(LocalFiles local, Path temporary) {
    if (local != null) {
      local.close();
    }
    deleteQuietly(temporary);
  }

  /** Runs a maintenance procedure ({@link Procedures}); its result rows are held in memory. */
  private QueryExecution call(String sql, SqlText text, QueryOptions options) {
    long start = System.nanoTime();
    String queryId = String.format(Locale.ROOT, "q-%06d", QUERY_IDS.incrementAndGet());
    Procedures.Result result = procedures.call(text);
    QueryStats stats = new QueryStats(queryId, List.of(), 0, millisSince(start), false);
    QueryRewriter.Rewritten none =
        new QueryRewriter(text, name -> false, table -> false).rewrite(text.tokens().size());
    return register(
        new QueryExecution(
            sql,
            result.columns(),
            stats,
            "CALL",
            new HeldRows(result.rows()),
            new ErrorTranslator(sql, none, 0, tables::allNames)::translate),
        options);
  }

  private QueryExecution register(QueryExecution execution, QueryOptions options) {
    running.add(execution, options);
    execution.closeHook(
        () -> {
          running.remove(execution);
          LOG.info(
              "Query {} by {} ({}): {} rows, {} bytes scanned, {} ms{}",
              execution.id(),
              options.user(),
              options.workgroup().name(),
              execution.rowCount(),
              execution.stats().bytesScanned(),
              execution.elapsedMillis(),
              execution.stats().reused() ? ", reused result" : "");
        });
    long remaining = options.timeout().toMillis() - execution.stats().planningMillis();
    execution.timeout(
        TIMER.schedule(
            () ->
                execution.cancel(
                    new QueryException(
                        ErrorCode.SQL_TIMEOUT,
                        SqlState.QUERY_CANCELED,
                        "Query "
                            + execution.id()
                            + " ran longer than its time limit of "
                            + options.timeout().toString().substring(2).toLowerCase(Locale.ROOT)
                            + " and was cancelled; raise sql.query-timeout or the request's"
                            + " timeout, or make the query cheaper")),
            Math.max(1, remaining),
            TimeUnit.MILLISECONDS));
    return execution;
  }

  private static long millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }

  private static String reuseKey(QueryOptions options, String sql, List<ScanPlan> scans) {
    StringBuilder key = new StringBuilder(options.workgroup().name()).append('\0').append(sql);
    for (ScanPlan scan : scans) {
      key.append('\0').append(scan.reference().written()).append('@').append(scan.version());
    }
    return key.toString();
  }

  private static void checkLimit(Workgroup workgroup, long bytes, List<ScanPlan> scans) {
    if (workgroup.limited() && bytes > workgroup.bytesScannedLimit()) {
      throw new QueryException(
          ErrorCode.SQL_LIMIT_EXCEEDED,
          SqlState.PROGRAM_LIMIT_EXCEEDED,
          "Cannot run query: it would scan "
              + Bytes.format(bytes)
              + " ("
              + scans.stream()
                  .map(scan -> scan.reference().written() + ": " + Bytes.format(scan.bytes()))
                  .collect(Collectors.joining(", "))
              + "), more than the "
              + Bytes.format(workgroup.bytesScannedLimit())
              + " per-query limit of workgroup "
              + workgroup.name()
              + " (bytes-scanned-limit); filter on partition or sorted columns to scan less, or"
              + " run it in a workgroup with a higher limit");
    }
  }

  private static List<SqlColumn> columns(ResultSetMetaData metadata) throws SQLException {
    List<SqlColumn> columns = new ArrayList<>();
    for (int i = 1; i <= metadata.getColumnCount(); i++) {
      columns.add(new SqlColumn(metadata.getColumnLabel(i), metadata.getColumnTypeName(i)));
    }
    return columns;
  }

  /**
   * Whether the query names DuckDB's catalog: {@code information_schema}, {@code pg_catalog}, or
   * its {@code duckdb_*}, {@code sqlite_*} and {@code pragma_*} views. Such queries run in a fresh
   * instance, which holds nothing but their own tables.
   */
  private static boolean namesCatalogObjects(SqlText text) {
    return readsCatalog(text)
        || text.tokens().stream()
            .filter(SqlLexer.Token::isName)
            .map(token -> token.name().toLowerCase(Locale.ROOT))
            .anyMatch(
                word ->
                    word.startsWith("duckdb_")
                        || word.startsWith("sqlite_")
                        || word.startsWith("pragma_"));
  }

  /** Whether the query reads DuckDB's information_schema or its PostgreSQL catalog views. */
  private static boolean readsCatalog(SqlText text) {
    return text.tokens().stream()
        .anyMatch(token -> token.isWord("information_schema") || token.isWord("pg_catalog"));
  }

  /** Queries that read resident files (tests). */
  long residentQueries() {
    return resident.queries();
  }

  /** Data files held resident now (tests). */
  int residentFileCount() {
    return resident.fileCount();
  }

  /**
   * Stops the resident files' follower and closes the DuckDB instances and the file cache. Running
   * queries should be closed first.
   */
  @Override
  public void close() {
    resident.close();
    instances.close();
    localPaths.close();
  }

  private static void closeQuietly(Connection connection, Exception failure) {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        if (failure != null) {
          failure.addSuppressed(e);
        } else {
          LOG.warn("Could not close a DuckDB connection", e);
        }
      }
    }
  }

  private static void deleteQuietly(Path directory) {
    if (!Files.exists(directory)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      LOG.warn("Could not delete query spill directory {}", directory, e);
    }
  }
}
