package io.floe.sql;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.Timestamps;
import io.floe.maintenance.ExpirePolicy;
import io.floe.maintenance.ExpireResult;
import io.floe.maintenance.OrphanResult;
import io.floe.maintenance.RewriteDataFilesOptions;
import io.floe.maintenance.RewriteDataFilesResult;
import io.floe.maintenance.RewriteManifestsResult;
import io.floe.maintenance.RewriteProgress;
import io.floe.maintenance.RollbackResult;
import io.floe.maintenance.WarehouseMaintenance;
import io.floe.sql.QueryException.SqlState;
import io.floe.sql.SqlLexer.Token;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * The table maintenance procedures Spark users know, called as {@code CALL system.<name>(...)} with
 * Spark's argument names, named ({@code table => 'shop.orders'}) or positional:
 *
 * <ul>
 *   <li>{@code expire_snapshots(table, older_than, retain_last)}
 *   <li>{@code remove_orphan_files(table, older_than, dry_run)}
 *   <li>{@code rewrite_manifests(table)}
 *   <li>{@code rewrite_data_files(table, strategy, sort_order, options, where)}: strategy {@code
 *       'binpack'} or {@code 'sort'}; options a {@code map(...)} of {@code target-file-size-bytes},
 *       {@code min-input-files} and {@code delete-ratio}; where a condition on the table's columns
 *       ({@link WhereConditions}) that limits the rewrite to the files that may hold matching rows
 *   <li>{@code rollback_to_snapshot(table, snapshot_id)}, {@code rollback_to_timestamp(table,
 *       timestamp)}, {@code set_current_snapshot(table, snapshot_id)}
 * </ul>
 *
 * Argument values are SQL constants or expressions (evaluated by a DuckDB that can read nothing),
 * and each procedure returns the columns Spark's returns.
 *
 * <p>Whoever builds the {@link QueryEngine} builds these, with the warehouse's maintenance (its
 * policy and history) as the rest of Floe runs it: the engine does not choose how tables are
 * maintained.
 */
public final class Procedures {
  private static final Map<String, List<String>> PARAMETERS = new LinkedHashMap<>();

  static {
    PARAMETERS.put("expire_snapshots", List.of("table", "older_than", "retain_last", "dry_run"));
    PARAMETERS.put("remove_orphan_files", List.of("table", "older_than", "location", "dry_run"));
    PARAMETERS.put("rewrite_manifests", List.of("table"));
    PARAMETERS.put(
        "rewrite_data_files", List.of("table", "strategy", "sort_order", "options", "where"));
    PARAMETERS.put("rollback_to_snapshot", List.of("table", "snapshot_id"));
    PARAMETERS.put("rollback_to_timestamp", List.of("table", "timestamp"));
    PARAMETERS.put("set_current_snapshot", List.of("table", "snapshot_id"));
  }

  private static final Set<String> LATER = Set.of("rewrite_position_delete_files");

  private static final List<String> REWRITE_OPTIONS =
      List.of("target-file-size-bytes", "min-input-files", "delete-ratio");
  private static final Duration ORPHAN_WINDOW = Duration.ofDays(3);

  private final WarehouseMaintenance maintenance;
  private final Clock clock;

  /**
   * Runs the procedures through the warehouse's maintenance, which records each run.
   *
   * @param clock the time {@code older_than} defaults are counted back from
   */
  public Procedures(WarehouseMaintenance maintenance, Clock clock) {
    this.maintenance = requireNonNull(maintenance, "maintenance is null");
    this.clock = requireNonNull(clock, "clock is null");
  }

  /** A procedure's result: Spark's columns and one or more rows. */
  record Result(List<SqlColumn> columns, List<Object[]> rows) {}

