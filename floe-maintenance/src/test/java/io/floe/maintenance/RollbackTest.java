package io.floe.maintenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.writer.CdcTableWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.util.SnapshotUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RollbackTest {
  @TempDir Path warehouse;
  private CdcTable cdc;
  private List<Long> commits;

  @BeforeEach
  void setUp() {
    cdc = CdcTable.create(warehouse);
    cdc.commit(12, 20, 3);
    commits = cdc.commits();
  }

  @AfterEach
  void tearDown() throws IOException {
    cdc.close();
  }

  @Test
  void rollbackToSnapshotRestoresItsRows() {
    long last = commits.get(11);
    long target = commits.get(5);

    RollbackResult result = cdc.maintenance.rollbackToSnapshot(CdcTable.ID, target);

    assertThat(result).isEqualTo(new RollbackResult(last, target));
    Table table = cdc.load();
    assertThat(table.currentSnapshot().snapshotId()).isEqualTo(target);
    assertThat(CdcTable.read(table, target)).isEqualTo(cdc.rowsBySnapshot.get(target));
    assertThat(table.snapshot(last)).as("later snapshots stay in the table").isNotNull();
  }

  @Test
  void rollbackToTheCurrentSnapshotChangesNothing() {
    long last = commits.get(11);
    assertThat(cdc.maintenance.rollbackToSnapshot(CdcTable.ID, last))
        .isEqualTo(new RollbackResult(last, last));
  }

  @Test
  void rollbackToTimestampPicksTheLatestAncestorCommittedBefore() {
    Table table = cdc.load();
    Snapshot fourth = table.snapshot(commits.get(4));
    Instant timestamp = Instant.ofEpochMilli(fourth.timestampMillis() + 1);
    long expected = -1;
    for (Snapshot ancestor : SnapshotUtil.currentAncestors(table)) {
      if (ancestor.timestampMillis() < timestamp.toEpochMilli()) {
        expected = ancestor.snapshotId();
        break;
      }
    }
    // Commits are a few milliseconds apart: the fourth is the last one before its time + 1 ms.
    assertThat(expected).isEqualTo(commits.get(4));

    RollbackResult result = cdc.maintenance.rollbackToTimestamp(CdcTable.ID, timestamp);

    assertThat(result.currentSnapshotId()).isEqualTo(expected);
    assertThat(CdcTable.read(cdc.load(), expected)).isEqualTo(cdc.rowsBySnapshot.get(expected));

    // Exactly at a commit's time picks the one before it: "before" is strict, as in Iceberg.
    RollbackResult earlier =
        cdc.maintenance.rollbackToTimestamp(
            CdcTable.ID, Instant.ofEpochMilli(table.snapshot(commits.get(2)).timestampMillis()));
    assertThat(earlier.currentSnapshotId()).isEqualTo(commits.get(1));
  }

  @Test
  void setCurrentSnapshotMovesToASnapshotOutsideTheCurrentHistory() {
    long last = commits.get(11);
    cdc.maintenance.rollbackToSnapshot(CdcTable.ID, commits.get(3));

    assertThatThrownBy(() -> cdc.maintenance.rollbackToSnapshot(CdcTable.ID, last))
        .isInstanceOfSatisfying(
            FloeException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_VERSION_NOT_FOUND))
        .hasMessageStartingWith(
            "Cannot roll back table floe.raw.orders to snapshot "
                + last
                + ": it is not an ancestor of the current snapshot "
                + commits.get(3)
                + "; recent ancestors: "
                + commits.get(3)
                + " (")
        .hasMessageContaining(commits.get(2) + " (")
        .hasMessageEndingWith("use set_current_snapshot");

    RollbackResult result = cdc.maintenance.setCurrentSnapshot(CdcTable.ID, last);

    assertThat(result).isEqualTo(new RollbackResult(commits.get(3), last));
    assertThat(CdcTable.read(cdc.load(), last)).isEqualTo(cdc.currentModel());
  }

  @Test
  void unknownSnapshotsAreReported() {
    long unknown = 12345L;
    assertThatThrownBy(() -> cdc.maintenance.rollbackToSnapshot(CdcTable.ID, unknown))
        .isInstanceOfSatisfying(
            FloeException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_VERSION_NOT_FOUND))
        .hasMessageStartingWith(
            "Cannot roll back table floe.raw.orders to snapshot 12345: the table has no such"
                + " snapshot (it may have expired); recent snapshots of its history: "
                + commits.get(11));
    assertThatThrownBy(() -> cdc.maintenance.setCurrentSnapshot(CdcTable.ID, unknown))
        .isInstanceOfSatisfying(
            FloeException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_VERSION_NOT_FOUND))
        .hasMessageContaining("has no such snapshot");
    Instant beforeFirst =
        Instant.ofEpochMilli(cdc.load().snapshot(commits.get(0)).timestampMillis());
    assertThatThrownBy(() -> cdc.maintenance.rollbackToTimestamp(CdcTable.ID, beforeFirst))
        .isInstanceOfSatisfying(
            FloeException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_VERSION_NOT_FOUND))
        .hasMessage(
            "Cannot roll back table floe.raw.orders to "
                + beforeFirst
                + ": its oldest snapshot in the current history was committed at "
                + beforeFirst
                + "; pick a later time");
    assertThat(cdc.load().currentSnapshot().snapshotId()).isEqualTo(commits.get(11));
  }

  @Test
  void unknownTableIsReported() {
    assertThatThrownBy(
            () -> cdc.maintenance.rollbackToSnapshot(TableIdentifier.of("raw", "nope"), 1L))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_NOT_FOUND))
        .hasMessage(
            "Cannot roll back table raw.nope: no such table; tables in namespace raw:"
                + " customers, orders");
  }

  @Test
  void writerOpenDuringARollbackCommitsOnTopOfIt() {
    Table writerTable = cdc.load();
    CdcTableWriter writer = CdcTableWriter.open(writerTable);
    cdc.maintenance.rollbackToSnapshot(CdcTable.ID, commits.get(6));

    writer.upsert(CdcTable.row(1000, "late", "big"), null);
    CdcTableWriter.CommitResult result = writer.commit(Map.of()).orElseThrow();

    assertThat(result.rebased()).isTrue();
    Table table = cdc.load();
    assertThat(table.currentSnapshot().parentId()).isEqualTo(commits.get(6));
    Map<Long, List<String>> expected = new TreeMap<>(cdc.rowsBySnapshot.get(commits.get(6)));
    expected.put(1000L, List.of("late", "big"));
    assertThat(CdcTable.read(table, result.snapshotId().orElseThrow())).isEqualTo(expected);
  }
}
