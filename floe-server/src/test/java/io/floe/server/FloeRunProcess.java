package io.floe.server;

import io.floe.demo.EmbeddedPostgres;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code floe run} in a child JVM, as users start it, replicating {@code TypesWorkload}'s tables
 * into namespace {@code raw}: shared by the integration tests that stop, kill or outlive it.
 */
final class FloeRunProcess {
  private FloeRunProcess() {}

  /**
   * Writes {@code floe.yaml} in {@code directory}, with the warehouse in {@code
   * directory/warehouse}, one pipeline {@code types} from {@code database} (commit interval 300 ms)
   * and the SQL endpoints on free ports, followed by {@code extraLines}.
   *
   * @param passwordVariable the environment variable that may override the password, so the
   *     configuration shows variable substitution at work
   */
  static Path writeConfig(
      Path directory,
      EmbeddedPostgres postgres,
      String database,
      String passwordVariable,
      String... extraLines)
      throws IOException {
    return writeConfig(
        directory,
        List.of("warehouse: " + warehouse(directory)),
        postgres,
        database,
        passwordVariable,
        extraLines);
  }

  /**
   * As {@link #writeConfig(Path, EmbeddedPostgres, String, String, String...)}, with the warehouse
   * (and the sections that go with it, such as {@code storage}) as {@code warehouseLines} say.
   */
  static Path writeConfig(
      Path directory,
      List<String> warehouseLines,
      EmbeddedPostgres postgres,
      String database,
      String passwordVariable,
      String... extraLines)
      throws IOException {
    return writeConfig(
        directory,
        warehouseLines,
        List.of(
            "      type: postgres",
            "      url: " + postgres.jdbcUrl(database),
            "      user: " + postgres.user(),
            "      password: ${" + passwordVariable + ":-" + postgres.password() + "}",
            "      tables: [public.everything, public.pairs]"),
        extraLines);
  }

  /** The source section's lines for the {@link io.floe.testing.MariaDbWorkload} tables. */
  static List<String> mariaDbSource(io.floe.testing.MariaDbServer server, String database) {
    return List.of(
        "      type: mariadb",
        "      url: " + server.url(database),
        "      user: root",
        "      tables: [" + database + ".everything, " + database + ".pairs]");
  }

  /**
   * As above, with the pipeline's {@code source} section as {@code sourceLines} say (indented by
   * six spaces).
   */
  static Path writeConfig(
      Path directory, List<String> warehouseLines, List<String> sourceLines, String... extraLines)
      throws IOException {
    List<String> lines = new ArrayList<>(warehouseLines);
    lines.addAll(List.of("pipelines:", "  - name: types", "    source:"));
    lines.addAll(sourceLines);
    lines.addAll(
        List.of(
            "    target:",
            "      namespace: raw",
            "    commit-interval: 300ms",
            // floe run also starts the SQL endpoints; free ports keep runs from colliding.
            "sql:",
            "  postgres-port: 0",
            "  http-port: 0"));
    lines.addAll(List.of(extraLines));
    // The REST catalog on a free port too, unless the caller writes a catalog section (with one).
    if (!lines.contains("catalog:")) {
      lines.addAll(List.of("catalog:", "  port: 0"));
    }
    lines.add("");
    Path config = directory.resolve("floe.yaml");
    Files.writeString(config, String.join("\n", lines), StandardCharsets.UTF_8);
    return config;
  }

  /** The warehouse of a configuration written by {@link #writeConfig}. */
  static Path warehouse(Path directory) {
    return directory.resolve("warehouse");
  }

  /**
   * Starts {@code floe run config}, its output (standard and error) going to {@code log}, with the
   * class path the {@code floe} launcher uses (set by the build for the integration tests).
   */
  static Process start(Path config, File log) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder builder =
        new ProcessBuilder(
            java,
            "-Xmx1g",
            "-cp",
            launcherClassPath(),
            Main.class.getName(),
            "run",
            config.toString(),
            "--status-interval",
            "2s");
    builder.redirectErrorStream(true);
    builder.redirectOutput(log);
    return builder.start();
  }

  /**
   * This module's classes and its run-time dependencies as {@code target/classpath.txt} lists them
   * (the launcher's class path), from the system properties the build sets for the integration
   * tests.
   */
  private static String launcherClassPath() throws IOException {
    String classes = System.getProperty("floe.launcher.classes");
    String listing = System.getProperty("floe.launcher.classpath");
    if (classes == null || listing == null) {
      throw new IllegalStateException(
          "floe.launcher.classes and floe.launcher.classpath are not set: run the integration"
              + " tests through Maven (./mvnw verify), which sets them");
    }
    return classes
        + File.pathSeparator
        + Files.readString(Path.of(listing), StandardCharsets.UTF_8).strip();
  }
}
