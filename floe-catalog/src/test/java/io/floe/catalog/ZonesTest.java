package io.floe.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.rest.RESTCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seeds' raw, processed and curated zones as namespaces with an owner, a description and a
 * location, nested namespaces within them, and tables created where their zone says.
 */
class ZonesTest {
  private static final Schema SCHEMA =
      new Schema(Types.NestedField.required(1, "id", Types.LongType.get()));

  @TempDir Path directory;
  private RestCatalogFixture fixture;
  private RESTCatalog client;

  @BeforeEach
  void start() throws Exception {
    fixture =
        RestCatalogFixture.start(RestCatalogFixture.Metastore.SQLITE, directory.resolve("lake"));
    client = fixture.client(Map.of());
  }

  @AfterEach
  void stop() throws Exception {
    fixture.close();
  }

  /** Properties in a map Iceberg's client can look a null key up in (Map.of throws). */
  private static Map<String, String> properties(String... keysAndValues) {
    Map<String, String> properties = new java.util.HashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      properties.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return properties;
  }

  @Test
  void zonesAreNamespacesWithProperties() {
    Path curatedLocation = directory.resolve("curated-zone");
    client.createNamespace(
        Namespace.of("raw"), properties("owner", "ingest-team", "description", "as replicated"));
    client.createNamespace(
        Namespace.of("processed"), properties("owner", "data-eng", "description", "cleaned"));
    client.createNamespace(
        Namespace.of("curated"),
        properties(
            "owner", "analytics",
            "description", "business-ready",
            "location", curatedLocation.toString()));
    client.createNamespace(Namespace.of("curated", "finance"), properties("owner", "finance"));

    assertThat(client.listNamespaces())
        .containsExactlyInAnyOrder(
            Namespace.of("raw"), Namespace.of("processed"), Namespace.of("curated"));
    assertThat(client.listNamespaces(Namespace.of("curated")))
        .containsExactly(Namespace.of("curated", "finance"));
    assertThat(client.loadNamespaceMetadata(Namespace.of("raw")))
        .containsEntry("owner", "ingest-team")
        .containsEntry("description", "as replicated");
    assertThat(fixture.catalog().loadNamespaceMetadata(Namespace.of("curated")))
        .containsEntry("location", curatedLocation.toString());

    client.setProperties(Namespace.of("raw"), properties("owner", "platform"));
    assertThat(fixture.catalog().loadNamespaceMetadata(Namespace.of("raw")))
        .containsEntry("owner", "platform");

    Table curated = client.createTable(TableIdentifier.of("curated", "revenue"), SCHEMA);
    Table nested = client.createTable(TableIdentifier.of("curated", "finance", "ledger"), SCHEMA);
    Table raw = client.createTable(TableIdentifier.of("raw", "orders"), SCHEMA);
    assertThat(curated.location()).isEqualTo(curatedLocation.resolve("revenue").toString());
    assertThat(nested.location())
        .isEqualTo(curatedLocation.resolve("finance").resolve("ledger").toString());
    assertThat(raw.location()).isEqualTo(fixture.warehouse().resolve("raw/orders").toString());
    // A table created with the name of a renamed one gets a directory of its own: removing one
    // table's orphan files must not touch the other's data.
    raw.newFastAppend()
        .appendFile(
            org.apache.iceberg.DataFiles.builder(org.apache.iceberg.PartitionSpec.unpartitioned())
                .withPath(raw.location() + "/data/f.parquet")
                .withFileSizeInBytes(10)
                .withRecordCount(1)
                .build())
        .commit();
    client.renameTable(
        TableIdentifier.of("raw", "orders"), TableIdentifier.of("raw", "orders_2025"));
    Table recreated = client.createTable(TableIdentifier.of("raw", "orders"), SCHEMA);
    assertThat(recreated.location())
        .startsWith(fixture.warehouse().resolve("raw/orders-").toString())
        .isNotEqualTo(raw.location());
    // Floe's own components create tables in the same places.
    assertThat(
            fixture
                .catalog()
                .createTable(TableIdentifier.of("curated", "margins"), SCHEMA)
                .location())
        .isEqualTo(curatedLocation.resolve("margins").toString());
  }
}
