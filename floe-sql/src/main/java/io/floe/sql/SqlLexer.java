package io.floe.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Splits SQL text into tokens the way PostgreSQL clients write it: string literals ({@code '..'},
 * {@code E'..'}, {@code $tag$..$tag$}), quoted identifiers, comments (nested block comments too),
 * parameters ({@code $1}) and statement separators. Enough to split a simple query into statements,
 * find parameters, recognise session commands, and find a statement's first keyword and its table
 * references with their time travel clauses; parsing proper is DuckDB's job.
 */
public final class SqlLexer {
  /** What a token is. */
  public enum Kind {
    WORD,
    QUOTED_IDENTIFIER,
    STRING,
    PARAMETER,
    NUMBER,
    SEMICOLON,
    SYMBOL
  }

  /**
   * A token as written and its place in the text: {@code start} inclusive, {@code end} exclusive.
   */
  public record Token(Kind kind, String text, int start, int end) {
    public boolean isWord(String word) {
      return kind == Kind.WORD && text.equalsIgnoreCase(word);
    }

    /** Whether it is a word or a quoted identifier. */
    public boolean isName() {
      return kind == Kind.WORD || kind == Kind.QUOTED_IDENTIFIER;
    }

    /** Whether it is this one-character symbol (a semicolon included). */
    public boolean isSymbol(String symbol) {
      return (kind == Kind.SYMBOL || kind == Kind.SEMICOLON) && text.equals(symbol);
    }

    /** The word upper case, or the raw text of other tokens. */
    public String keyword() {
      return kind == Kind.WORD ? text.toUpperCase(Locale.ROOT) : text;
    }

    /**
     * The token as DuckDB and PostgreSQL resolve a name or read a value: an unquoted word lower
     * case, a quoted identifier or a plain string literal without its quotes (doubled quotes made
     * single), any other token as written.
     */
    public String name() {
      if (kind == Kind.WORD) {
        return text.toLowerCase(Locale.ROOT);
      }
      if (kind == Kind.QUOTED_IDENTIFIER && text.length() >= 2 && text.endsWith("\"")) {
        return text.substring(1, text.length() - 1).replace("\"\"", "\"");
      }
      if (kind == Kind.STRING && text.startsWith("'") && text.endsWith("'") && text.length() >= 2) {
        return text.substring(1, text.length() - 1).replace("''", "'");
      }
      return text;
    }
  }

  private SqlLexer() {}

  /** The tokens of the text; whitespace and comments are left out. */
  public static List<Token> tokens(String sql) {
    List<Token> tokens = new ArrayList<>();
    int length = sql.length();
    int i = 0;
    while (i < length) {
      char c = sql.charAt(i);
      int start = i;
      int dollarTag = c == '$' ? dollarTagEnd(sql, i) : -1;
      if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '-' && startsWith(sql, i, "--")) {
        int end = sql.indexOf('\n', i);
        i = end < 0 ? length : end + 1;
      } else if (c == '/' && startsWith(sql, i, "/*")) {
        i = blockCommentEnd(sql, i);
      } else if (c == '\'') {
        i = quotedEnd(sql, i, '\'', false);
        tokens.add(new Token(Kind.STRING, sql.substring(start, i), start, i));
      } else if ((c == 'E' || c == 'e') && i + 1 < length && sql.charAt(i + 1) == '\'') {
        i = quotedEnd(sql, i + 1, '\'', true);
        tokens.add(new Token(Kind.STRING, sql.substring(start, i), start, i));
      } else if (c == '"') {
        i = quotedEnd(sql, i, '"', false);
        tokens.add(new Token(Kind.QUOTED_IDENTIFIER, sql.substring(start, i), start, i));
      } else if (c == '$' && i + 1 < length && Character.isDigit(sql.charAt(i + 1))) {
        i++;
        while (i < length && Character.isDigit(sql.charAt(i))) {
          i++;
        }
        tokens.add(new Token(Kind.PARAMETER, sql.substring(start, i), start, i));
      } else if (dollarTag > 0) {
        String tag = sql.substring(i, dollarTag);
        int close = sql.indexOf(tag, i + tag.length());
        i = close < 0 ? length : close + tag.length();
        tokens.add(new Token(Kind.STRING, sql.substring(start, i), start, i));
      } else if (Character.isLetter(c) || c == '_') {
        while (i < length && isWordPart(sql.charAt(i))) {
          i++;
        }
        tokens.add(new Token(Kind.WORD, sql.substring(start, i), start, i));
      } else if (Character.isDigit(c)
          || (c == '.' && i + 1 < length && Character.isDigit(sql.charAt(i + 1)))) {
        while (i < length && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '.')) {
          i++;
        }
        tokens.add(new Token(Kind.NUMBER, sql.substring(start, i), start, i));
      } else {
        i++;
        Kind kind = c == ';' ? Kind.SEMICOLON : Kind.SYMBOL;
        tokens.add(new Token(kind, String.valueOf(c), start, i));
      }
    }
    return tokens;
  }

  /** A statement of a query string: its text and where it starts in the whole string. */
  public record Statement(String sql, int offset) {}

  /** The statements separated by semicolons; statements holding only comments are dropped. */
  public static List<Statement> statements(String sql) {
    List<Statement> statements = new ArrayList<>();
    int start = 0;
    boolean content = false;
    for (Token token : tokens(sql)) {
      if (token.kind() == Kind.SEMICOLON) {
        if (content) {
          statements.add(new Statement(sql.substring(start, token.start()), start));
        }
        start = token.end();
        content = false;
      } else {
        content = true;
      }
    }
    if (content) {
      statements.add(new Statement(sql.substring(start), start));
    }
    return statements;
  }

  private static boolean isWordPart(char c) {
    return Character.isLetterOrDigit(c) || c == '_' || c == '$';
  }

  private static boolean startsWith(String sql, int index, String prefix) {
    return sql.startsWith(prefix, index);
  }

  private static int blockCommentEnd(String sql, int start) {
    int depth = 0;
    int i = start;
    while (i < sql.length()) {
      if (startsWith(sql, i, "/*")) {
        depth++;
        i += 2;
      } else if (startsWith(sql, i, "*/")) {
        depth--;
        i += 2;
        if (depth == 0) {
          return i;
        }
      } else {
        i++;
      }
    }
    return sql.length();
  }

  /** The index after the closing quote; a doubled quote is part of the text. */
  private static int quotedEnd(String sql, int open, char quote, boolean backslashEscapes) {
    int i = open + 1;
    while (i < sql.length()) {
      char c = sql.charAt(i);
      if (backslashEscapes && c == '\\') {
        i += 2;
      } else if (c == quote) {
        if (i + 1 < sql.length() && sql.charAt(i + 1) == quote) {
          i += 2;
        } else {
          return i + 1;
        }
      } else {
        i++;
      }
    }
    return sql.length();
  }

  /** The end of a dollar-quote opening tag ({@code $$} or {@code $name$}) at index, or -1. */
  private static int dollarTagEnd(String sql, int index) {
    int i = index + 1;
    while (i < sql.length() && sql.charAt(i) != '$') {
      char c = sql.charAt(i);
      if (!(Character.isLetter(c) || c == '_' || (i > index + 1 && Character.isDigit(c)))) {
        return -1;
      }
      i++;
    }
    return i < sql.length() ? i + 1 : -1;
  }
}
