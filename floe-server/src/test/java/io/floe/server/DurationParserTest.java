package io.floe.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.FloeException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationParserTest {
  @Test
  void parsesAmountsWithUnits() {
    assertThat(DurationParser.tryParse("250ms")).hasValue(Duration.ofMillis(250));
    assertThat(DurationParser.tryParse(" 30s ")).hasValue(Duration.ofSeconds(30));
    assertThat(DurationParser.tryParse("5m")).hasValue(Duration.ofMinutes(5));
    assertThat(DurationParser.tryParse("2h")).hasValue(Duration.ofHours(2));
    assertThat(DurationParser.tryParse("5 m")).isEmpty();
    assertThat(DurationParser.tryParse("PT5M")).isEmpty();
    assertThat(DurationParser.tryParse("99999999999999999999s")).isEmpty();
    assertThatThrownBy(() -> DurationParser.parse("--timeout", "soon"))
        .isInstanceOf(FloeException.class)
        .hasMessage("Cannot use --timeout soon: write a duration like 500ms, 10s, 2m or 1h");
  }

  @Test
  void formatsInTheLargestExactUnit() {
    assertThat(DurationParser.format(Duration.ofMinutes(5))).isEqualTo("5m");
    assertThat(DurationParser.format(Duration.ofSeconds(90))).isEqualTo("90s");
    assertThat(DurationParser.format(Duration.ofHours(24))).isEqualTo("24h");
    assertThat(DurationParser.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
    assertThat(DurationParser.format(Duration.ZERO)).isEqualTo("0s");
  }
}
