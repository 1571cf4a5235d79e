package io.floe.maintenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.CatalogDatabase;
import io.floe.core.config.EffectiveMaintenancePolicy;
import io.floe.core.config.MaintenanceConfig;
import io.floe.core.config.MaintenancePolicy;
import io.floe.core.config.MaintenanceTableConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.TableIdentifier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Operations run by users: recorded with their figures, with the table's policy. */
class WarehouseMaintenanceTest {
  private final Clock clock = Clock.fixed(Instant.now().plus(Duration.ofDays(1)), ZoneOffset.UTC);

  @TempDir Path warehouse;
  private CdcTable cdc;
  private WarehouseMaintenance maintenance;

  @BeforeEach
  void setUp() {
    cdc = CdcTable.create(warehouse);
    MaintenanceConfig config =
        new MaintenanceConfig(
            true,
            Duration.ofMinutes(10),
            1,
            32L << 20,
            Map.of(MaintenancePolicy.Key.RETAIN_LAST, 7),
            List.of(
                new MaintenanceTableConfig(
                    "raw.*", Map.of(MaintenancePolicy.Key.TARGET_FILE_SIZE, 256L << 20))));
    maintenance =
        new WarehouseMaintenance(
            cdc.catalog,
            config,
            MaintenanceHistory.of(CatalogDatabase.embedded(warehouse)),
            cdc.writers,
            clock);
  }

  @AfterEach
  void tearDown() throws IOException {
    cdc.close();
  }

  @Test
  void recordsEveryRunButDryRuns() {
    cdc.commit(8, 25, 0);
    ExpirePolicy dryRun = new ExpirePolicy(clock.instant(), 2, ExpirePolicy.Milestones.NONE, true);
    ExpirePolicy expire = new ExpirePolicy(clock.instant(), 2, ExpirePolicy.Milestones.NONE, false);

    maintenance.rewriteManifests(CdcTable.ID);
    maintenance.expireSnapshots(CdcTable.ID, dryRun);
    maintenance.removeOrphanFiles(CdcTable.ID, Duration.ofMinutes(1), true);
    ExpireResult result = maintenance.expireSnapshots(CdcTable.ID, expire);

    List<MaintenanceRun> runs = maintenance.runs(CdcTable.ID, 10);
    assertThat(runs)
        .extracting(MaintenanceRun::operation)
        .containsExactly(
            MaintenanceRun.Operation.EXPIRE_SNAPSHOTS, MaintenanceRun.Operation.REWRITE_MANIFESTS);
    MaintenanceRun expiry = runs.get(0);
    assertThat(expiry.details())
        .startsWith("expired " + result.expiredSnapshotIds().size() + " snapshots, deleted ");
    assertThat(expiry.startedAt()).isEqualTo(clock.instant().truncatedTo(ChronoUnit.MILLIS));
    assertThat(expiry.before().snapshots())
        .isEqualTo(expiry.after().snapshots() + result.expiredSnapshotIds().size());
    assertThat(expiry.after()).isEqualTo(TableFigures.of(cdc.load()));
    assertThat(runs.get(1).details()).matches("rewrote \\d+ manifests into \\d+");
  }

  @Test
  void recordsAFailureAndThrowsIt() {
    cdc.commit(3, 25, 0);
    cdc.load().updateProperties().set(TableProperties.GC_ENABLED, "false").commit();
    ExpirePolicy expire = new ExpirePolicy(clock.instant(), 1, ExpirePolicy.Milestones.NONE, false);

    FloeException exception =
        catchThrowableOfType(
            FloeException.class, () -> maintenance.expireSnapshots(CdcTable.ID, expire));

    assertThat(exception.getMessage()).contains("gc.enabled");
    MaintenanceRun run = maintenance.runs(null, 10).get(0);
    assertThat(run.failed()).isTrue();
    assertThat(run.error()).isEqualTo(exception.getMessage());
    assertThat(run.before()).isEqualTo(run.after());
  }

  @Test
  void aClassThatCannotBeLoadedFailsTheRunAndIsRecorded() {
    cdc.commit(3, 25, 0);

    WarehouseMaintenance.Outcome<RewriteDataFilesResult> outcome =
        maintenance.execute(
            CdcTable.ID,
            MaintenanceRun.Operation.REWRITE_DATA_FILES,
            () -> {
              throw new NoClassDefFoundError("org/apache/iceberg/orc/OrcRowWriter");
            },
            RunDetails::of);

    assertThat(outcome.failure()).isInstanceOf(FloeException.class);
    assertThat(((FloeException) outcome.failure()).code()).isEqualTo(ErrorCode.INTERNAL_ERROR);
    assertThat(outcome.failure()).hasCauseInstanceOf(NoClassDefFoundError.class);
    assertThat(outcome.run().failed()).isTrue();
    assertThat(outcome.run().error())
        .startsWith(
            "Cannot rewrite data files of table raw.orders: a class Floe needs could not be loaded"
                + " (java.lang.NoClassDefFoundError: org/apache/iceberg/orc/OrcRowWriter);")
        .endsWith("reinstall Floe, or check the class path of the command that runs it");
    assertThat(outcome.run().before()).isEqualTo(outcome.run().after());
  }

