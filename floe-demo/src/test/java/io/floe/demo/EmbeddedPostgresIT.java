package io.floe.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;

class EmbeddedPostgresIT {
  @TempDir Path temporaryDirectory;

  @Test
  void servesLogicalReplication() throws SQLException {
    Path dataDirectory;
    try (EmbeddedPostgres postgres = EmbeddedPostgres.start()) {
      dataDirectory = postgres.dataDirectory();
      assertThat(postgres.jdbcUrl("shop"))
          .isEqualTo("jdbc:postgresql://127.0.0.1:" + postgres.port() + "/shop");
      assertThat(postgres.user()).isEqualTo("postgres");

      postgres.createDatabase("shop");
      postgres.createDatabase("shop"); // idempotent

      try (Connection connection = postgres.connect("shop");
          Statement statement = connection.createStatement()) {
        assertThat(single(statement, "SHOW wal_level")).isEqualTo("logical");
        assertThat(single(statement, "SHOW max_wal_senders")).isEqualTo("10");
        assertThat(single(statement, "SHOW max_replication_slots")).isEqualTo("10");
        assertThat(single(statement, "SHOW max_connections")).isEqualTo("100");
        assertThat(single(statement, "SHOW synchronous_commit")).isEqualTo("on");
        assertThat(single(statement, "SHOW listen_addresses")).isEqualTo("127.0.0.1");
        assertThat(single(statement, "SHOW unix_socket_directories")).isEmpty();
        assertThat(single(statement, "SELECT current_database()")).isEqualTo("shop");

        statement.execute("SELECT pg_create_logical_replication_slot('t', 'pgoutput')");
        assertThat(single(statement, "SELECT count(*) FROM pg_replication_slots")).isEqualTo("1");
        statement.execute("SELECT pg_drop_replication_slot('t')");
        assertThat(single(statement, "SELECT count(*) FROM pg_replication_slots")).isEqualTo("0");
      }

      // pg_hba.conf must admit replication connections (as Debezium opens them) from 127.0.0.1.
      Properties properties = new Properties();
      PGProperty.USER.set(properties, postgres.user());
      PGProperty.PASSWORD.set(properties, postgres.password());
      PGProperty.REPLICATION.set(properties, "database");
      PGProperty.ASSUME_MIN_SERVER_VERSION.set(properties, "9.4");
      PGProperty.PREFER_QUERY_MODE.set(properties, "simple");
      try (Connection replication =
          DriverManager.getConnection(postgres.jdbcUrl("shop"), properties)) {
        PGConnection pgConnection = replication.unwrap(PGConnection.class);
        pgConnection
            .getReplicationAPI()
            .createReplicationSlot()
            .logical()
            .withSlotName("via_protocol")
            .withOutputPlugin("pgoutput")
            .make();
        pgConnection.getReplicationAPI().dropReplicationSlot("via_protocol");
      }
    }
    assertThat(dataDirectory).doesNotExist();
  }

  @Test
  void persistentDataDirectorySurvivesRestart() throws SQLException, IOException {
    Path dataDirectory = temporaryDirectory.resolve("nested").resolve("pgdata");
    try (EmbeddedPostgres postgres = EmbeddedPostgres.start(dataDirectory)) {
      postgres.createDatabase("demo");
      try (Connection connection = postgres.connect("demo");
          Statement statement = connection.createStatement()) {
        statement.execute("CREATE TABLE kept (id int primary key, name text)");
        statement.execute("INSERT INTO kept VALUES (1, 'Grüße 東京 🚀')");
      }
    }
    assertThat(dataDirectory.resolve("PG_VERSION")).exists();

    int port = freePort();
    try (EmbeddedPostgres postgres = EmbeddedPostgres.start(dataDirectory, port)) {
      assertThat(postgres.port()).isEqualTo(port);
      postgres.createDatabase("demo");
      try (Connection connection = postgres.connect("demo");
          Statement statement = connection.createStatement()) {
        assertThat(single(statement, "SELECT name FROM kept WHERE id = 1"))
            .isEqualTo("Grüße 東京 🚀");
        assertThat(single(statement, "SHOW wal_level")).isEqualTo("logical");
      }
    }
    assertThat(dataDirectory.resolve("PG_VERSION")).exists();
  }

  @Test
  void takesOverDataDirectoryFromOrphanedServer() throws Exception {
    Path dataDirectory = temporaryDirectory.resolve("orphan");
    Path pgCtl;
    try (EmbeddedPostgres postgres = EmbeddedPostgres.start(dataDirectory)) {
      pgCtl =
          Path.of(
                  ProcessHandle.of(postmasterPid(dataDirectory))
                      .orElseThrow()
                      .info()
                      .command()
                      .orElseThrow())
              .resolveSibling("pg_ctl");
    }
    // As left behind by a JVM killed with SIGKILL: a server still running on the directory.
    // PostgreSQL refuses to run as root; zonky (and this test) then run it in a user namespace.
    List<String> command = new ArrayList<>();
    if ("root".equals(System.getProperty("user.name"))) {
      command.addAll(List.of("unshare", "-U"));
    }
    command.addAll(
        List.of(
            pgCtl.toString(),
            "-D",
            dataDirectory.toString(),
            "-o",
            "-p " + freePort() + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=''",
            "-w",
            "start"));
    Process start =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    assertThat(start.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(start.exitValue()).isZero();
    long orphanPid = postmasterPid(dataDirectory);
    try (EmbeddedPostgres postgres = EmbeddedPostgres.start(dataDirectory);
        Connection connection = postgres.connect("postgres");
        Statement statement = connection.createStatement()) {
      assertThat(single(statement, "SELECT 1")).isEqualTo("1");
      assertThat(postmasterPid(dataDirectory)).isNotEqualTo(orphanPid);
    } finally {
      ProcessHandle.of(orphanPid).ifPresent(ProcessHandle::destroyForcibly);
    }
  }

  private static long postmasterPid(Path dataDirectory) throws IOException {
    return Long.parseLong(
        Files.readAllLines(dataDirectory.resolve("postmaster.pid")).get(0).trim());
  }

  @Test
  void refusesNonEmptyDirectoryWithoutCluster() throws IOException {
    Path directory = Files.createDirectories(temporaryDirectory.resolve("not-a-cluster"));
    Files.writeString(directory.resolve("notes.txt"), "hello");
    assertThatThrownBy(() -> EmbeddedPostgres.start(directory))
        .isInstanceOf(FloeException.class)
        .hasMessageStartingWith("Cannot use " + directory)
        .satisfies(
            error ->
                assertThat(((FloeException) error).code()).isEqualTo(ErrorCode.CONFIG_INVALID));
  }

  private static String single(Statement statement, String sql) throws SQLException {
    try (ResultSet result = statement.executeQuery(sql)) {
      assertThat(result.next()).isTrue();
      return result.getString(1);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