  /** Runs {@code CALL system.name(args)}, whose tokens start at {@code CALL}. */
  Result call(SqlText text) {
    List<Token> tokens = text.tokens();
    int at = 1;
    if (at + 2 < tokens.size() && tokens.get(at).isName() && tokens.get(at + 1).isSymbol(".")) {
      if (!tokens.get(at).name().equals("system")) {
        throw invalid("procedures live in the system namespace: CALL system.<name>(...)", at, text);
      }
      at += 2;
    }
    if (at >= tokens.size() || !tokens.get(at).isName()) {
      throw invalid("expected a procedure name after CALL", Math.min(at, tokens.size() - 1), text);
    }
    String name = tokens.get(at).name().toLowerCase(Locale.ROOT);
    if (LATER.contains(name)) {
      throw new QueryException(
          ErrorCode.SQL_INVALID,
          SqlState.FEATURE_NOT_SUPPORTED,
          "Cannot call system."
              + name
              + ": not available; system.rewrite_data_files folds position deletes into the"
              + " data files it rewrites");
    }
    List<String> parameters = PARAMETERS.get(name);
    if (parameters == null) {
      throw invalid(
          "unknown procedure system."
              + name
              + "; available: "
              + String.join(", ", PARAMETERS.keySet()),
          at,
          text);
    }
    Map<String, Object> arguments = arguments(text, at + 1, name, parameters);
    TableIdentifier table = table(arguments, name);
    switch (name) {
      case "expire_snapshots":
        return expire(table, arguments);
      case "remove_orphan_files":
        return orphans(table, arguments);
      case "rewrite_manifests":
        RewriteManifestsResult rewritten = maintenance.rewriteManifests(table);
        return new Result(
            List.of(
                new SqlColumn("rewritten_manifests_count", "INTEGER"),
                new SqlColumn("added_manifests_count", "INTEGER")),
            List.<Object[]>of(
                new Object[] {rewritten.manifestsBefore(), rewritten.manifestsAfter()}));
      case "rewrite_data_files":
        return rewriteDataFiles(table, arguments);
      case "rollback_to_timestamp":
        return rollback(
            maintenance.rollbackToTimestamp(
                table, instant(required(arguments, "timestamp", name))));
      case "set_current_snapshot":
        return rollback(
            maintenance.setCurrentSnapshot(
                table, number(required(arguments, "snapshot_id", name))));
      default:
        return rollback(
            maintenance.rollbackToSnapshot(
                table, number(required(arguments, "snapshot_id", name))));
    }
  }

  private Result expire(TableIdentifier table, Map<String, Object> arguments) {
    ExpirePolicy defaults = ExpirePolicy.defaults(clock);
    Object olderThan = arguments.get("older_than");
    Object retainLast = arguments.get("retain_last");
    Object dryRun = arguments.get("dry_run");
    ExpireResult result =
        maintenance.expireSnapshots(
            table,
            new ExpirePolicy(
                olderThan == null ? defaults.olderThan() : instant(olderThan),
                retainLast == null ? defaults.retainLast() : (int) number(retainLast),
                defaults.milestones(),
                dryRun != null && bool(dryRun)));
    return new Result(
        List.of(
            new SqlColumn("deleted_data_files_count", "BIGINT"),
            new SqlColumn("deleted_position_delete_files_count", "BIGINT"),
            new SqlColumn("deleted_equality_delete_files_count", "BIGINT"),
            new SqlColumn("deleted_manifest_files_count", "BIGINT"),
            new SqlColumn("deleted_manifest_lists_count", "BIGINT"),
            new SqlColumn("expired_snapshots_count", "BIGINT")),
        List.<Object[]>of(
            new Object[] {
              (long) result.deletedDataFiles(),
              (long) result.deletedDeleteFiles(),
              0L,
              (long) result.deletedManifests(),
              (long) result.deletedManifestLists(),
              (long) result.expiredSnapshotIds().size()
            }));
  }

