package io.floe.catalog;

import org.apache.iceberg.catalog.TableIdentifier;

/**
 * {@link RestCatalogContractTest} with the warehouse in S3 (the S3 API server on 127.0.0.1): the
 * client reads and writes the tables' files with the storage settings the server's table loads give
 * it.
 */
class S3RestCatalogContractTest extends RestCatalogContractTest {
  @Override
  RestCatalogFixture.Metastore metastore() {
    return RestCatalogFixture.Metastore.S3;
  }

  /** Tables created at a location of the test's choosing: in the bucket, not in /tmp. */
  @Override
  protected String baseTableLocation(TableIdentifier identifier) {
    return "s3://lake/custom-locations/" + identifier.namespace() + "/" + identifier.name();
  }
}
