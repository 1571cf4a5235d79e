package io.floe.sql.pgwire;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PostgreSQL endpoint as psql (Debian's postgresql-client, installed by .ci/run) sees it. A
 * machine without psql fails these tests rather than skipping them.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class PsqlIT {
  @TempDir static Path warehouse;
  @TempDir Path scripts;
  private static PgWireFixture fixture;
  private static String psql;

  /** What a psql run printed and how it exited. */
  private record Run(int exitCode, String out, String err) {}

  @BeforeAll
  static void startServer() {
    psql = findPsql();
    fixture = PgWireFixture.start(warehouse, Duration.ofMinutes(1));
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (fixture != null) {
      fixture.close();
    }
  }

  private static String findPsql() {
    for (String directory :
        System.getenv().getOrDefault("PATH", "").split(File.pathSeparator, -1)) {
      Path candidate = Path.of(directory, "psql");
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    throw new AssertionError(
        "psql is not installed or not on PATH; install Debian's postgresql-client"
            + " (apt-get install postgresql-client), as .ci/run does");
  }

  @Test
  void runsQueriesGivenWithDashC() throws Exception {
    Run run = psql("-c", "SELECT id, amount FROM raw.sales WHERE id <= 4 ORDER BY id");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).isEqualTo("1|10.00\n2|20.00\n4|1000.00\n");

    run = psql("-c", "SELECT 'one' AS a; SELECT 2 AS b");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).isEqualTo("one\n2\n");
  }

  @Test
  void runsAScriptWithVariablesAndTransactionCommands() throws Exception {
    Path script =
        Files.writeString(
            scripts.resolve("report.sql"),
            String.join(
                "\n",
                "\\set id 4",
                "SELECT amount FROM raw.sales WHERE id = :id;",
                "SHOW server_version;",
                "SET application_name = 'report';",
                "SHOW application_name;",
                "BEGIN;",
                "SELECT count(*) FROM raw.orders",
                "  WHERE customer = :'customer';",
                "COMMIT;",
                "-- a comment between statements",
                "SELECT 'it''s ' || :'id' AS quoted;",
                ""));
    Run run = psql("-v", "customer=c3", "-f", script.toString());
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.err()).isEmpty();
    assertThat(run.out()).isEqualTo("1000.00\n16.0 (Floe)\nreport\n12\nit's 4\n");
  }

  @Test
  void stopsAScriptAtTheFirstError() throws Exception {
    Path script =
        Files.writeString(
            scripts.resolve("broken.sql"), "SELECT 1;\nSELECT * FROM raw.missing;\nSELECT 2;\n");
    Run run = psql("-f", script.toString());
    assertThat(run.exitCode()).isEqualTo(3); // psql: an error in a script with ON_ERROR_STOP
    assertThat(run.out()).isEqualTo("1\n");
    assertThat(run.err())
        .contains("broken.sql:2: ERROR:")
        .contains("Cannot query raw.missing: no such table")
        .contains("FLOE-202");
  }

  @Test
  void reportsErrorsWithTheirPosition() throws Exception {
    Run run = psql("-c", "SELECT id FROM raw.sales WHERE id = = 1");
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.out()).isEmpty();
    // psql draws its own pointer from the position the server reported.
    assertThat(run.err())
        .contains("ERROR:")
        .contains("LINE 1: SELECT id FROM raw.sales WHERE id = = 1");
  }

  @Test
  void failsDescribeCommandsClearly() throws Exception {
    Run run = psql("-c", "\\d");
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).contains("system catalogs (pg_catalog) are not available");
  }

  @Test
  void refusesAWrongPassword() throws Exception {
    Run run = psql(Map.of("PGPASSWORD", "wrong"), "-c", "SELECT 1");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("password authentication failed for user \"analyst\"");
  }

  private Run psql(String... arguments) throws IOException, InterruptedException {
    return psql(Map.of(), arguments);
  }

  private Run psql(Map<String, String> environment, String... arguments)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(psql, "-X", "-A", "-t", "-q"));
    command.addAll(List.of("-v", "ON_ERROR_STOP=1"));
    command.addAll(List.of(arguments));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().put("PGHOST", "127.0.0.1");
    builder.environment().put("PGPORT", Integer.toString(fixture.port()));
    builder.environment().put("PGUSER", PgWireFixture.USER);
    builder.environment().put("PGDATABASE", "floe");
    builder.environment().put("PGPASSWORD", PgWireFixture.PASSWORD);
    builder.environment().put("PGCONNECT_TIMEOUT", "10");
    builder.environment().put("PGSSLMODE", "prefer");
    builder.environment().put("PGCLIENTENCODING", "UTF8");
    builder.environment().putAll(environment);
    Path out = Files.createTempFile(scripts, "psql", ".out");
    Path err = Files.createTempFile(scripts, "psql", ".err");
    builder.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process process = builder.start();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("psql " + arguments[arguments.length - 1] + " did not finish");
    }
    return new Run(
        process.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }
}
