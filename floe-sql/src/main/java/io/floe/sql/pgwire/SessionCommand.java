package io.floe.sql.pgwire;

import io.floe.core.ErrorCode;
import io.floe.sql.QueryException;
import io.floe.sql.SqlLexer;
import java.util.List;

/**
 * A statement the session answers itself instead of passing it to the engine: settings ({@code
 * SET}, {@code RESET}, {@code SHOW}), transaction control ({@code BEGIN}, {@code START
 * TRANSACTION}, {@code COMMIT}, {@code END}, {@code ROLLBACK}, {@code ABORT}, {@code SAVEPOINT},
 * {@code RELEASE}), {@code DISCARD} and {@code DEALLOCATE}. Drivers and tools send these on their
 * own, on connect and around queries.
 *
 * <p>Transaction control is accepted and changes nothing but the transaction status reported to the
 * client: every query reads the current snapshots of its tables when it starts, inside a
 * transaction block or not, and nothing can be written, so there is nothing to commit or roll back.
 */
final class SessionCommand {
  enum Kind {
    SET,
    RESET,
    SHOW,
    BEGIN,
    COMMIT,
    ROLLBACK,
    SAVEPOINT,
    RELEASE,
    DISCARD,
    DEALLOCATE
  }

  /** What running the command did, beyond its command tag and rows. */
  record Result(
      String tag,
      List<String[]> rows,
      boolean applicationNameChanged,
      boolean discardAll,
      String deallocate) {
    Result {
      rows = List.copyOf(rows);
    }

    static Result tag(String tag) {
      return new Result(tag, List.of(), false, false, null);
    }
  }

  private final Kind kind;
  private final String sql;
  private final List<SqlLexer.Token> tokens;

  private SessionCommand(Kind kind, String sql, List<SqlLexer.Token> tokens) {
    this.kind = kind;
    this.sql = sql;
    this.tokens = List.copyOf(tokens);
  }

  /** The command in one statement's text, or null when it is a query for the engine. */
  static SessionCommand parse(String sql) {
    List<SqlLexer.Token> tokens = SqlLexer.tokens(sql);
    if (tokens.isEmpty()) {
      return null;
    }
    Kind kind;
    switch (tokens.get(0).keyword()) {
      case "SET":
        kind = Kind.SET;
        break;
      case "RESET":
        kind = Kind.RESET;
        break;
      case "SHOW":
        kind = Kind.SHOW;
        break;
      case "BEGIN":
        kind = Kind.BEGIN;
        break;
      case "START":
        if (tokens.size() < 2 || !tokens.get(1).isWord("TRANSACTION")) {
          return null;
        }
        kind = Kind.BEGIN;
        break;
      case "COMMIT":
      case "END":
        kind = Kind.COMMIT;
        break;
      case "ROLLBACK":
      case "ABORT":
        kind = Kind.ROLLBACK;
        break;
      case "SAVEPOINT":
        kind = Kind.SAVEPOINT;
        break;
      case "RELEASE":
        kind = Kind.RELEASE;
        break;
      case "DISCARD":
        kind = Kind.DISCARD;
        break;
      case "DEALLOCATE":
        kind = Kind.DEALLOCATE;
        break;
      default:
        return null;
    }
    return new SessionCommand(kind, sql, tokens);
  }

  Kind kind() {
    return kind;
  }

  /** The result columns: one text column for {@code SHOW}, two for {@code SHOW ALL}, else none. */
  List<PgColumn> columns(SessionState state) {
    if (kind != Kind.SHOW) {
      return List.of();
    }
    String name = shownName();
    if (name.equalsIgnoreCase("all")) {
      return List.of(PgColumn.text("name"), PgColumn.text("setting"));
    }
    return List.of(PgColumn.text(state.spelling(name)));
  }

