package io.floe.spark;

import static java.util.Objects.requireNonNull;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code floe run} in a child JVM, as users start it, with floe-server's classes and launcher class
 * path: Floe's libraries (Jackson, Parquet, Hadoop, Iceberg) stay out of the JVM that runs Spark.
 * It serves the REST catalog and the SQL endpoints on free ports, which are read off its log.
 */
final class FloeRun implements AutoCloseable {
  /** The log line of the REST catalog, with the URI that engines are given. */
  static final Pattern REST_CATALOG_LISTENING =
      Pattern.compile("REST catalog listening on (http://127\\.0\\.0\\.1:\\d+/)");

  private static final Pattern HTTP_QUERY_PORT = Pattern.compile("HTTP query API on port (\\d+)");
  private static final Duration START_TIMEOUT = Duration.ofMinutes(2);

  private final Process process;
  private final Path log;
  private final String catalogUri;
  private final String queryUrl;

  private FloeRun(Process process, Path log, String catalogUri, String queryUrl) {
    this.process = requireNonNull(process, "process is null");
    this.log = requireNonNull(log, "log is null");
    this.catalogUri = requireNonNull(catalogUri, "catalogUri is null");
    this.queryUrl = requireNonNull(queryUrl, "queryUrl is null");
  }

  /**
   * Starts {@code floe run config} with {@code environment} added to this JVM's, its output going
   * to {@code log}, and waits until the REST catalog and the HTTP query API listen.
   */
  static FloeRun start(Path config, Path log, List<String> environment) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder builder =
        new ProcessBuilder(
            java,
            "-Xmx1g",
            "-cp",
            launcherClassPath(),
            "io.floe.server.Main",
            "run",
            config.toString(),
            "--status-interval",
            "2s");
    for (String variable : environment) {
      int equals = variable.indexOf('=');
      builder.environment().put(variable.substring(0, equals), variable.substring(equals + 1));
    }
    builder.redirectErrorStream(true);
    builder.redirectOutput(log.toFile());
    Process process = builder.start();
    try {
      String catalogUri = awaitMatch(process, log, REST_CATALOG_LISTENING, START_TIMEOUT);
      String queryPort = awaitMatch(process, log, HTTP_QUERY_PORT, START_TIMEOUT);
      return new FloeRun(process, log, catalogUri, "http://127.0.0.1:" + queryPort + "/v1/query");
    } catch (Exception | AssertionError e) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
      throw e;
    }
  }

  /** The REST catalog's URI, such as {@code http://127.0.0.1:40123/}. */
  String catalogUri() {
    return catalogUri;
  }

  /** The HTTP query API's {@code /v1/query} URL. */
  String queryUrl() {
    return queryUrl;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Everything {@code floe run} printed so far. */
  String output() throws IOException {
    return Files.readString(log, StandardCharsets.UTF_8);
  }

  /** Waits until the log contains {@code text}; fails with the log if it does not in time. */
  void awaitOutput(String text, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!output().contains(text)) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        throw new AssertionError("'" + text + "' never appeared in floe run's log:\n" + output());
      }
      Thread.sleep(100);
    }
  }

  /** Stops {@code floe run} with SIGTERM, as users do, and waits for it to exit. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static String awaitMatch(Process process, Path log, Pattern pattern, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String output = Files.readString(log, StandardCharsets.UTF_8);
      Matcher matcher = pattern.matcher(output);
      if (matcher.find()) {
        return matcher.group(1);
      }
      if (!process.isAlive() || System.nanoTime() > deadline) {
        throw new AssertionError(
            "floe run never logged a line matching '"
                + pattern
                + "'"
                + (process.isAlive() ? "" : " (it exited with " + process.exitValue() + ")")
                + ":\n"
                + output);
      }
      Thread.sleep(100);
    }
  }

  /**
   * floe-server's classes and run-time dependencies as its {@code target/classpath.txt} lists them
   * (the launcher's class path), from the system properties the build sets.
   */
  private static String launcherClassPath() throws IOException {
    String classes = System.getProperty("floe.launcher.classes");
    String listing = System.getProperty("floe.launcher.classpath");
    if (classes == null || listing == null) {
      throw new IllegalStateException(
          "floe.launcher.classes and floe.launcher.classpath are not set: run the integration"
              + " tests through Maven (./mvnw verify), which sets them");
    }
    List<String> entries = new ArrayList<>();
    entries.add(classes);
    entries.add(Files.readString(Path.of(listing), StandardCharsets.UTF_8).strip());
    return String.join(File.pathSeparator, entries);
  }
}
