package io.floe.sql;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.Scans;
import io.floe.core.catalog.TableFiles;
import io.floe.sql.QueryException.SqlState;
import io.floe.sql.ScanPlan.DataScan;
import io.floe.sql.ScanPlan.MetadataScan;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.iceberg.HistoryEntry;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotRef;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.exceptions.NotFoundException;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.util.SnapshotUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plans the table references of a query with Iceberg: checks what the query reads (only Floe's
 * tables and a few table functions), chooses each reference's snapshot (time travel), and plans the
 * files left after partition and min/max pruning with the filters DuckDB's parse tree gives.
 *
 * <p>One planner serves the engine's queries and its resident files' follower, so that they share
 * its caches: snapshots never change, so the files of a snapshot and filter are planned once; and
 * the last unfiltered plan of each table's current snapshot is kept, so that a later snapshot of a
 * table a pipeline writes is planned by advancing it over the snapshots in between instead of
 * reading every manifest again.
 */
final class ScanPlanner {
  private static final Logger LOG = LoggerFactory.getLogger(ScanPlanner.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> ALLOWED_TABLE_FUNCTIONS =
      Set.of("range", "generate_series", "unnest");

  /** Plans of a snapshot and filter that are kept. */
  private static final int PLANNED_SCANS_KEPT = 64;

  /** Tables whose last plan is kept. */
  private static final int LATEST_PLANS_KEPT = 256;

  /** Most snapshots a table's last plan is advanced over; further ones are planned in full. */
  private static final int ADVANCE_MAX_SNAPSHOTS = 100;

  private static final Pattern TIMESTAMP_LITERAL =
      Pattern.compile("(?is)(?:timestamp(?:tz)?\\s*)?'([^']*)'");

  private final CatalogTables tables;
  // Snapshots never change: the files planned for a snapshot and filter can be planned once.
  private final Map<String, TableFiles> plannedFiles = LeastRecentlyUsed.map(PLANNED_SCANS_KEPT);
  // The last unfiltered plan of each table's current snapshot, which later snapshots advance from.
  private final Map<UUID, LatestPlan> latestPlans = LeastRecentlyUsed.map(LATEST_PLANS_KEPT);

  /** The namespace of {@link SystemTable}s. */
  static final String SYSTEM_NAMESPACE = "system";

  /** The system tables by name: {@code system.<name>}. */
  private final Map<String, SystemTable> systemTables =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** Makes {@code system.<name>} read the system table. */
  void addSystemTable(SystemTable table) {
    systemTables.put(table.name(), table);
  }

  /** Whether {@code namespace} is the namespace of system tables and some are declared. */
  boolean isSystemNamespace(String namespace) {
    return namespace.equals(SYSTEM_NAMESPACE) && !systemTables.isEmpty();
  }

  /** Whether the identifier names a declared system table. */
  boolean isSystemTable(TableIdentifier identifier) {
    return systemTable(identifier) != null;
  }

  private SystemTable systemTable(TableIdentifier identifier) {
    Namespace namespace = identifier.namespace();
    return namespace.length() == 1 && namespace.level(0).equals(SYSTEM_NAMESPACE)
        ? systemTables.get(identifier.name())
        : null;
  }

  ScanPlanner(CatalogTables tables) {
    this.tables = requireNonNull(tables, "tables is null");
  }

  /** The files of one snapshot of a table, unfiltered. */
  private record LatestPlan(long snapshotId, TableFiles files) {}

  /**
   * A query's references, planned.
   *
   * @param scans one per reference, in the order of {@link QueryRewriter.Rewritten#references()}
   * @param sourcesChecked whether DuckDB parsed the query and every table it reads was checked; a
   *     query whose parse tree DuckDB cannot serialize runs, but without pushed filters
   */
  record PlannedQuery(List<ScanPlan> scans, boolean sourcesChecked) {
    PlannedQuery {
      scans = List.copyOf(requireNonNull(scans, "scans is null"));
    }
  }

  /**
   * Plans every reference of a rewritten query.
   *
   * @param connection a DuckDB connection to parse the query on; nothing is read through it
   * @throws QueryException when the query is invalid, reads what it may not, or names a table or
   *     version that does not exist
   */
  PlannedQuery plan(
      Connection connection, QueryRewriter.Rewritten rewritten, ErrorTranslator errors)
      throws SQLException {
    Optional<JsonNode> statements = parse(connection, rewritten, errors);
    // Filters are extracted once the schema of every reference is known; each reference's files
    // are planned after that.
    List<Function<Map<String, Expression>, ScanPlan>> pending = new ArrayList<>();
    Map<String, Schema> schemas = new HashMap<>();
    for (TableReference reference : rewritten.references()) {
      SystemTable system = systemTable(reference.table());
      if (system != null) {
        if (reference.travel() != null || reference.metadata() != null) {
          throw new QueryException(
              ErrorCode.SQL_INVALID,
              SqlState.FEATURE_NOT_SUPPORTED,
              "Cannot read "
                  + reference.written()
                  + ": system tables have no history and no metadata tables; query "
                  + reference.table()
                  + " itself");
        }
        ScanPlan scan =
            new ScanPlan.SystemScan(
                reference, new MetadataTables.Contents(system.schema(), system.rows()));
        pending.add(filters -> scan);
        continue;
      }
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
        ScanPlan scan =
            new MetadataScan(reference, table, MetadataTables.read(table, reference.metadata()));
        pending.add(filters -> scan);
        continue;
      }
      Optional<Snapshot> snapshot = snapshot(table, reference);
      if (snapshot.isEmpty()) {
        ScanPlan scan = DataScan.empty(reference, table);
        schemas.put(reference.placeholder(), table.schema());
        pending.add(filters -> scan);
        continue;
      }
      Snapshot read = snapshot.get();
      Schema schema = table.newScan().useSnapshot(read.snapshotId()).schema();
      schemas.put(reference.placeholder(), schema);
      pending.add(filters -> dataScan(reference, table, read, schema, filters));
    }
    Map<String, Expression> filters =
        schemas.isEmpty() || statements.isEmpty()
            ? Map.of()
            : ScanFilters.extract(statements.get(), schemas);
    List<ScanPlan> scans = new ArrayList<>();
    for (Function<Map<String, Expression>, ScanPlan> scan : pending) {
      scans.add(scan.apply(filters));
    }
    return new PlannedQuery(scans, statements.isPresent());
  }

