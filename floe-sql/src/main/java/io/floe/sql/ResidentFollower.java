package io.floe.sql;

import static java.util.Objects.requireNonNull;

import io.floe.core.catalog.TableFiles;
import io.floe.sql.ScanPlan.DataScan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's one handle on its {@link ResidentFiles}: opens the instance when a query first may
 * use it, keeps the resident files of the tables read lately in step with their current snapshots
 * on a thread of its own (the follower), and lets a query read them. Both sides of the contract of
 * {@link ResidentFiles#begin} live here: the follower applies each new snapshot's deletes, and a
 * query reads a resident file only when its snapshot plans exactly the deletes the file holds.
 *
 * <p>A table counts as read lately for {@link #HOT_NANOS} after its last query at its current
 * snapshot; the follower then forgets its files. When the instance cannot be opened, or after
 * {@link #close()}, no file is resident and queries read every file from storage.
 */
final class ResidentFollower implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ResidentFollower.class);

  /** How often the follower brings resident files in step with their tables. */
  private static final long FOLLOW_MILLIS = 50;

  /** How long after its last query at its current snapshot a table's files stay resident. */
  private static final long HOT_NANOS = TimeUnit.MINUTES.toNanos(10);

  private final CatalogTables tables;
  private final ScanPlanner planner;
  private final LocalPaths localPaths;
  private final List<Path> readableDirectories;
  private final Path temporary;
  private final long budget;
  private final long minRows;
  // Tables read at their current snapshot, by when they were last read (System.nanoTime()).
  private final Map<TableIdentifier, Long> hot = new ConcurrentHashMap<>();
  private final AtomicLong queries = new AtomicLong();
  // Guarded by this.
  private ResidentFiles resident;
  private ScheduledExecutorService follower;
  private boolean unavailable;
  // The follower's own state, touched by its thread only.
  private final Map<TableIdentifier, Followed> followed = new HashMap<>();
  private final Map<TableIdentifier, String> followFailures = new HashMap<>();

  /**
   * @param readableDirectories the only directories whose files the instance may read: the
   *     warehouse's and the file cache's
   * @param temporary where the instance spills
   * @param budget estimated bytes of memory the resident files may take; 0 holds none
   * @param minRows the fewest rows of a data file held resident
   */
  ResidentFollower(
      CatalogTables tables,
      ScanPlanner planner,
      LocalPaths localPaths,
      List<Path> readableDirectories,
      Path temporary,
      long budget,
      long minRows) {
    this.tables = requireNonNull(tables, "tables is null");
    this.planner = requireNonNull(planner, "planner is null");
    this.localPaths = requireNonNull(localPaths, "localPaths is null");
    this.readableDirectories =
        List.copyOf(requireNonNull(readableDirectories, "readableDirectories is null"));
    this.temporary = requireNonNull(temporary, "temporary is null");
    this.budget = budget;
    this.minRows = minRows;
  }

  /**
   * A table the follower keeps resident and the snapshot last synced (or that failed to).
   *
   * @param table the table's UUID: a table dropped and created again under the same name is another
   * @param synced the snapshot last synced; empty before the first
   */
  private record Followed(UUID table, OptionalLong synced) {
    boolean synced(Snapshot snapshot) {
      return synced.isPresent() && synced.getAsLong() == snapshot.snapshotId();
    }
  }

  /**
   * The resident instance, opened on first use; empty when none is held ({@code sql.resident-size}
   * 0), when it could not be opened, and after {@link #close()}.
   */
  synchronized Optional<ResidentFiles> files() {
    if (resident == null && !unavailable && budget > 0) {
      try {
        Files.createDirectories(temporary);
        resident = new ResidentFiles(readableDirectories, temporary, budget, minRows);
      } catch (SQLException | IOException e) {
        unavailable = true;
        LOG.warn(
            "Could not open the DuckDB instance that holds large data files with their deletes"
                + " applied; queries read every file from storage instead",
            e);
      }
    }
    return Optional.ofNullable(resident);
  }

  /** Marks the tables a query reads at their current snapshot as read lately. */
  void markHot(List<ScanPlan> scans) {
    if (budget <= 0) {
      return;
    }
    long now = System.nanoTime();
    for (ScanPlan scan : scans) {
      if (scan instanceof DataScan data && data.readsCurrentSnapshot()) {
        hot.put(data.reference().table(), now);
      }
    }
    startFollower();
  }

  /**
   * Prepares {@code connection}, of the resident instance, for the query: begins a transaction that
   * sees the resident files with exactly the deletes the query's snapshots plan for them and
   * creates the query's views over them. False, with nothing begun or created, when none of the
   * query's data files is resident with its planned deletes, when it reads a metadata table, or
   * when one of its files is outside what that instance may read: the query then runs in a fresh
   * instance.
   */
  boolean beginQuery(
      ResidentFiles files, Connection connection, List<ScanPlan> scans, LocalFiles local)
      throws SQLException {
    Map<String, Set<String>> deletes = new HashMap<>();
    Set<String> differing = new HashSet<>();
    for (ScanPlan scan : scans) {
      if (!(scan instanceof DataScan data)) {
        return false;
      }
      boolean readable =
          Stream.concat(
                  data.files().dataFiles().keySet().stream(),
                  data.files().deleteFiles().keySet().stream())
              .allMatch(location -> files.readable(local.path(location)));
      if (!readable) {
        return false;
      }
      data.files()
          .deletesByDataFile()
          .forEach(
              (location, planned) -> {
                if (planned.isEmpty()) {
                  return;
                }
                Set<String> needed = data.files().deleteLocations(location);
                Set<String> other = deletes.putIfAbsent(location, needed);
                if (other != null && !other.equals(needed)) {
                  // The same file read at two snapshots (time travel): read it directly.
                  differing.add(location);
                }
              });
    }
    differing.forEach(deletes::remove);
    Map<String, String> used = files.begin(connection, deletes);
    if (used.isEmpty()) {
      return false;
    }
    try (Statement statement = connection.createStatement()) {
      for (ScanPlan scan : scans) {
        DataScan data = (DataScan) scan;
        statement.execute(
            "CREATE TEMP VIEW "
                + TableScanSql.quote(data.reference().placeholder())
                + " AS "
                + TableScanSql.sql(data.schema(), data.files(), local::path, used));
      }
    }
    LOG.debug("Reading {} resident files", used.size());
    queries.incrementAndGet();
    return true;
  }

  /** Queries that read resident files (tests). */
  long queries() {
    return queries.get();
  }

  /** Data files held resident now (tests). */
  synchronized int fileCount() {
    return resident == null ? 0 : resident.size();
  }

  private synchronized void startFollower() {
    if (follower == null && !unavailable) {
      follower =
          Executors.newSingleThreadScheduledExecutor(
              runnable -> {
                Thread thread = new Thread(runnable, "floe-resident-files");
                thread.setDaemon(true);
                return thread;
              });
      ScheduledFuture<?> unused =
          follower.scheduleWithFixedDelay(this::follow, 0, FOLLOW_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Keeps the resident files of the tables read lately in step with their current snapshots, so
   * that a query finds them with its snapshot's deletes; forgets tables not read for {@link
   * #HOT_NANOS}. Runs on the follower's thread only.
   */
  private void follow() {
    Optional<ResidentFiles> opened = files();
    if (opened.isEmpty()) {
      return;
    }
    ResidentFiles files = opened.get();
    long now = System.nanoTime();
    for (Map.Entry<TableIdentifier, Long> entry : List.copyOf(hot.entrySet())) {
      TableIdentifier identifier = entry.getKey();
      try {
        if (now - entry.getValue() > HOT_NANOS) {
          hot.remove(identifier, entry.getValue());
          unfollow(files, identifier);
        } else {
          follow(files, identifier);
        }
        followFailures.remove(identifier);
      } catch (NoSuchTableException e) {
        hot.remove(identifier);
        unfollowQuietly(files, identifier, e);
      } catch (SQLException | RuntimeException e) {
        String message = String.valueOf(e.getMessage());
        if (!message.equals(followFailures.put(identifier, message))) {
          LOG.warn(
              "Could not bring the resident files of {} in step with its current snapshot;"
                  + " queries read its files from storage until this succeeds (retried every {} ms,"
                  + " logged again when the failure changes)",
              identifier,
              FOLLOW_MILLIS,
              e);
        } else {
          LOG.debug("Resident files of {} still out of step", identifier, e);
        }
      }
    }
  }

  private void follow(ResidentFiles files, TableIdentifier identifier) throws SQLException {
    Table table = tables.current(identifier);
    Followed state = followed.get(identifier);
    if (state != null && !state.table().equals(table.uuid())) {
      // Dropped and created again under the same name.
      files.forget(state.table());
      state = null;
    }
    if (state == null) {
      state = new Followed(table.uuid(), OptionalLong.empty());
      followed.put(identifier, state);
    }
    Snapshot current = table.currentSnapshot();
    if (current == null || state.synced(current)) {
      return;
    }
    // A snapshot that fails is not tried again: the next one is.
    followed.put(identifier, new Followed(table.uuid(), OptionalLong.of(current.snapshotId())));
    TableFiles all = planner.currentFiles(table, current);
    try (LocalFiles local = localPaths.of(table, files.candidates(all))) {
      files.sync(table.uuid(), table.schema().columns().size(), all, local::path);
    }
  }

  private void unfollow(ResidentFiles files, TableIdentifier identifier) throws SQLException {
    Followed state = followed.remove(identifier);
    if (state != null) {
      files.forget(state.table());
    }
  }

  private void unfollowQuietly(ResidentFiles files, TableIdentifier identifier, Exception cause) {
    try {
      unfollow(files, identifier);
    } catch (SQLException e) {
      e.addSuppressed(cause);
      LOG.warn("Could not drop the resident files of {}, which is gone", identifier, e);
    }
  }

  /** Stops the follower and closes the resident instance; no file is resident afterwards. */
  @Override
  public void close() {
    ScheduledExecutorService stopping;
    synchronized (this) {
      stopping = follower;
      follower = null;
      unavailable = true;
    }
    if (stopping != null) {
      stopping.shutdownNow();
      try {
        if (!stopping.awaitTermination(10, TimeUnit.SECONDS)) {
          LOG.warn("The resident files' follower did not stop within 10 s; closing anyway");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    synchronized (this) {
      if (resident != null) {
        resident.close();
        resident = null;
      }
    }
  }
}
