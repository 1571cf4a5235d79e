package io.floe.catalog;

/** {@link RestViewCatalogContractTest} with the catalog database on PostgreSQL. */
class PostgresRestViewCatalogContractTest extends RestViewCatalogContractTest {
  @Override
  RestCatalogFixture.Metastore metastore() {
    return RestCatalogFixture.Metastore.POSTGRES;
  }
}
