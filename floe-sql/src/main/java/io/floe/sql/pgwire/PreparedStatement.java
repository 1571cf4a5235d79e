package io.floe.sql.pgwire;

import io.floe.sql.QueryException;
import io.floe.sql.SqlLexer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A statement from a Parse message: its text, the parameter types the client declared and, once
 * described, its result columns. The text is either a query for the engine, a {@link
 * SessionCommand} or empty.
 */
final class PreparedStatement {
  private final String sql;
  private final int[] parameterTypes;
  private final SessionCommand command;
  private final boolean empty;
  private List<PgColumn> columns;

  /**
   * @param declaredTypes the type OIDs from the Parse message; may be fewer than the parameters the
   *     text refers to, and 0 means unspecified
   */
  PreparedStatement(String sql, int[] declaredTypes) {
    this.sql = sql;
    List<SqlLexer.Statement> statements = SqlLexer.statements(sql);
    if (statements.size() > 1) {
      throw PgErrors.invalid(
          QueryException.SqlState.SYNTAX_ERROR,
          "Cannot prepare several statements at once: send one statement per Parse message");
    }
    this.empty = statements.isEmpty();
    this.command = empty ? null : SessionCommand.parse(statements.get(0).sql());
    int count =
        command == null
            ? Math.max(declaredTypes.length, ParameterBinder.parameterCount(sql))
            : declaredTypes.length;
    this.parameterTypes = Arrays.copyOf(declaredTypes, count);
  }

  String sql() {
    return sql;
  }

  /** The command the session runs itself, or null. */
  SessionCommand command() {
    return command;
  }

  boolean isEmpty() {
    return empty;
  }

  boolean isQuery() {
    return !empty && command == null;
  }

  int parameterCount() {
    return parameterTypes.length;
  }

  /** The declared type OID of parameter {@code index} (0-based); 0 when unspecified. */
  int parameterType(int index) {
    return parameterTypes[index];
  }

  /** The types a ParameterDescription reports: unspecified ones as text. */
  int[] describedParameterTypes() {
    int[] types = parameterTypes.clone();
    for (int i = 0; i < types.length; i++) {
      if (types[i] == ParameterBinder.UNSPECIFIED) {
        types[i] = ParameterBinder.TEXT;
      }
    }
    return types;
  }

  /**
   * The statement's text with the values of a Bind message in place of its parameters.
   *
   * @param formats the Bind message's parameter format codes: none (all text), one for all, or one
   *     per parameter
   */
  ParameterBinder.Bound bind(int[] formats, List<byte[]> values) {
    if (values.size() != parameterTypes.length) {
      throw PgErrors.protocol(
          "Cannot bind: the statement has "
              + parameterTypes.length
              + " parameters but "
              + values.size()
              + " values were given");
    }
    if (formats.length > 1 && formats.length != values.size()) {
      throw PgErrors.protocol(
          "Cannot bind: "
              + formats.length
              + " parameter format codes were given for "
              + values.size()
              + " parameters");
    }
    List<String> literals = new ArrayList<>();
    for (int i = 0; i < values.size(); i++) {
      int format =
          formats.length == 0 ? ParameterBinder.TEXT_FORMAT : formats[formats.length == 1 ? 0 : i];
      literals.add(ParameterBinder.literal(i + 1, parameterTypes[i], format, values.get(i)));
    }
    return substitute(literals);
  }

  /** The statement's text with a NULL of each parameter's type: for describing it unbound. */
  ParameterBinder.Bound bindNulls() {
    List<String> nulls = new ArrayList<>();
    for (int type : parameterTypes) {
      nulls.add(ParameterBinder.nullLiteral(type));
    }
    return substitute(nulls);
  }

  private ParameterBinder.Bound substitute(List<String> literals) {
    return isQuery()
        ? ParameterBinder.substitute(sql, literals)
        : new ParameterBinder.Bound(sql, List.of());
  }

  /** The result columns if the statement was described, else null. */
  List<PgColumn> columns() {
    return columns;
  }

  void columns(List<PgColumn> described) {
    this.columns = List.copyOf(described);
  }
}
