package io.floe.sql;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.floe.core.Bytes;
import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.Scans;
import io.floe.core.catalog.TableFiles;
import io.floe.core.config.MaintenanceConfig;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.maintenance.MaintenanceHistory;
import io.floe.maintenance.WarehouseMaintenance;
import io.floe.sql.QueryException.SqlState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.HistoryEntry;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotRef;
import org.apache.iceberg.StaticTableOperations;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.exceptions.NotFoundException;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.util.SnapshotUtil;
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
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final AtomicLong QUERY_IDS = new AtomicLong();
  private static final ScheduledExecutorService TIMER =
      Executors.newSingleThreadScheduledExecutor(
          runnable -> {
            Thread thread = new Thread(runnable, "floe-query-timeouts");
            thread.setDaemon(true);
            return thread;
          });
  private static final String PLAN_COLUMN = "QUERY PLAN";
  private static final Set<String> ALLOWED_TABLE_FUNCTIONS =
      Set.of("range", "generate_series", "unnest");

  private static final int REUSE_MAX_ROWS = 10_000;
  private static final int PLANNED_SCANS_KEPT = 64;

  /** Tables whose last plan is kept. */
  private static final int LATEST_PLANS_KEPT = 256;

  /** How often the follower brings resident files in step with their tables. */
  private static final long FOLLOW_MILLIS = 50;

  /** How long after its last query at its current snapshot a table's files stay resident. */
  private static final long HOT_NANOS = TimeUnit.MINUTES.toNanos(10);

  /** Most snapshots a table's last plan is advanced over; further ones are planned in full. */
  private static final int ADVANCE_MAX_SNAPSHOTS = 100;

  private static final java.util.regex.Pattern TIMESTAMP_LITERAL =
      java.util.regex.Pattern.compile("(?is)(?:timestamp(?:tz)?\\s*)?'([^']*)'");

  private final Catalog catalog;
  private final Path warehouse;
  private final Settings settings;
  private final Map<String, QueryExecution> running = new ConcurrentHashMap<>();
  private final ResultReuse reuse = new ResultReuse(64);
  // Snapshots never change: the files planned for a snapshot and filter can be planned once.
  private final Map<String, TableFiles> plannedFiles = leastRecentlyUsed(PLANNED_SCANS_KEPT);
  // The last unfiltered plan of each table's current snapshot, which later snapshots advance from.
  private final Map<UUID, LatestPlan> latestPlans = leastRecentlyUsed(LATEST_PLANS_KEPT);
  // Tables loaded from the catalog, refreshed for each query (see currentTable).
  private final Map<TableIdentifier, Table> loadedTables = leastRecentlyUsed(LATEST_PLANS_KEPT);
  private final FreshDuckDb instances = new FreshDuckDb(2);
  private final Procedures procedures;
  private FileCache cache;
  // Tables read at their current snapshot, by when they were last read (System.nanoTime()).
  private final Map<TableIdentifier, Long> hot = new ConcurrentHashMap<>();
  private ResidentFiles resident;
  private ScheduledExecutorService follower;
  private boolean residentFailed;
  // The follower's own state, touched by its thread only.
  private final Map<TableIdentifier, Followed> followed = new HashMap<>();
  private final Map<TableIdentifier, String> followFailures = new HashMap<>();
  private final AtomicLong residentQueries = new AtomicLong();

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

  public QueryEngine(Catalog catalog, Path warehouse) {
    this(catalog, warehouse, Settings.defaults(warehouse));
  }

  /** With the default maintenance policy for {@code CALL system.*} procedures. */
  public QueryEngine(Catalog catalog, Path warehouse, Settings settings) {
    this(
        catalog,
        warehouse,
        settings,
        new WarehouseMaintenance(
            catalog,
            MaintenanceConfig.defaults(),
            MaintenanceHistory.of(warehouse),
            new TableWriterRegistry()));
  }

  /**
   * With the warehouse's maintenance, which runs and records the {@code CALL system.*} procedures.
   */
  public QueryEngine(
      Catalog catalog, Path warehouse, Settings settings, WarehouseMaintenance maintenance) {
    this.catalog = requireNonNull(catalog, "catalog is null");
    this.warehouse = requireNonNull(warehouse, "warehouse is null");
    this.procedures = new Procedures(maintenance, java.time.Clock.systemUTC());
    this.settings = requireNonNull(settings, "settings is null");
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
            rows.add(java.util.Arrays.asList(values));
          }
        });
    return rows;
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
    Set<String> namespaces = namespaces();
    QueryRewriter.Rewritten rewritten =
        new QueryRewriter(text, namespaces::contains, this::tableExists).rewrite(from);
    String queryId = String.format(Locale.ROOT, "q-%06d", QUERY_IDS.incrementAndGet());
    long planningStart = System.nanoTime();
    Path temporary = settings.workDirectory().resolve("tmp").resolve(queryId);
    Connection connection = null;
    LocalFiles local = null;
    ErrorTranslator errors = new ErrorTranslator(sql, rewritten, 0, this::allTables);
    try {
      ResidentFiles residentFiles = residentFiles();
      // Planning only parses the query: the resident instance's connection serves when the query
      // may run there, sparing a fresh instance.
      connection = residentFiles != null ? residentFiles.connect() : instances.take();
      Planner planner = new Planner(connection, rewritten, errors);
      List<ScanPlan> plans = planner.plan();
      long bytes = plans.stream().mapToLong(ScanPlan::bytes).sum();
      String reuseKey = reuseKey(options, sql, plans);
      List<TableScan> scans = plans.stream().map(ScanPlan::describe).toList();
      if (!explain && options.workgroup().reusesResults()) {
        ResultReuse.Entry stored = reuse.get(reuseKey, options.workgroup().resultReuse());
        if (stored != null) {
          closeQuietly(connection, null);
          connection = null;
          QueryStats stats = new QueryStats(queryId, scans, 0, millisSince(planningStart), true);
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
      checkLimit(options.workgroup(), bytes, plans);
      markHot(plans);
      Files.createDirectories(temporary);
      local = localFiles(plans);
      boolean resident =
          residentFiles != null
              && !explain
              && !namesCatalogObjects(text)
              && planner.sourcesChecked()
              && residentQuery(residentFiles, connection, plans, local);
      if (!resident) {
        if (residentFiles != null) {
          closeQuietly(connection, null);
          connection = null;
          connection = instances.take();
        }
        prepare(connection, plans, temporary, local, readsCatalog(text));
      }
      QueryStats stats = new QueryStats(queryId, scans, bytes, millisSince(planningStart), false);
      if (explain) {
        List<Object[]> lines =
            explain(connection, rewritten, plans, stats, analyze, errors, options.timeout());
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
      QueryExecution execution =
          new QueryExecution(
              sql,
              columns,
              stats,
              "SELECT",
              new LiveRows(connection, statement, columns.size(), temporary, local),
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
            new ErrorTranslator(sql, none, 0, this::allTables)::translate),
        options);
  }

  private QueryExecution register(QueryExecution execution, QueryOptions options) {
    running.put(execution.id(), execution);
    execution.closeHook(
        () -> {
          running.remove(execution.id());
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

  private static String reuseKey(QueryOptions options, String sql, List<ScanPlan> plans) {
    StringBuilder key = new StringBuilder(options.workgroup().name()).append('\0').append(sql);
    for (ScanPlan plan : plans) {
      key.append('\0').append(plan.reference.written()).append('@').append(plan.snapshotId);
      key.append('@').append(plan.metadataLocation);
    }
    return key.toString();
  }

  private static void checkLimit(Workgroup workgroup, long bytes, List<ScanPlan> plans) {
    if (workgroup.limited() && bytes > workgroup.bytesScannedLimit()) {
      throw new QueryException(
          ErrorCode.SQL_LIMIT_EXCEEDED,
          SqlState.PROGRAM_LIMIT_EXCEEDED,
          "Cannot run query: it would scan "
              + Bytes.format(bytes)
              + " ("
              + plans.stream()
                  .map(plan -> plan.reference.written() + ": " + Bytes.format(plan.bytes()))
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

  /** A synchronized map that keeps the {@code kept} entries used last. */
  private static <K, V> Map<K, V> leastRecentlyUsed(int kept) {
    return java.util.Collections.synchronizedMap(
        new LinkedHashMap<>(16, 0.75f, true) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
            return size() > kept;
          }
        });
  }

  /** The files of one snapshot of a table, unfiltered. */
  private record LatestPlan(long snapshotId, TableFiles files) {}

  /** One table reference, planned. */
  private static final class ScanPlan {
    final TableReference reference;
    final Table table;
    final long snapshotId;
    final String metadataLocation;
    Schema schema;
    Expression filter = Expressions.alwaysTrue();
    TableFiles files;
    MetadataTables.Contents contents;
    int totalDataFiles;
    long totalBytes;

    ScanPlan(TableReference reference, Table table, Snapshot snapshot) {
      this.reference = reference;
      this.table = table;
      this.snapshotId = snapshot == null ? -1 : snapshot.snapshotId();
      this.metadataLocation =
          table instanceof HasTableOperations
              ? ((HasTableOperations) table).operations().current().metadataFileLocation()
              : "";
    }

    long bytes() {
      return files == null ? 0 : files.bytes();
    }

    TableScan describe() {
      int dataFiles = files == null ? 0 : files.dataFiles().size();
      int deleteFiles = files == null ? 0 : files.deleteFiles().size();
      return new TableScan(
          reference.written(),
          reference.table().toString(),
          reference.metadata() == null ? snapshotId : -1,
          filter.toString(),
          dataFiles,
          totalDataFiles,
          deleteFiles,
          bytes(),
          totalBytes);
    }
  }

  /** Plans every reference of a rewritten query. */
  private final class Planner {
    private final Connection connection;
    private final QueryRewriter.Rewritten rewritten;
    private final ErrorTranslator errors;
    private boolean sourcesChecked;

    Planner(Connection connection, QueryRewriter.Rewritten rewritten, ErrorTranslator errors) {
      this.connection = connection;
      this.rewritten = rewritten;
      this.errors = errors;
    }

    List<ScanPlan> plan() throws SQLException {
      JsonNode tree = parse();
      List<ScanPlan> plans = new ArrayList<>();
      Map<String, Schema> schemas = new HashMap<>();
      for (TableReference reference : rewritten.references()) {
        Table table = load(reference.table());
        if (reference.metadata() != null) {
          if (reference.travel() != null) {
            throw new QueryException(
                ErrorCode.SQL_INVALID,
                SqlState.FEATURE_NOT_SUPPORTED,
                "Cannot read "
                    + reference.written()
                    + ": time travel on metadata tables is not supported; metadata tables"
                    + " describe the whole table history already");
          }
          ScanPlan plan = new ScanPlan(reference, table, table.currentSnapshot());
          plan.contents = MetadataTables.read(table, reference.metadata());
          plans.add(plan);
          continue;
        }
        Snapshot snapshot = snapshot(table, reference);
        ScanPlan plan = new ScanPlan(reference, table, snapshot);
        plan.schema =
            snapshot == null
                ? table.schema()
                : table.newScan().useSnapshot(snapshot.snapshotId()).schema();
        if (snapshot != null) {
          Map<String, String> summary = snapshot.summary();
          plan.totalDataFiles = Integer.parseInt(summary.getOrDefault("total-data-files", "0"));
          plan.totalBytes = Long.parseLong(summary.getOrDefault("total-files-size", "0"));
        }
        schemas.put(reference.placeholder(), plan.schema);
        plans.add(plan);
      }
      Map<String, Expression> filters =
          schemas.isEmpty() || tree == null ? Map.of() : ScanFilters.extract(tree, schemas);
      for (ScanPlan plan : plans) {
        if (plan.contents != null) {
          continue;
        }
        if (plan.snapshotId < 0) {
          plan.files = TableFiles.plan(plan.table, null);
          continue;
        }
        plan.filter = filters.getOrDefault(plan.reference.placeholder(), Expressions.alwaysTrue());
        String key = plan.table.uuid() + "@" + plan.snapshotId + ":" + plan.filter;
        plan.files = plannedFiles.get(key);
        if (plan.files == null) {
          plan.files = planFiles(plan);
          plannedFiles.put(key, plan.files);
        }
      }
      return plans;
    }

    /**
     * Plans the files of one reference: from the table's last planned snapshot when the reference
     * reads a snapshot after it (the usual query of a table that a pipeline writes), else with
     * Iceberg's planning.
     */
    private TableFiles planFiles(ScanPlan plan) {
      TableFiles all = advancedFiles(plan.table, plan.snapshotId);
      if (all == null && plan.filter.op() != Expression.Operation.TRUE) {
        return TableFiles.plan(
            plan.table,
            Scans.scan(plan.table)
                .useSnapshot(plan.snapshotId)
                .caseSensitive(false)
                .filter(plan.filter));
      }
      return unfilteredFiles(plan.table, plan.snapshotId, all)
          .filter(plan.table, plan.schema, plan.filter);
    }

    private Table load(TableIdentifier identifier) {
      try {
        return currentTable(identifier);
      } catch (NoSuchTableException e) {
        throw new QueryException(
            ErrorCode.TABLE_NOT_FOUND,
            SqlState.UNDEFINED_TABLE,
            "Cannot query "
                + identifier
                + ": no such table; tables in namespace "
                + identifier.namespace()
                + ": "
                + tableNames(identifier.namespace().toString()),
            0,
            e);
      }
    }

    private Snapshot snapshot(Table table, TableReference reference) throws SQLException {
      TableReference.TimeTravel travel = reference.travel();
      if (travel == null) {
        return table.currentSnapshot();
      }
      switch (travel.kind()) {
        case REF:
          return ref(table, reference, travel.expression());
        case VERSION:
          Object version = evaluate(travel.expression(), reference);
          if (version instanceof Number) {
            long id = ((Number) version).longValue();
            Snapshot snapshot = table.snapshot(id);
            if (snapshot == null) {
              throw versionNotFound(
                  reference,
                  "has no snapshot "
                      + id
                      + "; its latest snapshots are "
                      + recentSnapshots(table)
                      + " (see "
                      + reference.table()
                      + ".snapshots)");
            }
            return snapshot;
          }
          return ref(table, reference, String.valueOf(version));
        default:
          String expression = timestampExpression(travel.expression());
          Object instant =
              evaluate("epoch_ms(CAST((" + expression + ") AS TIMESTAMPTZ))", reference);
          long millis = ((Number) instant).longValue();
          List<HistoryEntry> history = table.history();
          if (history.isEmpty() || history.get(0).timestampMillis() > millis) {
            throw versionNotFound(
                reference,
                "has no snapshot at or before "
                    + Instant.ofEpochMilli(millis)
                    + (history.isEmpty()
                        ? "; it has no snapshots yet"
                        : "; its first snapshot was committed at "
                            + Instant.ofEpochMilli(history.get(0).timestampMillis())));
          }
          return table.snapshot(SnapshotUtil.snapshotIdAsOfTime(table, millis));
      }
    }

    /**
     * Trino reads {@code TIMESTAMP '2026-11-21 10:00:00 +02:00'} as an instant; DuckDB's TIMESTAMP
     * drops the offset and its TIMESTAMPTZ wants no space before it.
     */
    private static String timestampExpression(String expression) {
      java.util.regex.Matcher literal = TIMESTAMP_LITERAL.matcher(expression.trim());
      if (!literal.matches()) {
        return expression;
      }
      String text = literal.group(1).trim().replaceFirst("\\s+([+-]\\d{1,2}(?::?\\d{2})?)$", "$1");
      return "TIMESTAMPTZ " + TableScanSql.literal(text);
    }

    private Snapshot ref(Table table, TableReference reference, String name) {
      SnapshotRef ref = table.refs().get(name);
      if (ref == null) {
        throw versionNotFound(
            reference,
            "has no branch or tag '"
                + name
                + "'; it has: "
                + table.refs().entrySet().stream()
                    .map(
                        e ->
                            e.getKey()
                                + " ("
                                + e.getValue().type().name().toLowerCase(Locale.ROOT)
                                + ")")
                    .sorted()
                    .collect(Collectors.joining(", ")));
      }
      return table.snapshot(ref.snapshotId());
    }

    private static QueryException versionNotFound(TableReference reference, String problem) {
      return new QueryException(
          ErrorCode.TABLE_VERSION_NOT_FOUND,
          SqlState.DATA_EXCEPTION,
          "Cannot read " + reference.written() + ": table " + reference.table() + " " + problem);
    }

    /** Evaluates a time travel expression in a DuckDB that can read nothing. */
    private Object evaluate(String expression, TableReference reference) {
      try {
        Object value = Constants.evaluate(expression);
        if (value == null) {
          throw new SQLException("the expression is NULL");
        }
        return value;
      } catch (SQLException e) {
        throw new QueryException(
            ErrorCode.SQL_INVALID,
            SqlState.DATA_EXCEPTION,
            "Cannot read "
                + reference.written()
                + ": the time travel value is not a snapshot id, branch or tag name, or"
                + " timestamp: "
                + ErrorTranslator.plainMessage(e),
            0,
            e);
      }
    }

    /**
     * DuckDB's parse tree of the query, which also finds syntax errors before any planning; null
     * when DuckDB cannot serialize this kind of statement (then no filters are pushed).
     */
    private JsonNode parse() throws SQLException {
      String serialized;
      try (PreparedStatement statement =
          connection.prepareStatement("SELECT json_serialize_sql(?)")) {
        statement.setString(1, rewritten.sql());
        try (ResultSet result = statement.executeQuery()) {
          result.next();
          serialized = result.getString(1);
        }
      }
      JsonNode tree;
      try {
        tree = JSON.readTree(serialized);
      } catch (IOException e) {
        throw new FloeException(ErrorCode.SQL_FAILED, "Cannot read DuckDB's parse tree", e);
      }
      if (tree.path("error").asBoolean(false)) {
        if ("parser".equals(tree.path("error_type").asText())) {
          throw errors.syntax(tree.path("error_message").asText(), tree.path("position").asInt(-1));
        }
        LOG.debug("No filter pushdown for this query: {}", tree.path("error_message").asText());
        return null;
      }
      checkSources(tree);
      sourcesChecked = true;
      return tree.path("statements");
    }

    /** Whether DuckDB parsed the query and every table it reads was checked. */
    boolean sourcesChecked() {
      return sourcesChecked;
    }

    /**
     * Refuses table functions that read files and file paths used as tables: only Floe's tables
     * (through their planned scans, deletes applied) may be read.
     */
    private void checkSources(JsonNode node) {
      String type = node.path("type").asText();
      if (type.equals("TABLE_FUNCTION")) {
        String function = node.path("function").path("function_name").asText();
        if (!ALLOWED_TABLE_FUNCTIONS.contains(function.toLowerCase(Locale.ROOT))) {
          throw errors.notAllowed(
              "table function "
                  + function
                  + " is not allowed; only Floe's tables (namespace.table) and the table"
                  + " functions "
                  + String.join(", ", ALLOWED_TABLE_FUNCTIONS.stream().sorted().toList())
                  + " can be read through this service",
              node.path("query_location").asInt(-1));
        }
      } else if (type.equals("BASE_TABLE")) {
        String name = node.path("table_name").asText();
        if (ResidentFiles.SCHEMA.equalsIgnoreCase(node.path("schema_name").asText())
            || ResidentFiles.SCHEMA.equalsIgnoreCase(node.path("catalog_name").asText())) {
          throw errors.notAllowed(
              "'"
                  + ResidentFiles.SCHEMA
                  + "."
                  + name
                  + "' is internal to Floe; only Floe's tables (namespace.table) can be read"
                  + " through this service",
              node.path("query_location").asInt(-1));
        }
        if (name.contains("/") || name.contains("\\") || name.contains(".")) {
          throw errors.notAllowed(
              "'"
                  + name
                  + "' names a file; only Floe's tables (namespace.table) can be read through"
                  + " this service",
              node.path("query_location").asInt(-1));
        }
      }
      for (JsonNode child : node) {
        if (child.isContainerNode()) {
          checkSources(child);
        }
      }
    }
  }

  private static String recentSnapshots(Table table) {
    List<String> ids = new ArrayList<>();
    for (Snapshot snapshot : table.snapshots()) {
      ids.add(
          snapshot.snapshotId() + " (" + Instant.ofEpochMilli(snapshot.timestampMillis()) + ")");
    }
    int from = Math.max(0, ids.size() - 5);
    return ids.isEmpty() ? "(none)" : String.join(", ", ids.subList(from, ids.size()));
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

  /**
   * Empty tables named and typed like every Floe table, so that {@code information_schema} and the
   * {@code pg_catalog} views describe Floe's tables; references to the tables themselves are
   * rewritten to their scans and never read these.
   */
  private void createCatalogTables(Statement statement) throws SQLException {
    for (String namespace : namespaces()) {
      statement.execute("CREATE SCHEMA IF NOT EXISTS " + TableScanSql.quote(namespace));
      for (TableIdentifier identifier : catalog.listTables(Namespace.of(namespace))) {
        Schema schema;
        try {
          schema = catalog.loadTable(identifier).schema();
        } catch (NoSuchTableException e) {
          continue; // dropped while listing
        }
        statement.execute(
            "CREATE TABLE "
                + TableScanSql.quote(namespace)
                + "."
                + TableScanSql.quote(identifier.name())
                + " ("
                + schema.columns().stream()
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

  /**
   * The files of a snapshot, unfiltered, from the table's last plan: itself when it is of that
   * snapshot, else advanced to it when the snapshot descends from it; null when neither.
   */
  private TableFiles advancedFiles(Table table, long snapshotId) {
    LatestPlan latest = latestPlans.get(table.uuid());
    if (latest != null && latest.snapshotId() == snapshotId) {
      return latest.files();
    }
    if (latest != null) {
      try {
        return latest
            .files()
            .advance(table, latest.snapshotId(), snapshotId, ADVANCE_MAX_SNAPSHOTS)
            .orElse(null);
      } catch (NotFoundException e) {
        // A snapshot in between was expired, and its files deleted, since the table was loaded.
        LOG.debug("Planning {} in full: {}", table.name(), e.getMessage(), e);
      }
    }
    return null;
  }

  /**
   * The files of a snapshot, unfiltered: {@code advanced} (see {@link #advancedFiles}) or, when
   * null, planned in full. Kept as the table's last plan when the snapshot is its current one.
   */
  private TableFiles unfilteredFiles(Table table, long snapshotId, TableFiles advanced) {
    TableFiles all = advanced;
    if (all == null) {
      // With column bounds, which filters of later queries are judged by.
      all = TableFiles.plan(table, Scans.scan(table).useSnapshot(snapshotId).includeColumnStats());
    }
    if (snapshotId == table.currentSnapshot().snapshotId()) {
      latestPlans.put(table.uuid(), new LatestPlan(snapshotId, all));
    }
    return all;
  }

  /**
   * The table as the catalog has it now, read-only. A table loaded before is refreshed, which reads
   * its metadata file only when a commit changed it: a table that commits every second has a
   * metadata file of up to a megabyte, which queries in between, and the follower, then share.
   */
  private Table currentTable(TableIdentifier identifier) {
    Table loaded = loadedTables.get(identifier);
    if (loaded == null) {
      loaded = catalog.loadTable(identifier);
      if (!(loaded instanceof HasTableOperations)) {
        return loaded;
      }
      loadedTables.put(identifier, loaded);
    }
    TableMetadata current;
    synchronized (loaded) {
      try {
        loaded.refresh();
      } catch (NoSuchTableException e) {
        loadedTables.remove(identifier, loaded);
        throw e;
      }
      current = ((HasTableOperations) loaded).operations().current();
    }
    return new BaseTable(new StaticTableOperations(current, loaded.io()), loaded.name());
  }

  /**
   * Whether the catalog has the table; one loaded before is taken to (loading it again then tells),
   * as the catalog answers by loading its metadata.
   */
  private boolean tableExists(TableIdentifier identifier) {
    return loadedTables.containsKey(identifier) || catalog.tableExists(identifier);
  }

  /** Marks the tables the query reads at their current snapshot as read lately. */
  private void markHot(List<ScanPlan> plans) {
    if (settings.residentSize() <= 0) {
      return;
    }
    long now = System.nanoTime();
    for (ScanPlan plan : plans) {
      Snapshot current = plan.table.currentSnapshot();
      if (plan.contents == null && current != null && plan.snapshotId == current.snapshotId()) {
        hot.put(plan.reference.table(), now);
      }
    }
    startFollower();
  }

  /**
   * Prepares {@code connection}, of the resident files' instance, for the query: begins a
   * transaction that sees the resident files with exactly the deletes the query's snapshots plan
   * for them and creates the query's views over them. False, with nothing begun or created, when
   * none of the query's data files is resident with its planned deletes or one of its files is
   * outside what that instance may read: the query then runs in a fresh instance.
   */
  private boolean residentQuery(
      ResidentFiles files, Connection connection, List<ScanPlan> plans, LocalFiles local)
      throws SQLException {
    Map<String, Set<String>> deletes = new HashMap<>();
    Set<String> differing = new HashSet<>();
    for (ScanPlan plan : plans) {
      if (plan.contents != null) {
        return false;
      }
      boolean readable =
          Stream.concat(
                  plan.files.dataFiles().keySet().stream(),
                  plan.files.deleteFiles().keySet().stream())
              .allMatch(location -> files.readable(local.path(location)));
      if (!readable) {
        return false;
      }
      plan.files
          .deletesByDataFile()
          .forEach(
              (location, planned) -> {
                if (planned.isEmpty()) {
                  return;
                }
                Set<String> needed = plan.files.deleteLocations(location);
                Set<String> other = deletes.putIfAbsent(location, needed);
                if (other != null && !other.equals(needed)) {
                  // The same file read at two snapshots (time travel): read it directly.
                  differing.add(location);
                }
              });
    }
    differing.forEach(deletes::remove);
    Map<String, String> used = files.begin(connection, deletes);
    if (used.isEmpty()) {
      return false;
    }
    try (Statement statement = connection.createStatement()) {
      for (ScanPlan plan : plans) {
        statement.execute(
            "CREATE TEMP VIEW "
                + TableScanSql.quote(plan.reference.placeholder())
                + " AS "
                + TableScanSql.sql(plan.schema, plan.files, local::path, used));
      }
    }
    LOG.debug("Reading {} resident files", used.size());
    residentQueries.incrementAndGet();
    return true;
  }

  /** Queries that read resident files (tests). */
  long residentQueries() {
    return residentQueries.get();
  }

  /** Data files held resident now (tests). */
  synchronized int residentFileCount() {
    return resident == null ? 0 : resident.size();
  }

  private synchronized ResidentFiles residentFiles() {
    if (resident == null && !residentFailed && settings.residentSize() > 0) {
      try {
        Path temporary = settings.workDirectory().resolve("tmp").resolve("resident");
        Files.createDirectories(temporary);
        resident =
            new ResidentFiles(
                List.of(warehouse, settings.workDirectory().resolve("cache")),
                temporary,
                settings.residentSize(),
                settings.residentMinRows());
      } catch (SQLException | IOException e) {
        residentFailed = true;
        LOG.warn(
            "Could not open the DuckDB instance that holds large data files with their deletes"
                + " applied; queries read every file from storage instead",
            e);
      }
    }
    return resident;
  }

  private synchronized void startFollower() {
    if (follower == null && !residentFailed) {
      follower =
          Executors.newSingleThreadScheduledExecutor(
              runnable -> {
                Thread thread = new Thread(runnable, "floe-resident-files");
                thread.setDaemon(true);
                return thread;
              });
      java.util.concurrent.ScheduledFuture<?> unused =
          follower.scheduleWithFixedDelay(this::follow, 0, FOLLOW_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * A table the follower keeps resident: its UUID (a table dropped and created again under the same
   * name is another) and the snapshot last synced (or that failed to).
   */
  private static final class Followed {
    UUID table;
    long synced = -1;
  }

  /**
   * Keeps the resident files of the tables read lately in step with their current snapshots, so
   * that a query finds them with its snapshot's deletes; forgets tables not read for {@link
   * #HOT_NANOS}. Runs on the follower's thread only.
   */
  private void follow() {
    ResidentFiles files = residentFiles();
    if (files == null) {
      return;
    }
    long now = System.nanoTime();
    for (Map.Entry<TableIdentifier, Long> entry : List.copyOf(hot.entrySet())) {
      TableIdentifier identifier = entry.getKey();
      try {
        if (now - entry.getValue() > HOT_NANOS) {
          hot.remove(identifier, entry.getValue());
          unfollow(files, identifier);
        } else {
          follow(files, identifier);
        }
        followFailures.remove(identifier);
      } catch (NoSuchTableException e) {
        hot.remove(identifier);
        unfollowQuietly(files, identifier, e);
      } catch (SQLException | RuntimeException e) {
        String message = String.valueOf(e.getMessage());
        if (!message.equals(followFailures.put(identifier, message))) {
          LOG.warn(
              "Could not bring the resident files of {} in step with its current snapshot;"
                  + " queries read its files from storage until this succeeds (retried every {} ms,"
                  + " logged again when the failure changes)",
              identifier,
              FOLLOW_MILLIS,
              e);
        } else {
          LOG.debug("Resident files of {} still out of step", identifier, e);
        }
      }
    }
  }

  private void follow(ResidentFiles files, TableIdentifier identifier) throws SQLException {
    Table table = currentTable(identifier);
    Followed state = followed.computeIfAbsent(identifier, id -> new Followed());
    if (state.table != null && !state.table.equals(table.uuid())) {
      // Dropped and created again under the same name.
      files.forget(state.table);
      state.synced = -1;
    }
    state.table = table.uuid();
    Snapshot current = table.currentSnapshot();
    if (current == null || current.snapshotId() == state.synced) {
      return;
    }
    // A snapshot that fails is not tried again: the next one is.
    state.synced = current.snapshotId();
    TableFiles all =
        unfilteredFiles(table, current.snapshotId(), advancedFiles(table, current.snapshotId()));
    try (LocalFiles local = localFiles(table, files.candidates(all))) {
      files.sync(table.uuid(), table.schema().columns().size(), all, local::path);
    }
  }

  private void unfollow(ResidentFiles files, TableIdentifier identifier) throws SQLException {
    Followed state = followed.remove(identifier);
    if (state != null && state.table != null) {
      files.forget(state.table);
    }
  }

  private void unfollowQuietly(ResidentFiles files, TableIdentifier identifier, Exception cause) {
    try {
      unfollow(files, identifier);
    } catch (SQLException e) {
      e.addSuppressed(cause);
      LOG.warn("Could not drop the resident files of {}, which is gone", identifier, e);
    }
  }

  private void prepare(
      Connection connection,
      List<ScanPlan> plans,
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
      for (ScanPlan plan : plans) {
        String name = TableScanSql.quote(plan.reference.placeholder());
        if (plan.contents != null) {
          MetadataTables.load(
              statement,
              name,
              plan.contents,
              plan.table,
              plan.reference.metadata(),
              plan.reference.written().contains("$"));
          continue;
        }
        Stream.concat(
                plan.files.dataFiles().keySet().stream(),
                plan.files.deleteFiles().keySet().stream())
            .map(local::path)
            .forEach(allowed::add);
        statement.execute(
            "CREATE VIEW "
                + name
                + " AS "
                + TableScanSql.sql(plan.schema, plan.files, local::path));
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
   * Readable local paths of a query's planned files: local files as they are, files in object
   * storage fetched through the table's FileIO into the bounded cache and pinned there until the
   * query is closed.
   */
  private LocalFiles localFiles(List<ScanPlan> plans) {
    Map<String, String> paths = new HashMap<>();
    List<FileCache.Lease> leases = new ArrayList<>();
    try {
      for (ScanPlan plan : plans) {
        if (plan.files != null) {
          localPaths(
              plan.table,
              Stream.concat(
                      plan.files.dataFiles().values().stream(),
                      plan.files.deleteFiles().values().stream())
                  .toList(),
              paths,
              leases);
        }
      }
    } catch (RuntimeException e) {
      leases.forEach(FileCache.Lease::close);
      throw e;
    }
    return new LocalFiles(paths, leases);
  }

  /** Readable local paths of some files of one table, as {@link #localFiles(List)}. */
  private LocalFiles localFiles(Table table, List<ContentFile<?>> files) {
    Map<String, String> paths = new HashMap<>();
    List<FileCache.Lease> leases = new ArrayList<>();
    localPaths(table, files, paths, leases);
    return new LocalFiles(paths, leases);
  }

  private void localPaths(
      Table table,
      List<? extends ContentFile<?>> files,
      Map<String, String> paths,
      List<FileCache.Lease> leases) {
    Map<String, Long> remote = new LinkedHashMap<>();
    for (ContentFile<?> file : files) {
      String location = file.location();
      if (location.startsWith("file:")) {
        paths.put(location, Path.of(java.net.URI.create(location)).toString());
      } else if (location.startsWith("/")) {
        paths.put(location, location);
      } else {
        remote.put(location, file.fileSizeInBytes());
      }
    }
    if (!remote.isEmpty()) {
      FileCache.Lease lease = cache().acquire(table.io(), remote);
      leases.add(lease);
      remote.keySet().forEach(location -> paths.put(location, lease.path(location).toString()));
    }
  }

  private synchronized FileCache cache() {
    if (cache == null) {
      cache = new FileCache(settings.workDirectory().resolve("cache"), settings.cacheSize());
    }
    return cache;
  }

  /** Closes the file cache, if remote files were read. Running queries should be closed first. */
  @Override
  public void close() {
    ScheduledExecutorService stopping;
    synchronized (this) {
      stopping = follower;
      follower = null;
    }
    if (stopping != null) {
      stopping.shutdownNow();
      try {
        if (!stopping.awaitTermination(10, TimeUnit.SECONDS)) {
          LOG.warn("The resident files' follower did not stop within 10 s; closing anyway");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    closeResources();
  }

  private synchronized void closeResources() {
    instances.close();
    if (resident != null) {
      resident.close();
      resident = null;
    }
    residentFailed = true;
    if (cache != null) {
      cache.close();
      cache = null;
    }
  }

  /** Local paths of a query's files, and the cache leases that keep remote ones in place. */
  private record LocalFiles(Map<String, String> paths, List<FileCache.Lease> leases)
      implements AutoCloseable {
    String path(String location) {
      String path = paths.get(location);
      if (path == null) {
        throw new IllegalStateException("file was not planned: " + location);
      }
      return path;
    }

    @Override
    public void close() {
      leases.forEach(FileCache.Lease::close);
    }
  }

  private List<Object[]> explain(
      Connection connection,
      QueryRewriter.Rewritten rewritten,
      List<ScanPlan> plans,
      QueryStats stats,
      boolean analyze,
      ErrorTranslator errors,
      Duration timeout)
      throws SQLException {
    List<Object[]> lines = new ArrayList<>();
    lines.add(new Object[] {"Floe plan for query " + stats.queryId()});
    for (ScanPlan plan : plans) {
      lines.add(new Object[] {"  " + plan.reference.written()});
      if (plan.contents != null) {
        lines.add(
            new Object[] {
              "    metadata table "
                  + plan.reference.metadata().name().toLowerCase(Locale.ROOT)
                  + " of "
                  + plan.reference.table()
                  + ": "
                  + plan.contents.rows().size()
                  + " rows read from table metadata"
            });
        continue;
      }
      Snapshot snapshot = plan.snapshotId < 0 ? null : plan.table.snapshot(plan.snapshotId);
      lines.add(
          new Object[] {
            "    snapshot: "
                + (snapshot == null
                    ? "none (empty table)"
                    : snapshot.snapshotId()
                        + " committed "
                        + Instant.ofEpochMilli(snapshot.timestampMillis())
                        + (plan.reference.travel() == null ? " (current)" : " (time travel)"))
          });
      lines.add(new Object[] {"    filter pushed to Iceberg: " + plan.filter});
      TableScan scan = plan.describe();
      lines.add(
          new Object[] {
            "    data files: "
                + scan.dataFiles()
                + " of "
                + scan.totalDataFiles()
                + " planned; bytes: "
                + Bytes.format(scan.bytes())
                + " of "
                + Bytes.format(scan.totalBytes())
                + (scan.totalBytes() > 0
                    ? String.format(
                        Locale.ROOT,
                        " (%.1f%% pruned)",
                        100.0 * (scan.totalBytes() - scan.bytes()) / scan.totalBytes())
                    : "")
          });
      lines.add(new Object[] {"    position delete files applied: " + scan.deleteFiles()});
    }
    lines.add(new Object[] {"  bytes scanned: " + Bytes.format(stats.bytesScanned())});
    long start = System.nanoTime();
    lines.add(new Object[] {analyze ? "DuckDB plan, executed:" : "DuckDB plan:"});
    try (Statement statement = connection.createStatement()) {
      // EXPLAIN ANALYZE runs the query before start() returns: bound it by the query's timeout.
      java.util.concurrent.Future<?> timer =
          TIMER.schedule(
              () -> {
                try {
                  statement.cancel();
                } catch (SQLException e) {
                  LOG.warn("Could not cancel EXPLAIN ANALYZE of {}", stats.queryId(), e);
                }
              },
              timeout.toMillis(),
              TimeUnit.MILLISECONDS);
      ResultSet result;
      try {
        result =
            statement.executeQuery((analyze ? "EXPLAIN ANALYZE " : "EXPLAIN ") + rewritten.sql());
      } catch (SQLException e) {
        if (timer.isDone()) {
          throw new QueryException(
              ErrorCode.SQL_TIMEOUT,
              SqlState.QUERY_CANCELED,
              "Query "
                  + stats.queryId()
                  + " (EXPLAIN ANALYZE) ran longer than its time limit and was cancelled",
              0,
              e);
        }
        throw e;
      } finally {
        timer.cancel(false);
      }
      while (result.next()) {
        String plan = result.getString(2);
        for (String line : plan.split("\n", -1)) {
          String shown = line;
          for (ScanPlan scan : plans) {
            shown = shown.replace(scan.reference.placeholder(), scan.reference.table().toString());
          }
          lines.add(new Object[] {shown});
        }
      }
    } catch (SQLException e) {
      throw errors.withPrefix(analyze ? 16 : 8).translate(e);
    }
    if (analyze) {
      lines.add(new Object[] {"Executed in " + millisSince(start) + " ms"});
    }
    return lines;
  }

  private Set<String> namespaces() {
    if (!(catalog instanceof SupportsNamespaces)) {
      return Set.of();
    }
    return ((SupportsNamespaces) catalog)
        .listNamespaces().stream().map(Namespace::toString).collect(Collectors.toSet());
  }

  private String allTables() {
    List<String> names = new ArrayList<>();
    for (String namespace : namespaces()) {
      catalog.listTables(Namespace.of(namespace)).forEach(id -> names.add(id.toString()));
    }
    return names.isEmpty() ? "(none)" : String.join(", ", names.stream().sorted().toList());
  }

  private String tableNames(String namespace) {
    List<String> names =
        catalog.listTables(Namespace.of(namespace)).stream()
            .map(TableIdentifier::name)
            .sorted()
            .toList();
    return names.isEmpty() ? "(none)" : String.join(", ", names);
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

  /**
   * Rows of a DuckDB statement, which runs on the first read so that it can be cancelled and timed
   * out from the start; DuckDB streams results, so rows are not held in memory. Closing releases
   * the DuckDB instance.
   */
  private static final class LiveRows implements QueryExecution.Rows {
    private final Connection connection;
    private final PreparedStatement statement;
    private final int columns;
    private final Path temporary;
    private final LocalFiles local;
    private ResultSet result;

    LiveRows(
        Connection connection,
        PreparedStatement statement,
        int columns,
        Path temporary,
        LocalFiles local) {
      this.connection = connection;
      this.statement = statement;
      this.columns = columns;
      this.temporary = temporary;
      this.local = local;
    }

    @Override
    public Object[] next() throws SQLException {
      if (result == null) {
        result = statement.executeQuery();
      }
      if (!result.next()) {
        return null;
      }
      Object[] values = new Object[columns];
      for (int i = 0; i < columns; i++) {
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
      try {
        connection.close();
      } finally {
        release(local, temporary);
      }
    }
  }

  /** Rows held in memory: EXPLAIN output and reused results. */
  private static final class HeldRows implements QueryExecution.Rows {
    private final List<Object[]> rows;
    private int next;

    HeldRows(List<Object[]> rows) {
      this.rows = rows;
    }

    @Override
    public Object[] next() {
      return next < rows.size() ? rows.get(next++) : null;
    }

    @Override
    public void interrupt() {}

    @Override
    public void close() {}
  }
}
