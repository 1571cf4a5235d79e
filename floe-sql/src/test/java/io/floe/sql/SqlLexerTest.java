package io.floe.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SqlLexerTest {
  @Test
  void splitsStatementsOnSemicolonsOutsideLiteralsAndComments() {
    String sql =
        "SELECT ';' AS a; SELECT \"x;y\" FROM t -- ; not here\n;"
            + " /* ; /* nested ; */ */ SELECT $$;$$, $tag$ ; $tag$, E'\\';' ;; -- only a comment";
    List<SqlLexer.Statement> statements = SqlLexer.statements(sql);
    assertThat(statements)
        .extracting(SqlLexer.Statement::sql)
        .containsExactly(
            "SELECT ';' AS a",
            " SELECT \"x;y\" FROM t -- ; not here\n",
            " /* ; /* nested ; */ */ SELECT $$;$$, $tag$ ; $tag$, E'\\';' ");
    for (SqlLexer.Statement statement : statements) {
      assertThat(sql.substring(statement.offset())).startsWith(statement.sql());
    }
    assertThat(SqlLexer.statements(" ;; -- nothing\n/* at all */")).isEmpty();
  }

  @Test
  void tellsParametersFromDollarQuotesAndWords() {
    assertThat(SqlLexer.tokens("SELECT $1, a$2, $$x$$, $12"))
        .filteredOn(token -> token.kind() == SqlLexer.Kind.PARAMETER)
        .extracting(SqlLexer.Token::text)
        .containsExactly("$1", "$12");
  }

  @Test
  void namesAreUnquotedAndUnquotedWordsLowerCase() {
    assertThat(SqlLexer.tokens("SELECT \"My \"\"x\"\"\", 'it''s', E'a\\'b', Raw.T, .5, 1.5e3"))
        .extracting(SqlLexer.Token::name)
        .containsExactly(
            "select",
            "My \"x\"",
            ",",
            "it's",
            ",",
            "E'a\\'b'",
            ",",
            "raw",
            ".",
            "t",
            ",",
            ".5",
            ",",
            "1.5e3");
  }

  @Test
  void statementsAreJudgedOutsideDollarQuotesAndEscapedStrings() {
    assertThat(new SqlText("SELECT $$a;b$$, E'c\\';d' ;").hasMultipleStatements()).isFalse();
    assertThat(new SqlText("SELECT 1; SELECT 2").hasMultipleStatements()).isTrue();
    assertThat(new SqlText("/* a /* nested */ comment */ (SELECT 1)").firstKeyword())
        .isEqualTo("SELECT");
    assertThat(new SqlText("SELECT $$x$$ ;; ").from(0)).isEqualTo("SELECT $$x$$");
  }
}
