package io.floe.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.ErrorCode;
import io.floe.core.ErrorType;
import io.floe.core.FloeException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The exit code of a failed command follows the type of its error. */
class ExitCodeTest {
  private static final Map<ErrorType, Integer> EXIT_CODES =
      Map.of(
          ErrorType.USER, 1,
          ErrorType.EXTERNAL, 2,
          ErrorType.EXTERNAL_RETRIABLE, 75,
          ErrorType.INTERNAL, 3);

  @TempDir Path directory;

  private record Run(int exitCode, String err) {
    /** The error line the command printed (standard error also has the test's log lines). */
    String error() {
      return err.lines().filter(line -> line.startsWith("error: ")).reduce((a, b) -> b).orElse("");
    }
  }

  @Test
  void everyErrorCodeExitsWithTheCodeOfItsType() {
    assertThat(EXIT_CODES).containsOnlyKeys(ErrorType.values());
    for (ErrorCode code : ErrorCode.values()) {
      assertThat(Main.exitCode(new FloeException(code, "Cannot test: " + code)))
          .as("exit code of %s (%s)", code, code.type())
          .isEqualTo(EXIT_CODES.get(code.type()));
    }
  }

  @Test
  void aConfigurationWithoutPipelinesIsAUserError() throws IOException {
    Path config = write("warehouse: " + directory.resolve("warehouse"));

    Run run = floe("run", config.toString());

    assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
    assertThat(run.error())
        .startsWith("error: FLOE-001 Cannot run ")
        .contains("declares no pipelines");
  }

  @Test
  void anUnreachableSourceIsARetriableExternalError() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    Path config =
        write(
            "warehouse: " + directory.resolve("warehouse"),
            "pipelines:",
            "  - name: shop",
            "    source:",
            "      type: postgres",
            "      url: jdbc:postgresql://127.0.0.1:" + closedPort + "/shop",
            "      user: floe",
            "      password: secret",
            "      tables: [public.customers]",
            "sql:",
            "  postgres-port: 0",
            "  http-port: 0",
            "catalog:",
            "  port: 0");

    Run run = floe("run", config.toString());

    assertThat(run.exitCode()).as(run.err()).isEqualTo(75);
    assertThat(run.error())
        .startsWith("error: FLOE-100 Cannot connect to PostgreSQL at jdbc:postgresql://127.0.0.1:")
        .contains("check that PostgreSQL is running");
    assertThat(run.err()).doesNotContain("secret").doesNotContain("\tat ");
  }

  @Test
  void aTakenPortIsAUserError() throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Path config =
          write(
              "warehouse: " + directory.resolve("warehouse"),
              "pipelines:",
              "  - name: shop",
              "    source:",
              "      type: postgres",
              "      url: jdbc:postgresql://127.0.0.1:1/shop",
              "      user: floe",
              "      password: secret",
              "      tables: [public.customers]",
              "sql:",
              "  postgres-port: 0",
              "  http-port: " + taken.getLocalPort(),
              "catalog:",
              "  port: 0");

      Run run = floe("run", config.toString());

      assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
      assertThat(run.error()).startsWith("error: FLOE-401 ").contains("sql.http-port");
    }
  }

  @Test
  void aTakenCatalogPortIsAUserError() throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Path config =
          write(
              "warehouse: " + directory.resolve("warehouse"),
              "pipelines:",
              "  - name: shop",
              "    source:",
              "      type: postgres",
              "      url: jdbc:postgresql://127.0.0.1:1/shop",
              "      user: floe",
              "      password: secret",
              "      tables: [public.customers]",
              "sql:",
              "  postgres-port: 0",
              "  http-port: 0",
              "catalog:",
              "  port: " + taken.getLocalPort());

      Run run = floe("run", config.toString());

      assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
      assertThat(run.error())
          .startsWith("error: FLOE-401 Cannot start the REST catalog on 127.0.0.1:")
          .contains("catalog.port");
    }
  }

  private Path write(String... lines) throws IOException {
    Path config = directory.resolve("floe.yaml");
    Files.writeString(config, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
    return config;
  }

  private static synchronized Run floe(String... args) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream originalErr = System.err;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int exitCode = Main.execute(args);
      return new Run(exitCode, err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(originalErr);
    }
  }
}
