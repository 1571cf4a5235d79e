package io.floe.core.catalog;

import static java.util.Objects.requireNonNull;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.MetadataUpdate;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableMetadataParser;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.UpdateRequirement;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.util.PropertyUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits changes to several tables of a JDBC catalog at once: all of them or none. Iceberg's
 * {@code JdbcCatalog} commits one table per database statement (a compare-and-swap of the table's
 * metadata location); here the compare-and-swap of every table runs in one database transaction, so
 * a conflict on any table rolls back all of them.
 *
 * <p>Each table's requirements are checked against its current metadata, its updates applied, and
 * its new metadata file written, before the transaction starts; the files of a transaction that
 * does not commit are deleted.
 */
public final class TableTransactions {
  private static final Logger LOG = LoggerFactory.getLogger(TableTransactions.class);

  /** The table where {@code JdbcCatalog} keeps its tables and views (schema version V1). */
  private static final String COMMIT_SQL =
      "UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ?"
          + " WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?"
          + " AND metadata_location = ? AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)";

  /** Opens a connection to the catalog's database. */
  @FunctionalInterface
  public interface Database {
    Connection connect() throws SQLException;
  }

  /**
   * The change of one table: the requirements its current metadata must meet, and the updates to
   * apply to it, as an Iceberg REST {@code UpdateTableRequest} carries them.
   */
  public record TableChange(
      TableIdentifier identifier,
      List<UpdateRequirement> requirements,
      List<MetadataUpdate> updates) {
    public TableChange {
      requireNonNull(identifier, "identifier is null");
      requirements = List.copyOf(requireNonNull(requirements, "requirements is null"));
      updates = List.copyOf(requireNonNull(updates, "updates is null"));
    }
  }

  private final Catalog catalog;
  private final String catalogName;
  private final Database database;

  /**
   * @param catalog the JDBC catalog whose tables are changed
   * @param catalogName its name, as its rows in the database carry it
   * @param database connections to the catalog's database
   */
  public TableTransactions(Catalog catalog, String catalogName, Database database) {
    this.catalog = requireNonNull(catalog, "catalog is null");
    this.catalogName = requireNonNull(catalogName, "catalogName is null");
    this.database = requireNonNull(database, "database is null");
  }

  /**
   * Commits every change, or none.
   *
   * @throws IllegalArgumentException if no change is given or a table appears twice
   * @throws org.apache.iceberg.exceptions.NoSuchTableException if a table does not exist
   * @throws CommitFailedException if a table's requirements are not met, or another commit changed
   *     a table since its metadata was read: nothing was committed
   * @throws CommitStateUnknownException if the database failed while committing, so that the
   *     changes may or may not have been committed
   */
  public void commit(List<TableChange> changes) {
    requireNonNull(changes, "changes is null");
    if (changes.isEmpty()) {
      throw new IllegalArgumentException("Invalid transaction: it changes no table");
    }
    Set<TableIdentifier> seen = new HashSet<>();
    for (TableChange change : changes) {
      if (!seen.add(change.identifier())) {
        throw new IllegalArgumentException(
            "Invalid transaction: table "
                + change.identifier()
                + " appears more than once; put all of its updates in one change");
      }
    }
    List<Prepared> prepared = new ArrayList<>();
    try {
      for (TableChange change : changes) {
        Prepared next = prepare(change);
        if (next != null) {
          prepared.add(next);
        }
      }
      if (!prepared.isEmpty()) {
        swap(prepared);
      }
    } catch (RuntimeException e) {
      if (!(e instanceof CommitStateUnknownException)) {
        prepared.forEach(Prepared::deleteFile);
      }
      throw e;
    }
  }

  /** Checks a change against the table's current metadata and writes its new metadata file. */
  private Prepared prepare(TableChange change) {
    Table table = catalog.loadTable(change.identifier());
    if (!(table instanceof BaseTable baseTable)) {
      throw new IllegalArgumentException(
          "Cannot commit to " + change.identifier() + ": it is not an Iceberg table");
    }
    TableOperations operations = baseTable.operations();
    TableMetadata base = operations.current();
    for (UpdateRequirement requirement : change.requirements()) {
      requirement.validate(base);
    }
    TableMetadata.Builder builder = TableMetadata.buildFrom(base);
    for (MetadataUpdate update : change.updates()) {
      update.applyTo(builder);
    }
    TableMetadata updated = builder.build();
    if (updated.changes().isEmpty()) {
      return null;
    }
    String codec =
        PropertyUtil.propertyAsString(
            updated.properties(),
            TableProperties.METADATA_COMPRESSION,
            TableProperties.METADATA_COMPRESSION_DEFAULT);
    String location =
        operations.metadataFileLocation(
            String.format(
                Locale.ROOT,
                "%05d-%s%s",
                version(base.metadataFileLocation()) + 1,
                UUID.randomUUID(),
                TableMetadataParser.getFileExtension(codec)));
    TableMetadataParser.write(updated, operations.io().newOutputFile(location));
    return new Prepared(change.identifier(), operations, base.metadataFileLocation(), location);
  }

  /** Swaps every table's metadata location in one database transaction. */
  private void swap(List<Prepared> prepared) {
    try (Connection connection = database.connect()) {
      connection.setAutoCommit(false);
      try (PreparedStatement statement = connection.prepareStatement(COMMIT_SQL)) {
        for (Prepared table : prepared) {
          statement.setString(1, table.newLocation());
          statement.setString(2, table.baseLocation());
          statement.setString(3, catalogName);
          statement.setString(4, String.join(".", table.identifier().namespace().levels()));
          statement.setString(5, table.identifier().name());
          statement.setString(6, table.baseLocation());
          if (statement.executeUpdate() != 1) {
            connection.rollback();
            throw new CommitFailedException(
                "Cannot commit the transaction: table %s was changed by another commit since its"
                    + " metadata was read, so no table was changed; load the tables again and"
                    + " retry",
                table.identifier());
          }
        }
      } catch (SQLException | RuntimeException e) {
        rollback(connection, e);
        throw e;
      }
      try {
        connection.commit();
      } catch (SQLException e) {
        throw new CommitStateUnknownException(e);
      }
    } catch (SQLException e) {
      throw new CommitFailedException(
          e, "Cannot commit the transaction: the catalog database failed: %s", e.getMessage());
    }
  }

  private static void rollback(Connection connection, Exception failure) {
    try {
      connection.rollback();
    } catch (SQLException e) {
      failure.addSuppressed(e);
    }
  }

  /** The version number that starts a metadata file's name, such as 3 for {@code 00003-...}. */
  private static int version(String metadataLocation) {
    if (metadataLocation == null) {
      return -1;
    }
    String name = metadataLocation.substring(metadataLocation.lastIndexOf('/') + 1);
    int dash = name.indexOf('-');
    try {
      return dash < 0 ? -1 : Integer.parseInt(name.substring(0, dash));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private record Prepared(
      TableIdentifier identifier,
      TableOperations operations,
      String baseLocation,
      String newLocation) {
    void deleteFile() {
      try {
        operations.io().deleteFile(newLocation);
      } catch (RuntimeException e) {
        LOG.warn("Cannot delete metadata file {} of a transaction that failed", newLocation, e);
      }
    }
  }
}
