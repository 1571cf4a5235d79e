package io.floe.catalog;

/** {@link RestCatalogConcurrencyTest} with the catalog database on PostgreSQL. */
class PostgresRestCatalogConcurrencyTest extends RestCatalogConcurrencyTest {
  @Override
  RestCatalogFixture.Metastore metastore() {
    return RestCatalogFixture.Metastore.POSTGRES;
  }
}
