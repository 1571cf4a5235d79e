package io.floe.core.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.MetadataUpdate;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.UpdateRequirement;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Multi-table commits on a warehouse's SQLite catalog: every table or none, and the metadata files
 * of a transaction that does not commit are deleted.
 */
class TableTransactionsTest {
  private static final Schema SCHEMA =
      new Schema(Types.NestedField.required(1, "id", Types.LongType.get()));
  private static final TableIdentifier A = TableIdentifier.of("db", "a");
  private static final TableIdentifier B = TableIdentifier.of("db", "b");
  private static final TableIdentifier C = TableIdentifier.of("db", "c");

  @TempDir Path warehouse;
  private JdbcCatalog catalog;

  @BeforeEach
  void open() {
    catalog = FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
    catalog.createNamespace(Namespace.of("db"));
    for (TableIdentifier table : List.of(A, B, C)) {
      catalog.createTable(table, SCHEMA);
    }
  }

  @AfterEach
  void close() throws IOException {
    catalog.close();
  }

  @Test
  void commitsEveryTable() {
    transactions(() -> CatalogDatabase.embedded(warehouse).connect())
        .commit(List.of(change(A, "k", "a"), change(B, "k", "b"), change(C, "k", "c")));
    assertThat(catalog.loadTable(A).properties()).containsEntry("k", "a");
    assertThat(catalog.loadTable(B).properties()).containsEntry("k", "b");
    assertThat(catalog.loadTable(C).properties()).containsEntry("k", "c");
    for (TableIdentifier table : List.of(A, B, C)) {
      assertThat(metadataFiles(table)).hasSize(2);
      // The previous metadata is still readable: the swap kept the chain.
      assertThat(((BaseTable) catalog.loadTable(table)).operations().current().previousFiles())
          .hasSize(1);
    }
  }

  @Test
  void aFailedRequirementChangesNoTableAndLeavesNoFile() {
    Map<TableIdentifier, String> before = locations();
    Map<TableIdentifier, Set<String>> files = files();
    TableTransactions.TableChange wrongUuid =
        new TableTransactions.TableChange(
            C,
            List.of(new UpdateRequirement.AssertTableUUID("00000000-0000-0000-0000-000000000000")),
            List.of(new MetadataUpdate.SetProperties(Map.of("k", "c"))));
    assertThatThrownBy(
            () ->
                transactions(() -> CatalogDatabase.embedded(warehouse).connect())
                    .commit(List.of(change(A, "k", "a"), change(B, "k", "b"), wrongUuid)))
        .isInstanceOf(CommitFailedException.class);
    assertThat(locations()).isEqualTo(before);
    assertThat(files()).isEqualTo(files);
  }

  @Test
  void losingTheCompareAndSwapOnOneTableChangesNone() {
    Map<TableIdentifier, String> before = locations();
    Map<TableIdentifier, Set<String>> files = files();
    // Table b is committed to after the transaction read it, just before the swaps.
    TableTransactions.Database racing =
        () -> {
          catalog.loadTable(B).updateProperties().set("other", "commit").commit();
          return CatalogDatabase.embedded(warehouse).connect();
        };
    assertThatThrownBy(
            () ->
                transactions(racing)
                    .commit(List.of(change(A, "k", "a"), change(B, "k", "b"), change(C, "k", "c"))))
        .isInstanceOf(CommitFailedException.class)
        .hasMessageContaining("db.b")
        .hasMessageContaining("no table was changed");
    Map<TableIdentifier, String> after = locations();
    assertThat(after.get(A)).isEqualTo(before.get(A));
    assertThat(after.get(C)).isEqualTo(before.get(C));
    Table b = catalog.loadTable(B);
    assertThat(b.properties()).containsEntry("other", "commit").doesNotContainKey("k");
    assertThat(files().get(A)).isEqualTo(files.get(A));
    assertThat(files().get(C)).isEqualTo(files.get(C));
    assertThat(metadataFiles(B)).hasSize(2);
  }

  @Test
  void aMissingTableChangesNone() {
    Map<TableIdentifier, String> before = locations();
    Map<TableIdentifier, Set<String>> files = files();
    assertThatThrownBy(
            () ->
                transactions(() -> CatalogDatabase.embedded(warehouse).connect())
                    .commit(
                        List.of(
                            change(A, "k", "a"),
                            change(TableIdentifier.of("db", "nope"), "k", "x"))))
        .isInstanceOf(NoSuchTableException.class);
    assertThat(locations()).isEqualTo(before);
    assertThat(files()).isEqualTo(files);
  }

  @Test
  void refusesEmptyAndRepeatedChanges() {
    TableTransactions transactions =
        transactions(() -> CatalogDatabase.embedded(warehouse).connect());
    assertThatThrownBy(() -> transactions.commit(List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("changes no table");
    assertThatThrownBy(() -> transactions.commit(List.of(change(A, "k", "1"), change(A, "k", "2"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("more than once");
    assertThat(catalog.loadTable(A).properties()).doesNotContainKey("k");
  }

  @Test
  void aChangeWithoutUpdatesWritesNothing() {
    Map<TableIdentifier, String> before = locations();
    Map<TableIdentifier, Set<String>> files = files();
    TableTransactions.TableChange nothing =
        new TableTransactions.TableChange(
            A,
            List.of(
                new UpdateRequirement.AssertTableUUID(
                    ((BaseTable) catalog.loadTable(A)).operations().current().uuid())),
            List.of());
    transactions(() -> CatalogDatabase.embedded(warehouse).connect())
        .commit(List.of(nothing, change(B, "k", "b")));
    Map<TableIdentifier, String> after = locations();
    assertThat(after.get(A)).isEqualTo(before.get(A));
    assertThat(files().get(A)).isEqualTo(files.get(A));
    assertThat(after.get(B)).isNotEqualTo(before.get(B));
  }

  private TableTransactions transactions(TableTransactions.Database database) {
    return new TableTransactions(catalog, FloeCatalog.NAME, database);
  }

  private TableTransactions.TableChange change(TableIdentifier table, String key, String value) {
    List<UpdateRequirement> requirements =
        catalog.tableExists(table)
            ? List.of(
                new UpdateRequirement.AssertTableUUID(
                    ((BaseTable) catalog.loadTable(table)).operations().current().uuid()))
            : List.of();
    return new TableTransactions.TableChange(
        table, requirements, List.of(new MetadataUpdate.SetProperties(Map.of(key, value))));
  }

  private Map<TableIdentifier, String> locations() {
    Map<TableIdentifier, String> locations =
        new TreeMap<>(java.util.Comparator.comparing(Object::toString));
    for (TableIdentifier table : List.of(A, B, C)) {
      locations.put(
          table,
          ((BaseTable) catalog.loadTable(table)).operations().current().metadataFileLocation());
    }
    return locations;
  }

  private Map<TableIdentifier, Set<String>> files() {
    Map<TableIdentifier, Set<String>> files =
        new TreeMap<>(java.util.Comparator.comparing(Object::toString));
    for (TableIdentifier table : List.of(A, B, C)) {
      files.put(table, metadataFiles(table));
    }
    return files;
  }

  private Set<String> metadataFiles(TableIdentifier table) {
    Path metadata = warehouse.resolve("db").resolve(table.name()).resolve("metadata");
    try (Stream<Path> list = Files.list(metadata)) {
      return list.map(path -> path.getFileName().toString())
          .collect(java.util.stream.Collectors.toCollection(TreeSet::new));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