  private Result rewriteDataFiles(TableIdentifier table, Map<String, Object> arguments) {
    String procedure = "system.rewrite_data_files";
    Object strategy = arguments.get("strategy");
    String sortOrder =
        arguments.get("sort_order") == null ? null : text(arguments.get("sort_order"));
    if (strategy != null) {
      String name = text(strategy).toLowerCase(Locale.ROOT);
      if (name.equals("binpack")) {
        if (sortOrder != null) {
          throw new QueryException(
              ErrorCode.SQL_INVALID,
              SqlState.DATA_EXCEPTION,
              "Cannot call " + procedure + ": sort_order needs strategy => 'sort'");
        }
        sortOrder = null;
      } else if (!name.equals("sort")) {
        throw new QueryException(
            ErrorCode.SQL_INVALID,
            SqlState.DATA_EXCEPTION,
            "Cannot call "
                + procedure
                + ": unknown strategy '"
                + strategy
                + "'; use 'binpack' or 'sort'");
      } else if (sortOrder == null) {
        sortOrder = "";
      }
    }
    RewriteDataFilesOptions defaults = RewriteDataFilesOptions.defaults();
    long targetSize = defaults.targetFileSizeBytes();
    int minInputFiles = defaults.minInputFiles();
    double deleteRatio = defaults.deleteRatio();
    Object options = arguments.get("options");
    if (options != null) {
      if (!(options instanceof Map<?, ?> map)) {
        throw new QueryException(
            ErrorCode.SQL_INVALID,
            SqlState.DATA_EXCEPTION,
            "Cannot call "
                + procedure
                + ": options must be a map, such as map('target-file-size-bytes', '134217728')");
      }
      for (Map.Entry<?, ?> option : map.entrySet()) {
        String key = String.valueOf(option.getKey());
        Object value = option.getValue();
        switch (key) {
          case "target-file-size-bytes" -> targetSize = number(value);
          case "min-input-files" -> minInputFiles = (int) number(value);
          case "delete-ratio" -> deleteRatio = decimal(value);
          default ->
              throw new QueryException(
                  ErrorCode.SQL_INVALID,
                  SqlState.DATA_EXCEPTION,
                  "Cannot call "
                      + procedure
                      + ": unknown option '"
                      + key
                      + "'; supported: "
                      + String.join(", ", REWRITE_OPTIONS));
        }
      }
    }
    RewriteDataFilesOptions chosen;
    try {
      chosen =
          new RewriteDataFilesOptions(
              targetSize, minInputFiles, deleteRatio, sortOrder, maintenance.throttle());
    } catch (IllegalArgumentException e) {
      throw new QueryException(
          ErrorCode.SQL_INVALID,
          SqlState.DATA_EXCEPTION,
          "Cannot call " + procedure + ": " + e.getMessage());
    }
    Object where = arguments.get("where");
    if (where != null) {
      try {
        chosen = chosen.withFilter(WhereConditions.parse(maintenance.schema(table), text(where)));
      } catch (IllegalArgumentException e) {
        throw new QueryException(
            ErrorCode.SQL_INVALID,
            SqlState.DATA_EXCEPTION,
            "Cannot call " + procedure + " with where: " + e.getMessage());
      }
    }
    RewriteDataFilesResult result;
    try {
      result = maintenance.rewriteDataFiles(table, chosen, RewriteProgress.NONE);
    } catch (IllegalArgumentException e) {
      throw new QueryException(
          ErrorCode.SQL_INVALID,
          SqlState.DATA_EXCEPTION,
          "Cannot call " + procedure + ": " + e.getMessage());
    }
    return new Result(
        List.of(
            new SqlColumn("rewritten_data_files_count", "INTEGER"),
            new SqlColumn("added_data_files_count", "INTEGER"),
            new SqlColumn("rewritten_bytes_count", "BIGINT"),
            new SqlColumn("failed_data_files_count", "INTEGER"),
            new SqlColumn("removed_delete_files_count", "INTEGER")),
        List.<Object[]>of(
            new Object[] {
              result.rewrittenDataFiles(),
              result.addedDataFiles(),
              result.rewrittenBytes(),
              0,
              result.removedDeleteFiles()
            }));
  }

  private static String text(Object value) {
    return String.valueOf(value);
  }

  private static double decimal(Object value) {
    if (value instanceof Number number) {
      return number.doubleValue();
    }
    try {
      return Double.parseDouble(String.valueOf(value).trim());
    } catch (NumberFormatException e) {
      throw new QueryException(
          ErrorCode.SQL_INVALID,
          SqlState.DATA_EXCEPTION,
          "Cannot read '" + value + "' as a number");
    }
  }

