package io.floe.catalog;

/** {@link RestCatalogContractTest} with the catalog database on PostgreSQL. */
class PostgresRestCatalogContractTest extends RestCatalogContractTest {
  @Override
  RestCatalogFixture.Metastore metastore() {
    return RestCatalogFixture.Metastore.POSTGRES;
  }
}
