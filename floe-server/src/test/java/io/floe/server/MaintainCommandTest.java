package io.floe.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.catalog.TableFiles;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.CdcTableWriter;
import io.floe.testing.CdcTables;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

  private static CommandRun floe(String... args) {
    return CommandRun.floe(args);
  }

  private static String[] append(String[] arguments, String last) {
    String[] all = Arrays.copyOf(arguments, arguments.length + 1);
    all[arguments.length] = last;
    return all;
  }

  private List<Long> writeCommits(int commits) throws Exception {
    List<Long> snapshots = new ArrayList<>();
    try (JdbcCatalog catalog =
        FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults())) {
      catalog.createNamespace(Namespace.of("raw"));
      Table table = CdcTables.create(catalog, TableIdentifier.of("raw", "notes"), SCHEMA);
      CdcTableWriter writer = CdcTableWriter.open(table);
      for (int commit = 0; commit < commits; commit++) {
        GenericRecord row = GenericRecord.create(SCHEMA);
        row.set(0, (long) commit % 3);
        row.set(1, "version " + commit);
        writer.upsert(row, null);
        writer.commit(Map.of());
        snapshots.add(writer.table().currentSnapshot().snapshotId());
      }
    }
    return snapshots;
  }

  private List<Long> snapshotIds() throws Exception {
    try (JdbcCatalog catalog =
        FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults())) {
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

    CommandRun dryRun =
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

    CommandRun expire =
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

    CommandRun rollback =
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

    CommandRun manifests = floe("maintain", "rewrite-manifests", "-w", dir, "raw.notes");
    assertThat(manifests.exitCode()).as(manifests.err()).isZero();
    assertThat(manifests.out()).startsWith("Rewrote the manifests of raw.notes");

    CommandRun orphans =
        floe("maintain", "remove-orphan-files", "-w", dir, "raw.notes", "--dry-run");
    assertThat(orphans.out()).startsWith("Found 0 orphan files of raw.notes");
  }

  @Test
  void reportsBadArgumentsClearly() throws Exception {
    writeCommits(1);
    String dir = warehouse.toString();
    CommandRun badTable = floe("maintain", "rewrite-manifests", "-w", dir, "notes");
    assertThat(badTable.exitCode()).isEqualTo(1);
    assertThat(badTable.err()).contains("name the table as namespace.table");
    CommandRun missing = floe("maintain", "rewrite-manifests", "-w", dir, "raw.nope");
    assertThat(missing.exitCode()).isEqualTo(1);
    assertThat(missing.err()).contains("raw.nope");
    CommandRun badAge =
        floe("maintain", "expire-snapshots", "-w", dir, "raw.notes", "--older-than", "yesterday");
    assertThat(badAge.exitCode()).isEqualTo(1);
    assertThat(badAge.err()).contains("write an age such as 5d");
    CommandRun twoTargets =
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

  @Test
  void recordsManualRunsAndShowsTheHistory() throws Exception {
    writeCommits(6);
    String dir = warehouse.toString();
    String after = Instant.now().plusSeconds(1).toString();
    floe(
        "maintain", "expire-snapshots", "-w", dir, "raw.notes", "--older-than", after, "--dry-run");
    CommandRun expire =
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
    assertThat(expire.exitCode()).as(expire.err()).isZero();
    CommandRun manifests = floe("maintain", "rewrite-manifests", "-w", dir, "raw.notes");
    assertThat(manifests.exitCode()).as(manifests.err()).isZero();

    CommandRun table = floe("maintain", "history", "-w", dir);
    assertThat(table.exitCode()).as(table.err()).isZero();
    List<String> lines = table.out().lines().toList();
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0))
        .startsWith("STARTED (UTC)")
        .contains("TABLE", "OPERATION", "DATA FILES", "SNAPSHOTS", "RESULT");
    assertThat(lines.get(1)).contains("raw.notes", "rewrite-manifests", "rewrote ");
    assertThat(lines.get(2))
        .contains("raw.notes", "expire-snapshots", "6 -> 2", "expired 4 snapshots, deleted");

    CommandRun json = floe("maintain", "history", "-w", dir, "--format", "json", "--limit", "1");
    JsonNode runs = new ObjectMapper().readTree(json.out());
    assertThat(runs).hasSize(1);
    JsonNode run = runs.get(0);
    assertThat(run.get("table").asText()).isEqualTo("raw.notes");
    assertThat(run.get("operation").asText()).isEqualTo("rewrite-manifests");
    assertThat(run.get("failed").asBoolean()).isFalse();
    assertThat(run.get("before").get("snapshots").asInt()).isEqualTo(2);
    assertThat(run.get("after").get("dataFiles").asLong()).isPositive();
    assertThat(run.get("error").isNull()).isTrue();

    CommandRun other = floe("maintain", "history", "-w", dir, "--table", "raw.other");
    assertThat(other.out()).isEqualTo("No maintenance runs recorded for raw.other\n");
  }

  @Test
  void showsAndSetsTheEffectivePolicy() throws Exception {
    writeCommits(1);
    Path config = warehouse.resolve("floe.yaml");
    Files.writeString(
        config,
        String.join(
            "\n",
            "warehouse: " + warehouse,
            "maintenance:",
            "  retain-last: 7",
            "  tables:",
            "    - name: raw.*",
            "      target-file-size: 256MB",
            ""));
    String file = config.toString();

    CommandRun shown = floe("maintain", "policy", "-c", file, "raw.notes");
    assertThat(shown.exitCode()).as(shown.err()).isZero();
    assertThat(shown.out())
        .startsWith("Maintenance policy of raw.notes\nKEY ")
        .containsPattern("retain-last +7 +config maintenance.retain-last\n")
        .containsPattern(
            "target-file-size +256MB +config maintenance.tables\\[0\\] \\(raw.\\*\\)\n")
        .containsPattern("compact +true +default\n")
        .containsPattern("sort-order +\\(empty\\) +default\n");

    CommandRun set =
        floe(
            "maintain",
            "policy",
            "-c",
            file,
            "raw.notes",
            "--set",
            "retain-last=20",
            "--set",
            "compact=false",
            "--format",
            "json");
    assertThat(set.exitCode()).as(set.err()).isZero();
    JsonNode policy = new ObjectMapper().readTree(set.out()).get("policy");
    assertThat(policy.get("retain-last").get("value").asInt()).isEqualTo(20);
    assertThat(policy.get("retain-last").get("source").asText()).isEqualTo("table property");
    assertThat(policy.get("retain-last").get("origin").asText())
        .isEqualTo("floe.maintenance.retain-last");
    assertThat(policy.get("compact").get("value").asBoolean()).isFalse();
    assertThat(policy.get("target-file-size").get("value").asLong()).isEqualTo(256L << 20);
    assertThat(policy.get("expire-older-than").get("value").asText()).isEqualTo("10m");
    assertThat(tableProperties())
        .containsEntry("floe.maintenance.retain-last", "20")
        .containsEntry("floe.maintenance.compact", "false");

    CommandRun invalid =
        floe("maintain", "policy", "-c", file, "raw.notes", "--set", "target-file-size=huge");
    assertThat(invalid.exitCode()).isEqualTo(1);
    assertThat(invalid.err())
        .contains(
            "table property floe.maintenance.target-file-size has the invalid value 'huge' (write"
                + " a whole number of bytes");
    assertThat(tableProperties()).doesNotContainKey("floe.maintenance.target-file-size");

    CommandRun unset =
        floe("maintain", "policy", "-c", file, "raw.notes", "--unset", "retain-last");
    assertThat(unset.out()).containsPattern("retain-last +7 +config maintenance.retain-last\n");
    assertThat(tableProperties()).doesNotContainKey("floe.maintenance.retain-last");

    CommandRun withoutConfig = floe("maintain", "policy", "-w", warehouse.toString(), "raw.notes");
    assertThat(withoutConfig.out()).containsPattern("retain-last +100 +default\n");
    assertThat(withoutConfig.err()).contains("No configuration file given (-c)");
  }

  @Test
  void reportsAnInvalidTablePropertyClearly() throws Exception {
    writeCommits(1);
    try (JdbcCatalog catalog =
        FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults())) {
      catalog
          .loadTable(TableIdentifier.of("raw", "notes"))
          .updateProperties()
          .set("floe.maintenance.expire-older-than", "yesterday")
          .commit();
    }

    CommandRun policy = floe("maintain", "policy", "-w", warehouse.toString(), "raw.notes");

    assertThat(policy.exitCode()).isEqualTo(1);
    assertThat(policy.err())
        .startsWith(
            "error: FLOE-001 Cannot read the maintenance policy of table raw.notes: table property"
                + " floe.maintenance.expire-older-than has the invalid value 'yesterday' (write a"
                + " number followed by ms, s, m, h or d");
  }

  @Test
  void reportsBadHistoryArgumentsClearly() throws Exception {
    writeCommits(1);
    String dir = warehouse.toString();
    CommandRun limit = floe("maintain", "history", "-w", dir, "--limit", "0");
    assertThat(limit.exitCode()).isEqualTo(1);
    assertThat(limit.err()).contains("Cannot use --limit 0: write a whole number from 1 to 10000");
    CommandRun format = floe("maintain", "history", "-w", dir, "--format", "xml");
    assertThat(format.err()).contains("Cannot use --format xml: choose table or json");
    CommandRun table = floe("maintain", "history", "-w", dir, "--table", "notes");
    assertThat(table.err()).contains("name the table as namespace.table");
    Path missing = warehouse.resolve("missing");
    CommandRun noWarehouse = floe("maintain", "history", "-w", missing.toString());
    assertThat(noWarehouse.exitCode()).isEqualTo(1);
    assertThat(noWarehouse.err())
        .contains(
            "Cannot read the maintenance history of warehouse "
                + missing
                + ": no such directory; pass the warehouse with -w");
    assertThat(Files.exists(missing)).isFalse();
  }

  @Test
  void rewritesDataFilesWithProgress() throws Exception {
    writeCommits(8);
    String dir = warehouse.toString();
    String[] rewrite = {
      "maintain", "rewrite-data-files", "-w", dir, "raw.notes", "--min-input-files", "2", "--where"
    };
    // No data file holds an id above 5 (ids are 0 to 2).
    CommandRun none = floe(append(rewrite, "id > 5"));
    assertThat(none.exitCode()).as(none.err()).isZero();
    assertThat(none.out()).startsWith("Nothing to rewrite in raw.notes");

    CommandRun run = floe(append(rewrite, "id BETWEEN 0 AND 2"));

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).matches("(?s)Rewrote \\d+ data files of raw.notes into 1 .*\n");
    assertThat(run.err()).contains("raw.notes: ").contains(" of ").contains("file group 1 of 1");
    try (JdbcCatalog catalog =
        FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults())) {
      Table table = catalog.loadTable(TableIdentifier.of("raw", "notes"));
      assertThat(TableFiles.load(table).dataFiles()).hasSize(1);
      assertThat(TableFiles.load(table).deleteFiles()).isEmpty();
    }
    assertThat(floe("maintain", "history", "-w", dir).out()).contains("rewrite-data-files");
    assertThat(floe("maintain", "rewrite-data-files", "-w", dir, "raw.notes").out())
        .startsWith("Nothing to rewrite in raw.notes");
  }

  @Test
  void rewriteDataFilesChecksItsOptions() throws Exception {
    writeCommits(1);
    String dir = warehouse.toString();

    CommandRun size =
        floe(
            "maintain", "rewrite-data-files", "-w", dir, "raw.notes", "--target-file-size", "12XB");
    assertThat(size.exitCode()).isEqualTo(1);
    assertThat(size.err())
        .startsWith(
            "error: FLOE-001 Cannot use --target-file-size 12XB: write a whole number of bytes,"
                + " optionally followed by B, KB, MB, GB or TB");
    CommandRun files =
        floe("maintain", "rewrite-data-files", "-w", dir, "raw.notes", "--min-input-files", "0");
    assertThat(files.err())
        .contains("Cannot use --min-input-files 0: must be an integer between 1 and 2147483647");
    CommandRun ratio =
        floe("maintain", "rewrite-data-files", "-w", dir, "raw.notes", "--delete-ratio", "most");
    assertThat(ratio.err())
        .contains("Cannot use --delete-ratio most: write a number such as 0.1 or 2");
    CommandRun order =
        floe(
            "maintain",
            "rewrite-data-files",
            "-w",
            dir,
            "raw.notes",
            "--sort-order",
            "id SIDEWAYS");
    assertThat(order.exitCode()).isEqualTo(1);
    assertThat(order.err())
        .contains(
            "Cannot use --sort-order id SIDEWAYS: must be empty, or columns separated by commas");
    CommandRun where =
        floe("maintain", "rewrite-data-files", "-w", dir, "raw.notes", "--where", "x > 1");
    assertThat(where.exitCode()).isEqualTo(1);
    assertThat(where.err())
        .contains("Cannot use --where x > 1: the table has no column x of a primitive type");
    CommandRun table = floe("maintain", "rewrite-data-files", "-w", dir, "notes");
    assertThat(table.err()).contains("name the table as namespace.table");
    CommandRun missing = floe("maintain", "rewrite-data-files", "-w", dir, "raw.nope");
    assertThat(missing.exitCode()).isEqualTo(1);
    assertThat(missing.err()).contains("raw.nope: no such table");
    assertThat(floe("maintain", "history", "-w", dir).out())
        .isEqualTo("No maintenance runs recorded\n");
  }

  private Map<String, String> tableProperties() throws Exception {
    try (JdbcCatalog catalog =
        FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults())) {
      return catalog.loadTable(TableIdentifier.of("raw", "notes")).properties();
    }
  }
}
