package io.floe.sql;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fresh in-memory DuckDB instances, opened ahead of time so that a query does not wait for one.
 * Each instance serves a single query and is closed after it; none is ever reused, so one query's
 * views and sandbox settings cannot reach another.
 */
final class FreshDuckDb implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FreshDuckDb.class);
  private static final Properties STREAMING = new Properties();
  private static final java.sql.Driver DRIVER = new org.duckdb.DuckDBDriver();

  static {
    STREAMING.setProperty("jdbc_stream_results", "true");
  }

  private final BlockingQueue<Connection> ready;
  private final ExecutorService opener;
  private final AtomicBoolean refilling = new AtomicBoolean();
  private volatile boolean closed;

  /** Keeps up to {@code spare} instances open, from the first {@link #take()} on. */
  FreshDuckDb(int spare) {
    this.ready = new ArrayBlockingQueue<>(Math.max(1, spare));
    this.opener =
        Executors.newSingleThreadExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "floe-duckdb-opener");
              thread.setDaemon(true);
              return thread;
            });
  }

  /** A fresh instance, streaming results; the caller closes it. */
  Connection take() throws SQLException {
    Connection connection = ready.poll();
    refill();
    return connection != null ? connection : open();
  }

  /**
   * A new in-memory DuckDB. The driver is called directly rather than through DriverManager, whose
   * lookup depends on the calling thread's class loader (the opener is a pool thread).
   */
  static Connection open(Properties properties) throws SQLException {
    Connection connection = DRIVER.connect("jdbc:duckdb:", properties);
    if (connection == null) {
      throw new SQLException("DuckDB's driver did not accept jdbc:duckdb:");
    }
    return connection;
  }

  private static Connection open() throws SQLException {
    return open(STREAMING);
  }

  private void refill() {
    if (closed || !refilling.compareAndSet(false, true)) {
      return;
    }
    opener.execute(
        () -> {
          try {
            while (!closed && ready.remainingCapacity() > 0) {
              Connection connection = open();
              if (closed || !ready.offer(connection)) {
                connection.close();
              }
            }
          } catch (SQLException e) {
            LOG.warn("Could not open a spare DuckDB instance; queries open their own", e);
          } finally {
            refilling.set(false);
          }
        });
  }

  @Override
  public void close() {
    closed = true;
    opener.shutdown();
    for (Connection connection = ready.poll(); connection != null; connection = ready.poll()) {
      try {
        connection.close();
      } catch (SQLException e) {
        LOG.warn("Could not close a spare DuckDB instance", e);
      }
    }
  }
}
