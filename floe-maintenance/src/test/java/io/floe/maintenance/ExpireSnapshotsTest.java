package io.floe.maintenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.util.SnapshotUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExpireSnapshotsTest {
  private static final Comparator<Snapshot> OLDEST_FIRST =
      Comparator.comparingLong(Snapshot::timestampMillis)
          .thenComparingLong(Snapshot::sequenceNumber);

  private static final int COMMITS = 24;

  @TempDir Path warehouse;
  private CdcTable cdc;

  @BeforeEach
  void setUp() {
    cdc = CdcTable.create(warehouse);
  }

  /** Many CDC commits; the writer compacts small files and merges delete files along the way. */
  private void history() {
    cdc.commit(COMMITS, 25, 0);
  }

  @AfterEach
  void tearDown() throws IOException {
    cdc.close();
  }

  @Test
  void expiresSnapshotsOlderThanTheCutoffAndDeletesOnlyTheirFiles() {
    history();
    Table before = cdc.load();
    Instant cutoff = Instant.ofEpochMilli(before.snapshot(cdc.commits().get(10)).timestampMillis());
    Set<Long> expected =
        idsWhere(before, snapshot -> snapshot.timestampMillis() < cutoff.toEpochMilli());
    assertThat(expected).isNotEmpty().doesNotContain(before.currentSnapshot().snapshotId());
    Expectation expectation = expect(before, expected);

    ExpireResult result =
        cdc.maintenance.expireSnapshots(
            CdcTable.ID, new ExpirePolicy(cutoff, 1, ExpirePolicy.Milestones.NONE, false));

    assertThat(result.dryRun()).isFalse();
    assertThat(result.expiredSnapshotIds()).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(result.expiredSnapshotIds())
        .isSortedAccordingTo(Comparator.comparing((Long id) -> before.snapshot(id), OLDEST_FIRST));
    expectation.verify(result);
  }

  @Test
  void expiringAllButTheLastDeletesReplacedDataAndDeleteFiles() {
    history();
    Table before = cdc.load();
    long current = before.currentSnapshot().snapshotId();
    Set<Long> expected = idsWhere(before, snapshot -> snapshot.snapshotId() != current);
    Expectation expectation = expect(before, expected);

    ExpireResult result =
        cdc.maintenance.expireSnapshots(CdcTable.ID, everything(1, ExpirePolicy.Milestones.NONE));

    assertThat(result.expiredSnapshotIds()).containsExactlyInAnyOrderElementsOf(expected);
    // The writer compacted small files and merged delete files: the replaced ones are gone now.
    assertThat(result.deletedDataFiles()).isPositive();
    assertThat(result.deletedDeleteFiles()).isPositive();
    assertThat(result.deletedManifests()).isPositive();
    assertThat(result.deletedManifestLists()).isEqualTo(expected.size());
    expectation.verify(result);
    assertThat(cdc.load().snapshots()).hasSize(1);
  }

  @Test
  void retainLastKeepsTheMostRecentSnapshotsOfTheMainBranch() {
    history();
    Table before = cdc.load();
    List<Long> commits = cdc.commits();
    Set<Long> kept = new HashSet<>(commits.subList(commits.size() - 7, commits.size()));
    Set<Long> expected = idsWhere(before, snapshot -> !kept.contains(snapshot.snapshotId()));
    Expectation expectation = expect(before, expected);

    ExpireResult result =
        cdc.maintenance.expireSnapshots(CdcTable.ID, everything(7, ExpirePolicy.Milestones.NONE));

    assertThat(result.expiredSnapshotIds()).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(idsWhere(cdc.load(), snapshot -> true)).isEqualTo(kept);
    expectation.verify(result);
  }

  @Test
  void dailyMilestonesKeepTheFirstSnapshotOfEachUtcDay() {
    checkMilestones(
        ExpirePolicy.Milestones.DAILY,
        snapshot ->
            Instant.ofEpochMilli(snapshot.timestampMillis()).atZone(ZoneOffset.UTC).toLocalDate());
  }

  @Test
  void monthlyMilestonesKeepTheFirstSnapshotOfEachUtcMonth() {
    checkMilestones(
        ExpirePolicy.Milestones.MONTHLY,
        snapshot ->
            YearMonth.from(
                Instant.ofEpochMilli(snapshot.timestampMillis()).atZone(ZoneOffset.UTC)));
  }

  private void checkMilestones(
      ExpirePolicy.Milestones milestones, Function<Snapshot, Object> period) {
    history();
    Table before = cdc.load();
    Map<Object, Snapshot> first = new HashMap<>();
    for (Snapshot snapshot : SnapshotUtil.currentAncestors(before)) {
      first.merge(
          period.apply(snapshot),
          snapshot,
          (left, right) -> OLDEST_FIRST.compare(left, right) <= 0 ? left : right);
    }
    Set<Long> kept = new HashSet<>();
    first.values().forEach(snapshot -> kept.add(snapshot.snapshotId()));
    kept.add(before.currentSnapshot().snapshotId());
    // The test runs within a day (or two, around midnight): one milestone per day or month.
    assertThat(first).hasSizeBetween(1, 2);
    Set<Long> expected = idsWhere(before, snapshot -> !kept.contains(snapshot.snapshotId()));
    Expectation expectation = expect(before, expected);

    ExpireResult result = cdc.maintenance.expireSnapshots(CdcTable.ID, everything(1, milestones));

    assertThat(result.expiredSnapshotIds()).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(idsWhere(cdc.load(), snapshot -> true)).isEqualTo(kept);
    assertThat(kept).contains(cdc.commits().get(0));
    expectation.verify(result);
  }

  @Test
  void branchesAndTagsAreNeverExpired() {
    history();
    List<Long> commits = cdc.commits();
    cdc.load()
        .manageSnapshots()
        .createTag("audit", commits.get(3))
        .createBranch("staging", commits.get(8))
        .commit();
    Table before = cdc.load();
    long current = before.currentSnapshot().snapshotId();
    Set<Long> kept = Set.of(current, commits.get(3), commits.get(8));
    Set<Long> expected = idsWhere(before, snapshot -> !kept.contains(snapshot.snapshotId()));
    Expectation expectation = expect(before, expected);

    ExpireResult result =
        cdc.maintenance.expireSnapshots(CdcTable.ID, everything(1, ExpirePolicy.Milestones.NONE));

    assertThat(result.expiredSnapshotIds()).containsExactlyInAnyOrderElementsOf(expected);
    Table after = cdc.load();
    assertThat(idsWhere(after, snapshot -> true)).isEqualTo(kept);
    assertThat(after.refs()).containsOnlyKeys("main", "audit", "staging");
    expectation.verify(result);
  }

  @Test
  void writersBaseSnapshotIsKeptUnderManifestRewrites() {
    history();
    long writersBase = cdc.commits().get(COMMITS - 1);
    cdc.maintenance.rewriteManifests(CdcTable.ID);
    long firstRewrite = cdc.load().currentSnapshot().snapshotId();
    // A second rewrite on top: the writer's commit must still reach its base through both.
    cdc.load().rewriteManifests().clusterBy(file -> "all").commit();
    Table before = cdc.load();
    long secondRewrite = before.currentSnapshot().snapshotId();
    assertThat(before.snapshot(secondRewrite).parentId()).isEqualTo(firstRewrite);
    assertThat(before.snapshot(firstRewrite).parentId()).isEqualTo(writersBase);
    Set<Long> kept = Set.of(secondRewrite, firstRewrite, writersBase);
    Set<Long> expected = idsWhere(before, snapshot -> !kept.contains(snapshot.snapshotId()));
    Expectation expectation = expect(before, expected);

    ExpireResult result =
        cdc.maintenance.expireSnapshots(CdcTable.ID, everything(1, ExpirePolicy.Milestones.NONE));

    assertThat(result.expiredSnapshotIds()).containsExactlyInAnyOrderElementsOf(expected);
    expectation.verify(result);
    // The writer, opened before all of them, still commits on its base snapshot.
    cdc.commit(3, 10, 0);
    Table after = cdc.load();
    assertThat(CdcTable.read(after, after.currentSnapshot().snapshotId()))
        .isEqualTo(cdc.currentModel());
  }

  @Test
  void dryRunChangesNothingAndReportsWhatTheRunDoes() {
    history();
    Table before = cdc.load();
    String metadata = metadataLocation(before);
    Set<Path> files = filesOnDisk();
    Instant cutoff = Instant.ofEpochMilli(before.snapshot(cdc.commits().get(20)).timestampMillis());

    ExpireResult dryRun =
        cdc.maintenance.expireSnapshots(
            CdcTable.ID, new ExpirePolicy(cutoff, 3, ExpirePolicy.Milestones.NONE, true));

    assertThat(dryRun.dryRun()).isTrue();
    assertThat(dryRun.expiredSnapshotIds()).isNotEmpty();
    assertThat(metadataLocation(cdc.load())).isEqualTo(metadata);
    assertThat(filesOnDisk()).isEqualTo(files);

    ExpireResult run =
        cdc.maintenance.expireSnapshots(
            CdcTable.ID, new ExpirePolicy(cutoff, 3, ExpirePolicy.Milestones.NONE, false));

    assertThat(run.expiredSnapshotIds()).isEqualTo(dryRun.expiredSnapshotIds());
    assertThat(run.deletedDataFiles()).isEqualTo(dryRun.deletedDataFiles());
    assertThat(run.deletedDeleteFiles()).isEqualTo(dryRun.deletedDeleteFiles());
    assertThat(run.deletedManifests()).isEqualTo(dryRun.deletedManifests());
    assertThat(run.deletedManifestLists()).isEqualTo(dryRun.deletedManifestLists());
    assertThat(run.deletedBytes()).isEqualTo(dryRun.deletedBytes());
    cdc.assertEverySnapshotReadsItsRows();
  }

  @Test
  void defaultPolicyKeepsSnapshotsYoungerThanFiveDays() {
    cdc.commit(3, 10, 0);
    Instant now = Instant.parse("2026-03-01T12:00:00Z");
    ExpirePolicy defaults = ExpirePolicy.defaults(Clock.fixed(now, ZoneOffset.UTC));
    assertThat(defaults)
        .isEqualTo(
            new ExpirePolicy(
                now.minus(Duration.ofDays(5)), 1, ExpirePolicy.Milestones.NONE, false));

    String metadata = metadataLocation(cdc.load());
    ExpireResult result =
        cdc.maintenance.expireSnapshots(CdcTable.ID, ExpirePolicy.defaults(Clock.systemUTC()));

    assertThat(result.expiredSnapshotIds()).isEmpty();
    assertThat(result.deletedBytes()).isZero();
    assertThat(metadataLocation(cdc.load())).as("nothing committed").isEqualTo(metadata);
  }

  @Test
  void tableRetentionPropertiesDoNotWidenThePolicy() {
    history();
    // Iceberg's own expiry would also remove everything older than 1 ms beyond the last snapshot.
    cdc.load().updateProperties().set(TableProperties.MAX_SNAPSHOT_AGE_MS, "1").commit();
    Table before = cdc.load();
    Instant cutoff = Instant.ofEpochMilli(before.snapshot(cdc.commits().get(10)).timestampMillis());
    Set<Long> expected =
        idsWhere(before, snapshot -> snapshot.timestampMillis() < cutoff.toEpochMilli());
    CdcTable.pause(5);

    ExpireResult result =
        cdc.maintenance.expireSnapshots(
            CdcTable.ID, new ExpirePolicy(cutoff, 1, ExpirePolicy.Milestones.NONE, false));

    assertThat(result.expiredSnapshotIds()).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(cdc.load().snapshots()).hasSize(COMMITS - expected.size());
  }

  @Test
  void refusesToRetainFewerThanOneSnapshot() {
    assertThatThrownBy(
            () -> new ExpirePolicy(Instant.now(), 0, ExpirePolicy.Milestones.NONE, false))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CONFIG_INVALID))
        .hasMessage(
            "Cannot expire snapshots with retain_last 0: the table's current snapshot is always"
                + " kept; use 1 or more");
  }

  @Test
  void refusesTablesWhoseGarbageCollectionIsOff() {
    cdc.commit(3, 10, 0);
    cdc.load().updateProperties().set(TableProperties.GC_ENABLED, "false").commit();
    assertThatThrownBy(
            () ->
                cdc.maintenance.expireSnapshots(
                    CdcTable.ID, everything(1, ExpirePolicy.Milestones.NONE)))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CONFIG_INVALID))
        .hasMessageContaining("gc.enabled is false");
    assertThat(cdc.load().snapshots()).hasSize(3);
  }

  @Test
  void unknownTableIsReportedWithTheNamespacesTables() {
    cdc.commit(1, 10, 0);
    assertThatThrownBy(
            () ->
                cdc.maintenance.expireSnapshots(
                    TableIdentifier.of("raw", "order"),
                    everything(1, ExpirePolicy.Milestones.NONE)))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_NOT_FOUND))
        .hasMessage(
            "Cannot expire snapshots of table raw.order: no such table; tables in namespace raw:"
                + " customers, orders");
    assertThatThrownBy(
            () ->
                cdc.maintenance.expireSnapshots(
                    TableIdentifier.of("staging", "orders"),
                    everything(1, ExpirePolicy.Milestones.NONE)))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_NOT_FOUND))
        .hasMessageEndingWith("namespace staging does not exist");
  }

  /** A policy whose cutoff lies after every snapshot. */
  private ExpirePolicy everything(int retainLast, ExpirePolicy.Milestones milestones) {
    long last = cdc.load().currentSnapshot().timestampMillis();
    return new ExpirePolicy(Instant.ofEpochMilli(last + 1), retainLast, milestones, false);
  }

  private static Set<Long> idsWhere(Table table, Predicate<Snapshot> filter) {
    Set<Long> ids = new HashSet<>();
    for (Snapshot snapshot : table.snapshots()) {
      if (filter.test(snapshot)) {
        ids.add(snapshot.snapshotId());
      }
    }
    return ids;
  }

  private static String metadataLocation(Table table) {
    return ((HasTableOperations) table).operations().current().metadataFileLocation();
  }

  private Set<Path> filesOnDisk() {
    try (Stream<Path> paths = Files.walk(warehouse)) {
      return paths
          .filter(Files::isRegularFile)
          .filter(path -> !path.getFileName().toString().startsWith("catalog.db"))
          .collect(Collectors.toSet());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The files only the expired snapshots reference, with their kinds and sizes, taken before the
   * expiry; and the model rows of every snapshot, to read them after.
   */
  private Expectation expect(Table before, Set<Long> expired) {
    List<Snapshot> gone = new ArrayList<>();
    List<Snapshot> retained = new ArrayList<>();
    for (Snapshot snapshot : before.snapshots()) {
      (expired.contains(snapshot.snapshotId()) ? gone : retained).add(snapshot);
    }
    Map<String, String> deleted = new HashMap<>(CdcTable.referencedFiles(before, gone));
    deleted.keySet().removeAll(CdcTable.referencedFiles(before, retained).keySet());
    long bytes = 0;
    for (String location : deleted.keySet()) {
      try {
        bytes += Files.size(Path.of(location));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return new Expectation(deleted, bytes);
  }

  private final class Expectation {
    private final Map<String, String> deleted;
    private final long bytes;

    Expectation(Map<String, String> deleted, long bytes) {
      this.deleted = deleted;
      this.bytes = bytes;
    }

    void verify(ExpireResult result) {
      assertThat(result.deletedDataFiles()).isEqualTo(count("data"));
      assertThat(result.deletedDeleteFiles()).isEqualTo(count("delete"));
      assertThat(result.deletedManifests()).isEqualTo(count("manifest"));
      assertThat(result.deletedManifestLists()).isEqualTo(count("manifest list"));
      assertThat(result.deletedBytes()).isEqualTo(bytes);
      for (String location : deleted.keySet()) {
        assertThat(Path.of(location)).as("expired file").doesNotExist();
      }
      Table after = cdc.load();
      for (String location : CdcTable.referencedFiles(after, after.snapshots()).keySet()) {
        assertThat(Path.of(location)).as("file of a retained snapshot").exists();
      }
      cdc.assertEverySnapshotReadsItsRows();
    }

    private long count(String kind) {
      return deleted.values().stream().filter(kind::equals).count();
    }
  }
}