  private Result orphans(TableIdentifier table, Map<String, Object> arguments) {
    if (arguments.get("location") != null) {
      throw new QueryException(
          ErrorCode.SQL_INVALID,
          SqlState.FEATURE_NOT_SUPPORTED,
          "Cannot call system.remove_orphan_files with a location: Floe looks for orphans under"
              + " the table's own location; leave location out");
    }
    Object olderThan = arguments.get("older_than");
    Object dryRun = arguments.get("dry_run");
    Duration window =
        olderThan == null ? ORPHAN_WINDOW : Duration.between(instant(olderThan), clock.instant());
    OrphanResult result =
        maintenance.removeOrphanFiles(table, window, dryRun != null && bool(dryRun));
    List<Object[]> rows = new ArrayList<>();
    for (String file : result.orphanFiles()) {
      rows.add(new Object[] {file});
    }
    return new Result(List.of(new SqlColumn("orphan_file_location", "VARCHAR")), rows);
  }

  private static Result rollback(RollbackResult result) {
    return new Result(
        List.of(
            new SqlColumn("previous_snapshot_id", "BIGINT"),
            new SqlColumn("current_snapshot_id", "BIGINT")),
        List.<Object[]>of(new Object[] {result.previousSnapshotId(), result.currentSnapshotId()}));
  }

  /** Named ({@code name => value}) and positional arguments, by parameter name. */
  private Map<String, Object> arguments(
      SqlText text, int open, String procedure, List<String> parameters) {
    List<Token> tokens = text.tokens();
    if (open >= tokens.size() || !tokens.get(open).isSymbol("(")) {
      throw invalid(
          "expected ( after system." + procedure, Math.min(open, tokens.size() - 1), text);
    }
    Map<String, Object> arguments = new LinkedHashMap<>();
    int at = open + 1;
    int position = 0;
    while (at < tokens.size() && !tokens.get(at).isSymbol(")")) {
      String name = null;
      if (at + 2 < tokens.size()
          && tokens.get(at).isName()
          && tokens.get(at + 1).isSymbol("=")
          && tokens.get(at + 2).isSymbol(">")) {
        name = tokens.get(at).name().toLowerCase(Locale.ROOT);
        if (!parameters.contains(name)) {
          throw invalid(
              "system."
                  + procedure
                  + " has no parameter "
                  + name
                  + "; its parameters: "
                  + String.join(", ", parameters),
              at,
              text);
        }
        at += 3;
      } else if (position >= parameters.size()) {
        throw invalid(
            "too many arguments for system."
                + procedure
                + "("
                + String.join(", ", parameters)
                + ")",
            at,
            text);
      } else {
        name = parameters.get(position++);
      }
      int end = at;
      int depth = 0;
      while (end < tokens.size()) {
        Token token = tokens.get(end);
        if (token.isSymbol("(")) {
          depth++;
        } else if (token.isSymbol(")")) {
          if (depth == 0) {
            break;
          }
          depth--;
        } else if (token.isSymbol(",") && depth == 0) {
          break;
        }
        end++;
      }
      if (end == at) {
        throw invalid("missing value for argument " + name, at, text);
      }
      arguments.put(name, evaluate(sparkMap(text, at, end).orElse(text.text(at, end - 1)), name));
      at = end < tokens.size() && tokens.get(end).isSymbol(",") ? end + 1 : end;
    }
    if (at >= tokens.size()) {
      throw invalid(
          "missing ) after the arguments of system." + procedure, tokens.size() - 1, text);
    }
    return arguments;
  }

  /**
   * Spark's {@code map(k1, v1, k2, v2)} over tokens {@code [from, to)}, written as DuckDB's {@code
   * MAP {k1: v1, k2: v2}}; empty if the tokens are something else.
   */
  private static Optional<String> sparkMap(SqlText text, int from, int to) {
    List<Token> tokens = text.tokens();
    if (to - from < 3
        || !tokens.get(from).isName()
        || !tokens.get(from).name().equalsIgnoreCase("map")
        || !tokens.get(from + 1).isSymbol("(")
        || !tokens.get(to - 1).isSymbol(")")) {
      return Optional.empty();
    }
    List<String> values = new ArrayList<>();
    int start = from + 2;
    int depth = 0;
    for (int at = start; at < to - 1; at++) {
      Token token = tokens.get(at);
      if (token.isSymbol("(")) {
        depth++;
      } else if (token.isSymbol(")")) {
        depth--;
        if (depth < 0) {
          return Optional.empty(); // map(...) is only part of the expression
        }
      } else if (token.isSymbol(",") && depth == 0) {
        values.add(text.text(start, at - 1));
        start = at + 1;
      }
    }
    if (start < to - 1) {
      values.add(text.text(start, to - 2));
    }
    if (values.isEmpty() || values.size() % 2 != 0) {
      return Optional.empty();
    }
    List<String> entries = new ArrayList<>();
    for (int i = 0; i < values.size(); i += 2) {
      entries.add(values.get(i) + ": " + values.get(i + 1));
    }
    return Optional.of("MAP {" + String.join(", ", entries) + "}");
  }

