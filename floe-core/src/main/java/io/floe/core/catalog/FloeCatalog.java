package io.floe.core.catalog;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.storage.LocalFileIO;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
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

  private FloeCatalog() {}

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
    properties.put(CatalogProperties.URI, "jdbc:sqlite:" + root.resolve(DATABASE_FILE));
    properties.put(CatalogProperties.WAREHOUSE_LOCATION, root.toString());
    properties.put(CatalogProperties.FILE_IO_IMPL, LocalFileIO.class.getName());
    properties.put("jdbc.schema-version", "V1");
    // SQLite: let readers (floe sql) and the writer (floe run) share the file.
    properties.put("jdbc.journal_mode", "WAL");
    properties.put("jdbc.busy_timeout", "30000");
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
