package io.floe.server;

import io.floe.core.Bytes;
import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.CatalogDatabase;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.EffectiveMaintenancePolicy;
import io.floe.core.config.FloeConfig;
import io.floe.core.config.FloeConfigLoader;
import io.floe.core.config.MaintenanceConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.maintenance.ExpirePolicy;
import io.floe.maintenance.ExpireResult;
import io.floe.maintenance.MaintenanceHistory;
import io.floe.maintenance.MaintenanceRun;
import io.floe.maintenance.OrphanResult;
import io.floe.maintenance.RewriteDataFilesResult;
import io.floe.maintenance.RewriteManifestsResult;
import io.floe.maintenance.RewriteProgress;
import io.floe.maintenance.RollbackResult;
import io.floe.maintenance.RunDetails;
import io.floe.maintenance.WarehouseMaintenance;
import io.floe.server.http.MaintenanceJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code floe maintain <operation> namespace.table}: table maintenance on demand, recorded in the
 * warehouse's maintenance history (dry runs excepted); {@code floe maintain history} and {@code
 * floe maintain policy} show the history and a table's policy.
 */
@Command(
    name = "maintain",
    mixinStandardHelpOptions = true,
    description =
        "Maintain a table: compact data files, expire snapshots, remove orphan files, rewrite"
            + " manifests, roll back; show the maintenance history and a table's policy.",
    subcommands = {
      MaintainCommand.Expire.class,
      MaintainCommand.Orphans.class,
      MaintainCommand.Manifests.class,
      MaintainCommand.DataFiles.class,
      MaintainCommand.Rollback.class,
      MaintainCommand.History.class,
      MaintainCommand.Policy.class
    })
final class MaintainCommand {
  /** Largest {@code --limit} of {@code floe maintain history}: every run the history keeps. */
  static final int MAX_LIMIT = MaintenanceHistory.DEFAULT_KEEP;

  /** The warehouse and its maintenance configuration. */
  static final class Warehouse {
    @Option(
        names = {"-c", "--config"},
        paramLabel = "CONFIG",
        description =
            "Configuration file naming the warehouse and its maintenance policies (default:"
                + " floe.yaml, unless -w is given).")
    Path configFile;

    @Option(
        names = {"-w", "--warehouse"},
        paramLabel = "DIR",
        description =
            "Warehouse directory; overrides the configuration file's. Without -c, the policies"
                + " are the defaults and the tables' properties.")
    Path warehouse;

    private FloeConfig loaded;

    /** Whether policies come from a configuration file, not only from defaults. */
    boolean configured() {
      return configFile != null || warehouse == null;
    }

    private FloeConfig config() {
      if (loaded == null) {
        loaded = FloeConfigLoader.load(ConfigFiles.choose(null, configFile));
      }
      return loaded;
    }

    /** The warehouse: the directory of -w, else the configuration file's. */
    WarehouseConfig root() {
      return warehouse != null ? WarehouseConfig.local(warehouse) : config().warehouse();
    }

    /** The catalog database: the configuration file's, the embedded one for -w alone. */
    CatalogDatabase database() {
      return FloeCatalog.database(root(), catalogConfig());
    }

    CatalogConfig catalogConfig() {
      return configured() ? config().catalog() : CatalogConfig.defaults();
    }

    MaintenanceConfig maintenanceConfig() {
      return configured() ? config().maintenance() : MaintenanceConfig.defaults();
    }

    <T> T run(Function<WarehouseMaintenance, T> operation) {
      WarehouseConfig root = root();
      MaintenanceConfig config = maintenanceConfig();
      try (JdbcCatalog catalog = FloeCatalog.open(root, catalogConfig())) {
        return operation.apply(
            new WarehouseMaintenance(
                catalog,
                config,
                MaintenanceHistory.of(database()),
                // No pipeline runs in this process: compactions commit directly.
                new TableWriterRegistry()));
      }
    }
  }

  /** The warehouse and the table every operation takes. */
  static final class Target {
    @Mixin Warehouse warehouse = new Warehouse();

    @Parameters(index = "0", paramLabel = "TABLE", description = "The table, namespace.table.")
    String table;

    /** Checks the table's name, then runs {@code operation} on the open warehouse. */
    <T> T run(Function<WarehouseMaintenance, T> operation) {
      identifier();
      return warehouse.run(operation);
    }

