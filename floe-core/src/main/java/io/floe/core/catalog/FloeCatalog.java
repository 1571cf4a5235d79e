package io.floe.core.catalog;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.storage.LocalFileIO;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * Opens the Iceberg catalog of a warehouse: Iceberg's {@link JdbcCatalog} on its {@link
 * CatalogDatabase} (the embedded SQLite file {@code catalog.db} of the warehouse's state directory,
 * or a PostgreSQL database), with the tables' files in the warehouse: a local directory through
 * {@link LocalFileIO}, or S3-compatible object storage through Iceberg's {@code S3FileIO}.
 */
public final class FloeCatalog {
  /** Name of the catalog as engines see it. */
  public static final String NAME = "floe";

  /**
   * Connections each catalog keeps to PostgreSQL: commits of several pipelines' tables, maintenance
   * and query planning go on at once. The embedded database keeps one, since SQLite writes one at a
   * time anyway.
   */
  static final int POSTGRES_POOL_SIZE = 4;

  private static final String S3_FILE_IO = "org.apache.iceberg.aws.s3.S3FileIO";

  private FloeCatalog() {}

  /** The catalog database of the warehouse, as {@link #open} uses it. */
  public static CatalogDatabase database(WarehouseConfig warehouse, CatalogConfig catalog) {
    return CatalogDatabase.of(warehouse, catalog);
  }

  /**
   * Opens the catalog, creating the warehouse's state directory and the embedded database when they
   * are missing.
   *
   * @throws FloeException with {@link ErrorCode#CATALOG_FAILED} when the database cannot be opened
   */
  public static JdbcCatalog open(WarehouseConfig warehouse, CatalogConfig catalog) {
    CatalogDatabase database = CatalogDatabase.of(warehouse, catalog);
    if (database.embedded()) {
      createDirectory(warehouse.stateDirectory(), warehouse);
    }
    Map<String, String> properties = new HashMap<>();
    properties.put(CatalogProperties.URI, database.url());
    properties.put(CatalogProperties.WAREHOUSE_LOCATION, warehouse.location());
    properties.put("jdbc.schema-version", "V1");
    database.settings().forEach((name, value) -> properties.put("jdbc." + name, value));
    if (!database.user().isEmpty()) {
      properties.put("jdbc.user", database.user());
      properties.put("jdbc.password", database.password());
    }
    properties.put(
        CatalogProperties.CLIENT_POOL_SIZE,
        Integer.toString(database.embedded() ? 1 : POSTGRES_POOL_SIZE));
    properties.putAll(fileIoProperties(warehouse));
    // Manifests are immutable: keep recently read ones in memory, so that planning a query (or a
    // commit) does not parse the same Avro files again.
    properties.put(CatalogProperties.IO_MANIFEST_CACHE_ENABLED, "true");
    JdbcCatalog jdbcCatalog = new ZonedJdbcCatalog();
    try {
      jdbcCatalog.initialize(NAME, properties);
    } catch (RuntimeException e) {
      throw new FloeException(
          ErrorCode.CATALOG_FAILED,
          "Cannot open the catalog database "
              + database
              + " of warehouse "
              + warehouse.location()
              + ": "
              + reasons(e)
              + "; "
              + database.advice(),
          e);
    }
    return jdbcCatalog;
  }

  /**
   * The catalog properties that choose and configure the FileIO of the warehouse's tables: Floe's
   * {@link LocalFileIO}, or Iceberg's {@code S3FileIO} with the {@code storage} settings.
   */
  static Map<String, String> fileIoProperties(WarehouseConfig warehouse) {
    Map<String, String> properties = new HashMap<>();
    if (warehouse.isLocal()) {
      properties.put(CatalogProperties.FILE_IO_IMPL, LocalFileIO.class.getName());
      return properties;
    }
    properties.put(CatalogProperties.FILE_IO_IMPL, S3_FILE_IO);
    properties.putAll(warehouse.clientProperties(true));
    // The JDK's HTTP client: no Apache or Netty client on the class path.
    properties.put("http-client.type", "urlconnection");
    return properties;
  }

  /** The messages of a failure and its causes: the JDBC driver's reason is the last. */
  private static String reasons(Throwable failure) {
    StringBuilder text = new StringBuilder();
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      String message = cause.getMessage() == null ? cause.getClass().getName() : cause.getMessage();
      if (text.indexOf(message) < 0) {
        text.append(text.isEmpty() ? "" : ": ").append(message);
      }
      if (cause.getCause() == cause) {
        break;
      }
    }
    return text.toString();
  }

  private static void createDirectory(Path directory, WarehouseConfig warehouse) {
    try {
      Files.createDirectories(directory);
    } catch (IOException e) {
      throw new FloeException(
          ErrorCode.CATALOG_FAILED,
          "Cannot open warehouse "
              + warehouse.location()
              + ": cannot create "
              + directory
              + " ("
              + e.getMessage()
              + "); check the path and its permissions",
          e);
    }
  }
}
