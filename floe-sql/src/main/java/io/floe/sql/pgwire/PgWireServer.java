package io.floe.sql.pgwire;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.sql.QueryEngine;
import io.floe.sql.SqlUsers;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Floe's SQL engine behind the PostgreSQL wire protocol (version 3.0), for psql, JDBC and ODBC
 * drivers and BI tools.
 *
 * <p>Clients authenticate with SCRAM-SHA-256 as one of the configured SQL users; connections are
 * not encrypted (SSL requests are answered "no"), so bind to loopback or a private network. Both
 * the simple and the extended query protocol are served, with text and binary formats; each
 * statement runs through {@link QueryEngine#start}, so only read queries are accepted. The system
 * catalogs ({@code pg_catalog}) are not provided: psql's {@code \d} commands and drivers' metadata
 * calls fail with an error. Transaction commands are accepted and do nothing: each query reads its
 * tables' current snapshots. Settings that shape the output (encoding UTF8, DateStyle ISO, TimeZone
 * UTC, IntervalStyle postgres) are fixed: {@code SET} accepts them and keeps them as they are.
 *
 * <p>Each connection has its own thread ({@code floe-pg-<n>}); a monitor thread cancels the query
 * of a client that closed its connection while the query ran. A CancelRequest cancels the query of
 * the session whose process id and secret key it names.
 */
