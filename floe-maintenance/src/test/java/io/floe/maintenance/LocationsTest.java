package io.floe.maintenance;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LocationsTest {
  @Test
  void fileUrisAndPlainPathsNormalizeAlike() {
    assertThat(Locations.normalize("/w/raw/t/data/a.parquet")).isEqualTo("/w/raw/t/data/a.parquet");
    assertThat(Locations.normalize("file:/w/raw/t/data/a.parquet"))
        .isEqualTo("/w/raw/t/data/a.parquet");
    assertThat(Locations.normalize("file:///w/raw/t/data/a.parquet"))
        .isEqualTo("/w/raw/t/data/a.parquet");
    assertThat(Locations.normalize("/w/raw/t//data/a.parquet"))
        .isEqualTo("/w/raw/t/data/a.parquet");
    assertThat(Locations.normalize("file:///w/with%20space/a.parquet"))
        .isEqualTo("/w/with space/a.parquet");
    assertThat(Locations.normalize("file:/w/with space/a.parquet"))
        .isEqualTo("/w/with space/a.parquet");
  }

  @Test
  void otherSchemesAreLeftAlone() {
    assertThat(Locations.normalize("s3://bucket/raw/t/data/a.parquet"))
        .isEqualTo("s3://bucket/raw/t/data/a.parquet");
  }

  @Test
  void directoriesEndWithOneSlash() {
    assertThat(Locations.directory("/w/raw/t")).isEqualTo("/w/raw/t/");
    assertThat(Locations.directory("s3://bucket/raw/t/")).isEqualTo("s3://bucket/raw/t/");
  }
}
