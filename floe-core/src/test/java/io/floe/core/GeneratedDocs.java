package io.floe.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Checks that a reference page under {@code docs/} equals what the code generates, and rewrites it
 * when the build runs with {@code -Dfloe.regenerateDocs=true}.
 */
public final class GeneratedDocs {
  private GeneratedDocs() {}

  /**
   * Asserts that {@code docs/page} holds {@code expected}.
   *
   * @param page the file name under {@code docs/}, such as {@code errors.md}
   * @param test the test class that checks it, named in the hint to regenerate it
   */
  public static void assertUpToDate(String page, String expected, String test) throws IOException {
    Path docs = Paths.get("").toAbsolutePath().getParent().resolve("docs").resolve(page);
    if (Boolean.getBoolean("floe.regenerateDocs")) {
      Files.createDirectories(docs.getParent());
      Files.writeString(docs, expected);
    }
    String hint =
        docs
            + " is out of date; run ./mvnw -pl floe-core test -Dtest="
            + test
            + " -Dfloe.regenerateDocs=true to rewrite it";
    assertThat(docs).as(hint).exists();
    assertThat(Files.readString(docs)).as(hint).isEqualTo(expected);
  }
}
