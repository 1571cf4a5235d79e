package io.floe.demo;

import static java.util.Objects.requireNonNull;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A live workload on the {@link ShopDatabase} schema for the demo: small transactions (1 to 5
 * statements) of new orders, order status changes, customer updates, new customers and the
 * occasional order deletion. Each statement changes at most one row; statements are paced to the
 * target rate (a statement that finds no row to change still counts towards the pace).
 *
 * <p>Run it on a thread of your choice ({@code new Thread(workload).start()}); it runs until {@link
 * #close()}, which stops it and waits for the thread to finish. It expects a seeded shop database
 * ({@link ShopDatabase#seed}). A failed transaction is rolled back, logged and counted in {@link
 * #errors()}; the workload reconnects if the connection broke and retries with the next transaction
 * after a short backoff (100 ms doubling up to 5 s), so it rides out a database restart.
 *
 * <p>Counters count rows changed by committed transactions and are safe to read from any thread. A
 * commit whose outcome is unknown because the connection broke during it counts as an error, not as
 * committed.
 */
public final class ShopWorkload implements Runnable, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ShopWorkload.class);
  private static final long MAX_BACKLOG_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final long MAX_BACKOFF_MILLIS = 5_000;

  /** Lifecycle: NEW → RUNNING → STOPPING → STOPPED, or NEW → STOPPED if closed before running. */
  enum State {
    NEW,
    RUNNING,
    STOPPING,
    STOPPED
  }

  private final String jdbcUrl;
  private final String user;
  private final String password;
  private final double changesPerSecond;
  private final Random random;

  private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
  private final CountDownLatch stopRequested = new CountDownLatch(1);
  private final CountDownLatch finished = new CountDownLatch(1);
  private volatile Thread runner;

  private final AtomicLong inserts = new AtomicLong();
  private final AtomicLong updates = new AtomicLong();
  private final AtomicLong deletes = new AtomicLong();
  private final AtomicLong transactions = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  private volatile Instant lastCommitTime;

  /**
   * @param jdbcUrl the shop database, e.g. {@link EmbeddedPostgres#jdbcUrl(String)}
   * @param user database user
   * @param password database password, or null for none
   * @param changesPerSecond target rate of data-changing statements per second
   * @param randomSeed seed for the choice of operations and values
   */
  public ShopWorkload(
      String jdbcUrl, String user, String password, double changesPerSecond, long randomSeed) {
    this.jdbcUrl = requireNonNull(jdbcUrl, "jdbcUrl is null");
    this.user = requireNonNull(user, "user is null");
    this.password = password;
    if (!(changesPerSecond > 0) || Double.isInfinite(changesPerSecond)) {
      throw new IllegalArgumentException(
          "changesPerSecond must be positive and finite: " + changesPerSecond);
    }
    this.changesPerSecond = changesPerSecond;
    this.random = new Random(randomSeed);
  }

  /** Rows inserted by committed transactions. */
  public long inserts() {
    return inserts.get();
  }

  /** Rows updated by committed transactions. */
  public long updates() {
    return updates.get();
  }

  /** Rows deleted by committed transactions. */
  public long deletes() {
    return deletes.get();
  }

  /** Committed transactions. */
  public long transactions() {
    return transactions.get();
  }

  /** Failed transactions (each rolled back and logged). */
  public long errors() {
    return errors.get();
  }

  /** When the last transaction committed, or null if none has yet. */
  public Instant lastCommitTime() {
    return lastCommitTime;
  }

  /** Runs the workload until {@link #close()}; may be called once. */
  @Override
  public void run() {
    if (!state.compareAndSet(State.NEW, State.RUNNING)) {
      throw new IllegalStateException("Cannot run shop workload: it is " + state.get());
    }
    runner = Thread.currentThread();
    LOG.info(
        "Shop workload {}: {} changes/s against {}",
        State.RUNNING,
        changesPerSecond,
        withoutParameters(jdbcUrl));
    Connection connection = null;
    try {
      connection = loop();
    } finally {
      closeQuietly(connection);
      state.set(State.STOPPED);
      LOG.info(
          "Shop workload {}: {} transactions committed ({} inserts, {} updates, {} deletes),"
              + " {} failed",
          State.STOPPED,
          transactions(),
          inserts(),
          updates(),
          deletes(),
          errors());
      finished.countDown();
    }
  }

  /** Returns the connection still open when stopped. */
  private Connection loop() {
    double nanosPerChange = TimeUnit.SECONDS.toNanos(1) / changesPerSecond;
    long due = System.nanoTime();
    int consecutiveErrors = 0;
    Connection connection = null;
    ShopStatements statements = null;
    try {
      while (stopRequested.getCount() > 0) {
        long waitNanos = due - System.nanoTime();
        if (waitNanos > 0 && stopRequested.await(waitNanos, TimeUnit.NANOSECONDS)) {
          break;
        }
        int statementCount = 1 + random.nextInt(5);
        try {
          if (connection == null) {
            connection = open();
            statements = new ShopStatements(connection);
          }
          ChangeCounts counts = new ChangeCounts();
          for (int i = 0; i < statementCount; i++) {
            statements.runRandom(random, counts);
          }
          connection.commit();
          inserts.addAndGet(counts.inserts);
          updates.addAndGet(counts.updates);
          deletes.addAndGet(counts.deletes);
          transactions.incrementAndGet();
          lastCommitTime = Instant.now();
          if (consecutiveErrors > 0) {
            LOG.info("Shop workload recovered after {} failed transactions", consecutiveErrors);
            consecutiveErrors = 0;
          }
        } catch (SQLException | RuntimeException e) {
          consecutiveErrors++;
          long failures = errors.incrementAndGet();
          long backoffMillis =
              Math.min(MAX_BACKOFF_MILLIS, 100L << Math.min(consecutiveErrors - 1, 6));
          LOG.warn(
              "Shop workload transaction failed ({} in a row, {} in total), retrying in {} ms:"
                  + " {}{}",
              consecutiveErrors,
              failures,
              backoffMillis,
              e.getMessage(),
              e instanceof SQLException
                  ? " [SQLState " + ((SQLException) e).getSQLState() + "]"
                  : "");
          LOG.debug("Shop workload failure", e);
          if (!rollbackKeepsConnection(connection)) {
            closeQuietly(connection);
            connection = null;
            statements = null;
          }
          if (stopRequested.await(backoffMillis, TimeUnit.MILLISECONDS)) {
            break;
          }
          due = System.nanoTime();
          continue;
        }
        due += (long) (statementCount * nanosPerChange);
        // After a stall, catch up for at most a second instead of bursting.
        long now = System.nanoTime();
        if (now - due > MAX_BACKLOG_NANOS) {
          due = now - MAX_BACKLOG_NANOS;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      LOG.info("Shop workload interrupted; stopping");
    }
    return connection;
  }

  private Connection open() throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", user);
    if (password != null) {
      properties.setProperty("password", password);
    }
    properties.setProperty("ApplicationName", "floe-shop-workload");
    properties.setProperty("connectTimeout", "5");
    properties.setProperty("socketTimeout", "30");
    properties.setProperty("tcpKeepAlive", "true");
    Connection connection = DriverManager.getConnection(jdbcUrl, properties);
    try {
      connection.setAutoCommit(false);
      return connection;
    } catch (SQLException e) {
      closeQuietly(connection);
      throw e;
    }
  }

  /** Rolls back; returns false if the connection is unusable and must be replaced. */
  private static boolean rollbackKeepsConnection(Connection connection) {
    if (connection == null) {
      return false;
    }
    try {
      connection.rollback();
      return connection.isValid(2);
    } catch (SQLException e) {
      LOG.debug("Rollback failed; reconnecting", e);
      return false;
    }
  }

  private static void closeQuietly(Connection connection) {
    if (connection == null) {
      return;
    }
    try {
      connection.close();
    } catch (SQLException e) {
      LOG.debug("Cannot close shop workload connection", e);
    }
  }

  private static String withoutParameters(String jdbcUrl) {
    int question = jdbcUrl.indexOf('?');
    return question < 0 ? jdbcUrl : jdbcUrl.substring(0, question);
  }

  /**
   * Stops the workload and waits until {@link #run()} has finished its current transaction and
   * returns. Safe to call more than once and before {@link #run()}.
   */
  @Override
  public void close() {
    if (state.compareAndSet(State.NEW, State.STOPPED)) {
      stopRequested.countDown();
      finished.countDown();
      return;
    }
    if (state.compareAndSet(State.RUNNING, State.STOPPING)) {
      LOG.info("Shop workload {}", State.STOPPING);
    }
    stopRequested.countDown();
    if (Thread.currentThread() == runner) {
      return; // closed from inside run(): the loop ends on its own
    }
    try {
      finished.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Rows changed by the statements of one transaction, counted once it commits. */
  private static final class ChangeCounts {
    long inserts;
    long updates;
    long deletes;
  }

  /** The workload's prepared statements on one connection. */
  private static final class ShopStatements {
    /** An existing id spread over [min(id), max(id)] of the table; ? is a double in [0, 1). */
    private final PreparedStatement newOrder;

    private final PreparedStatement orderStatus;
    private final PreparedStatement orderDelete;
    private final PreparedStatement newCustomer;
    private final PreparedStatement customerName;
    private final PreparedStatement customerEmail;
    private final PreparedStatement customerVip;
    private final PreparedStatement customerNotes;

    ShopStatements(Connection connection) throws SQLException {
      newOrder =
          connection.prepareStatement(
              "INSERT INTO public.orders"
                  + " (customer_id, product_id, quantity, total, status, ordered_at)"
                  + " SELECT c.id, p.id, q.quantity, p.price * q.quantity, 'new', localtimestamp"
                  + " FROM (SELECT ?::smallint AS quantity) q, public.customers c,"
                  + " public.products p WHERE c.id = "
                  + pick("customers")
                  + " AND p.id = "
                  + pick("products"));
      orderStatus =
          connection.prepareStatement(
              "UPDATE public.orders SET status = ?::text, ship_date = CASE"
                  + " WHEN ?::text IN ('shipped', 'delivered') THEN coalesce(ship_date,"
                  + " current_date) ELSE ship_date END WHERE id = "
                  + pick("orders"));
      orderDelete =
          connection.prepareStatement("DELETE FROM public.orders WHERE id = " + pick("orders"));
      newCustomer =
          connection.prepareStatement(
              "INSERT INTO public.customers (name, email, country_code, vip, notes) VALUES"
                  + " (?, ?, (SELECT code FROM public.countries ORDER BY code OFFSET ? LIMIT 1),"
                  + " ?, ?)");
      customerName =
          connection.prepareStatement(
              "UPDATE public.customers SET name = ? WHERE id = " + pick("customers"));
      customerEmail =
          connection.prepareStatement(
              "UPDATE public.customers SET email = ? WHERE id = " + pick("customers"));
      customerVip =
          connection.prepareStatement(
              "UPDATE public.customers SET vip = NOT vip WHERE id = " + pick("customers"));
      customerNotes =
          connection.prepareStatement(
              "UPDATE public.customers SET notes = ? WHERE id = " + pick("customers"));
    }

    private static String pick(String table) {
      return String.format(
          "(SELECT id FROM public.%1$s WHERE id >= (SELECT min(id)"
              + " + floor(?::float8 * (max(id) - min(id) + 1))::bigint FROM public.%1$s)"
              + " ORDER BY id LIMIT 1)",
          table);
    }

    void runRandom(Random random, ChangeCounts counts) throws SQLException {
      int choice = random.nextInt(100);
      if (choice < 35) {
        newOrder.setInt(1, 1 + random.nextInt(5));
        newOrder.setDouble(2, random.nextDouble());
        newOrder.setDouble(3, random.nextDouble());
        counts.inserts += newOrder.executeUpdate();
      } else if (choice < 65) {
        String status = ShopDatabase.pick(random, ShopDatabase.ORDER_STATUSES);
        orderStatus.setString(1, status);
        orderStatus.setString(2, status);
        orderStatus.setDouble(3, random.nextDouble());
        counts.updates += orderStatus.executeUpdate();
      } else if (choice < 85) {
        counts.updates += updateCustomer(random);
      } else if (choice < 93) {
        String first = ShopDatabase.pick(random, ShopDatabase.FIRST_NAMES);
        String last = ShopDatabase.pick(random, ShopDatabase.LAST_NAMES);
        newCustomer.setString(1, first + " " + last);
        newCustomer.setString(2, ShopDatabase.email(first, last, random));
        newCustomer.setInt(3, random.nextInt(ShopDatabase.COUNTRIES.length));
        newCustomer.setBoolean(4, random.nextInt(20) == 0);
        newCustomer.setString(5, random.nextInt(3) == 0 ? "signed up during the demo" : null);
        counts.inserts += newCustomer.executeUpdate();
      } else {
        orderDelete.setDouble(1, random.nextDouble());
        counts.deletes += orderDelete.executeUpdate();
      }
    }

    private int updateCustomer(Random random) throws SQLException {
      PreparedStatement statement;
      switch (random.nextInt(4)) {
        case 0:
          statement = customerName;
          statement.setString(
              1,
              ShopDatabase.pick(random, ShopDatabase.FIRST_NAMES)
                  + " "
                  + ShopDatabase.pick(random, ShopDatabase.LAST_NAMES));
          break;
        case 1:
          statement = customerEmail;
          statement.setString(
              1,
              random.nextInt(10) == 0
                  ? null
                  : ShopDatabase.email(
                      ShopDatabase.pick(random, ShopDatabase.FIRST_NAMES),
                      ShopDatabase.pick(random, ShopDatabase.LAST_NAMES),
                      random));
          break;
        case 2:
          statement = customerVip;
          break;
        default:
          statement = customerNotes;
          statement.setString(1, notes(random));
          break;
      }
      statement.setDouble(statement == customerVip ? 1 : 2, random.nextDouble());
      return statement.executeUpdate();
    }

    /** Mostly short notes; sometimes a few KB of incompressible text, stored out of line. */
    private static String notes(Random random) {
      int kind = random.nextInt(20);
      if (kind < 4) {
        return null;
      }
      if (kind == 19) {
        return RandomText.incompressible(random, 2_500 + random.nextInt(2_000));
      }
      return "Called on "
          + (1 + random.nextInt(28))
          + "/"
          + (1 + random.nextInt(12))
          + ": "
          + (random.nextBoolean() ? "wants faster shipping" : "asked about the return policy");
    }
  }
}