  Result run(SessionState state) {
    switch (kind) {
      case SET:
        return set(state);
      case RESET:
        return reset(state);
      case SHOW:
        String name = shownName();
        if (name.equalsIgnoreCase("all")) {
          return new Result("SHOW", state.all(), false, false, null);
        }
        return new Result(
            "SHOW", List.<String[]>of(new String[] {state.show(name)}), false, false, null);
      case BEGIN:
        state.inTransactionBlock(true);
        return Result.tag(tokens.get(0).isWord("START") ? "START TRANSACTION" : "BEGIN");
      case COMMIT:
        state.inTransactionBlock(false);
        return Result.tag("COMMIT");
      case ROLLBACK:
        if (!word(1, "TO")) {
          state.inTransactionBlock(false);
        }
        return Result.tag("ROLLBACK");
      case SAVEPOINT:
        return Result.tag("SAVEPOINT");
      case RELEASE:
        return Result.tag("RELEASE");
      case DISCARD:
        String what = tokens.size() > 1 ? tokens.get(1).keyword() : "";
        if (what.equals("ALL")) {
          return new Result("DISCARD ALL", List.of(), state.resetAll(), true, null);
        }
        return Result.tag("DISCARD " + (what.equals("TEMPORARY") ? "TEMP" : what));
      case DEALLOCATE:
        int at = word(1, "PREPARE") ? 2 : 1;
        if (tokens.size() <= at) {
          throw syntax("DEALLOCATE [PREPARE] name | ALL");
        }
        boolean all = tokens.get(at).isWord("ALL");
        return new Result(
            all ? "DEALLOCATE ALL" : "DEALLOCATE",
            List.of(),
            false,
            false,
            all ? "" : tokens.get(at).name());
      default:
        throw new IllegalStateException("Unknown session command " + kind);
    }
  }

  private Result set(SessionState state) {
    int at = word(1, "SESSION") || word(1, "LOCAL") ? 2 : 1;
    if (tokens.size() <= at) {
      throw syntax("SET name TO value");
    }
    // Forms without a "name TO value": nothing to record.
    if (word(at, "TIME")
        || word(at, "TRANSACTION")
        || word(at, "CHARACTERISTICS")
        || word(at, "AUTHORIZATION")
        || word(at, "ROLE")
        || word(at, "NAMES")
        || word(at, "SCHEMA")) {
      return Result.tag("SET");
    }
    StringBuilder name = new StringBuilder();
    int separator = at;
    while (separator < tokens.size()
        && !tokens.get(separator).isWord("TO")
        && !tokens.get(separator).text().equals("=")) {
      name.append(tokens.get(separator).name());
      separator++;
    }
    if (separator >= tokens.size() - 1 || name.length() == 0) {
      throw syntax("SET name TO value");
    }
    List<SqlLexer.Token> valueTokens = tokens.subList(separator + 1, tokens.size());
    if (valueTokens.size() == 1 && valueTokens.get(0).isWord("DEFAULT")) {
      return new Result("SET", List.of(), state.reset(name.toString()), false, null);
    }
    String value =
        valueTokens.size() == 1
            ? valueTokens.get(0).name()
            : sql.substring(
                    valueTokens.get(0).start(), valueTokens.get(valueTokens.size() - 1).end())
                .trim();
    return new Result("SET", List.of(), state.set(name.toString(), value), false, null);
  }

  private Result reset(SessionState state) {
    if (tokens.size() < 2) {
      throw syntax("RESET name | ALL");
    }
    if (tokens.get(1).isWord("ALL")) {
      return new Result("RESET", List.of(), state.resetAll(), false, null);
    }
    StringBuilder name = new StringBuilder();
    for (SqlLexer.Token token : tokens.subList(1, tokens.size())) {
      name.append(token.name());
    }
    return new Result("RESET", List.of(), state.reset(name.toString()), false, null);
  }

  /** The parameter {@code SHOW} asks for, with PostgreSQL's multi-word aliases resolved. */
  private String shownName() {
    if (tokens.size() < 2) {
      throw syntax("SHOW name | ALL");
    }
    if (word(1, "TIME") && word(2, "ZONE")) {
      return "TimeZone";
    }
    if (word(1, "TRANSACTION") && word(2, "ISOLATION")) {
      return "transaction_isolation";
    }
    if (word(1, "SESSION") && word(2, "AUTHORIZATION")) {
      return "session_authorization";
    }
    StringBuilder name = new StringBuilder();
    for (SqlLexer.Token token : tokens.subList(1, tokens.size())) {
      name.append(token.name());
    }
    return name.toString();
  }

  private boolean word(int index, String word) {
    return index < tokens.size() && tokens.get(index).isWord(word);
  }

  private QueryException syntax(String form) {
    return new QueryException(
        ErrorCode.SQL_INVALID,
        QueryException.SqlState.SYNTAX_ERROR,
        "Cannot run " + kind + ": expected " + form);
  }
}
