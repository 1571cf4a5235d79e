package io.floe.sql;

import io.floe.sql.SqlLexer.Kind;
import io.floe.sql.SqlLexer.Token;
import java.util.List;

/**
 * SQL text and its tokens ({@link SqlLexer}): the statement's first keyword, whether it holds more
 * than one statement, and the text of a range of tokens.
 */
final class SqlText {
  private final String sql;
  private final List<Token> tokens;

  SqlText(String sql) {
    this.sql = sql;
    this.tokens = SqlLexer.tokens(sql);
  }

  String sql() {
    return sql;
  }

  List<Token> tokens() {
    return tokens;
  }

  /** The first keyword, upper case, or "" for an empty statement. */
  String firstKeyword() {
    for (Token token : tokens) {
      if (token.kind() == Kind.WORD) {
        return token.keyword();
      }
      if (!token.isSymbol("(")) {
        return token.text();
      }
    }
    return "";
  }

  /** Whether the text holds more than one statement. */
  boolean hasMultipleStatements() {
    boolean separated = false;
    for (Token token : tokens) {
      if (token.isSymbol(";")) {
        separated = true;
      } else if (separated) {
        return true;
      }
    }
    return false;
  }

  /** The text from token {@code from} on, without trailing semicolons. */
  String from(int from) {
    int end = tokens.size();
    while (end > from && tokens.get(end - 1).isSymbol(";")) {
      end--;
    }
    if (from >= end) {
      return "";
    }
    return sql.substring(tokens.get(from).start(), tokens.get(end - 1).end());
  }

  /** The text of the original SQL from one token's start to another's end. */
  String text(int fromToken, int toTokenInclusive) {
    return sql.substring(tokens.get(fromToken).start(), tokens.get(toTokenInclusive).end());
  }
}
