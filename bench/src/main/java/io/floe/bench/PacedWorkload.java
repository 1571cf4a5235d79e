package io.floe.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Single-row autocommit transactions on {@code items} at a fixed total rate from several
 * connections, each connection running its share on its own schedule: an update of the {@code qty}
 * of a random row with an id in {@code 1..updateRows}, or (a share of them) an insert of a new row.
 * A connection more than a second behind schedule drops its backlog (counted as late) rather than
 * bursting.
 *
 * <p>Transactions are counted by {@link Window}: between {@link #beginWindow} and {@link
 * #endWindow}, and in a window every {@code sampleEvery}-th transaction is an insert whose id and
 * client-side commit time ({@link System#nanoTime()}) are recorded, for a {@link
 * VisibilityObserver} to match.
 */
final class PacedWorkload implements AutoCloseable {
  private final long periodNanos;
  private final double insertShare;
  private final long updateRows;
  private final AtomicLong nextId;
  private final List<Connection> connections = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private final LongAdder committedChanges = new LongAdder();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private volatile boolean running = true;
  private volatile Window window;

  private PacedWorkload(
      double rate, int connectionCount, double insertShare, long updateRows, long firstNewId) {
    if (!(rate > 0) || connectionCount < 1 || updateRows < 1) {
      throw new IllegalArgumentException(
          "Cannot run a workload of rate "
              + rate
              + " on "
              + connectionCount
              + " connections over "
              + updateRows
              + " rows: all must be positive");
    }
    this.periodNanos = Math.round(connectionCount * 1e9 / rate);
    this.insertShare = insertShare;
    this.updateRows = updateRows;
    this.nextId = new AtomicLong(firstNewId);
  }

  /**
   * Opens the connections and starts the clients.
   *
   * @param rate transactions per second, all connections together
   * @param insertShare share of transactions that insert a row (besides the sampled inserts)
   * @param updateRows updates pick a random id in {@code 1..updateRows}
   * @param firstNewId id of the first inserted row; later inserts count up from it
   */
  static PacedWorkload start(
      BenchEnvironment environment,
      double rate,
      int connections,
      double insertShare,
      long updateRows,
      long firstNewId)
      throws SQLException {
    PacedWorkload workload =
        new PacedWorkload(rate, connections, insertShare, updateRows, firstNewId);
    try {
      for (int i = 0; i < connections; i++) {
        workload.connections.add(environment.connect());
      }
    } catch (SQLException | RuntimeException e) {
      workload.close();
      throw e;
    }
    long started = System.nanoTime();
    for (int i = 0; i < connections; i++) {
      Connection connection = workload.connections.get(i);
      long first = started + i * workload.periodNanos / connections;
      Thread thread = new Thread(() -> workload.run(connection, first), "bench-client-" + i);
      thread.start();
      workload.threads.add(thread);
    }
    return workload;
  }

  /** The next id an insert would use; ids below it exist or were inserted. */
  long nextId() {
    return nextId.get();
  }

  /** Rows changed by committed transactions since the start. */
  long committedChanges() {
    return committedChanges.sum();
  }

  /**
   * Starts counting a new window, ending the current one if any.
   *
   * @param sampleEvery every this many transactions of the window, one is a sampled insert; 0 for
   *     none
   */
  Window beginWindow(long sampleEvery) {
    Window started = new Window(sampleEvery);
    window = started;
    return started;
  }

  /** Ends the current window and returns it. */
  Window endWindow() {
    Window ended = window;
    window = null;
    if (ended == null) {
      throw new IllegalStateException("Cannot end a window: none was begun");
    }
    ended.endedNanos = System.nanoTime();
    return ended;
  }

  void checkFailure() {
    Throwable error = failure.get();
    if (error != null) {
      throw new IllegalStateException("Cannot run workload: " + error, error);
    }
  }

  /** Stops the clients and waits for them: no transaction starts after this returns. */
  void stop() throws InterruptedException {
    running = false;
    for (Thread thread : threads) {
      thread.join();
    }
  }

  @Override
  public void close() throws SQLException {
    running = false;
    try {
      for (Thread thread : threads) {
        thread.join();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    SQLException failed = null;
    for (Connection connection : connections) {
      try {
        connection.close();
      } catch (SQLException e) {
        if (failed == null) {
          failed = e;
        } else {
          failed.addSuppressed(e);
        }
      }
    }
    if (failed != null) {
      throw failed;
    }
  }

  private void run(Connection connection, long first) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    try (PreparedStatement update =
            connection.prepareStatement("UPDATE items SET qty = qty + 1 WHERE id = ?");
        PreparedStatement insert =
            connection.prepareStatement(
                "INSERT INTO items (id, name, price, qty, created, active)"
                    + " VALUES (?, ?, 1.00, ?, now(), true)")) {
      long next = first;
      while (running) {
        long wait;
        while ((wait = next - System.nanoTime()) > 0) {
          LockSupport.parkNanos(wait);
        }
        if (!running) {
          break;
        }
        Window current = window;
        boolean sample =
            current != null
                && current.sampleEvery > 0
                && current.sequence.incrementAndGet() % current.sampleEvery == 0;
        long id = -1;
        int changed;
        if (sample || (insertShare > 0 && random.nextDouble() < insertShare)) {
          id = nextId.getAndIncrement();
          insert.setLong(1, id);
          insert.setString(2, "item " + id);
          insert.setInt(3, random.nextInt(100));
          changed = insert.executeUpdate();
        } else {
          update.setLong(1, random.nextLong(1, updateRows + 1));
          changed = update.executeUpdate();
        }
        long committed = System.nanoTime();
        committedChanges.add(changed);
        if (current != null) {
          if (sample) {
            current.samples.put(id, committed);
          }
          current.transactions.increment();
          current.changes.add(changed);
        }
        next += periodNanos;
        if (committed - next > 1_000_000_000L) {
          if (current != null) {
            current.late.add((committed - next) / periodNanos);
          }
          next = committed;
        }
      }
    } catch (SQLException | RuntimeException e) {
      failure.compareAndSet(null, e);
      running = false;
    }
  }

  /** What the clients did between {@link #beginWindow} and {@link #endWindow}. */
  static final class Window {
    private final long sampleEvery;
    private final AtomicLong sequence = new AtomicLong();
    private final LongAdder transactions = new LongAdder();
    private final LongAdder changes = new LongAdder();
    private final LongAdder late = new LongAdder();
    private final Map<Long, Long> samples = new ConcurrentHashMap<>();
    private final long startedNanos = System.nanoTime();
    private volatile long endedNanos;

    private Window(long sampleEvery) {
      this.sampleEvery = sampleEvery;
    }

    long transactions() {
      return transactions.sum();
    }

    /** Rows changed by the window's committed transactions. */
    long changes() {
      return changes.sum();
    }

    /** Transactions dropped by connections that fell more than a second behind schedule. */
    long late() {
      return late.sum();
    }

    /** Sampled inserts: id to client-side commit time ({@link System#nanoTime()}). */
    Map<Long, Long> samples() {
      return samples;
    }

    long startedNanos() {
      return startedNanos;
    }

    /** Seconds from the start to the end of the window, or to now while it is open. */
    double seconds() {
      long ended = endedNanos;
      return Bench.seconds((ended == 0 ? System.nanoTime() : ended) - startedNanos);
    }

    /** Transactions per second over the window. */
    double rate() {
      return transactions() / seconds();
    }
  }
}
