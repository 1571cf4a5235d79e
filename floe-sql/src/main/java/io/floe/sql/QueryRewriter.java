package io.floe.sql;

import io.floe.core.ErrorCode;
import io.floe.sql.SqlLexer.Kind;
import io.floe.sql.SqlLexer.Token;
import io.floe.sql.TableReference.TimeTravel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.iceberg.MetadataTableType;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * Replaces every reference to a Floe table in a query by a placeholder view name, taking along the
 * table forms users bring from other engines:
 *
 * <ul>
 *   <li>time travel: {@code FOR VERSION AS OF}, {@code FOR TIMESTAMP AS OF} (Trino, Athena v3),
 *       {@code FOR SYSTEM_VERSION AS OF}, {@code FOR SYSTEM_TIME AS OF} (Athena v2), {@code VERSION
 *       AS OF}, {@code TIMESTAMP AS OF} (Spark); a version is a snapshot id or a branch or tag
 *       name;
 *   <li>branches and tags as Spark writes them: {@code ns.t.branch_dev}, {@code ns.t.tag_v1};
 *   <li>metadata tables: {@code ns."t$snapshots"} (Trino, Athena) and {@code ns.t.snapshots}
 *       (Spark).
 * </ul>
 *
 * <p>A reference written without an alias gets the table's name as alias, so that columns qualified
 * by the table name ({@code orders.id}) keep working.
 */
final class QueryRewriter {
  private static final Set<String> CLAUSE_WORDS =
      Set.of(
          "where",
          "group",
          "order",
          "limit",
          "offset",
          "join",
          "inner",
          "left",
          "right",
          "full",
          "cross",
          "natural",
          "positional",
          "asof",
          "anti",
          "semi",
          "on",
          "using",
          "union",
          "except",
          "intersect",
          "having",
          "window",
          "qualify",
          "tablesample",
          "lateral",
          "pivot",
          "unpivot",
          "fetch",
          "outer",
          "select",
          "from",
          "returning",
          "for",
          "version",
          "timestamp",
          "as");
  private static final Set<String> OPERATORS = Set.of("+", "-", "*", "/", "|");
  private static final Set<String> LITERAL_PREFIXES =
      Set.of("timestamp", "timestamptz", "date", "interval", "time");
  private static final Set<String> BARE_FUNCTIONS =
      Set.of("current_timestamp", "current_date", "localtimestamp", "now");

  /** The rewritten query, its table references, and where its characters came from. */
  record Rewritten(String sql, List<TableReference> references, PositionMap positions) {}

  /** Maps character offsets of the rewritten query back to the original text. */
  static final class PositionMap {
    // Triples of (rewritten start, original start, length); a length of -1 marks a replacement.
    private final List<int[]> segments = new ArrayList<>();

    void copied(int rewrittenStart, int originalStart, int length) {
      segments.add(new int[] {rewrittenStart, originalStart, length});
    }

    void replaced(int rewrittenStart, int originalStart) {
      segments.add(new int[] {rewrittenStart, originalStart, -1});
    }

    /** The 0-based offset in the original text for an offset in the rewritten one. */
    int original(int rewritten) {
      int[] best = null;
      for (int[] segment : segments) {
        if (segment[0] <= rewritten) {
          best = segment;
        }
      }
      if (best == null) {
        return 0;
      }
      return best[2] < 0 ? best[1] : best[1] + Math.min(rewritten - best[0], best[2]);
    }
  }

  private final SqlText text;
  private final Predicate<String> isNamespace;
  private final Predicate<TableIdentifier> exists;

  /**
   * @param isNamespace whether a name is one of the catalog's namespaces
   * @param exists whether a table exists; a {@code namespace.name} pair that is not a table is
   *     rewritten only right after FROM or JOIN (to report the missing table), and otherwise left
   *     to DuckDB, since it may be a column of an alias that happens to share a namespace's name
   */
  QueryRewriter(SqlText text, Predicate<String> isNamespace, Predicate<TableIdentifier> exists) {
    this.text = text;
    this.isNamespace = isNamespace;
    this.exists = exists;
  }

