package io.floe.maintenance;

import static java.util.Objects.requireNonNull;

import io.floe.core.Bytes;
import io.floe.core.config.MaintenanceConfig;
import io.floe.core.config.MaintenancePolicy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NoSuchNamespaceException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the maintenance policies of the configuration's {@code maintenance} section on every table
 * of a catalog, in the background of {@code floe run}.
 *
 * <p>Every {@link MaintenanceConfig#interval()}, one pass looks at every table of every namespace,
 * resolves its policy ({@link MaintenanceConfig#policy}) and runs what is due, one table and one
 * operation at a time so that ingestion and queries keep their pace:
 *
 * <ol>
 *   <li>rewrite manifests, when the current snapshot has more data manifests than the policy
 *       allows;
 *   <li>expire snapshots, when the table has more snapshots than it retains and some are older than
 *       the policy's age. It runs after the rewrite, so the manifests the rewrite replaced are
 *       deleted as soon as no retained snapshot lists them;
 *   <li>remove orphan files, at most once per {@link #ORPHAN_REMOVAL_PERIOD} per table, since it
 *       lists every file under the table's location.
 * </ol>
 *
 * <p>Each operation run is kept as a {@link MaintenanceRun} in a bounded history. A failure is
 * recorded and logged, and the pass goes on with the next operation and table: the scheduler never
 * stops on a table's failure.
 */
public final class MaintenanceScheduler implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MaintenanceScheduler.class);

  /** How many runs {@link #history()} keeps; older runs are dropped. */
  public static final int HISTORY_SIZE = 1000;

  /** Shortest time between two orphan file removals on one table. */
  public static final Duration ORPHAN_REMOVAL_PERIOD = Duration.ofDays(1);

  /** Lifecycle: created, then started once, then closed once; a closed scheduler runs nothing. */
  public enum State {
    CREATED,
    RUNNING,
    CLOSED
  }

  private final Catalog catalog;
  private final MaintenanceConfig config;
  private final Clock clock;
  private final TableMaintenance maintenance;
  private final AtomicReference<State> state = new AtomicReference<>(State.CREATED);
  private final ScheduledExecutorService executor;
  private final ReentrantLock passLock = new ReentrantLock();
  private final Deque<MaintenanceRun> history = new ArrayDeque<>();

  /** When orphan files of each table were last removed; guarded by {@link #passLock}. */
  private final Map<TableIdentifier, Instant> lastOrphanRemovals = new HashMap<>();

  private ScheduledFuture<?> schedule;

  public MaintenanceScheduler(Catalog catalog, MaintenanceConfig config, Clock clock) {
    this.catalog = requireNonNull(catalog, "catalog is null");
    this.config = requireNonNull(config, "config is null");
    this.clock = requireNonNull(clock, "clock is null");
    this.maintenance = new TableMaintenance(catalog, clock);
    this.executor =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "floe-maintenance");
              thread.setDaemon(true);
              return thread;
            });
  }

  /** Starts the background passes: the first one interval after now, then every interval. */
  public synchronized void start() {
    transition(State.CREATED, State.RUNNING);
    long intervalMillis = config.interval().toMillis();
    schedule =
        executor.scheduleWithFixedDelay(
            this::scheduledPass, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
  }

  public State state() {
    return state.get();
  }

  /**
   * Runs one pass over every table now, on the caller's thread, after any pass in progress.
   *
   * @return the operations this pass ran, in the order it ran them
   * @throws IllegalStateException if the scheduler is closed
   */
  public List<MaintenanceRun> runNow() {
    passLock.lock();
    try {
      if (state.get() == State.CLOSED) {
        throw new IllegalStateException("Cannot run maintenance: the scheduler is closed");
      }
      return pass();
    } finally {
      passLock.unlock();
    }
  }

  /** The most recent runs, at most {@link #HISTORY_SIZE}, oldest first. */
  public List<MaintenanceRun> history() {
    synchronized (history) {
      return List.copyOf(history);
    }
  }

  /**
   * Stops the background passes and waits for a pass in progress, which stops after the table it is
   * maintaining.
   */
  @Override
  public void close() {
    State previous = state.getAndSet(State.CLOSED);
    if (previous == State.CLOSED) {
      return;
    }
    LOG.info("Maintenance scheduler {} -> {}", previous, State.CLOSED);
    synchronized (this) {
      if (schedule != null) {
        schedule.cancel(false);
      }
    }
    executor.shutdown();
    try {
      while (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
        LOG.info("Waiting for the maintenance pass in progress to finish");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    // A pass started by runNow on another thread.
    passLock.lock();
    try {
      LOG.debug("No maintenance pass in progress");
    } finally {
      passLock.unlock();
    }
  }

  private void transition(State from, State to) {
    if (!state.compareAndSet(from, to)) {
      throw new IllegalStateException(
          "Cannot move the maintenance scheduler to "
              + to
              + ": it is "
              + state.get()
              + ", not "
              + from);
    }
    LOG.info("Maintenance scheduler {} -> {} (every {})", from, to, config.interval());
  }

  private void scheduledPass() {
    passLock.lock();
    try {
      if (state.get() == State.RUNNING) {
        pass();
      }
    } catch (RuntimeException e) {
      // Keeps the schedule alive: a periodic task that throws is never run again.
      LOG.error("Maintenance pass failed; the next pass runs in {}", config.interval(), e);
    } finally {
      passLock.unlock();
    }
  }

  /** One pass over every table; the caller holds {@link #passLock}. */
  private List<MaintenanceRun> pass() {
    long started = System.nanoTime();
    List<MaintenanceRun> runs = new ArrayList<>();
    List<TableIdentifier> tables = tables();
    for (TableIdentifier table : tables) {
      if (state.get() == State.CLOSED) {
        break;
      }
      maintain(table, runs);
    }
    long failed = runs.stream().filter(MaintenanceRun::failed).count();
    if (runs.isEmpty()) {
      LOG.debug("Maintenance pass: {} tables checked, nothing due", tables.size());
    } else {
      LOG.info(
          "Maintenance pass: {} tables checked, {} operations run, {} failed, in {} ms",
          tables.size(),
          runs.size(),
          failed,
          SnapshotExpiry.millisSince(started));
    }
    return runs;
  }

  /** Every table of every namespace, by namespace and name. */
  private List<TableIdentifier> tables() {
    Set<Namespace> namespaces = new LinkedHashSet<>();
    if (catalog instanceof SupportsNamespaces withNamespaces) {
      collectNamespaces(withNamespaces, Namespace.empty(), namespaces);
    } else {
      namespaces.add(Namespace.empty());
    }
    List<TableIdentifier> tables = new ArrayList<>();
    for (Namespace namespace : namespaces) {
      try {
        tables.addAll(catalog.listTables(namespace));
      } catch (NoSuchNamespaceException e) {
        // Dropped since it was listed.
      } catch (RuntimeException e) {
        LOG.error("Cannot list the tables of namespace {} for maintenance", namespace, e);
      }
    }
    tables.sort(Comparator.comparing(TableIdentifier::toString));
    return tables;
  }

  private static void collectNamespaces(
      SupportsNamespaces catalog, Namespace parent, Set<Namespace> namespaces) {
    List<Namespace> children;
    try {
      children = catalog.listNamespaces(parent);
    } catch (NoSuchNamespaceException e) {
      return;
    }
    for (Namespace child : children) {
      if (!child.equals(parent) && namespaces.add(child)) {
        collectNamespaces(catalog, child, namespaces);
      }
    }
  }

  private void maintain(TableIdentifier identifier, List<MaintenanceRun> runs) {
    MaintenancePolicy policy = config.policy(identifier.namespace().toString(), identifier.name());
    Table table;
    try {
      table = catalog.loadTable(identifier);
    } catch (NoSuchTableException e) {
      return; // Dropped since it was listed.
    } catch (RuntimeException e) {
      LOG.error("Cannot load table {} for maintenance", identifier, e);
      return;
    }
    if (table.currentSnapshot() == null) {
      return;
    }
    if (dataManifests(table) > policy.rewriteManifestsAbove()) {
      run(
          runs,
          identifier,
          MaintenanceRun.Operation.REWRITE_MANIFESTS,
          () -> {
            RewriteManifestsResult result = maintenance.rewriteManifests(identifier);
            return "rewrote "
                + result.manifestsBefore()
                + " manifests into "
                + result.manifestsAfter();
          });
      table.refresh();
    }
    Instant expireBefore = clock.instant().minus(policy.expireOlderThan());
    if (expiryDue(table, policy.retainLast(), expireBefore)) {
      ExpirePolicy expirePolicy =
          new ExpirePolicy(
              expireBefore,
              policy.retainLast(),
              ExpirePolicy.Milestones.valueOf(policy.milestones().name()),
              false);
      run(
          runs,
          identifier,
          MaintenanceRun.Operation.EXPIRE_SNAPSHOTS,
          () -> {
            ExpireResult result = maintenance.expireSnapshots(identifier, expirePolicy);
            int files =
                result.deletedDataFiles()
                    + result.deletedDeleteFiles()
                    + result.deletedManifests()
                    + result.deletedManifestLists();
            return "expired "
                + result.expiredSnapshotIds().size()
                + " snapshots, deleted "
                + files
                + " files ("
                + Bytes.format(result.deletedBytes())
                + ")";
          });
    }
    Instant lastOrphanRemoval = lastOrphanRemovals.get(identifier);
    Instant now = clock.instant();
    if (lastOrphanRemoval == null || !now.isBefore(lastOrphanRemoval.plus(ORPHAN_REMOVAL_PERIOD))) {
      lastOrphanRemovals.put(identifier, now);
      run(
          runs,
          identifier,
          MaintenanceRun.Operation.REMOVE_ORPHAN_FILES,
          () -> {
            OrphanResult result =
                maintenance.removeOrphanFiles(identifier, policy.orphanOlderThan(), false);
            return "deleted "
                + result.orphanFiles().size()
                + " orphan files ("
                + Bytes.format(result.orphanBytes())
                + ")";
          });
    }
  }

  private static int dataManifests(Table table) {
    return table.currentSnapshot().dataManifests(table.io()).size();
  }

  /** Whether the table has more snapshots than it retains, and one older than the cutoff. */
  private static boolean expiryDue(Table table, int retainLast, Instant expireBefore) {
    int count = 0;
    boolean old = false;
    for (Snapshot snapshot : table.snapshots()) {
      count++;
      old |= snapshot.timestampMillis() < expireBefore.toEpochMilli();
    }
    return count > retainLast && old;
  }

  /** Runs one operation and records it, whether it succeeds or fails. */
  private void run(
      List<MaintenanceRun> runs,
      TableIdentifier table,
      MaintenanceRun.Operation operation,
      Supplier<String> work) {
    Instant startedAt = clock.instant();
    long started = System.nanoTime();
    MaintenanceRun run;
    try {
      String details = work.get();
      run =
          new MaintenanceRun(
              table, operation, startedAt, SnapshotExpiry.millisSince(started), details, null);
    } catch (RuntimeException e) {
      run =
          new MaintenanceRun(
              table,
              operation,
              startedAt,
              SnapshotExpiry.millisSince(started),
              "",
              e.getMessage() == null ? e.getClass().getName() : e.getMessage());
      LOG.error(
          "Maintenance of table {} failed ({}); going on with the next operation: {}",
          table,
          operation,
          run.error(),
          e);
    }
    runs.add(run);
    synchronized (history) {
      if (history.size() == HISTORY_SIZE) {
        history.removeFirst();
      }
      history.addLast(run);
    }
  }
}
