package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a warehouse keeps its tables, and where Floe keeps its own local state for it.
 *
 * <p>A local warehouse is a directory: the tables, the embedded catalog database ({@code
 * catalog.db}) and the SQL engine's work files ({@code .floe/}) all live under it, and {@link
 * #stateDirectory()} is that directory. A warehouse in object storage ({@code s3://bucket/prefix})
 * holds only the tables; the embedded catalog database and the work files live in the local {@link
 * #stateDirectory()} instead, reached through {@link #storage()}.
 *
 * @param location the absolute, normalized directory of a local warehouse, or {@code
 *     s3://bucket/prefix} without a trailing slash
 * @param stateDirectory the local directory of the catalog database (unless it is in PostgreSQL)
 *     and of the SQL engine's work files; the warehouse directory itself for a local warehouse
 * @param storage how to reach object storage; unused for a local warehouse
 */
public record WarehouseConfig(String location, Path stateDirectory, StorageConfig storage) {
  /** The scheme of a warehouse in S3-compatible object storage. */
  public static final String S3_PREFIX = "s3://";

  public WarehouseConfig {
    requireNonNull(location, "location is null");
    requireNonNull(stateDirectory, "stateDirectory is null");
    requireNonNull(storage, "storage is null");
    if (!location.startsWith(S3_PREFIX) && !Path.of(location).equals(stateDirectory)) {
      throw new IllegalArgumentException(
          "a local warehouse is its own state directory: " + location + " vs " + stateDirectory);
    }
  }

  /** A warehouse in the local directory {@code directory}. */
  public static WarehouseConfig local(Path directory) {
    Path root = directory.toAbsolutePath().normalize();
    return new WarehouseConfig(root.toString(), root, StorageConfig.defaults());
  }

  /** Whether the warehouse is a local directory, as opposed to object storage. */
  public boolean isLocal() {
    return !location.startsWith(S3_PREFIX);
  }

  /**
   * The properties an Iceberg client needs, beside the table's location, to read and write the
   * warehouse's files, with the names of Iceberg's {@code S3FileIO}: {@code s3.endpoint}, {@code
   * s3.path-style-access}, {@code client.region}, and with {@code withCredentials} the configured
   * {@code s3.access-key-id} and {@code s3.secret-access-key}. Empty for a local warehouse. For the
   * REST catalog's {@code loadTable} responses.
   */
  public Map<String, String> clientProperties(boolean withCredentials) {
    Map<String, String> properties = new LinkedHashMap<>();
    if (isLocal()) {
      return properties;
    }
    storage.endpoint().ifPresent(endpoint -> properties.put("s3.endpoint", endpoint));
    properties.put("s3.path-style-access", Boolean.toString(storage.pathStyleAccess()));
    properties.put("client.region", storage.region());
    if (withCredentials && storage.hasCredentials()) {
      properties.put("s3.access-key-id", storage.accessKeyId());
      properties.put("s3.secret-access-key", storage.secretAccessKey());
    }
    return properties;
  }
}
