package io.floe.ingest;

import io.floe.testing.ForwardingCatalog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.encryption.EncryptionManager;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.LocationProvider;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * The real catalog, except that commits to the table {@link #failCommitsOf} names fail as a storage
 * failure would, after the writer wrote its files: a crash between two tables' commits.
 */
final class FaultyCatalog extends ForwardingCatalog {
  private volatile TableIdentifier failing;

  FaultyCatalog(JdbcCatalog delegate) {
    super(delegate);
  }

  void failCommitsOf(TableIdentifier table) {
    failing = table;
  }

  /** Lets every commit through again. */
  void heal() {
    failing = null;
  }

  @Override
  public Table loadTable(TableIdentifier identifier) {
    return intercepted(identifier, super.loadTable(identifier));
  }

  @Override
  public Table createTable(
      TableIdentifier identifier,
      Schema schema,
      org.apache.iceberg.PartitionSpec spec,
      Map<String, String> properties) {
    return intercepted(identifier, super.createTable(identifier, schema, spec, properties));
  }

  private Table intercepted(TableIdentifier identifier, Table table) {
    TableOperations operations = ((HasTableOperations) table).operations();
    return new BaseTable(
        new TableOperations() {
          @Override
          public TableMetadata current() {
            return operations.current();
          }

          @Override
          public TableMetadata refresh() {
            return operations.refresh();
          }

          @Override
          public void commit(TableMetadata base, TableMetadata metadata) {
            if (identifier.equals(failing)) {
              throw new UncheckedIOException(new IOException("injected: storage unreachable"));
            }
            operations.commit(base, metadata);
          }

          @Override
          public FileIO io() {
            return operations.io();
          }

          @Override
          public EncryptionManager encryption() {
            return operations.encryption();
          }

          @Override
          public String metadataFileLocation(String fileName) {
            return operations.metadataFileLocation(fileName);
          }

          @Override
          public LocationProvider locationProvider() {
            return operations.locationProvider();
          }
        },
        table.name());
  }
}