public final class PgWireServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PgWireServer.class);

  private enum State {
    NEW,
    RUNNING,
    CLOSED
  }

  /** Identifies a session to cancel requests: a process id and a secret. */
  record BackendKey(int processId, int secretKey) {}

  private final QueryEngine engine;
  private final SqlUsers users;
  private final String host;
  private final int requestedPort;
  private final Duration queryTimeout;
  private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
  private final SecureRandom random = new SecureRandom();
  private final AtomicInteger threadNumbers = new AtomicInteger();
  private final ExecutorService threads;
  private final ScheduledExecutorService monitor =
      Executors.newSingleThreadScheduledExecutor(
          runnable -> {
            Thread thread = new Thread(runnable, "floe-pg-monitor");
            thread.setDaemon(true);
            return thread;
          });
  private final Set<PgSession> sessions = ConcurrentHashMap.newKeySet();
  private final Map<Integer, Registered> registered = new ConcurrentHashMap<>();
  private volatile ServerSocket serverSocket;

  private record Registered(PgSession session, int secretKey) {}

  /**
   * @param host the address to listen on, such as {@code 127.0.0.1}
   * @param port the port; 0 picks a free one, see {@link #port()}
   * @param queryTimeout queries running longer are cancelled
   */
  public PgWireServer(
      QueryEngine engine, SqlUsers users, String host, int port, Duration queryTimeout) {
    this.engine = requireNonNull(engine, "engine is null");
    this.users = requireNonNull(users, "users is null");
    this.host = requireNonNull(host, "host is null");
    this.queryTimeout = requireNonNull(queryTimeout, "queryTimeout is null");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port is not between 0 and 65535: " + port);
    }
    this.requestedPort = port;
    this.threads =
        Executors.newCachedThreadPool(
            runnable -> {
              Thread thread = new Thread(runnable, "floe-pg-" + threadNumbers.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            });
  }

  /**
   * Binds the port and starts accepting connections.
   *
   * @throws FloeException {@link ErrorCode#ENDPOINT_UNAVAILABLE} when it cannot listen on the
   *     address and port (taken, or not an address of this machine)
   */
  public void start() {
    if (!state.compareAndSet(State.NEW, State.RUNNING)) {
      throw new IllegalStateException("PostgreSQL endpoint is " + state.get() + ", not NEW");
    }
    try {
      ServerSocket socket = new ServerSocket();
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getByName(host), requestedPort), 128);
      serverSocket = socket;
    } catch (IOException e) {
      state.set(State.CLOSED);
      threads.shutdown();
      monitor.shutdown();
      throw new FloeException(
          ErrorCode.ENDPOINT_UNAVAILABLE,
          "Cannot start the PostgreSQL endpoint on "
              + host
              + ":"
              + requestedPort
              + ": "
              + e.getMessage()
              + "; set sql.postgres-port to a free port (0 picks one) or sql.listen-address to an"
              + " address of this machine",
          e);
    }
    threads.execute(this::acceptConnections);
    Future<?> unused =
        monitor.scheduleWithFixedDelay(this::checkConnections, 1, 1, TimeUnit.SECONDS);
    LOG.info("PostgreSQL endpoint listening on {}:{}", host, port());
    if (users.isEmpty()) {
      LOG.warn("No SQL users are configured (sql.users): the PostgreSQL endpoint refuses everyone");
    }
  }

  /** The port listened on; after {@link #start()}, the one picked when 0 was asked for. */
  public int port() {
    ServerSocket socket = serverSocket;
    return socket == null ? requestedPort : socket.getLocalPort();
  }

  private void acceptConnections() {
    ServerSocket listening = serverSocket;
    while (state.get() == State.RUNNING) {
      Socket socket;
      try {
        socket = listening.accept();
      } catch (IOException e) {
        if (state.get() == State.RUNNING) {
          LOG.error("PostgreSQL endpoint stopped accepting connections", e);
        }
        return;
      }
      try {
        socket.setTcpNoDelay(true);
        socket.setKeepAlive(true);
        PgSession session = new PgSession(socket, this, engine, users, queryTimeout);
        sessions.add(session);
        threads.execute(session);
      } catch (IOException | RejectedExecutionException e) {
        LOG.warn("Could not start a session for {}: {}", socket.getRemoteSocketAddress(), e);
        closeQuietly(socket);
      }
    }
  }

  private void checkConnections() {
    for (PgSession session : sessions) {
      try {
        session.checkConnection();
      } catch (RuntimeException e) {
        LOG.error("Checking a PostgreSQL connection failed", e);
      }
    }
  }

  /** Gives an authenticated session its key for cancel requests. */
  BackendKey register(PgSession session) {
    int secretKey = random.nextInt();
    while (true) {
      int processId = 1 + random.nextInt(Integer.MAX_VALUE - 1);
      if (registered.putIfAbsent(processId, new Registered(session, secretKey)) == null) {
        return new BackendKey(processId, secretKey);
      }
    }
  }

  /** Forgets a session that ended. */
  void closed(PgSession session) {
    sessions.remove(session);
    registered.values().removeIf(entry -> entry.session() == session);
  }

  SecureRandom random() {
    return random;
  }

  /** Runs a CancelRequest: cancels the session's query when the secret matches. */
  void cancel(int processId, int secretKey) {
    Registered entry = registered.get(processId);
    if (entry == null || entry.secretKey() != secretKey) {
      LOG.info(
          "Ignored a cancel request for PostgreSQL session {}: no such session or wrong secret",
          processId);
      return;
    }
    entry.session().cancel();
  }

  /** Stops accepting connections and closes every session, cancelling their queries. */
  @Override
  public void close() {
    State previous = state.getAndSet(State.CLOSED);
    if (previous == State.CLOSED) {
      return;
    }
    ServerSocket socket = serverSocket;
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException e) {
        LOG.warn("Could not close the PostgreSQL endpoint's socket", e);
      }
    }
    monitor.shutdownNow();
    int open = sessions.size();
    for (PgSession session : sessions) {
      session.shutdown();
    }
    threads.shutdown();
    try {
      if (!threads.awaitTermination(10, TimeUnit.SECONDS)) {
        LOG.warn("PostgreSQL sessions still running 10 s after the endpoint closed");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (previous == State.RUNNING) {
      LOG.info("PostgreSQL endpoint on {}:{} closed ({} sessions ended)", host, port(), open);
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      LOG.debug("Could not close socket: {}", e.toString());
    }
  }
}
