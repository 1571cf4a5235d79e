package io.floe.core.catalog;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.storage.LocalFileIO;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * Opens the Iceberg catalog of a warehouse: Iceberg's {@link JdbcCatalog} on an embedded SQLite
 * file inside the warehouse ({@code catalog.db}), with table data under the same directory.
 */
public final class FloeCatalog {
  /** Name of the catalog as engines see it. */
  public static final String NAME = "floe";

  private static final String DATABASE_FILE = "catalog.db";

  /**
   * Settings of every connection to the database. SQLite: let readers (floe sql) and the writer
   * (floe run) share the file.
   */
  private static final Map<String, String> DATABASE_SETTINGS =
      Map.of("journal_mode", "WAL", "busy_timeout", "30000");

  private FloeCatalog() {}

  /** The JDBC URL of the warehouse's catalog database, {@code catalog.db} in the warehouse. */
  public static String databaseUrl(Path warehouse) {
    return "jdbc:sqlite:" + warehouse.toAbsolutePath().normalize().resolve(DATABASE_FILE);
  }

  /**
   * Whether the warehouse has a catalog database. {@link #open} and {@link #connect} create it when
   * it is missing.
   */
  public static boolean exists(Path warehouse) {
    return Files.isRegularFile(warehouse.toAbsolutePath().normalize().resolve(DATABASE_FILE));
  }

  /**
   * A connection to the warehouse's catalog database with the catalog's own settings, for Floe's
   * tables beside the catalog's (such as the maintenance history). Creates the database when it is
   * missing, but not the warehouse directory.
   */
  public static Connection connect(Path warehouse) throws SQLException {
    Properties properties = new Properties();
    properties.putAll(DATABASE_SETTINGS);
    return DriverManager.getConnection(databaseUrl(warehouse), properties);
  }

  public static JdbcCatalog open(Path warehouse) {
    Path root = warehouse.toAbsolutePath().normalize();
    try {
      Files.createDirectories(root);
    } catch (IOException e) {
      throw new FloeException(
          ErrorCode.CATALOG_FAILED,
          "Cannot open warehouse "
              + root
              + ": "
              + e.getMessage()
              + "; check the path and its permissions",
          e);
    }
    Map<String, String> properties = new HashMap<>();
    properties.put(CatalogProperties.URI, databaseUrl(root));
    properties.put(CatalogProperties.WAREHOUSE_LOCATION, root.toString());
    properties.put(CatalogProperties.FILE_IO_IMPL, LocalFileIO.class.getName());
    properties.put("jdbc.schema-version", "V1");
    DATABASE_SETTINGS.forEach((name, value) -> properties.put("jdbc." + name, value));
    properties.put(CatalogProperties.CLIENT_POOL_SIZE, "1");
    // Manifests are immutable: keep recently read ones in memory, so that planning a query (or a
    // commit) does not parse the same Avro files again.
    properties.put(CatalogProperties.IO_MANIFEST_CACHE_ENABLED, "true");
    JdbcCatalog catalog = new JdbcCatalog();
    try {
      catalog.initialize(NAME, properties);
    } catch (RuntimeException e) {
      throw new FloeException(
          ErrorCode.CATALOG_FAILED,
          "Cannot open catalog of warehouse " + root + ": " + e.getMessage(),
          e);
    }
    return catalog;
  }
}
