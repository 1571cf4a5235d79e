package io.floe.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.BaseTransaction;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableCommit;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.rest.RESTCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Concurrent commits through Iceberg's {@link RESTCatalog} clients to the running REST catalog,
 * with the catalog database on SQLite ({@link PostgresRestCatalogConcurrencyTest}: PostgreSQL).
 * Every acknowledged commit is in the table exactly once, no failed one is, the snapshots form one
 * chain, and a commit fails only with {@link CommitFailedException}. Multi-table transactions
 * commit every table or none. Bounded: 8 clients, 25 commits each.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class RestCatalogConcurrencyTest {
  private static final int CLIENTS = 8;
  private static final int COMMITS = 25;
  private static final Namespace DB = Namespace.of("db");
  private static final Schema SCHEMA =
      new Schema(Types.NestedField.required(1, "id", Types.LongType.get()));

  @TempDir Path directory;
  private RestCatalogFixture fixture;
  private RESTCatalog admin;

  RestCatalogFixture.Metastore metastore() {
    return RestCatalogFixture.Metastore.SQLITE;
  }

  @BeforeEach
  void start() throws Exception {
    fixture = RestCatalogFixture.start(metastore(), directory.resolve("warehouse"));
    admin = fixture.client(Map.of());
    admin.createNamespace(DB);
  }

  @AfterEach
  void stop() throws Exception {
    fixture.close();
  }

  /** The outcome of the commits of all clients: acknowledged and failed files, by table. */
  private static final class Outcome {
    final Map<TableIdentifier, Set<String>> acknowledged = new ConcurrentHashMap<>();
    final Map<TableIdentifier, Set<String>> failed = new ConcurrentHashMap<>();
    final List<Throwable> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());

    void acknowledge(TableIdentifier table, String path) {
      acknowledged.computeIfAbsent(table, ignored -> ConcurrentHashMap.newKeySet()).add(path);
    }

    void fail(TableIdentifier table, String path) {
      failed.computeIfAbsent(table, ignored -> ConcurrentHashMap.newKeySet()).add(path);
    }

    Set<String> acknowledged(TableIdentifier table) {
      return acknowledged.getOrDefault(table, Set.of());
    }

    Set<String> failed(TableIdentifier table) {
      return failed.getOrDefault(table, Set.of());
    }

    int acknowledgedCount() {
      return acknowledged.values().stream().mapToInt(Set::size).sum();
    }
  }

  /** What one client thread does: its number and a client of its own. */
  @FunctionalInterface
  private interface Work {
    void run(int client, RESTCatalog catalog, Outcome outcome) throws Exception;
  }

  private Outcome runClients(Work work) throws Exception {
    Outcome outcome = new Outcome();
    ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
    CountDownLatch ready = new CountDownLatch(CLIENTS);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int client = 0; client < CLIENTS; client++) {
        int number = client;
        RESTCatalog catalog = fixture.client(Map.of());
        futures.add(
            pool.submit(
                () -> {
                  ready.countDown();
                  ready.await();
                  work.run(number, catalog, outcome);
                  return null;
                }));
      }
      for (Future<?> future : futures) {
        future.get(4, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(1, TimeUnit.MINUTES)).isTrue();
    }
    assertThat(outcome.unexpected).as("failures other than CommitFailedException").isEmpty();
    return outcome;
  }

  /** Appends one file; records it as acknowledged or failed (CommitFailedException only). */
  private static void append(
      Table table, TableIdentifier identifier, String path, Outcome outcome) {
    try {
      table.newFastAppend().appendFile(file(path)).commit();
      outcome.acknowledge(identifier, path);
    } catch (CommitFailedException e) {
      outcome.fail(identifier, path);
    } catch (RuntimeException e) {
      outcome.unexpected.add(e);
    }
  }

  @Test
  void concurrentAppendsToOneTableAreEachCommittedOnce() throws Exception {
    TableIdentifier events = TableIdentifier.of(DB, "events");
    admin.createTable(events, SCHEMA);
    Outcome outcome =
        runClients(
            (client, catalog, result) -> {
              Table table = catalog.loadTable(events);
              for (int commit = 0; commit < COMMITS; commit++) {
                append(table, events, "/x/f-" + client + "-" + commit + ".parquet", result);
              }
            });
    assertThat(outcome.acknowledged(events)).isNotEmpty();
    assertHolds(events, outcome.acknowledged(events), outcome.failed(events));
    assertThat(outcome.acknowledged(events).size() + outcome.failed(events).size())
        .isEqualTo(CLIENTS * COMMITS);
  }

  @Test
  void concurrentAppendsToAHundredTablesAreEachCommittedOnce() throws Exception {
    List<TableIdentifier> tables = new ArrayList<>();
    for (int index = 0; index < 100; index++) {
      TableIdentifier table = TableIdentifier.of(DB, "t" + index);
      admin.createTable(table, SCHEMA);
      tables.add(table);
    }
    Outcome outcome =
        runClients(
            (client, catalog, result) -> {
              Map<TableIdentifier, Table> loaded = new HashMap<>();
              for (int commit = 0; commit < COMMITS; commit++) {
                // Spread over all tables, two clients on some tables at once.
                TableIdentifier identifier = tables.get((client * 37 + commit * 11) % 100);
                Table table = loaded.computeIfAbsent(identifier, catalog::loadTable);
                append(
                    table,
                    identifier,
                    "/x/" + identifier.name() + "-" + client + "-" + commit,
                    result);
              }
            });
    assertThat(outcome.acknowledgedCount()).isPositive();
    for (TableIdentifier table : tables) {
      assertHolds(table, outcome.acknowledged(table), outcome.failed(table));
    }
  }

  @Test
  void aTransactionOverThreeTablesCommitsAllThree() {
    List<TableIdentifier> tables = createTables("a", "b", "c");
    List<TableCommit> commits = new ArrayList<>();
    for (TableIdentifier table : tables) {
      commits.add(appendCommit(admin, table, "/x/tx-" + table.name()));
    }
    admin.commitTransaction(commits);
    for (TableIdentifier table : tables) {
      assertHolds(table, Set.of("/x/tx-" + table.name()), Set.of());
    }
  }

  @Test
  void aTransactionWithAStaleTableChangesNone() {
    List<TableIdentifier> tables = createTables("a", "b", "c");
    List<TableCommit> commits = new ArrayList<>();
    for (TableIdentifier table : tables) {
      commits.add(appendCommit(admin, table, "/x/tx-" + table.name()));
    }
    // Table b changes after the transaction read it: its assert-ref-snapshot-id fails.
    fixture
        .client(Map.of())
        .loadTable(tables.get(1))
        .newFastAppend()
        .appendFile(file("/x/b-1"))
        .commit();
    Map<TableIdentifier, String> locations = locations(tables);
    assertThatThrownBy(() -> admin.commitTransaction(commits))
        .isInstanceOf(CommitFailedException.class);
    assertThat(locations(tables)).isEqualTo(locations);
    assertHolds(tables.get(0), Set.of(), Set.of("/x/tx-a"));
    assertHolds(tables.get(1), Set.of("/x/b-1"), Set.of("/x/tx-b"));
    assertHolds(tables.get(2), Set.of(), Set.of("/x/tx-c"));
  }

  @Test
  void aTransactionWithAStaleRequirementIsAConflictOverRawHttp() {
    List<TableIdentifier> tables = createTables("a", "b", "c");
    for (TableIdentifier table : tables) {
      admin.loadTable(table).newFastAppend().appendFile(file("/x/" + table.name() + "-0")).commit();
    }
    long stale = admin.loadTable(tables.get(1)).currentSnapshot().snapshotId();
    admin.loadTable(tables.get(1)).newFastAppend().appendFile(file("/x/b-1")).commit();
    StringBuilder body = new StringBuilder("{\"table-changes\":[");
    for (TableIdentifier table : tables) {
      long snapshotId =
          table.equals(tables.get(1))
              ? stale
              : admin.loadTable(table).currentSnapshot().snapshotId();
      body.append(table.equals(tables.get(0)) ? "" : ",")
          .append("{\"identifier\":{\"namespace\":[\"db\"],\"name\":\"")
          .append(table.name())
          .append("\"},\"requirements\":[{\"type\":\"assert-ref-snapshot-id\",\"ref\":\"main\",")
          .append("\"snapshot-id\":")
          .append(snapshotId)
          .append("}],\"updates\":[{\"action\":\"set-properties\",\"updates\":{\"k\":\"v\"}}]}");
    }
    body.append("]}");
    RestCatalogFixture.State before = fixture.state();
    java.net.http.HttpResponse<String> response =
        fixture.send("POST", "/v1/transactions/commit", body.toString(), fixture.token());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(409);
    assertThat(response.body()).contains("\"code\":409").doesNotContain("\tat ");
    assertThat(fixture.state()).isEqualTo(before);
  }

  @Test
  void aTransactionThatLosesTheCompareAndSwapChangesNone() {
    List<TableIdentifier> tables = createTables("a", "b", "c");
    List<TableCommit> commits = new ArrayList<>();
    for (TableIdentifier table : tables) {
      commits.add(appendCommit(admin, table, "/x/tx-" + table.name()));
    }
    Map<TableIdentifier, String> locations = locations(tables);
    // Table c is committed to after the server checked the requirements and wrote the new
    // metadata files, just before it swaps the metadata locations: c's swap finds another location
    // and the swaps of a and b, made in the same database transaction, are rolled back.
    fixture.beforeNextConnection(
        () ->
            fixture
                .catalog()
                .loadTable(tables.get(2))
                .newFastAppend()
                .appendFile(file("/x/c-1"))
                .commit());
    assertThatThrownBy(() -> admin.commitTransaction(commits))
        .isInstanceOf(CommitFailedException.class)
        .hasMessageContaining("db.c");
    Map<TableIdentifier, String> after = locations(tables);
    assertThat(after.get(tables.get(0))).isEqualTo(locations.get(tables.get(0)));
    assertThat(after.get(tables.get(1))).isEqualTo(locations.get(tables.get(1)));
    assertThat(after.get(tables.get(2))).isNotEqualTo(locations.get(tables.get(2)));
    assertHolds(tables.get(0), Set.of(), Set.of("/x/tx-a"));
    assertHolds(tables.get(1), Set.of(), Set.of("/x/tx-b"));
    assertHolds(tables.get(2), Set.of("/x/c-1"), Set.of("/x/tx-c"));
  }

  @Test
  void concurrentTransactionsCommitEveryTableOrNone() throws Exception {
    List<TableIdentifier> tables = createTables("a", "b", "c", "d");
    Map<String, List<TableIdentifier>> transactions = new ConcurrentHashMap<>();
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    Set<String> failed = ConcurrentHashMap.newKeySet();
    runClients(
        (client, catalog, result) -> {
          for (int commit = 0; commit < 10; commit++) {
            String name = "tx-" + client + "-" + commit;
            List<TableIdentifier> changed = new ArrayList<>(tables);
            changed.remove((client + commit) % tables.size());
            transactions.put(name, changed);
            List<TableCommit> commits = new ArrayList<>();
            for (TableIdentifier table : changed) {
              commits.add(appendCommit(catalog, table, "/x/" + name + "-" + table.name()));
            }
            try {
              catalog.commitTransaction(commits);
              acknowledged.add(name);
            } catch (CommitFailedException e) {
              failed.add(name);
            } catch (RuntimeException e) {
              result.unexpected.add(e);
            }
          }
        });
    assertThat(acknowledged).isNotEmpty();
    assertThat(acknowledged.size() + failed.size()).isEqualTo(CLIENTS * 10);
    for (TableIdentifier table : tables) {
      Set<String> expected = new HashSet<>();
      Set<String> absent = new HashSet<>();
      transactions.forEach(
          (name, changed) -> {
            if (changed.contains(table)) {
              (acknowledged.contains(name) ? expected : absent)
                  .add("/x/" + name + "-" + table.name());
            }
          });
      assertHolds(table, expected, absent);
    }
  }

  private List<TableIdentifier> createTables(String... names) {
    List<TableIdentifier> tables = new ArrayList<>();
    for (String name : names) {
      TableIdentifier table = TableIdentifier.of(DB, name);
      admin.createTable(table, SCHEMA);
      tables.add(table);
    }
    return tables;
  }

  /** The change of a transaction that appends {@code path} to the table as it is now. */
  private static TableCommit appendCommit(RESTCatalog catalog, TableIdentifier table, String path) {
    Transaction transaction = catalog.loadTable(table).newTransaction();
    transaction.newFastAppend().appendFile(file(path)).commit();
    BaseTransaction base = (BaseTransaction) transaction;
    return TableCommit.create(table, base.startMetadata(), base.currentMetadata());
  }

  private Map<TableIdentifier, String> locations(List<TableIdentifier> tables) {
    Map<TableIdentifier, String> locations = new HashMap<>();
    for (TableIdentifier table : tables) {
      locations.put(table, fixture.metadataLocation(table));
    }
    return locations;
  }

  /**
   * Asserts that the table loads (through the catalog and through a new client), that its snapshots
   * form one chain from the first to the current one, one snapshot per acknowledged append, and
   * that its files are the acknowledged ones, each once, and none of the failed ones.
   */
  private void assertHolds(
      TableIdentifier identifier, Set<String> acknowledged, Set<String> failed) {
    Table table = fixture.catalog().loadTable(identifier);
    Table viaRest = fixture.client(Map.of()).loadTable(identifier);
    assertThat(((BaseTable) viaRest).operations().current().metadataFileLocation())
        .isEqualTo(((BaseTable) table).operations().current().metadataFileLocation());

    List<Snapshot> snapshots = new ArrayList<>();
    table.snapshots().forEach(snapshots::add);
    snapshots.sort(Comparator.comparingLong(Snapshot::sequenceNumber));
    assertThat(snapshots).as("snapshots of %s", identifier).hasSize(acknowledged.size());
    Long parent = null;
    long sequence = 0;
    for (Snapshot snapshot : snapshots) {
      assertThat(snapshot.parentId()).as("parent in %s", identifier).isEqualTo(parent);
      assertThat(snapshot.sequenceNumber()).isGreaterThan(sequence);
      assertThat(snapshot.summary().get("added-data-files")).isEqualTo("1");
      parent = snapshot.snapshotId();
      sequence = snapshot.sequenceNumber();
    }
    if (acknowledged.isEmpty()) {
      assertThat(table.currentSnapshot()).isNull();
      return;
    }
    assertThat(table.currentSnapshot().snapshotId()).isEqualTo(parent);
    assertThat(table.currentSnapshot().summary().get("total-data-files"))
        .isEqualTo(Integer.toString(acknowledged.size()));

    List<String> files = new ArrayList<>();
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      for (FileScanTask task : tasks) {
        files.add(task.file().location());
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    assertThat(files)
        .as("files of %s", identifier)
        .containsExactlyInAnyOrderElementsOf(acknowledged);
    if (!failed.isEmpty()) {
      assertThat(files).doesNotContainAnyElementsOf(failed);
    }
  }

  private static DataFile file(String path) {
    return DataFiles.builder(PartitionSpec.unpartitioned())
        .withPath(path)
        .withFormat(FileFormat.PARQUET)
        .withFileSizeInBytes(10)
        .withRecordCount(1)
        .build();
  }
}
