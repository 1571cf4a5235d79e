package io.floe.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BytesTest {
  @Test
  void formatsBytesInBinaryUnits() {
    assertThat(Bytes.format(0)).isEqualTo("0 B");
    assertThat(Bytes.format(1023)).isEqualTo("1023 B");
    assertThat(Bytes.format(4_300_000)).isEqualTo("4.1 MiB");
    assertThat(Bytes.format(3L << 30)).isEqualTo("3.0 GiB");
    assertThat(Bytes.format(Long.MAX_VALUE)).isEqualTo("unlimited");
  }
}
