package io.floe.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.GeneratedDocs;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigDocsTest {
  @Test
  void everyKeyAndSectionHasDescription() {
    assertDescribed(FloeConfigSchema.ROOT, "");
  }

  @Test
  void exampleIsValid() {
    FloeConfig config =
        FloeConfigLoader.parse(
            FloeConfigSchema.EXAMPLE,
            Path.of("").toAbsolutePath(),
            Map.of(
                "PGPASSWORD",
                "x",
                "ANALYST_PASSWORD",
                "y",
                "SPARK_SECRET",
                "z1z1",
                "BI_SECRET",
                "w2w2"),
            "example");

    assertThat(config.pipelines()).isNotEmpty();
    assertThat(config.sql().users()).isNotEmpty();
    assertThat(config.sql().workgroup("adhoc").limited()).isTrue();
    assertThat(config.principals())
        .extracting(PrincipalConfig::name)
        .containsExactly("spark", "bi");
    assertThat(config.catalog().port()).isEqualTo(8181);
  }

  @Test
  void referenceDocumentationIsUpToDate() throws Exception {
    GeneratedDocs.assertUpToDate(
        "configuration.md", FloeConfigLoader.referenceDocumentation(), "ConfigDocsTest");
  }

  private static void assertDescribed(ConfigSection section, String path) {
    for (ConfigKey<?> key : section.keys()) {
      assertThat(key.description()).as("description of %s%s", path, key.name()).isNotBlank();
    }
    for (ConfigSection nested : section.sections()) {
      assertThat(nested.description()).as("description of %s%s", path, nested.name()).isNotBlank();
      assertDescribed(nested, path + nested.name() + ".");
    }
  }
}