  /** Rewrites the statement that starts at token {@code from}. */
  Rewritten rewrite(int from) {
    List<Token> tokens = text.tokens();
    int end = tokens.size();
    while (end > from && tokens.get(end - 1).isSymbol(";")) {
      end--;
    }
    String sql = text.sql();
    StringBuilder out = new StringBuilder();
    PositionMap positions = new PositionMap();
    List<TableReference> references = new ArrayList<>();
    if (from >= end) {
      return new Rewritten("", references, positions);
    }
    int cursor = tokens.get(from).start();
    for (int i = from; i < end; i++) {
      Match match = match(i, end, references.size() + 1);
      if (match == null) {
        continue;
      }
      int start = tokens.get(i).start();
      positions.copied(out.length(), cursor, start - cursor);
      out.append(sql, cursor, start);
      positions.replaced(out.length(), start);
      if (match.reference == null) {
        out.append(TableScanSql.quote(match.alias)); // namespace.table.column → "table".column
      } else {
        out.append(match.reference.placeholder());
        boolean tableStatement = i > 0 && tokens.get(i - 1).isWord("table");
        if (!tableStatement && !hasAlias(match.last + 1, end)) {
          out.append(" AS ").append(TableScanSql.quote(match.alias));
        }
        references.add(match.reference);
      }
      cursor = tokens.get(match.last).end();
      i = match.last;
    }
    int last = tokens.get(end - 1).end();
    positions.copied(out.length(), cursor, last - cursor);
    out.append(sql, cursor, last);
    return new Rewritten(out.toString(), references, positions);
  }

  /** A reference to replace, or (with a null reference) a column qualifier to shorten. */
  private record Match(TableReference reference, int last, String alias) {}

  private Match match(int i, int end, int number) {
    List<Token> tokens = text.tokens();
    if (i + 2 >= end) {
      return null;
    }
    Token namespace = tokens.get(i);
    if (!namespace.isName()
        || !tokens.get(i + 1).isSymbol(".")
        || !tokens.get(i + 2).isName()
        || (i > 0 && tokens.get(i - 1).isSymbol("."))
        || !isNamespace.test(namespace.name())) {
      return null;
    }
    Token name = tokens.get(i + 2);
    if (i + 3 < end && tokens.get(i + 3).isSymbol("(")) {
      return null; // a function in a schema, not a table
    }
    String placeholder = "__floe_ref_" + number;
    String tableName = name.name();
    MetadataTableType metadata = null;
    TimeTravel travel = null;
    int last = i + 2;
    String alias = tableName;
    int dollar = tableName.indexOf('$');
    if (dollar > 0) {
      metadata = metadataType(tableName.substring(dollar + 1), i);
      tableName = tableName.substring(0, dollar);
    } else if (i + 4 < end && tokens.get(i + 3).isSymbol(".") && tokens.get(i + 4).isName()) {
      String part = tokens.get(i + 4).name();
      String lower = part.toLowerCase(Locale.ROOT);
      if (lower.startsWith("branch_") && part.length() > 7) {
        travel = new TimeTravel(TimeTravel.Kind.REF, part.substring(7));
      } else if (lower.startsWith("tag_") && part.length() > 4) {
        travel = new TimeTravel(TimeTravel.Kind.REF, part.substring(4));
      } else if (isMetadataType(lower)) {
        metadata = metadataType(lower, i);
        alias = part;
      } else if (exists.test(TableIdentifier.of(namespace.name(), tableName))) {
        // namespace.table.column: the table is known by its name (its default alias)
        return new Match(null, i + 2, tableName);
      } else {
        return null;
      }
      last = i + 4;
    }
    if (travel == null) {
      int[] clause = timeTravel(last + 1, end);
      if (clause != null) {
        TimeTravel.Kind kind = clause[0] == 1 ? TimeTravel.Kind.VERSION : TimeTravel.Kind.TIMESTAMP;
        travel = new TimeTravel(kind, text.text(clause[1], clause[2]));
        last = clause[2];
      }
    }
    TableIdentifier table = TableIdentifier.of(namespace.name(), tableName);
    boolean tablePosition =
        i > 0 && (tokens.get(i - 1).isWord("from") || tokens.get(i - 1).isWord("join"));
    if (!tablePosition && !exists.test(table)) {
      return null;
    }
    return new Match(
        new TableReference(placeholder, text.text(i, last), table, metadata, travel), last, alias);
  }

