package io.floe.server;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.Timestamps;
import io.floe.core.config.EffectiveMaintenancePolicy;
import io.floe.core.config.MaintenancePolicy;
import io.floe.maintenance.ExpirePolicy;
import io.floe.maintenance.RewriteDataFilesOptions;
import io.floe.maintenance.WarehouseMaintenance;
import io.floe.sql.WhereConditions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * The arguments of maintenance operations as users write them, on the command line ({@code floe
 * maintain}) and in requests of the HTTP API: one reading, one set of messages. Each method names
 * the option it reads in its errors, which have code {@link ErrorCode#CONFIG_INVALID}.
 */
public final class MaintenanceArguments {
  /** The orphan files' age window when none is given, as Spark's remove_orphan_files. */
  public static final Duration DEFAULT_ORPHAN_AGE = Duration.ofDays(3);

  private MaintenanceArguments() {}

  /** A table written {@code namespace.table}. */
  public static TableIdentifier table(String text) {
    String[] parts = text.split("\\.", -1);
    if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Cannot maintain '" + text + "': name the table as namespace.table");
    }
    return TableIdentifier.of(parts[0], parts[1]);
  }

  /** A point in time: an ISO timestamp (UTC unless it has an offset) or an age such as 5d. */
  public static Instant instant(String option, String text, Clock clock) {
    String trimmed = text.trim();
    if (trimmed.matches("\\d{1,9}d")) {
      return clock.instant().minus(Duration.ofDays(Long.parseLong(trimmed.replace("d", ""))));
    }
    Optional<Duration> age = DurationParser.tryParse(trimmed);
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

  /** Which snapshots expiry keeps as milestones: none, daily or monthly. */
  public static ExpirePolicy.Milestones milestones(String option, String text) {
    try {
      return ExpirePolicy.Milestones.valueOf(text.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Cannot use " + option + " " + text + ": allowed values are none, daily, monthly");
    }
  }

  /** How long snapshots are retained at least: a whole number of 1 or more. */
  public static int retainLast(String option, String text) {
    try {
      int value = Integer.parseInt(text.trim());
      if (value >= 1) {
        return value;
      }
    } catch (NumberFormatException e) {
      // Reported below.
    }
    throw new FloeException(
        ErrorCode.CONFIG_INVALID,
        "Cannot use "
            + option
            + " "
            + text
            + ": write how many of the latest snapshots to keep, 1 or more");
  }

  /**
   * Which snapshots expiry removes; each argument may be null for its default ({@link
   * ExpirePolicy#defaults}).
   */
  public static ExpirePolicy expirePolicy(
      String prefix,
      String olderThan,
      String retainLast,
      String milestones,
      boolean dryRun,
      Clock clock) {
    ExpirePolicy defaults = ExpirePolicy.defaults(clock);
    return new ExpirePolicy(
        olderThan == null ? defaults.olderThan() : instant(prefix + "older-than", olderThan, clock),
        retainLast == null ? defaults.retainLast() : retainLast(prefix + "retain-last", retainLast),
        milestones == null ? defaults.milestones() : milestones(prefix + "milestones", milestones),
        dryRun);
  }

  /** The age orphan files must have: {@link #DEFAULT_ORPHAN_AGE} when {@code olderThan} is null. */
  public static Duration orphanAge(String option, String olderThan, Clock clock) {
    if (olderThan == null) {
      return DEFAULT_ORPHAN_AGE;
    }
    return Duration.between(instant(option, olderThan, clock), clock.instant());
  }

  /**
   * The table's policy with the compaction options given, each read like the table property of the
   * same key; a null option keeps the policy's value.
   *
   * @param prefix how options are written before their name: {@code --} on the command line
   */
  public static EffectiveMaintenancePolicy compaction(
      EffectiveMaintenancePolicy policy,
      String prefix,
      String targetFileSize,
      String minInputFiles,
      String deleteRatio,
      String sortOrder) {
    EffectiveMaintenancePolicy result = policy;
    if (targetFileSize != null) {
      result =
          result.with(
              MaintenancePolicy.Key.TARGET_FILE_SIZE, targetFileSize, prefix + "target-file-size");
    }
    if (minInputFiles != null) {
      result =
          result.with(
              MaintenancePolicy.Key.COMPACT_MIN_INPUT_FILES,
              minInputFiles,
              prefix + "min-input-files");
    }
    if (deleteRatio != null) {
      result =
          result.with(
              MaintenancePolicy.Key.COMPACT_DELETE_RATIO, deleteRatio, prefix + "delete-ratio");
    }
    if (sortOrder != null) {
      result = result.with(MaintenancePolicy.Key.SORT_ORDER, sortOrder, prefix + "sort-order");
    }
    return result;
  }

  /**
   * Compaction options of the table's policy, limited by a {@code where} condition on its columns
   * when one is given (null for the whole table).
   *
   * @param option how the condition's option is written, for messages: {@code --where} or {@code
   *     where}
   */
  public static RewriteDataFilesOptions rewriteOptions(
      WarehouseMaintenance maintenance,
      TableIdentifier table,
      EffectiveMaintenancePolicy policy,
      String where,
      String option) {
    RewriteDataFilesOptions options = maintenance.rewriteOptions(policy.policy());
    if (where == null) {
      return options;
    }
    try {
      return options.withFilter(WhereConditions.parse(maintenance.schema(table), where));
    } catch (IllegalArgumentException e) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID, "Cannot use " + option + " " + where + ": " + e.getMessage());
    }
  }
}