    TableIdentifier identifier() {
      return MaintenanceArguments.table(table);
    }
  }

  /** The {@code --format} option of {@code history} and {@code policy}. */
  static final class FormatOption {
    @Option(
        names = "--format",
        defaultValue = "table",
        description = "table or json (default: ${DEFAULT-VALUE}).")
    String text;

    Format parse() {
      return Format.parse(text);
    }
  }

  /** How {@code history} and {@code policy} print. */
  enum Format {
    TABLE,
    JSON;

    static Format parse(String text) {
      try {
        return valueOf(text.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new FloeException(
            ErrorCode.CONFIG_INVALID, "Cannot use --format " + text + ": choose table or json");
      }
    }
  }

  @Command(
      name = "expire-snapshots",
      mixinStandardHelpOptions = true,
      description = "Expire old snapshots and delete the files only they referenced.")
  static final class Expire implements Callable<Integer> {
    @Mixin Target target = new Target();

    @Option(
        names = "--older-than",
        description = "Expire snapshots older than this age or timestamp (default: 5d).")
    String olderThan;

    @Option(
        names = "--retain-last",
        description = "Always keep this many of the latest snapshots (default: 1).")
    String retainLast;

    @Option(
        names = "--milestones",
        description = "Also keep the first snapshot of each day or month: none, daily, monthly.")
    String milestones;

    @Option(names = "--dry-run", description = "List what would be expired; change nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
      ExpirePolicy policy =
          MaintenanceArguments.expirePolicy(
              "--", olderThan, retainLast, milestones, dryRun, Clock.systemUTC());
      ExpireResult result = target.run(m -> m.expireSnapshots(target.identifier(), policy));
      System.out.printf(
          Locale.ROOT,
          "%s %d snapshots of %s%s; %d data files, %d delete files, %d manifests, %d manifest lists"
              + " (%d bytes) %s in %d ms%n",
          dryRun ? "Would expire" : "Expired",
          result.expiredSnapshotIds().size(),
          target.table,
          result.expiredSnapshotIds().isEmpty() ? "" : " " + result.expiredSnapshotIds(),
          result.deletedDataFiles(),
          result.deletedDeleteFiles(),
          result.deletedManifests(),
          result.deletedManifestLists(),
          result.deletedBytes(),
          dryRun ? "would be deleted" : "deleted",
          result.durationMillis());
      return 0;
    }
  }

  @Command(
      name = "remove-orphan-files",
      mixinStandardHelpOptions = true,
      description = "Delete files under the table's location that no metadata references.")
  static final class Orphans implements Callable<Integer> {
    @Mixin Target target = new Target();

    @Option(
        names = "--older-than",
        description = "Only files last modified longer ago than this (default: 3d).")
    String olderThan;

    @Option(names = "--dry-run", description = "List the orphan files; delete nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
      Duration window =
          MaintenanceArguments.orphanAge("--older-than", olderThan, Clock.systemUTC());
      OrphanResult result =
          target.run(m -> m.removeOrphanFiles(target.identifier(), window, dryRun));
      result.orphanFiles().forEach(System.out::println);
      System.out.printf(
          Locale.ROOT,
          "%s %d orphan files of %s (%d bytes) in %d ms%n",
          dryRun ? "Found" : "Deleted",
          result.orphanFiles().size(),
          target.table,
          result.orphanBytes(),
          result.durationMillis());
      return 0;
    }
  }

  @Command(
      name = "rewrite-manifests",
      mixinStandardHelpOptions = true,
      description = "Rewrite the current snapshot's manifests into fewer, larger ones.")
  static final class Manifests implements Callable<Integer> {
    @Mixin Target target = new Target();

    @Override
    public Integer call() {
      RewriteManifestsResult result = target.run(m -> m.rewriteManifests(target.identifier()));
      System.out.printf(
          Locale.ROOT,
          "Rewrote the manifests of %s: %d before, %d after, in %d ms%n",
          target.table,
          result.manifestsBefore(),
          result.manifestsAfter(),
          result.durationMillis());
      return 0;
    }
  }

