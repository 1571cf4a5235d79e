package io.floe.sql.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResultComparisonTest {
  private static List<List<Object>> rows(Object[]... rows) {
    return Arrays.stream(rows).map(Arrays::asList).toList();
  }

  @Test
  void multisetsIgnoreOrderButCountDuplicates() {
    assertThat(
            ResultComparison.differences(
                rows(new Object[] {1L, "a"}, new Object[] {2L, "b"}),
                rows(new Object[] {2L, "b"}, new Object[] {1L, "a"}),
                false))
        .isNull();
    assertThat(
            ResultComparison.differences(
                rows(new Object[] {1L}, new Object[] {1L}), rows(new Object[] {1L}), false))
        .contains("1 expected rows missing");
    assertThat(
            ResultComparison.differences(
                rows(new Object[] {1L}), rows(new Object[] {1L}, new Object[] {1L}), false))
        .contains("1 rows not expected");
  }

  @Test
  void orderedResultsCompareRowByRow() {
    assertThat(
            ResultComparison.differences(
                rows(new Object[] {1L}, new Object[] {2L}),
                rows(new Object[] {2L}, new Object[] {1L}),
                true))
        .startsWith("row 1 differs");
    assertThat(
            ResultComparison.differences(
                rows(new Object[] {1L}, new Object[] {2L}), rows(new Object[] {1L}), true))
        .contains("expected 2 rows, got 1");
  }

  @Test
  void numbersCompareByValue() {
    assertThat(
            ResultComparison.differences(
                rows(new Object[] {new BigDecimal("1.50"), 3, new BigInteger("7")}),
                rows(new Object[] {new BigDecimal("1.5"), 3L, 7L}),
                false))
        .isNull();
    assertThat(
            ResultComparison.differences(
                rows(new Object[] {new BigDecimal("1.50")}),
                rows(new Object[] {new BigDecimal("1.51")}),
                false))
        .isNotNull();
  }

  @Test
  void doublesCompareWithRelativeTolerance() {
    assertThat(
            ResultComparison.differences(
                rows(new Object[] {1_000_000.0}), rows(new Object[] {1_000_000.000_000_1}), false))
        .isNull();
    assertThat(
            ResultComparison.differences(
                rows(new Object[] {1_000_000.0}), rows(new Object[] {1_000_000.01}), false))
        .isNotNull();
    assertThat(
            ResultComparison.differences(
                rows(new Object[] {Double.NaN}), rows(new Object[] {Double.NaN}), false))
        .isNull();
  }

  @Test
  void timestampsCompareAsInstantsAndNullsOnlyMatchNulls() {
    OffsetDateTime utc = OffsetDateTime.of(2024, 1, 2, 3, 4, 5, 6000, ZoneOffset.UTC);
    assertThat(
            ResultComparison.differences(
                rows(new Object[] {utc, null}),
                rows(new Object[] {utc.withOffsetSameInstant(ZoneOffset.ofHours(2)), null}),
                false))
        .isNull();
    assertThat(
            ResultComparison.differences(
                rows(new Object[] {utc}),
                rows(new Object[] {LocalDateTime.of(2024, 1, 2, 3, 4, 5, 6000)}),
                true))
        .isNull();
    assertThat(
            ResultComparison.differences(
                rows(new Object[] {0L}), rows(new Object[] {(Object) null}), false))
        .isNotNull();
  }

  @Test
  void nestedValuesCompareElementWise() {
    assertThat(
            ResultComparison.differences(
                rows(new Object[] {List.of(1L, 2.0), Map.of("k", new BigDecimal("1.0"))}),
                rows(new Object[] {List.of(1, 2.0000000000001), Map.of("k", new BigDecimal("1"))}),
                false))
        .isNull();
  }
}