  /**
   * A time travel clause starting at token {@code i}: {kind (1 version, 2 timestamp), first
   * expression token, last expression token}, or null when there is none.
   */
  private int[] timeTravel(int i, int end) {
    List<Token> tokens = text.tokens();
    int at = i;
    if (at < end && tokens.get(at).isWord("for")) {
      at++;
    }
    if (at + 2 >= end) {
      return null;
    }
    Token kind = tokens.get(at);
    int version;
    if (kind.isWord("version") || (at > i && kind.isWord("system_version"))) {
      version = 1;
    } else if (kind.isWord("timestamp") || (at > i && kind.isWord("system_time"))) {
      version = 2;
    } else {
      return null;
    }
    if (!tokens.get(at + 1).isWord("as") || !tokens.get(at + 2).isWord("of")) {
      return null;
    }
    int first = at + 3;
    int last = expressionEnd(first, end);
    if (last < first) {
      throw new QueryException(
          ErrorCode.SQL_INVALID,
          QueryException.SqlState.SYNTAX_ERROR,
          "Cannot read the time travel clause: expected a snapshot id, a branch or tag name, or a"
              + " timestamp after "
              + text.text(i, at + 2),
          tokens.get(at + 2).end() + 1,
          null);
    }
    return new int[] {version, first, last};
  }

  /** The last token of the expression starting at {@code i}, or {@code i - 1} for none. */
  private int expressionEnd(int i, int end) {
    List<Token> tokens = text.tokens();
    int at = i;
    int last = i - 1;
    while (true) {
      int operand = operandEnd(at, end);
      if (operand < at) {
        return last;
      }
      last = operand;
      at = operand + 1;
      while (at + 2 < end
          && tokens.get(at).isSymbol(":")
          && tokens.get(at + 1).isSymbol(":")
          && tokens.get(at + 2).isName()) {
        last = at + 2;
        at += 3;
      }
      if (at >= end
          || tokens.get(at).kind() != Kind.SYMBOL
          || !OPERATORS.contains(tokens.get(at).text())) {
        return last;
      }
      at++;
      if (tokens.get(at - 1).isSymbol("|") && at < end && tokens.get(at).isSymbol("|")) {
        at++;
      }
    }
  }

  private int operandEnd(int at, int end) {
    List<Token> tokens = text.tokens();
    if (at >= end) {
      return at - 1;
    }
    Token token = tokens.get(at);
    switch (token.kind()) {
      case STRING:
      case NUMBER:
      case PARAMETER:
        return at;
      case SYMBOL:
        if (token.isSymbol("(")) {
          return closing(at, end);
        }
        if (token.isSymbol("-") || token.isSymbol("+")) {
          return operandEnd(at + 1, end);
        }
        return at - 1;
      case WORD:
        String word = token.text().toLowerCase(Locale.ROOT);
        if (LITERAL_PREFIXES.contains(word)
            && at + 1 < end
            && tokens.get(at + 1).kind() == Kind.STRING) {
          int last = at + 1;
          if (word.equals("interval") && last + 1 < end && tokens.get(last + 1).isName()) {
            String unit = tokens.get(last + 1).name();
            if (!CLAUSE_WORDS.contains(unit)) {
              last++;
            }
          }
          return last;
        }
        if (word.equals("interval") && at + 2 < end) {
          return at + 2; // INTERVAL 1 DAY
        }
        if (at + 1 < end && tokens.get(at + 1).isSymbol("(")) {
          return closing(at + 1, end);
        }
        return BARE_FUNCTIONS.contains(word) ? at : at - 1;
      default:
        return at - 1;
    }
  }

  private int closing(int open, int end) {
    List<Token> tokens = text.tokens();
    int depth = 0;
    for (int at = open; at < end; at++) {
      if (tokens.get(at).isSymbol("(")) {
        depth++;
      } else if (tokens.get(at).isSymbol(")") && --depth == 0) {
        return at;
      }
    }
    return end - 1;
  }

  private boolean hasAlias(int at, int end) {
    if (at >= end) {
      return false;
    }
    Token token = text.tokens().get(at);
    if (token.kind() == Kind.QUOTED_IDENTIFIER) {
      return true;
    }
    if (token.kind() != Kind.WORD) {
      return false;
    }
    return token.isWord("as") || !CLAUSE_WORDS.contains(token.text().toLowerCase(Locale.ROOT));
  }

  private static boolean isMetadataType(String name) {
    return Arrays.stream(MetadataTableType.values())
        .anyMatch(type -> type.name().equalsIgnoreCase(name));
  }

  private MetadataTableType metadataType(String name, int token) {
    if (!isMetadataType(name)) {
      throw new QueryException(
          ErrorCode.SQL_INVALID,
          QueryException.SqlState.UNDEFINED_TABLE,
          "Cannot read metadata table '"
              + name
              + "': no such metadata table; available: "
              + Arrays.stream(MetadataTableType.values())
                  .map(type -> type.name().toLowerCase(Locale.ROOT))
                  .collect(Collectors.joining(", ")),
          text.tokens().get(token).start() + 1,
          null);
    }
    return MetadataTableType.from(name);
  }
}