  @Command(
      name = "rewrite-data-files",
      mixinStandardHelpOptions = true,
      description =
          "Compact the table's data files: rewrite small files together and fold deleted rows"
              + " away. Options not given come from the table's policy (floe maintain policy);"
              + " I/O is bounded by maintenance.max-io-rate. Progress goes to stderr.")
  static final class DataFiles implements Callable<Integer> {
    /** Shortest time between two progress lines. */
    static final Duration PROGRESS_EVERY = Duration.ofSeconds(1);

    @Mixin Target target = new Target();

    @Option(
        names = "--target-file-size",
        paramLabel = "SIZE",
        description = "Size the rewritten files aim at, such as 128MB.")
    String targetFileSize;

    @Option(
        names = "--min-input-files",
        paramLabel = "N",
        description = "Fewest small files of a partition worth rewriting together.")
    String minInputFiles;

    @Option(
        names = "--delete-ratio",
        paramLabel = "RATIO",
        description =
            "Rewrite a file whose deleted rows make up at least this fraction of it, such as"
                + " 0.1.")
    String deleteRatio;

    @Option(
        names = "--sort-order",
        paramLabel = "ORDER",
        description = "Sort the rewritten rows, such as \"id DESC NULLS LAST, name\".")
    String sortOrder;

    @Option(
        names = "--where",
        paramLabel = "CONDITION",
        description =
            "Only the files that may hold rows matching this condition on the table's columns,"
                + " such as \"updated_at >= '2026-11-01'\" (comparisons, BETWEEN, IN, IS NULL,"
                + " AND, OR, NOT).")
    String where;

    @Override
    public Integer call() {
      TableIdentifier table = target.identifier();
      long[] lastPrinted = {System.nanoTime() - PROGRESS_EVERY.toNanos()};
      RewriteProgress progress =
          (doneBytes, totalBytes, message) -> {
            // At most one line a second, and the last one.
            long now = System.nanoTime();
            if (now - lastPrinted[0] < PROGRESS_EVERY.toNanos() && doneBytes < totalBytes) {
              return;
            }
            lastPrinted[0] = now;
            System.err.printf(
                Locale.ROOT,
                "%s: %s of %s%s%n",
                target.table,
                Bytes.format(doneBytes),
                Bytes.format(totalBytes),
                message.isEmpty() ? "" : ", " + message);
          };
      RewriteDataFilesResult result =
          target.run(
              m -> {
                EffectiveMaintenancePolicy policy =
                    MaintenanceArguments.compaction(
                        m.policy(table),
                        "--",
                        targetFileSize,
                        minInputFiles,
                        deleteRatio,
                        sortOrder);
                return m.rewriteDataFiles(
                    table,
                    MaintenanceArguments.rewriteOptions(m, table, policy, where, "--where"),
                    progress);
              });
      if (result.snapshotId() < 0) {
        System.out.printf(
            Locale.ROOT,
            "Nothing to rewrite in %s, in %d ms%n",
            target.table,
            result.durationMillis());
      } else {
        System.out.printf(
            Locale.ROOT,
            "Rewrote %d data files of %s into %d (%s into %s); removed %d delete files, folded %d"
                + " deleted rows%s; snapshot %d, in %d ms%n",
            result.rewrittenDataFiles(),
            target.table,
            result.addedDataFiles(),
            Bytes.format(result.rewrittenBytes()),
            Bytes.format(result.addedBytes()),
            result.removedDeleteFiles(),
            result.foldedDeletes(),
            RunDetails.changedMeanwhile(result),
            result.snapshotId(),
            result.durationMillis());
      }
      return 0;
    }
  }

  @Command(
      name = "rollback",
      mixinStandardHelpOptions = true,
      description =
          "Make an earlier snapshot current again. Changes committed after that snapshot are"
              + " dropped from the table; a pipeline writing it goes on from the rolled-back"
              + " table.")
  static final class Rollback implements Callable<Integer> {
    @Mixin Target target = new Target();

    @Option(names = "--to-snapshot", description = "An ancestor snapshot id of the current one.")
    Long snapshotId;

    @Option(names = "--to-timestamp", description = "The state as of this timestamp (UTC).")
    String timestamp;

    @Option(names = "--set-current", description = "Any snapshot id, ancestor or not.")
    Long current;

