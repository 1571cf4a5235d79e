package io.floe.sql.pgwire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.sql.QueryException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ParameterBinderTest {
  private static final int TEXT = 0;
  private static final int BINARY = 1;

  private static String text(int type, String value) {
    return ParameterBinder.literal(1, type, TEXT, value.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void replacesParametersOnlyOutsideLiteralsIdentifiersAndComments() {
    String sql =
        "SELECT $1, '$1', \"$1\", E'\\'$1', $$ $1 $$ -- $1\n /* $2 */ + $2 FROM t WHERE a=$1";
    ParameterBinder.Bound bound = ParameterBinder.substitute(sql, List.of("'x'", "(-42)"));
    assertThat(bound.sql())
        .isEqualTo(
            "SELECT 'x', '$1', \"$1\", E'\\'$1', $$ $1 $$ -- $1\n /* $2 */ + (-42) FROM t WHERE a='x'");
    assertThat(ParameterBinder.parameterCount(sql)).isEqualTo(2);
    assertThatThrownBy(() -> ParameterBinder.substitute("SELECT $3", List.of("1")))
        .isInstanceOfSatisfying(
            QueryException.class, e -> assertThat(e.sqlState()).isEqualTo("08P01"));
    assertThatThrownBy(() -> ParameterBinder.parameterCount("SELECT $0"))
        .isInstanceOfSatisfying(
            QueryException.class, e -> assertThat(e.sqlState()).isEqualTo("42P02"));
  }

  @Test
  void mapsPositionsBackToTheTextAsWritten() {
    String sql = "SELECT $1 + nope, $2";
    ParameterBinder.Bound bound = ParameterBinder.substitute(sql, List.of("'a long literal'", "2"));
    int nope = bound.sql().indexOf("nope") + 1;
    assertThat(bound.originalPosition(nope)).isEqualTo(sql.indexOf("nope") + 1);
    assertThat(bound.originalPosition(bound.sql().indexOf("long") + 1)).isEqualTo(8);
    assertThat(bound.originalPosition(3)).isEqualTo(3);
    // Inside a literal: the parameter it replaced.
    assertThat(bound.originalPosition(bound.sql().length())).isEqualTo(sql.indexOf("$2") + 1);
    assertThat(bound.originalPosition(0)).isZero();
  }

  @Test
  void writesTextValuesAsLiteralsOfTheirDeclaredType() {
    assertThat(text(0, "it's")).isEqualTo("'it''s'");
    assertThat(text(25, "x' OR '1'='1")).isEqualTo("'x'' OR ''1''=''1'");
    assertThat(text(23, "42")).isEqualTo("42");
    assertThat(text(23, "-5")).isEqualTo("(-5)");
    assertThat(text(21, "7")).isEqualTo("CAST(7 AS SMALLINT)");
    assertThat(text(20, "-9223372036854775808")).isEqualTo("CAST(-9223372036854775808 AS BIGINT)");
    assertThat(text(701, "NaN")).isEqualTo("CAST('NaN' AS DOUBLE)");
    assertThat(text(700, "1.5")).isEqualTo("CAST(1.5 AS REAL)");
    assertThat(text(1700, "-0.00012300")).isEqualTo("(-0.00012300)");
    assertThat(text(16, "yes")).isEqualTo("TRUE");
    assertThat(text(16, "f")).isEqualTo("FALSE");
    assertThat(text(1082, "2024-02-29")).isEqualTo("CAST('2024-02-29' AS DATE)");
    assertThat(text(1184, "2024-01-01 10:00:00+02"))
        .isEqualTo("CAST('2024-01-01 10:00:00+02' AS TIMESTAMPTZ)");
    assertThat(text(17, "\\x00ff27")).isEqualTo("CAST('\\x00\\xff\\x27' AS BLOB)");
    assertThat(text(17, "a\\\\b\\047")).isEqualTo("CAST('\\x61\\x5c\\x62\\x27' AS BLOB)");
    // pgJDBC sends java.sql.Date untyped with a zone, which DuckDB would not read as a date.
    assertThat(text(0, "2024-01-04 +01")).isEqualTo("'2024-01-04'");
    assertThat(text(0, "2024-01-04 10:00:00+01")).isEqualTo("'2024-01-04 10:00:00+01'");
  }

  @Test
  void refusesTextThatIsNotOfTheDeclaredType() {
    for (int type : new int[] {21, 23, 20, 700, 701, 1700, 16}) {
      assertThatThrownBy(() -> text(type, "1 OR 1=1"))
          .isInstanceOfSatisfying(
              QueryException.class, e -> assertThat(e.sqlState()).isEqualTo("22P02"))
          .hasMessageContaining("Cannot bind parameter $1");
    }
    assertThatThrownBy(() -> text(21, "70000")).hasMessageContaining("between -32768 and 32767");
    assertThatThrownBy(() -> text(701, "1d")).hasMessageContaining("floating point");
  }

  @Test
  void decodesBinaryValues() {
    assertThat(ParameterBinder.literal(1, 23, BINARY, ByteBuffer.allocate(4).putInt(-7).array()))
        .isEqualTo("(-7)");
    assertThat(
            ParameterBinder.literal(
                1, 20, BINARY, ByteBuffer.allocate(8).putLong(1L << 40).array()))
        .isEqualTo("CAST(1099511627776 AS BIGINT)");
    assertThat(
            ParameterBinder.literal(1, 701, BINARY, ByteBuffer.allocate(8).putDouble(0.25).array()))
        .isEqualTo("CAST(0.25 AS DOUBLE)");
    assertThat(ParameterBinder.literal(1, 16, BINARY, new byte[] {1})).isEqualTo("TRUE");
    assertThat(
            ParameterBinder.literal(
                1, 1700, BINARY, PgNumeric.encode(new BigDecimal("-12345.678"))))
        .isEqualTo("(-12345.678)");
    assertThat(ParameterBinder.literal(1, 1082, BINARY, ByteBuffer.allocate(4).putInt(-1).array()))
        .isEqualTo("CAST('1999-12-31' AS DATE)");
    assertThat(
            ParameterBinder.literal(
                1, 1114, BINARY, ByteBuffer.allocate(8).putLong(1_500_000L).array()))
        .isEqualTo("CAST('2000-01-01 00:00:01.5' AS TIMESTAMP)");
    assertThat(ParameterBinder.literal(1, 25, BINARY, "o'clock".getBytes(StandardCharsets.UTF_8)))
        .isEqualTo("'o''clock'");
    assertThat(ParameterBinder.literal(1, 23, BINARY, null)).isEqualTo("CAST(NULL AS INTEGER)");
    assertThatThrownBy(() -> ParameterBinder.literal(2, 23, BINARY, new byte[2]))
        .isInstanceOfSatisfying(
            QueryException.class, e -> assertThat(e.sqlState()).isEqualTo("22P03"));
    assertThatThrownBy(() -> ParameterBinder.literal(1, 114, BINARY, new byte[] {1}))
        .isInstanceOfSatisfying(
            QueryException.class, e -> assertThat(e.sqlState()).isEqualTo("0A000"))
        .hasMessageContaining("send this parameter in text format");
  }

  @Test
  void describesWithTypedNulls() {
    assertThat(ParameterBinder.nullLiteral(0)).isEqualTo("NULL");
    assertThat(ParameterBinder.nullLiteral(25)).isEqualTo("NULL");
    assertThat(ParameterBinder.nullLiteral(20)).isEqualTo("CAST(NULL AS BIGINT)");
    assertThat(ParameterBinder.nullLiteral(1082)).isEqualTo("CAST(NULL AS DATE)");
  }
}
