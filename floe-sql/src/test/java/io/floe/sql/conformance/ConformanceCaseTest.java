package io.floe.sql.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConformanceCaseTest {
  @Test
  void parsesCasesWithAndWithoutExpectedSql() {
    List<ConformanceCase> cases =
        ConformanceCase.parse(
            "-- header comment\n"
                + "\n"
                + "-- name: a/first\n"
                + "-- ordered\n"
                + "SELECT 1\n"
                + "ORDER BY 1;\n"
                + "\n"
                + "-- ===== next section\n"
                + "-- name: b/second\n"
                + "-- empty\n"
                + "SELECT * FROM shop.orders FOR VERSION AS OF ${orders.v2}\n"
                + "-- expected:\n"
                + "SELECT * FROM hist.orders_v2\n");
    assertThat(cases).hasSize(2);
    ConformanceCase first = cases.get(0);
    assertThat(first.displayName()).isEqualTo("[a] first");
    assertThat(first.floeSql()).isEqualTo("SELECT 1\nORDER BY 1");
    assertThat(first.expectedSql()).isEqualTo(first.floeSql());
    assertThat(first.ordered()).isTrue();
    assertThat(first.mayBeEmpty()).isFalse();
    assertThat(first.line()).isEqualTo(3);
    ConformanceCase second = cases.get(1).bind(Map.of("orders.v2", "42"));
    assertThat(second.floeSql()).isEqualTo("SELECT * FROM shop.orders FOR VERSION AS OF 42");
    assertThat(second.expectedSql()).isEqualTo("SELECT * FROM hist.orders_v2");
    assertThat(second.ordered()).isFalse();
    assertThat(second.mayBeEmpty()).isTrue();
  }

  @Test
  void refusesMistakes() {
    assertThatThrownBy(() -> ConformanceCase.parse("-- name: nocategory\nSELECT 1\n"))
        .hasMessageContaining("category/name");
    assertThatThrownBy(
            () -> ConformanceCase.parse("-- name: a/x\nSELECT 1\n-- name: a/x\nSELECT 2\n"))
        .hasMessageContaining("duplicate case a/x");
    assertThatThrownBy(() -> ConformanceCase.parse("SELECT 1\n"))
        .hasMessageContaining("text outside a case");
    assertThatThrownBy(
            () -> ConformanceCase.parse("-- name: a/x\nSELECT ${nope}\n").get(0).bind(Map.of()))
        .hasMessageContaining("unknown placeholder ${nope}");
  }
}
