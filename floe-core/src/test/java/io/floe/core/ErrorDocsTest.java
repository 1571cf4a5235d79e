package io.floe.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ErrorDocsTest {
  @Test
  void everyCodeIsDescribedAndNumberedOnce() {
    Set<Integer> numbers = new HashSet<>();
    for (ErrorCode code : ErrorCode.values()) {
      assertThat(code.description()).as("description of %s", code).isNotBlank().endsWith(".");
      assertThat(numbers.add(code.number())).as("%s has a number of its own", code).isTrue();
    }
    for (ErrorType type : ErrorType.values()) {
      assertThat(type.description()).as("description of %s", type).isNotBlank();
    }
  }

  @Test
  void exitCodesTellTheTypesApartAndOnlyExternalRetriableErrorsAreRetriable() {
    Set<Integer> exitCodes = new HashSet<>();
    for (ErrorType type : ErrorType.values()) {
      assertThat(exitCodes.add(type.exitCode())).as("exit code of %s", type).isTrue();
      assertThat(type.exitCode()).as("exit code of %s", type).isBetween(1, 125);
      assertThat(type.retriable()).isEqualTo(type == ErrorType.EXTERNAL_RETRIABLE);
    }
  }

  @Test
  void referenceDocumentationIsUpToDate() throws Exception {
    GeneratedDocs.assertUpToDate("errors.md", ErrorDocumentation.markdown(), "ErrorDocsTest");
  }
}
