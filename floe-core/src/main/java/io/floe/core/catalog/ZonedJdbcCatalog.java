package io.floe.core.catalog;

import java.util.Map;
import java.util.UUID;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NoSuchNamespaceException;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.SupportsPrefixOperations;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * Iceberg's {@link JdbcCatalog}, with new tables placed under the {@code location} property of
 * their namespace or its nearest ancestor that has one (a zone such as {@code curated} kept on its
 * own storage), as Hive and Glue place them; tables of namespaces without one go under the
 * warehouse as before.
 */
final class ZonedJdbcCatalog extends JdbcCatalog {
  private static final String LOCATION = "location";

  @Override
  protected String defaultWarehouseLocation(TableIdentifier table) {
    String location = zonedLocation(table);
    // A renamed table keeps its directory: a new table of its old name must not share it, or
    // removing one table's orphan files would delete the other's data.
    if (inUse(table, location)) {
      return location + "-" + UUID.randomUUID().toString().replace("-", "");
    }
    return location;
  }

  /** Whether any file exists under {@code location}. */
  private boolean inUse(TableIdentifier table, String location) {
    FileIO io = newTableOps(table).io();
    if (!(io instanceof SupportsPrefixOperations prefixes)) {
      return false;
    }
    try {
      return prefixes.listPrefix(location + "/").iterator().hasNext();
    } catch (RuntimeException e) {
      // A location that cannot be listed (a directory that does not exist yet) holds no files.
      return false;
    }
  }

  private String zonedLocation(TableIdentifier table) {
    Namespace namespace = table.namespace();
    String[] levels = namespace.levels();
    for (int length = levels.length; length > 0; length--) {
      Namespace ancestor = Namespace.of(java.util.Arrays.copyOf(levels, length));
      String location = location(ancestor);
      if (location != null) {
        StringBuilder path = new StringBuilder(stripTrailingSlash(location));
        for (int level = length; level < levels.length; level++) {
          path.append('/').append(levels[level]);
        }
        return path.append('/').append(table.name()).toString();
      }
    }
    return super.defaultWarehouseLocation(table);
  }

  /** The location a namespace's properties set, or null (also for a namespace that is missing). */
  private String location(Namespace namespace) {
    Map<String, String> properties;
    try {
      properties = loadNamespaceMetadata(namespace);
    } catch (NoSuchNamespaceException e) {
      return null;
    }
    // JdbcCatalog reports a default location for every namespace; only a set one counts.
    String location = properties.get(LOCATION);
    return location != null
            && !location.equals(
                super.defaultWarehouseLocation(TableIdentifier.of(namespace, "x"))
                    .replaceFirst("/x$", ""))
        ? location
        : null;
  }

  private static String stripTrailingSlash(String location) {
    return location.endsWith("/") ? location.substring(0, location.length() - 1) : location;
  }
}
