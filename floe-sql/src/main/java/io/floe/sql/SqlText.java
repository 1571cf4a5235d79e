package io.floe.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A light lexer over SQL text: enough to find the statement's first keyword, statement separators
 * and {@code namespace.table} references, skipping string literals, quoted identifiers and
 * comments. Parsing proper is DuckDB's job.
 */
final class SqlText {
  /** A two-part name as written in the query. */
  record QualifiedName(String namespace, String name) {}

  private final String sql;
  private final List<Token> tokens = new ArrayList<>();

  private record Token(String text, boolean identifier, boolean quoted, int position) {}

  SqlText(String sql) {
    this.sql = sql;
    tokenize();
  }

  /** The first keyword, upper case, or "" for an empty statement. */
  String firstKeyword() {
    for (Token token : tokens) {
      if (token.identifier && !token.quoted) {
        return token.text.toUpperCase(Locale.ROOT);
      }
      if (!token.text.equals("(")) {
        return token.text;
      }
    }
    return "";
  }

  /** Whether the text holds more than one statement. */
  boolean hasMultipleStatements() {
    for (int i = 0; i < tokens.size(); i++) {
      if (tokens.get(i).text.equals(";") && i < tokens.size() - 1) {
        for (int j = i + 1; j < tokens.size(); j++) {
          if (!tokens.get(j).text.equals(";")) {
            return true;
          }
        }
      }
    }
    return false;
  }

  /** Every {@code a.b} pair of identifiers not itself preceded by a dot. */
  List<QualifiedName> qualifiedNames() {
    List<QualifiedName> names = new ArrayList<>();
    for (int i = 0; i + 2 < tokens.size(); i++) {
      Token first = tokens.get(i);
      if (first.identifier
          && tokens.get(i + 1).text.equals(".")
          && tokens.get(i + 2).identifier
          && (i == 0 || !tokens.get(i - 1).text.equals("."))) {
        names.add(new QualifiedName(first.text, tokens.get(i + 2).text));
      }
    }
    return names;
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
      } else if (c == '\'') {
        int start = i++;
        while (i < length) {
          if (sql.charAt(i) == '\'') {
            if (i + 1 < length && sql.charAt(i + 1) == '\'') {
              i += 2;
              continue;
            }
            break;
          }
          i++;
        }
        i++;
        tokens.add(new Token(sql.substring(start, Math.min(i, length)), false, false, start));
      } else if (c == '"') {
        int start = i++;
        StringBuilder text = new StringBuilder();
        while (i < length) {
          if (sql.charAt(i) == '"') {
            if (i + 1 < length && sql.charAt(i + 1) == '"') {
              text.append('"');
              i += 2;
              continue;
            }
            break;
          }
          text.append(sql.charAt(i++));
        }
        i++;
        tokens.add(new Token(text.toString(), true, true, start));
      } else if (Character.isLetter(c) || c == '_') {
        int start = i;
        while (i < length
            && (Character.isLetterOrDigit(sql.charAt(i))
                || sql.charAt(i) == '_'
                || sql.charAt(i) == '$')) {
          i++;
        }
        tokens.add(new Token(sql.substring(start, i), true, false, start));
      } else {
        tokens.add(new Token(String.valueOf(c), false, false, i));
        i++;
      }
    }
  }
}
