package io.floe.maintenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.floe.core.catalog.CatalogDatabase;
import io.floe.core.config.MaintenanceConfig;
import io.floe.core.config.MaintenancePolicy;
import io.floe.core.config.MaintenanceTableConfig;
import io.floe.core.writer.CdcTableWriter;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.testing.ForwardingCatalog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.util.SnapshotUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class MaintenanceSchedulerTest {
  private static final TableIdentifier SHARED = TableIdentifier.of("raw", "a_shared");

  /** Retains 3 snapshots; the clock below makes every snapshot older than a second. */
  private static final MaintenancePolicy POLICY =
      new MaintenancePolicy(
          Duration.ofSeconds(1),
          3,
          MaintenancePolicy.Milestones.NONE,
          Duration.ofMinutes(1),
          2,
          false,
          RewriteDataFilesOptions.DEFAULT_TARGET_FILE_SIZE,
          RewriteDataFilesOptions.DEFAULT_MIN_INPUT_FILES,
          RewriteDataFilesOptions.DEFAULT_DELETE_RATIO,
          "");

  /** A day ahead: every file and snapshot written by the test is old enough to be maintained. */
  private final Clock clock = Clock.fixed(Instant.now().plus(Duration.ofDays(1)), ZoneOffset.UTC);

  @TempDir Path warehouse;
  private CdcTable cdc;

  @BeforeEach
  void setUp() {
    cdc = CdcTable.create(warehouse);
  }

  @AfterEach
  void tearDown() throws IOException {
    cdc.close();
  }

  @Test
  void onePassExpiresSnapshotsAndKeepsTheRows() {
    cdc.commit(20, 25, 0);
    Map<Long, List<String>> rows = cdc.currentModel();

    List<MaintenanceRun> runs;
    try (MaintenanceScheduler scheduler = scheduler(config(List.of()))) {
      runs = scheduler.runNow();
      assertThat(scheduler.history()).isEqualTo(runs);
    }

    Table table = cdc.load();
    assertThat(table.snapshots()).hasSizeLessThanOrEqualTo(3);
    assertThat(CdcTable.read(table, table.currentSnapshot().snapshotId())).isEqualTo(rows);
    assertThat(runs).allSatisfy(run -> assertThat(run.table()).isEqualTo(CdcTable.ID));
    assertThat(runs).noneMatch(MaintenanceRun::failed);
    assertThat(runs.stream().map(MaintenanceRun::operation).distinct().count())
        .as("one record per operation run")
        .isEqualTo(runs.size());
    assertThat(runs)
        .extracting(MaintenanceRun::operation)
        .contains(
            MaintenanceRun.Operation.EXPIRE_SNAPSHOTS,
            MaintenanceRun.Operation.REMOVE_ORPHAN_FILES);
    MaintenanceRun expiry = run(runs, CdcTable.ID, MaintenanceRun.Operation.EXPIRE_SNAPSHOTS);
    assertThat(expiry.details()).matches("expired \\d+ snapshots, deleted \\d+ files \\(.+\\)");
    assertThat(expiry.startedAt()).isEqualTo(clock.instant().truncatedTo(ChronoUnit.MILLIS));

    // The writer's next commits still land on the maintained table.
    cdc.commit(3, 25, 0);
    Table after = cdc.load();
    assertThat(CdcTable.read(after, after.currentSnapshot().snapshotId()))
        .isEqualTo(cdc.currentModel());
  }

  @Test
  void secondPassRunsOnlyWhatIsDue() {
    cdc.commit(10, 25, 0);
    try (MaintenanceScheduler scheduler = scheduler(config(List.of()))) {
      assertThat(scheduler.runNow()).isNotEmpty();

      // Nothing left to expire, and orphan files were removed less than a day ago.
      assertThat(scheduler.runNow()).isEmpty();
    }
  }

  @Test
  void tableOverrideTakesPrecedence() {
    cdc.commit(12, 25, 0);
    MaintenanceTableConfig keepEight =
        new MaintenanceTableConfig("raw.orders", Map.of(MaintenancePolicy.Key.RETAIN_LAST, 8));
    MaintenanceTableConfig keepFive =
        new MaintenanceTableConfig("raw.*", Map.of(MaintenancePolicy.Key.RETAIN_LAST, 5));

    try (MaintenanceScheduler scheduler = scheduler(config(List.of(keepFive, keepEight)))) {
      scheduler.runNow();
    }

    Table table = cdc.load();
    assertThat(SnapshotUtil.currentAncestorIds(table)).hasSizeGreaterThanOrEqualTo(8);
    assertThat(table.snapshots()).hasSizeLessThanOrEqualTo(8);
  }

  @Test
  void failingTableIsRecordedAndOthersAreStillMaintained() {
    Table shared =
        cdc.catalog
            .buildTable(SHARED, CdcTable.SCHEMA)
            .withProperty("format-version", "2")
            .withProperty(TableProperties.GC_ENABLED, "false")
            .create();
    CdcTableWriter writer = CdcTableWriter.open(shared);
    for (long id = 0; id < 6; id++) {
      writer.upsert(CdcTable.row(id, "n" + id, "big"), null);
      writer.commit(Map.of());
    }
    cdc.commit(10, 25, 0);

    List<MaintenanceRun> history;
    try (MaintenanceScheduler scheduler = scheduler(config(List.of()))) {
      scheduler.runNow();
      history = scheduler.history();
    }

    MaintenanceRun failedExpiry = run(history, SHARED, MaintenanceRun.Operation.EXPIRE_SNAPSHOTS);
    assertThat(failedExpiry.failed()).isTrue();
    assertThat(failedExpiry.error()).contains("gc.enabled");
    assertThat(failedExpiry.details()).isEmpty();
    assertThat(run(history, SHARED, MaintenanceRun.Operation.REMOVE_ORPHAN_FILES).failed())
        .isTrue();
    // Nothing expired; a manifest rewrite deletes nothing and may run.
    assertThat(cdc.catalog.loadTable(SHARED).snapshots()).hasSizeGreaterThanOrEqualTo(6);

    assertThat(run(history, CdcTable.ID, MaintenanceRun.Operation.EXPIRE_SNAPSHOTS).failed())
        .isFalse();
    assertThat(cdc.load().snapshots()).hasSizeLessThanOrEqualTo(3);
  }

  @Test
  void runsInTheBackgroundUntilClosed() throws Exception {
    cdc.commit(8, 25, 0);
    MaintenanceConfig config =
        new MaintenanceConfig(true, Duration.ofSeconds(1), 1, 0, POLICY.values(), List.of());
    MaintenanceScheduler scheduler = scheduler(config);
    scheduler.start();
    assertThat(scheduler.state()).isEqualTo(MaintenanceScheduler.State.RUNNING);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (scheduler.history().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    scheduler.close();

    assertThat(scheduler.history()).isNotEmpty();
    assertThat(scheduler.state()).isEqualTo(MaintenanceScheduler.State.CLOSED);
    for (Thread thread : Thread.getAllStackTraces().keySet()) {
      if (thread.getName().equals("floe-maintenance")) {
        // The worker may still be exiting after its last task.
        thread.join(Duration.ofSeconds(10).toMillis());
        assertThat(thread.isAlive()).as("maintenance thread alive after close").isFalse();
      }
    }
    assertThat(cdc.load().snapshots()).hasSizeLessThanOrEqualTo(3);
    assertThatThrownBy(scheduler::runNow).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(scheduler::start).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void recordsTheFiguresBeforeAndAfterEachRunInTheWarehouse() {
    cdc.commit(20, 25, 0);

    List<MaintenanceRun> runs;
    try (MaintenanceScheduler scheduler = scheduler(config(List.of()))) {
      runs = scheduler.runNow();
    }

    MaintenanceRun expiry = run(runs, CdcTable.ID, MaintenanceRun.Operation.EXPIRE_SNAPSHOTS);
    assertThat(expiry.before().snapshots()).isGreaterThan(3);
    assertThat(expiry.after().snapshots()).isLessThanOrEqualTo(3);
    assertThat(expiry.before().dataFiles()).isPositive();
    assertThat(expiry.before().totalBytes()).isPositive();
    // Orphan removal ran last and found nothing: the table is as expiry left it.
    assertThat(expiry.after()).isEqualTo(TableFigures.of(cdc.load()));
    // Another process reads the same runs from the warehouse's catalog database, newest first.
    List<MaintenanceRun> recorded =
        MaintenanceHistory.of(CatalogDatabase.embedded(warehouse)).recent(null, 100);
    assertThat(recorded).containsExactlyElementsOf(reversed(runs));
    assertThat(MaintenanceHistory.of(CatalogDatabase.embedded(warehouse)).recent(CdcTable.ID, 1))
        .containsExactly(runs.get(runs.size() - 1));
  }

  @Test
  void tablePropertyOverridesTheConfiguration() {
    cdc.commit(12, 25, 0);
    cdc.load().updateProperties().set("floe.maintenance.retain-last", "8").commit();
    MaintenanceTableConfig keepFive =
        new MaintenanceTableConfig("raw.orders", Map.of(MaintenancePolicy.Key.RETAIN_LAST, 5));

    try (MaintenanceScheduler scheduler = scheduler(config(List.of(keepFive)))) {
      assertThat(scheduler.runNow()).noneMatch(MaintenanceRun::failed);
    }

    Table table = cdc.load();
    assertThat(SnapshotUtil.currentAncestorIds(table)).hasSizeGreaterThanOrEqualTo(8);
    assertThat(table.snapshots()).hasSizeLessThanOrEqualTo(8);
  }

  @Test
  void invalidTablePropertyFailsThatTableOnly() {
    TableIdentifier misconfigured = TableIdentifier.of("raw", "b_misconfigured");
    Table table =
        cdc.catalog
            .buildTable(misconfigured, CdcTable.SCHEMA)
            .withProperty("format-version", "2")
            .withProperty("floe.maintenance.retain-last", "many")
            .create();
    CdcTableWriter writer = CdcTableWriter.open(table);
    for (long id = 0; id < 6; id++) {
      writer.upsert(CdcTable.row(id, "n" + id, "big"), null);
      writer.commit(Map.of());
    }
    cdc.commit(10, 25, 0);

    List<MaintenanceRun> runs;
    try (MaintenanceScheduler scheduler = scheduler(config(List.of()))) {
      runs = scheduler.runNow();
    }

    MaintenanceRun policy = run(runs, misconfigured, MaintenanceRun.Operation.READ_POLICY);
    assertThat(policy.failed()).isTrue();
    assertThat(policy.error())
        .contains(
            "table property floe.maintenance.retain-last has the invalid value 'many' (must be an"
                + " integer between 1 and 2147483647)");
    assertThat(policy.before()).isEqualTo(TableFigures.of(cdc.catalog.loadTable(misconfigured)));
    assertThat(runs).filteredOn(run -> run.table().equals(misconfigured)).hasSize(1);
    assertThat(cdc.catalog.loadTable(misconfigured).snapshots()).hasSize(6);
    assertThat(run(runs, CdcTable.ID, MaintenanceRun.Operation.EXPIRE_SNAPSHOTS).failed())
        .isFalse();
    assertThat(MaintenanceHistory.of(CatalogDatabase.embedded(warehouse)).recent(misconfigured, 10))
        .containsExactly(policy);
  }

  @Test
  void compactionRunsFirstAndFoldsDeletes() {
    cdc.commit(10, 25, 0);
    MaintenanceTableConfig compact =
        new MaintenanceTableConfig(
            "raw.*",
            Map.of(
                MaintenancePolicy.Key.COMPACT,
                true,
                MaintenancePolicy.Key.COMPACT_MIN_INPUT_FILES,
                2,
                MaintenancePolicy.Key.COMPACT_DELETE_RATIO,
                0.01));

    List<MaintenanceRun> runs;
    try (MaintenanceScheduler scheduler = scheduler(config(List.of(compact)))) {
      runs = scheduler.runNow();
    }

    List<MaintenanceRun> ofOrders =
        runs.stream().filter(run -> run.table().equals(CdcTable.ID)).toList();
    MaintenanceRun compaction = ofOrders.get(0);
    assertThat(compaction.operation()).isEqualTo(MaintenanceRun.Operation.REWRITE_DATA_FILES);
    assertThat(compaction.failed()).isFalse();
    assertThat(compaction.details()).contains("rewrote");
    assertThat(compaction.after().dataFiles()).isEqualTo(1);
    assertThat(compaction.before().dataFiles()).isGreaterThan(1);
    assertThat(compaction.after().deleteFiles()).isZero();
    assertThat(run(ofOrders, CdcTable.ID, MaintenanceRun.Operation.EXPIRE_SNAPSHOTS).failed())
        .isFalse();
    Table table = cdc.load();
    assertThat(CdcTable.read(table, table.currentSnapshot().snapshotId()))
        .isEqualTo(cdc.currentModel());
  }

  @Test
  void maintainsUpToMaxConcurrentTablesAtOnce() {
    cdc.commit(4, 25, 0);
    OverlapCatalog catalog = new OverlapCatalog(cdc.catalog);
    for (int tables : List.of(1, 2)) {
      MaintenanceConfig config =
          new MaintenanceConfig(true, Duration.ofHours(1), tables, 0, POLICY.values(), List.of());
      catalog.reset();
      try (MaintenanceScheduler scheduler =
          new MaintenanceScheduler(
              new WarehouseMaintenance(
                  catalog,
                  config,
                  MaintenanceHistory.of(CatalogDatabase.embedded(warehouse)),
                  new TableWriterRegistry(),
                  clock))) {
        scheduler.runNow();
      }
      // raw.customers and raw.orders: each table's first load waits, so overlapping ones show.
      assertThat(catalog.mostAtOnce()).as("tables maintained at once").isEqualTo(tables);
    }
  }

  @Test
  void tableDroppedDuringMaintenanceIsNotAFailure() {
    cdc.commit(10, 25, 0);
    OverlapCatalog catalog = new OverlapCatalog(cdc.catalog);
    catalog.dropOnSecondLoad = CdcTable.ID;
    List<MaintenanceRun> runs;
    try (MaintenanceScheduler scheduler = scheduler(catalog, config(List.of()))) {
      runs = scheduler.runNow();
      assertThat(scheduler.history()).isEqualTo(runs);
    }
    assertThat(cdc.catalog.tableExists(CdcTable.ID)).as("dropped after its first load").isFalse();
    assertThat(runs).as("nothing recorded for the dropped table").isEmpty();
  }

  /**
   * Floe shuts down under an operation, which then fails (as Iceberg's thread pools, stopped with
   * the JVM, reject its tasks): the run is recorded as cut short by the shutdown, not as broken.
   */
  @Test
  void anOperationFailingAsTheSchedulerClosesIsRecordedAsCutShort() throws Exception {
    cdc.commit(10, 25, 0);
    OverlapCatalog catalog = new OverlapCatalog(cdc.catalog);
    catalog.closeAndFailOnThirdLoad = CdcTable.ID;
    List<MaintenanceRun> runs;
    try (MaintenanceScheduler scheduler = scheduler(catalog, config(List.of()))) {
      catalog.scheduler = scheduler;
      runs = scheduler.runNow();
      catalog.closer.join(10_000);
      assertThat(scheduler.state()).isEqualTo(MaintenanceScheduler.State.CLOSED);
    }

    MaintenanceRun first = runs.get(0);
    assertThat(first.failed()).isTrue();
    assertThat(first.error())
        .startsWith(MaintenanceScheduler.STOPPED_BY_SHUTDOWN)
        .contains("rejected from a terminated pool");
    assertThat(MaintenanceHistory.of(CatalogDatabase.embedded(warehouse)).recent(null, 10))
        .contains(first);
  }

  @Test
  void historyThatCannotBeWrittenDoesNotStopMaintenance(@TempDir Path elsewhere)
      throws IOException {
    // A directory where the catalog database should be: every record fails.
    Files.createDirectories(elsewhere.resolve("catalog.db"));
    cdc.commit(10, 25, 0);
    Logger logger = (Logger) LoggerFactory.getLogger(MaintenanceHistory.class);
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    logger.addAppender(log);

    List<MaintenanceRun> runs;
    try (MaintenanceScheduler scheduler =
        new MaintenanceScheduler(
            new WarehouseMaintenance(
                cdc.catalog,
                config(List.of()),
                MaintenanceHistory.of(CatalogDatabase.embedded(elsewhere)),
                new TableWriterRegistry(),
                clock))) {
      runs = scheduler.runNow();
    } finally {
      logger.detachAppender(log);
    }

    assertThat(runs).isNotEmpty().noneMatch(MaintenanceRun::failed);
    assertThat(cdc.load().snapshots()).hasSizeLessThanOrEqualTo(3);
    assertThat(log.list).hasSize(runs.size());
    ILoggingEvent event = log.list.get(0);
    assertThat(event.getLevel()).isEqualTo(Level.ERROR);
    assertThat(event.getFormattedMessage())
        .startsWith("Cannot record the ")
        .contains("run of table raw.orders in the maintenance history (jdbc:sqlite:");
    assertThat(event.getThrowableProxy()).as("the cause is logged").isNotNull();
  }

  private MaintenanceScheduler scheduler(MaintenanceConfig config) {
    return scheduler(cdc.catalog, config);
  }

  private MaintenanceScheduler scheduler(Catalog catalog, MaintenanceConfig config) {
    return new MaintenanceScheduler(
        new WarehouseMaintenance(
            catalog,
            config,
            MaintenanceHistory.of(CatalogDatabase.embedded(warehouse)),
            new TableWriterRegistry(),
            clock));
  }

  private static MaintenanceConfig config(List<MaintenanceTableConfig> tables) {
    return new MaintenanceConfig(true, Duration.ofHours(1), 1, 0, POLICY.values(), tables);
  }

  private static List<MaintenanceRun> reversed(List<MaintenanceRun> runs) {
    List<MaintenanceRun> copy = new ArrayList<>(runs);
    Collections.reverse(copy);
    return copy;
  }

  /**
   * The warehouse's catalog, with the first load of each table by a maintenance thread held for a
   * moment, to count how many tables the scheduler maintains at once; and a table that may be
   * dropped while it is maintained.
   */
  private static final class OverlapCatalog extends ForwardingCatalog {
    private final JdbcCatalog delegate;
    private final Set<TableIdentifier> held = ConcurrentHashMap.newKeySet();
    private final AtomicInteger atOnce = new AtomicInteger();
    private final AtomicInteger mostAtOnce = new AtomicInteger();
    private final AtomicInteger loads = new AtomicInteger();

    /** A table dropped just before its second load by maintenance: its first operation's. */
    volatile TableIdentifier dropOnSecondLoad;

    /**
     * A table whose third load (its first operation's own) closes {@link #scheduler} on another
     * thread, {@link #closer}, and then fails.
     */
    volatile TableIdentifier closeAndFailOnThirdLoad;

    volatile MaintenanceScheduler scheduler;
    volatile Thread closer;

    OverlapCatalog(JdbcCatalog delegate) {
      super(delegate);
      this.delegate = delegate;
    }

    void reset() {
      held.clear();
      mostAtOnce.set(0);
    }

    int mostAtOnce() {
      return mostAtOnce.get();
    }

    @Override
    public Table loadTable(TableIdentifier identifier) {
      if (identifier.equals(dropOnSecondLoad) && loads.incrementAndGet() == 2) {
        delegate.dropTable(identifier, false);
      }
      if (identifier.equals(closeAndFailOnThirdLoad) && loads.incrementAndGet() == 3) {
        closer = new Thread(scheduler::close, "closer");
        closer.start();
        while (scheduler.state() != MaintenanceScheduler.State.CLOSED) {
          CdcTable.pause(5);
        }
        throw new RejectedExecutionException(
            "Task rejected from a terminated pool (Iceberg's pools stop with the JVM)");
      }
      if (Thread.currentThread().getName().startsWith("floe-maintenance-table-")
          && held.add(identifier)) {
        mostAtOnce.accumulateAndGet(atOnce.incrementAndGet(), Math::max);
        CdcTable.pause(500);
        atOnce.decrementAndGet();
      }
      return delegate.loadTable(identifier);
    }
  }

  private static MaintenanceRun run(
      List<MaintenanceRun> runs, TableIdentifier table, MaintenanceRun.Operation operation) {
    List<MaintenanceRun> matching =
        runs.stream()
            .filter(run -> run.table().equals(table) && run.operation() == operation)
            .toList();
    assertThat(matching).as("runs of %s on %s", operation, table).hasSize(1);
    return matching.get(0);
  }
}
