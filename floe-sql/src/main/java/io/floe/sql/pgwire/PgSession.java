package io.floe.sql.pgwire;

import io.floe.core.ErrorCode;
import io.floe.core.ErrorType;
import io.floe.core.FloeException;
import io.floe.sql.QueryEngine;
import io.floe.sql.QueryExecution;
import io.floe.sql.QueryOptions;
import io.floe.sql.SqlLexer;
import io.floe.sql.SqlUsers;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: startup and authentication, then the simple and extended query protocols
 * until the client terminates or goes away. Runs on its own thread; only {@link #cancel()}, {@link
 * #shutdown()} and {@link #checkConnection()} are called from other threads.
 *
 * <p>After an error in an extended query batch, messages are discarded up to the batch's Sync, as
 * PostgreSQL does. Statements and portals live until closed, except that a Sync outside a
 * transaction block closes all portals and a Sync inside one closes the unnamed portal.
 */
final class PgSession implements Runnable, Portal.Session {
  private static final Logger LOG = LoggerFactory.getLogger(PgSession.class);
  private static final String UNNAMED = "";
  private static final String MESSAGE_TYPES = "QPBDECSHdcfF";
  // Names the sessions' queries among the engine's running queries, unique within the JVM.
  private static final AtomicLong SESSION_NUMBERS = new AtomicLong();

  private final Socket socket;
  private final PgWireServer server;
  private final QueryEngine engine;
  private final SqlUsers users;
  private final Duration queryTimeout;
  private final String client;
  private final Map<String, PreparedStatement> statements = new HashMap<>();
  private final Map<String, Portal> portals = new HashMap<>();

  private final String session;
  private final CancelRequests cancelRequests;

  private volatile ClientWatch watch;
  private PgWriter out;
  private SessionState state;
  private QueryOptions options;
  private boolean skipUntilSync;

  PgSession(
      Socket socket, PgWireServer server, QueryEngine engine, SqlUsers users, Duration timeout) {
    this.socket = socket;
    this.server = server;
    this.engine = engine;
    this.users = users;
    this.queryTimeout = timeout;
    this.client = socket.getRemoteSocketAddress().toString();
    this.session = "postgres-" + SESSION_NUMBERS.incrementAndGet();
    this.cancelRequests = new CancelRequests(engine.runningQueries(), session);
  }

  @Override
  public void run() {
    try (Socket connection = socket) {
      serve(connection);
    } catch (IOException e) {
      LOG.debug("Could not close the connection of {}: {}", client, e.toString());
    } finally {
      for (Portal portal : portals.values()) {
        portal.abort(this);
      }
      portals.clear();
      server.closed(this);
    }
  }

  private void serve(Socket connection) {
    try {
      ClientWatch reader = new ClientWatch(connection);
      out = new PgWriter(new BufferedOutputStream(connection.getOutputStream(), 1 << 16));
      PgStartup.Accepted accepted =
          new PgStartup(reader.in(), out, users, server::cancel, server.random(), client).accept();
      if (accepted != null) {
        open(accepted);
        watch = reader;
        loop(reader);
      }
    } catch (FloeException e) {
      fatal(e);
    } catch (IOException e) {
      LOG.debug("PostgreSQL client {} went away: {}", client, e.toString());
    } catch (RuntimeException e) {
      LOG.error("PostgreSQL session of {} failed", client, e);
      fatal(internal(e));
    }
  }

  private void open(PgStartup.Accepted accepted) throws IOException {
    SqlUsers.User user = accepted.user();
    state = new SessionState(user.name(), accepted.applicationName());
    options = new QueryOptions(user.name(), user.workgroup(), queryTimeout, session);
    PgWireServer.BackendKey key = server.register(this);
    for (Map.Entry<String, String> parameter : state.reported().entrySet()) {
      out.parameterStatus(parameter.getKey(), parameter.getValue());
    }
    out.backendKeyData(key.processId(), key.secretKey());
    LOG.debug("PostgreSQL client {} connected as {}", client, user.name());
    ready();
  }

  private void loop(ClientWatch reader) throws IOException {
    while (true) {
      PgMessage message = reader.next();
      if (message == null || message.type() == 'X') {
        return;
      }
      if (MESSAGE_TYPES.indexOf(message.type()) < 0) {
        // Fatal: after an unknown message the stream's framing cannot be trusted.
        throw PgErrors.protocol(
            "Cannot read message: unknown message type '" + message.type() + "'");
      }
      cancelRequests.busy();
      if (skipUntilSync && message.type() != 'S') {
        continue;
      }
      try {
        dispatch(message);
      } catch (FloeException e) {
        logInternal(e);
        recover(message, e);
      } catch (RuntimeException e) {
        LOG.error("PostgreSQL client {}: message '{}' failed", client, message.type(), e);
        recover(message, internal(e));
      }
    }
  }

  /** After an error, a simple query ends; an extended query batch is skipped up to its Sync. */
  private void recover(PgMessage message, FloeException e) throws IOException {
    error(e);
    if (message.type() == 'Q') {
      ready();
    } else {
      skipUntilSync = true;
    }
  }

  private void dispatch(PgMessage message) throws IOException {
    switch (message.type()) {
      case 'Q':
        simpleQuery(message.cstring());
        break;
      case 'P':
        parse(message);
        break;
      case 'B':
        bind(message);
        break;
      case 'D':
        describe(message);
        break;
      case 'E':
        execute(message);
        break;
      case 'C':
        close(message);
        break;
      case 'S':
        sync();
        break;
      case 'H':
        out.flush();
        break;
      case 'd':
      case 'c':
      case 'f':
        // Copy messages outside COPY: ignored, as PostgreSQL does.
        break;
      case 'F':
        throw PgErrors.unsupported(
            "Cannot call function: the function call protocol is not supported");
      default:
        throw new IllegalStateException("Unexpected message type " + message.type());
    }
  }

  /** Runs each statement of a simple query in turn, stopping at the first error. */
  private void simpleQuery(String sql) throws IOException {
    closePortal(UNNAMED);
    statements.remove(UNNAMED);
    List<SqlLexer.Statement> parts = SqlLexer.statements(sql);
    if (parts.isEmpty()) {
      out.emptyQueryResponse();
    }
    for (SqlLexer.Statement part : parts) {
      Portal portal = null;
      try {
        PreparedStatement statement = new PreparedStatement(part.sql(), new int[0]);
        if (statement.parameterCount() > 0) {
          throw PgErrors.invalid(
              PgErrors.UNDEFINED_PARAMETER,
              "Cannot run query: it refers to parameter $1 and the like, which only prepared"
                  + " statements (the extended query protocol) can supply");
        }
        portal =
            new Portal(
                statement,
                ParameterBinder.substitute(part.sql(), List.of()),
                ResultFormats.TEXT,
                part.offset());
        List<PgColumn> columns = portal.describe(this);
        if (!columns.isEmpty()) {
          out.rowDescription(columns, ResultFormats.TEXT);
        }
        portal.execute(0, out, this);
      } catch (FloeException e) {
        logInternal(e);
        error(e);
        break;
      } catch (RuntimeException e) {
        LOG.error("PostgreSQL client {}: query failed", client, e);
        error(internal(e));
        break;
      } finally {
        if (portal != null) {
          portal.close(this);
        }
      }
    }
    ready();
  }

  private void parse(PgMessage message) throws IOException {
    String name = message.cstring();
    String sql = message.cstring();
    int[] types = new int[message.int16()];
    for (int i = 0; i < types.length; i++) {
      types[i] = message.int32();
    }
    if (!name.equals(UNNAMED) && statements.containsKey(name)) {
      throw PgErrors.invalid(
          PgErrors.DUPLICATE_STATEMENT,
          "Cannot prepare statement \"" + name + "\": a statement of that name exists; close it");
    }
    statements.put(name, new PreparedStatement(sql, types));
    out.parseComplete();
  }

  private void bind(PgMessage message) throws IOException {
    String portalName = message.cstring();
    String statementName = message.cstring();
    int[] parameterFormats = formatCodes(message);
    List<byte[]> values = new ArrayList<>();
    int valueCount = message.int16();
    for (int i = 0; i < valueCount; i++) {
      values.add(message.lengthPrefixed());
    }
    ResultFormats resultFormats = new ResultFormats(formatCodes(message));
    PreparedStatement statement = statement(statementName);
    if (!portalName.equals(UNNAMED) && portals.containsKey(portalName)) {
      throw PgErrors.invalid(
          PgErrors.DUPLICATE_PORTAL,
          "Cannot bind portal \"" + portalName + "\": a portal of that name exists; close it");
    }
    ParameterBinder.Bound bound = statement.bind(parameterFormats, values);
    if (statement.columns() != null) {
      resultFormats.check(statement.columns());
    }
    closePortal(portalName);
    portals.put(portalName, new Portal(statement, bound, resultFormats, 0));
    out.bindComplete();
  }

  private static int[] formatCodes(PgMessage message) {
    int[] codes = new int[message.int16()];
    for (int i = 0; i < codes.length; i++) {
      codes[i] = message.int16();
      if (codes[i] != ParameterBinder.TEXT_FORMAT && codes[i] != ParameterBinder.BINARY_FORMAT) {
        throw PgErrors.protocol("Cannot bind: unknown format code " + codes[i]);
      }
    }
    return codes;
  }

  private void describe(PgMessage message) throws IOException {
    char kind = (char) message.int8();
    String name = message.cstring();
    if (kind == 'S') {
      PreparedStatement statement = statement(name);
      out.parameterDescription(statement.describedParameterTypes());
      rowDescription(describe(statement), ResultFormats.TEXT);
    } else if (kind == 'P') {
      Portal portal = portal(name);
      try {
        rowDescription(portal.describe(this), portal.formats());
      } catch (FloeException e) {
        closePortal(name);
        throw e;
      }
    } else {
      throw PgErrors.protocol("Cannot describe: unknown kind '" + kind + "'");
    }
  }

  /**
   * A statement's result columns before it is bound: its query runs with NULL for every parameter
   * and is closed without reading a row.
   */
  private List<PgColumn> describe(PreparedStatement statement) {
    if (statement.columns() == null) {
      Portal probe = new Portal(statement, statement.bindNulls(), ResultFormats.TEXT, 0);
      try {
        statement.columns(probe.describe(this));
      } finally {
        probe.close(this);
      }
      cancelRequests.checkNotCancelled();
    }
    return statement.columns();
  }

  private void rowDescription(List<PgColumn> columns, ResultFormats formats) throws IOException {
    if (columns.isEmpty()) {
      out.noData();
    } else {
      out.rowDescription(columns, formats);
    }
  }

  private void execute(PgMessage message) throws IOException {
    String name = message.cstring();
    int maxRows = message.int32();
    Portal portal = portal(name);
    try {
      portal.execute(maxRows, out, this);
    } catch (FloeException e) {
      closePortal(name);
      throw e;
    }
  }

  private void close(PgMessage message) throws IOException {
    char kind = (char) message.int8();
    String name = message.cstring();
    if (kind == 'S') {
      statements.remove(name);
    } else if (kind == 'P') {
      closePortal(name);
    } else {
      throw PgErrors.protocol("Cannot close: unknown kind '" + kind + "'");
    }
    out.closeComplete();
  }

  /** Ends an extended query batch. Outside a transaction block its portals end with it. */
  private void sync() throws IOException {
    skipUntilSync = false;
    if (state.inTransactionBlock()) {
      closePortal(UNNAMED);
    } else {
      closeAllPortals();
    }
    ready();
  }

  private void ready() throws IOException {
    cancelRequests.idle();
    out.readyForQuery(state.transactionStatus());
  }

  private PreparedStatement statement(String name) {
    PreparedStatement statement = statements.get(name);
    if (statement == null) {
      throw PgErrors.invalid(
          PgErrors.UNDEFINED_STATEMENT,
          "Cannot use prepared statement \"" + name + "\": it does not exist");
    }
    return statement;
  }

  private Portal portal(String name) {
    Portal portal = portals.get(name);
    if (portal == null) {
      throw PgErrors.invalid(
          PgErrors.UNDEFINED_PORTAL, "Cannot use portal \"" + name + "\": it does not exist");
    }
    return portal;
  }

  private void closePortal(String name) {
    Portal portal = portals.remove(name);
    if (portal != null) {
      portal.close(this);
    }
  }

  private void closeAllPortals() {
    for (Portal portal : portals.values()) {
      portal.close(this);
    }
    portals.clear();
  }

  @Override
  public QueryExecution start(String sql) {
    cancelRequests.checkNotCancelled();
    SystemCatalogs.refuse(sql);
    LOG.debug("PostgreSQL client {} runs: {}", client, sql);
    QueryExecution execution = engine.start(sql, options);
    cancelRequests.started(execution);
    return execution;
  }

  @Override
  public void finish(QueryExecution execution, boolean cancel) {
    if (cancel) {
      execution.cancel();
    }
    try {
      execution.close();
    } catch (FloeException e) {
      LOG.warn("PostgreSQL client {}: could not close query {}", client, execution.id(), e);
    }
  }

  @Override
  public List<PgColumn> columns(SessionCommand command) {
    return command.columns(state);
  }

  @Override
  public SessionCommand.Result run(SessionCommand command) throws IOException {
    SessionCommand.Result result = command.run(state);
    if (result.applicationNameChanged()) {
      out.parameterStatus(SessionState.APPLICATION_NAME, state.show(SessionState.APPLICATION_NAME));
    }
    if (result.discardAll()) {
      statements.clear();
      closeAllPortals();
    }
    if (result.deallocate() != null) {
      if (result.deallocate().isEmpty()) {
        statements.clear();
      } else {
        statements.remove(result.deallocate());
      }
    }
    return result;
  }

  /** Runs a CancelRequest for this session; called from another thread. */
  void cancel() {
    if (cancelRequests.cancel()) {
      LOG.info("Cancel request for PostgreSQL session of {}", client);
    } else {
      LOG.info("Cancel request for idle PostgreSQL session of {}: nothing to cancel", client);
    }
  }

  /** Cancels running queries and closes the connection; called when the server stops. */
  void shutdown() {
    cancelRequests.end();
    try {
      socket.close();
    } catch (IOException e) {
      LOG.debug("Closing the connection of {} failed: {}", client, e.toString());
    }
  }

  /**
   * Ends the session if the client closed the connection while a query runs; called from the
   * server's monitor thread. Without this check a query that computes for long before its first row
   * would run on for a client that is gone, as the loss shows only when rows are written.
   */
  void checkConnection() {
    ClientWatch current = watch;
    if (current != null && cancelRequests.anyOpen() && current.clientGone()) {
      LOG.info("PostgreSQL client {} went away while its query ran; cancelling it", client);
      shutdown();
    }
  }

  /**
   * Logs a failure of Floe's own (the client is told it should report it with the log); the
   * unexpected exceptions wrapped by {@link #internal} are logged where they are caught.
   */
  private void logInternal(FloeException e) {
    if (e.type() == ErrorType.INTERNAL) {
      LOG.warn("PostgreSQL client {}: statement failed", client, e);
    }
  }

  private void error(FloeException e) throws IOException {
    out.error("ERROR", e);
  }

  /** Sends a FATAL error before the connection closes; the client may be gone already. */
  private void fatal(FloeException e) {
    if (out == null) {
      return;
    }
    try {
      out.error("FATAL", e);
      out.flush();
    } catch (IOException sendFailure) {
      LOG.debug("Could not send FATAL error to {}: {}", client, sendFailure.toString());
    }
  }

  private static FloeException internal(RuntimeException e) {
    return new FloeException(
        ErrorCode.INTERNAL_ERROR,
        "Cannot run statement: unexpected " + e + "; the server log has the details",
        e);
  }
}
