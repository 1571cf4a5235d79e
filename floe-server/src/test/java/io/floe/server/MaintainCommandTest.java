package io.floe.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.writer.CdcTableWriter;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code floe maintain}: each operation from the command line, and its errors. */
class MaintainCommandTest {
  private static final Schema SCHEMA =
      new Schema(
          List.of(
              Types.NestedField.required(1, "id", Types.LongType.get()),
              Types.NestedField.optional(2, "note", Types.StringType.get())),
          Set.of(1));

  @TempDir Path warehouse;

  private record Run(int exitCode, String out, String err) {}

  private static synchronized Run floe(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream originalOut = System.out;
    PrintStream originalErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int exitCode = Main.execute(args);
      return new Run(
          exitCode, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(originalOut);
      System.setErr(originalErr);
    }
  }

  private List<Long> writeCommits(int commits) throws Exception {
    List<Long> snapshots = new ArrayList<>();
    try (JdbcCatalog catalog = FloeCatalog.open(warehouse)) {
      catalog.createNamespace(Namespace.of("raw"));
      Table table =
          catalog.createTable(
              TableIdentifier.of("raw", "notes"),
              SCHEMA,
              PartitionSpec.unpartitioned(),
              Map.of("format-version", "2"));
      CdcTableWriter writer = CdcTableWriter.open(table);
      for (int commit = 0; commit < commits; commit++) {
        GenericRecord row = GenericRecord.create(SCHEMA);
        row.set(0, (long) commit % 3);
        row.set(1, "version " + commit);
        writer.upsert(row, null);
        writer.commit(Map.of(), false);
        snapshots.add(writer.table().currentSnapshot().snapshotId());
      }
    }
    return snapshots;
  }

  private List<Long> snapshotIds() throws Exception {
    try (JdbcCatalog catalog = FloeCatalog.open(warehouse)) {
      List<Long> ids = new ArrayList<>();
      for (Snapshot snapshot : catalog.loadTable(TableIdentifier.of("raw", "notes")).snapshots()) {
        ids.add(snapshot.snapshotId());
      }
      return ids;
    }
  }

  @Test
  void expiresRollsBackAndRewritesFromTheCommandLine() throws Exception {
    List<Long> snapshots = writeCommits(6);
    String dir = warehouse.toString();
    String after = Instant.now().plusSeconds(1).toString();

    Run dryRun =
        floe(
            "maintain",
            "expire-snapshots",
            "-w",
            dir,
            "raw.notes",
            "--older-than",
            after,
            "--retain-last",
            "2",
            "--dry-run");
    assertThat(dryRun.exitCode()).as(dryRun.err()).isZero();
    assertThat(dryRun.out()).startsWith("Would expire 4 snapshots of raw.notes");
    assertThat(snapshotIds()).hasSize(6);

    Run expire =
        floe(
            "maintain",
            "expire-snapshots",
            "-w",
            dir,
            "raw.notes",
            "--older-than",
            after,
            "--retain-last",
            "2");
    assertThat(expire.out()).startsWith("Expired 4 snapshots of raw.notes");
    assertThat(snapshotIds()).containsExactlyElementsOf(snapshots.subList(4, 6));

    Run rollback =
        floe(
            "maintain",
            "rollback",
            "-w",
            dir,
            "raw.notes",
            "--to-snapshot",
            snapshots.get(4).toString());
    assertThat(rollback.out())
        .isEqualTo(
            "raw.notes: current snapshot "
                + snapshots.get(4)
                + " (was "
                + snapshots.get(5)
                + ")\n");

    Run manifests = floe("maintain", "rewrite-manifests", "-w", dir, "raw.notes");
    assertThat(manifests.exitCode()).as(manifests.err()).isZero();
    assertThat(manifests.out()).startsWith("Rewrote the manifests of raw.notes");

    Run orphans = floe("maintain", "remove-orphan-files", "-w", dir, "raw.notes", "--dry-run");
    assertThat(orphans.out()).startsWith("Found 0 orphan files of raw.notes");
  }

  @Test
  void reportsBadArgumentsClearly() throws Exception {
    writeCommits(1);
    String dir = warehouse.toString();
    Run badTable = floe("maintain", "rewrite-manifests", "-w", dir, "notes");
    assertThat(badTable.exitCode()).isEqualTo(1);
    assertThat(badTable.err()).contains("name the table as namespace.table");
    Run missing = floe("maintain", "rewrite-manifests", "-w", dir, "raw.nope");
    assertThat(missing.exitCode()).isEqualTo(1);
    assertThat(missing.err()).contains("raw.nope");
    Run badAge =
        floe("maintain", "expire-snapshots", "-w", dir, "raw.notes", "--older-than", "yesterday");
    assertThat(badAge.exitCode()).isEqualTo(1);
    assertThat(badAge.err()).contains("write an age such as 5d");
    Run twoTargets =
        floe(
            "maintain",
            "rollback",
            "-w",
            dir,
            "raw.notes",
            "--to-snapshot",
            "1",
            "--set-current",
            "2");
    assertThat(twoTargets.err()).contains("give exactly one of --to-snapshot, --to-timestamp");
  }
}
