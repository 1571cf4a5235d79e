package io.floe.maintenance;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.ErrorType;
import io.floe.core.FloeException;
import io.floe.core.config.MaintenanceConfig;
import io.floe.core.config.MaintenancePolicy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
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
 * Runs the maintenance policies of the configuration's {@code maintenance} section and of table
 * properties on every table of a warehouse, in the background of {@code floe run}.
 *
 * <p>Every {@link MaintenanceConfig#interval()}, one pass looks at every table of every namespace
 * and maintains up to {@link MaintenanceConfig#maxConcurrentTables()} tables at once, on a fixed
 * pool of threads. On each table it resolves the policy ({@link WarehouseMaintenance#policy}), then
 * runs what is due, one operation after another:
 *
 * <ol>
 *   <li>rewrite data files (compaction), when the policy's {@code compact} is on, bounded by the
 *       {@link IoThrottle} that every table shares ({@link MaintenanceConfig#maxIoRate()}). A
 *       compaction that found nothing to rewrite is not recorded;
 *   <li>rewrite manifests, when the current snapshot has more data manifests than the policy
 *       allows;
 *   <li>expire snapshots, when the table has more snapshots than it retains and some are older than
 *       the policy's age. It runs after the rewrites, so the files they replaced are deleted as
 *       soon as no retained snapshot lists them;
 *   <li>remove orphan files, at most once per {@link #ORPHAN_REMOVAL_PERIOD} per table, since it
 *       lists every file under the table's location.
 * </ol>
 *
 * <p>Each operation run is recorded in the warehouse's {@link MaintenanceHistory}, with the table's
 * figures before and after it. A failure is recorded and logged, and the pass goes on with the next
 * operation and table: the scheduler never stops on a table's failure. A table whose {@code
 * floe.maintenance.*} properties are invalid gets a failed {@link
 * MaintenanceRun.Operation#READ_POLICY} run naming them, and nothing else.
 */
public final class MaintenanceScheduler implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MaintenanceScheduler.class);

  /** How many runs {@link #history()} returns. */
  public static final int HISTORY_SIZE = 1000;

  /** Shortest time between two orphan file removals on one table. */
  public static final Duration ORPHAN_REMOVAL_PERIOD = Duration.ofDays(1);

  /**
   * How the error of an operation cut short by Floe's shutdown (the scheduler closed, or the JVM
   * stopping under it) begins, in the history.
   */
  public static final String STOPPED_BY_SHUTDOWN = "Cut short as Floe shut down: ";

  /** Lifecycle: created, then started once, then closed once; a closed scheduler runs nothing. */
  public enum State {
    CREATED,
    RUNNING,
    CLOSED
  }

  private final WarehouseMaintenance warehouse;
  private final Catalog catalog;
  private final MaintenanceConfig config;
  private final Clock clock;
  private final TableMaintenance maintenance;
  private final AtomicReference<State> state = new AtomicReference<>(State.CREATED);
  private final ScheduledExecutorService executor;
  private final ExecutorService tableThreads;
  private final ReentrantLock passLock = new ReentrantLock();

  /** When orphan files of each table were last removed. */
  private final Map<TableIdentifier, Instant> lastOrphanRemovals = new ConcurrentHashMap<>();

  private ScheduledFuture<?> schedule;

  /** A scheduler over the warehouse's catalog, configuration, history and clock. */
  public MaintenanceScheduler(WarehouseMaintenance warehouse) {
    this.warehouse = requireNonNull(warehouse, "warehouse is null");
    this.catalog = warehouse.catalog();
    this.config = warehouse.config();
    this.clock = warehouse.clock();
    this.maintenance = warehouse.maintenance();
    this.executor = Executors.newSingleThreadScheduledExecutor(daemon(() -> "floe-maintenance"));
    AtomicInteger tableThread = new AtomicInteger();
    this.tableThreads =
        Executors.newFixedThreadPool(
            config.maxConcurrentTables(),
            daemon(() -> "floe-maintenance-table-" + tableThread.incrementAndGet()));
  }

  private static ThreadFactory daemon(Supplier<String> names) {
    return runnable -> {
      Thread thread = new Thread(runnable, names.get());
      thread.setDaemon(true);
      return thread;
    };
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
   * Runs one pass over every table now, after any pass in progress, and waits for it.
   *
   * @return the operations this pass ran and recorded, by table, each table's in the order they ran
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

  /**
   * The most recent runs recorded in the warehouse's history, at most {@link #HISTORY_SIZE}, oldest
   * first; they include runs of other processes on the same warehouse, such as {@code floe
   * maintain}.
   */
  public List<MaintenanceRun> history() {
    List<MaintenanceRun> runs = new ArrayList<>(warehouse.runs(null, HISTORY_SIZE));
    Collections.reverse(runs);
    return runs;
  }

  /**
   * Stops the background passes and waits for a pass in progress, which stops after the tables it
   * is maintaining.
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
      tableThreads.shutdown();
      return;
    }
    // A pass started by runNow on another thread.
    passLock.lock();
    try {
      LOG.debug("No maintenance pass in progress");
    } finally {
      passLock.unlock();
    }
    tableThreads.shutdown();
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
    LOG.info(
        "Maintenance scheduler {} -> {} (every {}, {} tables at once, compaction I/O {})",
        from,
        to,
        config.interval(),
        config.maxConcurrentTables(),
        warehouse.throttle());
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
    List<TableIdentifier> tables = tables();
    List<Future<List<MaintenanceRun>>> futures = new ArrayList<>();
    for (TableIdentifier table : tables) {
      futures.add(tableThreads.submit(() -> maintainUnlessClosed(table)));
    }
    List<MaintenanceRun> runs = new ArrayList<>();
    for (int index = 0; index < futures.size(); index++) {
      try {
        runs.addAll(futures.get(index).get());
      } catch (ExecutionException e) {
        LOG.error("Cannot maintain table {}", tables.get(index), e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        futures.forEach(future -> future.cancel(false));
        break;
      }
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

  private List<MaintenanceRun> maintainUnlessClosed(TableIdentifier table) {
    if (state.get() == State.CLOSED) {
      return List.of();
    }
    List<MaintenanceRun> runs = new ArrayList<>();
    try {
      maintain(table, runs);
    } catch (RuntimeException e) {
      if (dropped(e)) {
        LOG.info("Table {} was dropped during maintenance; going on with the next table", table);
      } else {
        // Not an operation's failure (those are recorded): the table changed under the pass.
        LOG.error("Cannot maintain table {}; going on with the next table", table, e);
      }
    }
    return runs;
  }

  /** Whether a failure says that the table is gone: dropped since it was listed. */
  private static boolean dropped(RuntimeException failure) {
    return failure instanceof NoSuchTableException
        || (failure instanceof FloeException floe && floe.code() == ErrorCode.TABLE_NOT_FOUND);
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
    MaintenancePolicy policy;
    try {
      policy = warehouse.policy(identifier, table).policy();
    } catch (FloeException e) {
      TableFigures figures = TableFigures.of(table);
      record(
          runs,
          new MaintenanceRun(
              identifier,
              MaintenanceRun.Operation.READ_POLICY,
              clock.instant(),
              0,
              figures,
              figures,
              "",
              e.getMessage()));
      LOG.error(
          "Cannot maintain table {}; going on with the next table: {}", identifier, e.getMessage());
      return;
    }
    if (policy.compact()) {
      WarehouseMaintenance.Outcome<RewriteDataFilesResult> outcome =
          warehouse.execute(
              identifier,
              MaintenanceRun.Operation.REWRITE_DATA_FILES,
              () ->
                  maintenance.rewriteDataFiles(
                      identifier, warehouse.rewriteOptions(policy), RewriteProgress.NONE),
              RunDetails::of);
      if (outcome.failure() != null || outcome.result().snapshotId() >= 0) {
        record(runs, outcome);
      }
      table.refresh();
    }
    if (dataManifests(table) > policy.rewriteManifestsAbove()) {
      run(
          runs,
          identifier,
          MaintenanceRun.Operation.REWRITE_MANIFESTS,
          () -> maintenance.rewriteManifests(identifier),
          RunDetails::of);
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
          () -> maintenance.expireSnapshots(identifier, expirePolicy),
          RunDetails::of);
    }
    Instant lastOrphanRemoval = lastOrphanRemovals.get(identifier);
    Instant now = clock.instant();
    if (lastOrphanRemoval == null || !now.isBefore(lastOrphanRemoval.plus(ORPHAN_REMOVAL_PERIOD))) {
      lastOrphanRemovals.put(identifier, now);
      run(
          runs,
          identifier,
          MaintenanceRun.Operation.REMOVE_ORPHAN_FILES,
          () -> maintenance.removeOrphanFiles(identifier, policy.orphanOlderThan(), false),
          RunDetails::of);
    }
  }

  private static int dataManifests(Table table) {
    if (table.currentSnapshot() == null) {
      return 0;
    }
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
  private <T> void run(
      List<MaintenanceRun> runs,
      TableIdentifier table,
      MaintenanceRun.Operation operation,
      Supplier<T> work,
      Function<T, String> details) {
    record(runs, warehouse.execute(table, operation, work, details));
  }

  private void record(List<MaintenanceRun> runs, WarehouseMaintenance.Outcome<?> outcome) {
    if (dropped(outcome.failure())) {
      // Not recorded, as a manual run on a missing table is not; the table's pass ends here.
      throw outcome.failure();
    }
    MaintenanceRun run = outcome.run();
    if (outcome.failure() != null && stopping()) {
      // Iceberg's thread pools stop with the JVM, under an operation still running: the failure
      // says so rather than that the operation is broken.
      run =
          new MaintenanceRun(
              run.table(),
              run.operation(),
              run.startedAt(),
              run.durationMillis(),
              run.before(),
              run.after(),
              run.details(),
              STOPPED_BY_SHUTDOWN + run.error());
      LOG.warn(
          "Maintenance of table {} ({}) was cut short as Floe shuts down: {}",
          run.table(),
          run.operation().label(),
          outcome.failure().toString());
    } else if (outcome.failure() != null) {
      // The stack trace only of Floe's own failures: the others' messages say what to do.
      RuntimeException failure = outcome.failure();
      boolean internal =
          !(failure instanceof FloeException floe) || floe.type() == ErrorType.INTERNAL;
      LOG.error(
          "Maintenance of table {} failed ({}); going on with the next operation: {}",
          run.table(),
          run.operation().label(),
          run.error(),
          internal ? failure : null);
    }
    record(runs, run);
  }

  /** Whether the scheduler is closed or the JVM is shutting down. */
  private boolean stopping() {
    if (state.get() == State.CLOSED) {
      return true;
    }
    Thread probe = new Thread(() -> {}, "floe-shutdown-probe");
    try {
      Runtime.getRuntime().addShutdownHook(probe);
      Runtime.getRuntime().removeShutdownHook(probe);
      return false;
    } catch (IllegalStateException e) {
      return true; // "Shutdown in progress": hooks can no longer be added.
    }
  }

  private void record(List<MaintenanceRun> runs, MaintenanceRun run) {
    runs.add(run);
    warehouse.history().record(run);
  }
}
