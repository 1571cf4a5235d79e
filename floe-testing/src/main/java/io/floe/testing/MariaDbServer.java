package io.floe.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private MariaDB server for tests: Debian's {@code mariadb-server} package ({@code .ci/run}
 * installs it), initialized in a directory of the test's and listening on a free port of 127.0.0.1,
 * with the binary log on in ROW format with FULL row images, as a Floe source needs. Its default
 * time zone is {@code +02:00}, so that tests see the server's zone applied to {@code timestamp}
 * values. The user {@code root} has no password.
 */
public final class MariaDbServer implements AutoCloseable {
  /** The server's default time zone. */
  public static final String TIME_ZONE = "+02:00";

  private static final Path SERVER = Path.of("/usr/sbin/mariadbd");
  private static final Path INSTALL = Path.of("/usr/bin/mariadb-install-db");

  private final Path directory;
  private final int port;
  private final Process process;

  private MariaDbServer(Path directory, int port, Process process) {
    this.directory = directory;
    this.port = port;
    this.process = process;
  }

  /** Initializes a data directory under {@code directory} and starts the server on it. */
  public static MariaDbServer start(Path directory) throws IOException, InterruptedException {
    if (!Files.isExecutable(SERVER) || !Files.isExecutable(INSTALL)) {
      throw new IllegalStateException(
          "No MariaDB server at "
              + SERVER
              + ": install Debian's mariadb-server package (apt-get install mariadb-server), as"
              + " .ci/run does");
    }
    Path data = directory.resolve("data");
    Files.createDirectories(directory);
    boolean root = "root".equals(System.getProperty("user.name"));
    List<String> install = new ArrayList<>();
    install.add(INSTALL.toString());
    install.add("--no-defaults");
    install.add("--datadir=" + data);
    install.add("--auth-root-authentication-method=normal");
    install.add("--skip-test-db");
    if (root) {
      install.add("--user=root");
    }
    run(install, directory.resolve("install.log"));
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    List<String> command = new ArrayList<>();
    command.add(SERVER.toString());
    command.add("--no-defaults");
    command.add("--datadir=" + data);
    command.add("--socket=" + directory.resolve("mariadb.sock"));
    command.add("--pid-file=" + directory.resolve("mariadb.pid"));
    command.add("--port=" + port);
    command.add("--bind-address=127.0.0.1");
    command.add("--skip-name-resolve");
    command.add("--log-bin=" + data.resolve("binlog"));
    command.add("--binlog-format=ROW");
    command.add("--binlog-row-image=FULL");
    command.add("--server-id=1");
    command.add("--default-time-zone=" + TIME_ZONE);
    command.add("--innodb-buffer-pool-size=64M");
    command.add("--log-error=" + directory.resolve("error.log"));
    if (root) {
      command.add("--user=root");
    }
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(directory.resolve("server.log").toFile())
            .start();
    MariaDbServer server = new MariaDbServer(directory, port, process);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try (Connection ignored = server.connect("mysql")) {
        return server;
      } catch (SQLException e) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          server.close();
          throw new IllegalStateException(
              "MariaDB did not start on port "
                  + port
                  + ": "
                  + e.getMessage()
                  + "\n"
                  + Files.readString(directory.resolve("error.log")),
              e);
        }
        Thread.sleep(100);
      }
    }
  }

  private static void run(List<String> command, Path log) throws IOException, InterruptedException {
    Process process =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IllegalStateException(
          String.join(" ", command) + " failed:\n" + Files.readString(log));
    }
  }

  /** The port on 127.0.0.1. */
  public int port() {
    return port;
  }

  /** The JDBC URL of {@code database}. */
  public String url(String database) {
    return "jdbc:mariadb://127.0.0.1:" + port + "/" + database;
  }

  /** A connection to {@code database} as {@code root}, in autocommit mode. */
  public Connection connect(String database) throws SQLException {
    return DriverManager.getConnection(url(database), "root", "");
  }

  /** Creates {@code database} if it does not exist. */
  public void createDatabase(String database) throws SQLException {
    try (Connection connection = connect("mysql");
        Statement statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE IF NOT EXISTS `" + database + "`");
    }
  }

  /** Where the server keeps its files. */
  public Path directory() {
    return directory;
  }

  /** Stops the server and waits for it. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
