package io.floe.server;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.Timestamps;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.FloeConfigLoader;
import io.floe.maintenance.ExpirePolicy;
import io.floe.maintenance.ExpireResult;
import io.floe.maintenance.OrphanResult;
import io.floe.maintenance.RewriteManifestsResult;
import io.floe.maintenance.RollbackResult;
import io.floe.maintenance.TableMaintenance;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code floe maintain <operation> namespace.table}: table maintenance on demand. */
@Command(
    name = "maintain",
    mixinStandardHelpOptions = true,
    description =
        "Maintain a table: expire snapshots, remove orphan files, rewrite manifests, roll back.",
    subcommands = {
      MaintainCommand.Expire.class,
      MaintainCommand.Orphans.class,
      MaintainCommand.Manifests.class,
      MaintainCommand.Rollback.class
    })
final class MaintainCommand {
  /** The warehouse and the table every operation takes. */
  static final class Target {
    @Option(
        names = {"-c", "--config"},
        paramLabel = "CONFIG",
        description = "Configuration file naming the warehouse (default: floe.yaml).")
    Path configFile;

    @Option(
        names = {"-w", "--warehouse"},
        paramLabel = "DIR",
        description = "Warehouse directory; overrides the configuration file's.")
    Path warehouse;

    @Parameters(index = "0", paramLabel = "TABLE", description = "The table, namespace.table.")
    String table;

    <T> T run(Function<TableMaintenance, T> operation) {
      Path root = warehouse;
      if (root == null) {
        root = FloeConfigLoader.load(ConfigFiles.choose(null, configFile)).warehouse();
      }
      try (JdbcCatalog catalog = FloeCatalog.open(root)) {
        return operation.apply(new TableMaintenance(catalog));
      }
    }

    TableIdentifier identifier() {
      String[] parts = table.split("\\.", -1);
      if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
        throw new FloeException(
            ErrorCode.CONFIG_INVALID,
            "Cannot maintain '" + table + "': name the table as namespace.table");
      }
      return TableIdentifier.of(parts[0], parts[1]);
    }
  }

  /** A point in time: an ISO timestamp (UTC unless it has an offset) or an age such as 5d. */
  static Instant instant(String option, String text, Clock clock) {
    String trimmed = text.trim();
    if (trimmed.matches("\\d+d")) {
      return clock.instant().minus(Duration.ofDays(Long.parseLong(trimmed.replace("d", ""))));
    }
    var age = DurationParser.tryParse(trimmed);
    if (age.isPresent()) {
      return clock.instant().minus(age.get());
    }
    return Timestamps.parse(trimmed)
        .orElseThrow(
            () ->
                new FloeException(
                    ErrorCode.CONFIG_INVALID,
                    "Cannot use "
                        + option
                        + " "
                        + text
                        + ": write an age such as 5d, 12h or 30m, or a timestamp such as"
                        + " 2026-11-21T10:00:00 (UTC) or 2026-11-21T10:00:00+02:00"));
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
    Integer retainLast;

    @Option(
        names = "--milestones",
        description = "Also keep the first snapshot of each day or month: none, daily, monthly.")
    String milestones;

    @Option(names = "--dry-run", description = "List what would be expired; change nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
      Clock clock = Clock.systemUTC();
      ExpirePolicy defaults = ExpirePolicy.defaults(clock);
      ExpirePolicy policy =
          new ExpirePolicy(
              olderThan == null ? defaults.olderThan() : instant("--older-than", olderThan, clock),
              retainLast == null ? defaults.retainLast() : retainLast,
              milestones == null ? defaults.milestones() : milestones(milestones),
              dryRun);
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

    private static ExpirePolicy.Milestones milestones(String text) {
      try {
        return ExpirePolicy.Milestones.valueOf(text.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new FloeException(
            ErrorCode.CONFIG_INVALID,
            "Cannot use --milestones " + text + ": allowed values are none, daily, monthly");
      }
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
      Clock clock = Clock.systemUTC();
      Duration window =
          olderThan == null
              ? Duration.ofDays(3)
              : Duration.between(instant("--older-than", olderThan, clock), clock.instant());
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
      name = "rollback",
      mixinStandardHelpOptions = true,
      description =
          "Make an earlier snapshot current again. Stop the pipeline that writes the table first:"
              + " changes committed after that snapshot are dropped from the table.")
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
                    target.identifier(), instant("--to-timestamp", timestamp, Clock.systemUTC()));
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
}
