package io.floe.core.catalog;

import static java.util.Objects.requireNonNull;

import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * The database that holds a warehouse's catalog, and Floe's own tables beside it (such as the
 * maintenance history): the embedded SQLite file {@code catalog.db} in the warehouse's state
 * directory, or the PostgreSQL database that {@code catalog.database} names, shared by every
 * process on the warehouse. {@link #toString()} hides the password.
 */
public final class CatalogDatabase {
  static final String DATABASE_FILE = "catalog.db";

  /**
   * Settings of every connection to the embedded database: let readers (floe sql) and the writer
   * (floe run) share the file.
   */
  private static final Map<String, String> SQLITE_SETTINGS =
      Map.of("journal_mode", "WAL", "busy_timeout", "30000");

  /**
   * Settings of every connection to PostgreSQL, in seconds: an unreachable server fails the
   * connection in that time instead of the operating system's minutes.
   */
  private static final Map<String, String> POSTGRES_SETTINGS =
      Map.of("connectTimeout", "10", "loginTimeout", "10");

  private final String url;
  private final Optional<Path> file;
  private final String user;
  private final String password;

  private CatalogDatabase(String url, Optional<Path> file, String user, String password) {
    this.url = requireNonNull(url, "url is null");
    this.file = requireNonNull(file, "file is null");
    this.user = requireNonNull(user, "user is null");
    this.password = requireNonNull(password, "password is null");
  }

  /** The catalog database of the warehouse as the {@code catalog} section configures it. */
  public static CatalogDatabase of(WarehouseConfig warehouse, CatalogConfig catalog) {
    requireNonNull(warehouse, "warehouse is null");
    requireNonNull(catalog, "catalog is null");
    if (catalog.database().isPresent()) {
      return new CatalogDatabase(
          catalog.database().get(),
          Optional.empty(),
          catalog.databaseUser(),
          catalog.databasePassword());
    }
    Path file = warehouse.stateDirectory().resolve(DATABASE_FILE);
    return new CatalogDatabase("jdbc:sqlite:" + file, Optional.of(file), "", "");
  }

  /** The embedded database of the local warehouse directory {@code directory}. */
  public static CatalogDatabase embedded(Path directory) {
    return of(WarehouseConfig.local(directory), CatalogConfig.defaults());
  }

  /** The JDBC URL, without credentials. */
  public String url() {
    return url;
  }

  /** Whether this is the embedded SQLite file, as opposed to a PostgreSQL database. */
  public boolean embedded() {
    return file.isPresent();
  }

  /**
   * Whether the database exists: the embedded file may not be created yet; a PostgreSQL database
   * always does. {@link FloeCatalog#open} and {@link #connect} create the embedded file.
   */
  public boolean exists() {
    return file.map(Files::isRegularFile).orElse(true);
  }

  /**
   * A connection with the catalog's own settings. Creates the embedded database when it is missing,
   * but not its directory.
   */
  public Connection connect() throws SQLException {
    Properties properties = new Properties();
    properties.putAll(settings());
    if (!user.isEmpty()) {
      properties.setProperty("user", user);
      properties.setProperty("password", password);
    }
    return DriverManager.getConnection(url, properties);
  }

  /** Connection settings of this kind of database, as JDBC properties. */
  Map<String, String> settings() {
    return embedded() ? SQLITE_SETTINGS : POSTGRES_SETTINGS;
  }

  String user() {
    return user;
  }

  String password() {
    return password;
  }

  /** What to check when the database cannot be opened or read, for error messages. */
  public String advice() {
    return file.map(
            path ->
                "check that "
                    + path
                    + " is the warehouse's catalog database, and that it and its directory are"
                    + " readable and writable")
        .orElse(
            "check that PostgreSQL runs at "
                + url
                + ", that the database exists and that user '"
                + user
                + "' may log in with the configured password (catalog.database,"
                + " catalog.database-user, catalog.database-password) and create tables");
  }

  @Override
  public String toString() {
    return user.isEmpty() ? url : url + " (user " + user + ")";
  }
}