  @Test
  void doesNotRecordRunsOnTablesThatDoNotExist() {
    FloeException exception =
        catchThrowableOfType(
            FloeException.class,
            () -> maintenance.rewriteManifests(TableIdentifier.of("raw", "nope")));

    assertThat(exception.code()).isEqualTo(ErrorCode.TABLE_NOT_FOUND);
    assertThat(maintenance.runs(null, 10)).isEmpty();
    FloeException policy =
        catchThrowableOfType(
            FloeException.class, () -> maintenance.policy(TableIdentifier.of("raw", "nope")));
    assertThat(policy.code()).isEqualTo(ErrorCode.TABLE_NOT_FOUND);
    assertThat(policy.getMessage())
        .startsWith(
            "Cannot read the maintenance policy of table raw.nope: no such table; tables in"
                + " namespace raw: ");
  }

  @Test
  void setsAndRemovesPolicyProperties() {
    EffectiveMaintenancePolicy updated =
        maintenance.updatePolicy(
            CdcTable.ID, Map.of("retain-last", "20", "compact", " false "), Set.of());

    assertThat(cdc.load().properties())
        .containsEntry("floe.maintenance.retain-last", "20")
        .containsEntry("floe.maintenance.compact", "false");
    assertThat(updated.policy().retainLast()).isEqualTo(20);
    assertThat(updated.policy().compact()).isFalse();
    assertThat(updated.policy().targetFileSize()).isEqualTo(256L << 20);
    assertThat(updated.source(MaintenancePolicy.Key.RETAIN_LAST).toString())
        .isEqualTo("table property floe.maintenance.retain-last");
    assertThat(updated.source(MaintenancePolicy.Key.TARGET_FILE_SIZE).toString())
        .isEqualTo("config maintenance.tables[0] (raw.*)");

    FloeException invalid =
        catchThrowableOfType(
            FloeException.class,
            () ->
                maintenance.updatePolicy(
                    CdcTable.ID, Map.of("target-file-size", "huge"), Set.of("retain-last")));
    assertThat(invalid.code()).isEqualTo(ErrorCode.CONFIG_INVALID);
    assertThat(invalid.getMessage())
        .contains("table property floe.maintenance.target-file-size has the invalid value 'huge'");
    assertThat(cdc.load().properties()).containsEntry("floe.maintenance.retain-last", "20");
    FloeException unknown =
        catchThrowableOfType(
            FloeException.class,
            () -> maintenance.updatePolicy(CdcTable.ID, Map.of("retain", "2"), Set.of()));
    assertThat(unknown.getMessage())
        .startsWith(
            "Cannot set the maintenance policy of table raw.orders: unknown key 'retain'; the keys"
                + " are expire-older-than, retain-last,");

    EffectiveMaintenancePolicy removed =
        maintenance.updatePolicy(CdcTable.ID, Map.of(), Set.of("retain-last", "compact"));
    assertThat(removed.policy().retainLast()).isEqualTo(7);
    assertThat(removed.source(MaintenancePolicy.Key.RETAIN_LAST).toString())
        .isEqualTo("config maintenance.retain-last");
    assertThat(cdc.load().properties()).doesNotContainKey("floe.maintenance.retain-last");
  }

  @Test
  void compactionOptionsFollowThePolicyAndShareOneThrottle() {
    EffectiveMaintenancePolicy policy =
        maintenance
            .policy(CdcTable.ID)
            .with(MaintenancePolicy.Key.SORT_ORDER, "id DESC", "--sort-order")
            .with(MaintenancePolicy.Key.COMPACT_MIN_INPUT_FILES, "3", "--min-input-files");

    RewriteDataFilesOptions options = maintenance.rewriteOptions(policy.policy());

    assertThat(options.targetFileSizeBytes()).isEqualTo(256L << 20);
    assertThat(options.minInputFiles()).isEqualTo(3);
    assertThat(options.deleteRatio()).isEqualTo(0.1);
    assertThat(options.sortOrder()).isEqualTo("id DESC");
    assertThat(options.throttle()).isSameAs(maintenance.throttle());
    assertThat(maintenance.throttle().bytesPerSecond()).isEqualTo(32L << 20);
    assertThat(maintenance.rewriteOptions(MaintenancePolicy.defaults()).sortOrder()).isNull();
  }
}