  private static Object evaluate(String expression, String argument) {
    try {
      return Constants.evaluate(expression);
    } catch (SQLException e) {
      throw new QueryException(
          ErrorCode.SQL_INVALID,
          SqlState.DATA_EXCEPTION,
          "Cannot read argument "
              + argument
              + " ("
              + expression
              + "): "
              + ErrorTranslator.plainMessage(e),
          0,
          e);
    }
  }

  private static TableIdentifier table(Map<String, Object> arguments, String procedure) {
    Object value = required(arguments, "table", procedure);
    String name = String.valueOf(value);
    String[] parts = name.split("\\.", -1);
    if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
      throw new QueryException(
          ErrorCode.SQL_INVALID,
          SqlState.DATA_EXCEPTION,
          "Cannot call system."
              + procedure
              + ": table must be 'namespace.table', not '"
              + name
              + "'");
    }
    return TableIdentifier.of(parts[0], parts[1]);
  }

  private static Object required(Map<String, Object> arguments, String name, String procedure) {
    Object value = arguments.get(name);
    if (value == null) {
      throw new QueryException(
          ErrorCode.SQL_INVALID,
          SqlState.SYNTAX_ERROR,
          "Cannot call system." + procedure + ": argument " + name + " is required");
    }
    return value;
  }

  private static Instant instant(Object value) {
    if (value instanceof OffsetDateTime) {
      return ((OffsetDateTime) value).toInstant();
    }
    if (value instanceof LocalDateTime) {
      return ((LocalDateTime) value).toInstant(ZoneOffset.UTC);
    }
    if (value instanceof Number) {
      return Instant.ofEpochMilli(((Number) value).longValue());
    }
    if (value instanceof String) {
      return Timestamps.parse((String) value)
          .orElseThrow(
              () ->
                  new QueryException(
                      ErrorCode.SQL_INVALID,
                      SqlState.DATA_EXCEPTION,
                      "Cannot read timestamp '"
                          + value
                          + "': write TIMESTAMP 'yyyy-mm-dd hh:mm:ss'"));
    }
    throw new QueryException(
        ErrorCode.SQL_INVALID,
        SqlState.DATA_EXCEPTION,
        "Cannot read '" + value + "' as a timestamp: write TIMESTAMP 'yyyy-mm-dd hh:mm:ss'");
  }

  private static long number(Object value) {
    if (value instanceof Number) {
      return ((Number) value).longValue();
    }
    try {
      return Long.parseLong(String.valueOf(value).trim());
    } catch (NumberFormatException e) {
      throw new QueryException(
          ErrorCode.SQL_INVALID,
          SqlState.DATA_EXCEPTION,
          "Cannot read '" + value + "' as a number");
    }
  }

  private static boolean bool(Object value) {
    if (value instanceof Boolean) {
      return (Boolean) value;
    }
    throw new QueryException(
        ErrorCode.SQL_INVALID,
        SqlState.DATA_EXCEPTION,
        "Cannot read '" + value + "' as a boolean: write true or false");
  }

  private static QueryException invalid(String message, int token, SqlText text) {
    return new QueryException(
        ErrorCode.SQL_INVALID,
        SqlState.SYNTAX_ERROR,
        "Cannot run CALL: " + message,
        text.tokens().isEmpty() ? 0 : text.tokens().get(Math.max(0, token)).start() + 1,
        null);
  }
}
