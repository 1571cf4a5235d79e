package io.floe.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A light lexer over SQL text: enough to find the statement's first keyword, statement separators,
 * and table references with their time travel clauses, skipping string literals, quoted identifiers
 * and comments. Parsing proper is DuckDB's job.
 */
final class SqlText {
  enum Kind {
    WORD,
    QUOTED,
    STRING,
    NUMBER,
    PARAMETER,
    SYMBOL
  }

  /** A token: {@code text} is the identifier without quotes, or the source text otherwise. */
  record Token(Kind kind, String text, int start, int end) {
    boolean isName() {
      return kind == Kind.WORD || kind == Kind.QUOTED;
    }

    boolean isWord(String word) {
      return kind == Kind.WORD && text.equalsIgnoreCase(word);
    }

    boolean isSymbol(String symbol) {
      return kind == Kind.SYMBOL && text.equals(symbol);
    }

    /** The name as DuckDB resolves it: unquoted names are case-insensitive. */
    String name() {
      return kind == Kind.WORD ? text.toLowerCase(Locale.ROOT) : text;
    }
  }

  private final String sql;
  private final List<Token> tokens = new ArrayList<>();

  SqlText(String sql) {
    this.sql = sql;
    tokenize();
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
      if (token.kind == Kind.WORD) {
        return token.text.toUpperCase(Locale.ROOT);
      }
      if (!token.isSymbol("(")) {
        return token.text;
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
    return sql.substring(tokens.get(from).start, tokens.get(end - 1).end);
  }

  private void tokenize() {
    int i = 0;
    int length = sql.length();
    while (i < length) {
      char c = sql.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '-' && i + 1 < length && sql.charAt(i + 1) == '-') {
        int end = sql.indexOf('\n', i);
        i = end < 0 ? length : end + 1;
      } else if (c == '/' && i + 1 < length && sql.charAt(i + 1) == '*') {
        int end = sql.indexOf("*/", i + 2);
        i = end < 0 ? length : end + 2;
      } else if (c == '\'' || c == '"') {
        int start = i++;
        StringBuilder text = new StringBuilder();
        while (i < length) {
          if (sql.charAt(i) == c) {
            if (i + 1 < length && sql.charAt(i + 1) == c) {
              text.append(c);
              i += 2;
              continue;
            }
            break;
          }
          text.append(sql.charAt(i++));
        }
        i = Math.min(i + 1, length);
        if (c == '"') {
          tokens.add(new Token(Kind.QUOTED, text.toString(), start, i));
        } else {
          tokens.add(new Token(Kind.STRING, text.toString(), start, i));
        }
      } else if (Character.isLetter(c) || c == '_') {
        int start = i;
        while (i < length
            && (Character.isLetterOrDigit(sql.charAt(i))
                || sql.charAt(i) == '_'
                || sql.charAt(i) == '$')) {
          i++;
        }
        tokens.add(new Token(Kind.WORD, sql.substring(start, i), start, i));
      } else if (Character.isDigit(c)
          || (c == '.' && i + 1 < length && Character.isDigit(sql.charAt(i + 1)))) {
        int start = i;
        while (i < length && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '.')) {
          i++;
        }
        tokens.add(new Token(Kind.NUMBER, sql.substring(start, i), start, i));
      } else if (c == '$' && i + 1 < length && Character.isDigit(sql.charAt(i + 1))) {
        int start = i++;
        while (i < length && Character.isDigit(sql.charAt(i))) {
          i++;
        }
        tokens.add(new Token(Kind.PARAMETER, sql.substring(start, i), start, i));
      } else {
        tokens.add(new Token(Kind.SYMBOL, String.valueOf(c), i, i + 1));
        i++;
      }
    }
  }

  /** The text of the original SQL from one token's start to another's end. */
  String text(int fromToken, int toTokenInclusive) {
    return sql.substring(tokens.get(fromToken).start, tokens.get(toTokenInclusive).end);
  }
}