    @Override
    public Integer call() {
      int given =
          (snapshotId == null ? 0 : 1) + (timestamp == null ? 0 : 1) + (current == null ? 0 : 1);
      if (given != 1) {
        throw new FloeException(
            ErrorCode.CONFIG_INVALID,
            "Cannot roll back "
                + target.table
                + ": give exactly one of --to-snapshot, --to-timestamp, --set-current");
      }
      RollbackResult result =
          target.run(
              m -> {
                if (snapshotId != null) {
                  return m.rollbackToSnapshot(target.identifier(), snapshotId);
                }
                if (current != null) {
                  return m.setCurrentSnapshot(target.identifier(), current);
                }
                return m.rollbackToTimestamp(
                    target.identifier(),
                    MaintenanceArguments.instant("--to-timestamp", timestamp, Clock.systemUTC()));
              });
      System.out.printf(
          Locale.ROOT,
          "%s: current snapshot %d (was %d)%n",
          target.table,
          result.currentSnapshotId(),
          result.previousSnapshotId());
      return 0;
    }
  }

  @Command(
      name = "history",
      mixinStandardHelpOptions = true,
      description =
          "Show the latest maintenance runs recorded in the warehouse, newest first: those of"
              + " floe run and of floe maintain, with the tables' figures before and after.")
  static final class History implements Callable<Integer> {
    @Mixin Warehouse warehouse = new Warehouse();

    @Option(names = "--table", paramLabel = "TABLE", description = "Only this table's runs.")
    String table;

    @Option(
        names = "--limit",
        paramLabel = "N",
        defaultValue = "50",
        description = "Show at most N runs (default: ${DEFAULT-VALUE}).")
    String limit;

    @Mixin FormatOption format = new FormatOption();

    @Override
    public Integer call() {
      Format output = format.parse();
      int most = limit(limit);
      TableIdentifier identifier = table == null ? null : MaintenanceArguments.table(table);
      WarehouseConfig root = warehouse.root();
      if (root.isLocal() && !Files.isDirectory(root.stateDirectory())) {
        throw new FloeException(
            ErrorCode.CONFIG_INVALID,
            "Cannot read the maintenance history of warehouse "
                + root.location()
                + ": no such directory; pass the warehouse with -w or its configuration with -c");
      }
      List<MaintenanceRun> runs =
          MaintenanceHistory.of(warehouse.database()).recent(identifier, most);
      if (output == Format.JSON) {
        System.out.print(MaintenanceJson.runs(runs));
      } else if (runs.isEmpty()) {
        System.out.println("No maintenance runs recorded" + (table == null ? "" : " for " + table));
      } else {
        System.out.print(MaintenanceOutput.runs(runs));
      }
      return 0;
    }

    private static int limit(String text) {
      try {
        int value = Integer.parseInt(text.trim());
        if (value >= 1 && value <= MAX_LIMIT) {
          return value;
        }
      } catch (NumberFormatException e) {
        // Reported below.
      }
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Cannot use --limit " + text + ": write a whole number from 1 to " + MAX_LIMIT);
    }
  }

  @Command(
      name = "policy",
      mixinStandardHelpOptions = true,
      description =
          "Show the table's maintenance policy and where each value comes from: default, the"
              + " configuration, or the table property floe.maintenance.<key>. --set and --unset"
              + " change the table properties.")
  static final class Policy implements Callable<Integer> {
    @Mixin Target target = new Target();

    @Option(
        names = "--set",
        paramLabel = "KEY=VALUE",
        description =
            "Set the table property floe.maintenance.KEY, such as retain-last=20 or"
                + " target-file-size=128MB; repeatable.")
    Map<String, String> set = new LinkedHashMap<>();

    @Option(
        names = "--unset",
        paramLabel = "KEY",
        description = "Remove the table property floe.maintenance.KEY; repeatable.")
    List<String> unset = List.of();

    @Mixin FormatOption format = new FormatOption();

    @Override
    public Integer call() {
      Format output = format.parse();
      TableIdentifier table = target.identifier();
      EffectiveMaintenancePolicy policy =
          target.run(
              m ->
                  set.isEmpty() && unset.isEmpty()
                      ? m.policy(table)
                      : m.updatePolicy(table, set, new LinkedHashSet<>(unset)));
      if (!target.warehouse.configured()) {
        System.err.println(
            "No configuration file given (-c): the policy shows the defaults and the table's"
                + " properties only");
      }
      System.out.print(
          output == Format.JSON
              ? MaintenanceJson.policy(policy)
              : MaintenanceOutput.policy(policy));
      return 0;
    }
  }
}
