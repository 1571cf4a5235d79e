package io.floe.core.catalog;

import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A test's catalog: Floe's catalog over a local warehouse in a new temporary directory, with one
 * namespace, opened before each test (before its {@code @BeforeEach} methods) and closed and
 * deleted after it. Register it with {@code @RegisterExtension final LocalCatalog local = new
 * LocalCatalog("raw");}.
 */
public final class LocalCatalog implements BeforeEachCallback, AfterEachCallback {
  private final String namespace;
  private Path warehouse;
  private JdbcCatalog catalog;

  public LocalCatalog(String namespace) {
    this.namespace = namespace;
  }

  @Override
  public void beforeEach(ExtensionContext context) throws IOException {
    warehouse = Files.createTempDirectory("floe-test-warehouse-");
    catalog = FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
    catalog.createNamespace(Namespace.of(namespace));
  }

  @Override
  public void afterEach(ExtensionContext context) throws IOException {
    try {
      catalog.close();
    } finally {
      try (Stream<Path> paths = Files.walk(warehouse)) {
        for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(path);
        }
      }
    }
  }

  public JdbcCatalog catalog() {
    return catalog;
  }

  /**
   * Another catalog over the same warehouse, as a second process opens it; the caller closes it.
   */
  public JdbcCatalog openAnother() {
    return FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
  }

  /** The warehouse's directory. */
  public Path warehouse() {
    return warehouse;
  }

  /** Creates table {@code name} in the namespace. */
  public Table create(
      String name, Schema schema, PartitionSpec spec, Map<String, String> properties) {
    return catalog.createTable(TableIdentifier.of(namespace, name), schema, spec, properties);
  }
}
