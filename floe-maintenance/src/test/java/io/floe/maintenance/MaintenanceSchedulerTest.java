package io.floe.maintenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.config.MaintenanceConfig;
import io.floe.core.config.MaintenancePolicy;
import io.floe.core.config.MaintenanceTableConfig;
import io.floe.core.writer.CdcTableWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.util.SnapshotUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MaintenanceSchedulerTest {
  private static final TableIdentifier SHARED = TableIdentifier.of("raw", "a_shared");

  /** Retains 3 snapshots; the clock below makes every snapshot older than a second. */
  private static final MaintenancePolicy POLICY =
      new MaintenancePolicy(
          Duration.ofSeconds(1), 3, MaintenancePolicy.Milestones.NONE, Duration.ofMinutes(1), 2);

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
    assertThat(expiry.startedAt()).isEqualTo(clock.instant());

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
        new MaintenanceTableConfig(
            "raw.orders",
            Optional.empty(),
            Optional.of(8),
            Optional.empty(),
            Optional.empty(),
            Optional.empty());
    MaintenanceTableConfig keepFive =
        new MaintenanceTableConfig(
            "raw.*",
            Optional.empty(),
            Optional.of(5),
            Optional.empty(),
            Optional.empty(),
            Optional.empty());

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
      writer.commit(Map.of(), false);
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
        new MaintenanceConfig(true, Duration.ofSeconds(1), POLICY, List.of());
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

  private MaintenanceScheduler scheduler(MaintenanceConfig config) {
    return new MaintenanceScheduler(cdc.catalog, config, clock);
  }

  private static MaintenanceConfig config(List<MaintenanceTableConfig> tables) {
    return new MaintenanceConfig(true, Duration.ofHours(1), POLICY, tables);
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
