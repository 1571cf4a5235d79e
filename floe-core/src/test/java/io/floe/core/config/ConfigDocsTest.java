package io.floe.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigDocsTest {
  private static final Path DOCS =
      Paths.get("").toAbsolutePath().getParent().resolve("docs").resolve("configuration.md");

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
            Map.of("PGPASSWORD", "x", "ANALYST_PASSWORD", "y"),
            "example");

    assertThat(config.pipelines()).isNotEmpty();
    assertThat(config.sql().users()).isNotEmpty();
    assertThat(config.sql().workgroup("adhoc").limited()).isTrue();
  }

  @Test
  void referenceDocumentationIsUpToDate() throws Exception {
    String expected = FloeConfigLoader.referenceDocumentation();
    if (Boolean.getBoolean("floe.regenerateDocs")) {
      Files.createDirectories(DOCS.getParent());
      Files.writeString(DOCS, expected);
    }
    String hint =
        DOCS
            + " is out of date; run ./mvnw -pl floe-core test -Dtest=ConfigDocsTest"
            + " -Dfloe.regenerateDocs=true to rewrite it";
    assertThat(DOCS).as(hint).exists();
    assertThat(Files.readString(DOCS)).as(hint).isEqualTo(expected);
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