  private DataScan dataScan(
      TableReference reference,
      Table table,
      Snapshot snapshot,
      Schema schema,
      Map<String, Expression> filters) {
    Expression filter = filters.getOrDefault(reference.placeholder(), Expressions.alwaysTrue());
    String key = table.uuid() + "@" + snapshot.snapshotId() + ":" + filter;
    TableFiles files = plannedFiles.get(key);
    if (files == null) {
      files = planFiles(table, snapshot.snapshotId(), schema, filter);
      plannedFiles.put(key, files);
    }
    Map<String, String> summary = snapshot.summary();
    return new DataScan(
        reference,
        table,
        Optional.of(snapshot),
        schema,
        filter,
        files,
        Integer.parseInt(summary.getOrDefault("total-data-files", "0")),
        Long.parseLong(summary.getOrDefault("total-files-size", "0")));
  }

  /**
   * Plans the files of one reference: from the table's last planned snapshot when the reference
   * reads a snapshot after it (the usual query of a table that a pipeline writes), else with
   * Iceberg's planning.
   */
  private TableFiles planFiles(Table table, long snapshotId, Schema schema, Expression filter) {
    TableFiles all = advancedFiles(table, snapshotId);
    if (all == null && filter.op() != Expression.Operation.TRUE) {
      return TableFiles.plan(
          table, Scans.scan(table).useSnapshot(snapshotId).caseSensitive(false).filter(filter));
    }
    return unfilteredFiles(table, snapshotId, all).filter(table, schema, filter);
  }

  /**
   * The files of the table's current snapshot, unfiltered, as the resident files' follower keeps
   * them in step: advanced from the table's last plan when it can be.
   */
  TableFiles currentFiles(Table table, Snapshot current) {
    long snapshotId = current.snapshotId();
    return unfilteredFiles(table, snapshotId, advancedFiles(table, snapshotId));
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

  private Table load(TableIdentifier identifier) {
    try {
      return tables.current(identifier);
    } catch (NoSuchTableException e) {
      throw new QueryException(
          ErrorCode.TABLE_NOT_FOUND,
          SqlState.UNDEFINED_TABLE,
          "Cannot query "
              + identifier
              + ": no such table; tables in namespace "
              + identifier.namespace()
              + ": "
              + tables.names(identifier.namespace().toString()),
          0,
          e);
    }
  }

  /** The snapshot a reference reads: empty for the current snapshot of a table without one. */
  private static Optional<Snapshot> snapshot(Table table, TableReference reference) {
    TableReference.TimeTravel travel = reference.travel();
    if (travel == null) {
      return Optional.ofNullable(table.currentSnapshot());
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
          return Optional.of(snapshot);
        }
        return ref(table, reference, String.valueOf(version));
      default:
        String expression = timestampExpression(travel.expression());
        Object instant = evaluate("epoch_ms(CAST((" + expression + ") AS TIMESTAMPTZ))", reference);
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
        return Optional.ofNullable(table.snapshot(SnapshotUtil.snapshotIdAsOfTime(table, millis)));
    }
  }

  /**
   * Trino reads {@code TIMESTAMP '2026-11-21 10:00:00 +02:00'} as an instant; DuckDB's TIMESTAMP
   * drops the offset and its TIMESTAMPTZ wants no space before it.
   */
  private static String timestampExpression(String expression) {
    Matcher literal = TIMESTAMP_LITERAL.matcher(expression.trim());
    if (!literal.matches()) {
      return expression;
    }
    String text = literal.group(1).trim().replaceFirst("\\s+([+-]\\d{1,2}(?::?\\d{2})?)$", "$1");
    return "TIMESTAMPTZ " + TableScanSql.literal(text);
  }

  private static Optional<Snapshot> ref(Table table, TableReference reference, String name) {
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
    return Optional.ofNullable(table.snapshot(ref.snapshotId()));
  }

  private static QueryException versionNotFound(TableReference reference, String problem) {
    return new QueryException(
        ErrorCode.TABLE_VERSION_NOT_FOUND,
        SqlState.DATA_EXCEPTION,
        "Cannot read " + reference.written() + ": table " + reference.table() + " " + problem);
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

  /** Evaluates a time travel expression in a DuckDB that can read nothing. */
  private static Object evaluate(String expression, TableReference reference) {
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
   * DuckDB's parse tree of the query's statements, which also finds syntax errors before any
   * planning, with every table source checked; empty when DuckDB cannot serialize this kind of
   * statement (then no filters are pushed and the sources are not checked).
   */
  private static Optional<JsonNode> parse(
      Connection connection, QueryRewriter.Rewritten rewritten, ErrorTranslator errors)
      throws SQLException {
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
      return Optional.empty();
    }
    checkSources(tree, errors);
    return Optional.of(tree.path("statements"));
  }

  /**
   * Refuses table functions that read files and file paths used as tables: only Floe's tables
   * (through their planned scans, deletes applied) may be read.
   */
  private static void checkSources(JsonNode node, ErrorTranslator errors) {
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
        checkSources(child, errors);
      }
    }
  }
}
