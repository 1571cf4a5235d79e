package io.floe.sql.pgwire;

import io.floe.core.FloeException;
import io.floe.sql.QueryException;
import io.floe.sql.QueryExecution;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A bound statement ready to run. A query starts at the portal's first Describe or Execute and
 * stays open between Execute messages, so that its rows stream to the client in batches of the
 * requested size and are never held in memory.
 */
final class Portal {
  /** What a portal needs from its session. */
  interface Session {
    /** Starts a query on the session's behalf; it may be cancelled from now on. */
    QueryExecution start(String sql);

    /** Closes a query started with {@link #start}. */
    void finish(QueryExecution execution, boolean cancel);

    List<PgColumn> columns(SessionCommand command);

    SessionCommand.Result run(SessionCommand command) throws IOException;
  }

  /** Rows are flushed to the client at least this often, so that a slow result still trickles. */
  private static final int FLUSH_EVERY_ROWS = 1000;

  private final PreparedStatement statement;
  private final ParameterBinder.Bound bound;
  private final ResultFormats formats;
  private final int offset;
  private QueryExecution execution;
  private List<PgColumn> columns;
  private String commandTag;
  private boolean done;

  /**
   * @param offset where the statement starts in the text the client sent, for error positions
   */
  Portal(
      PreparedStatement statement, ParameterBinder.Bound bound, ResultFormats formats, int offset) {
    this.statement = statement;
    this.bound = bound;
    this.formats = formats;
    this.offset = offset;
  }

  ResultFormats formats() {
    return formats;
  }

  /** The result columns, starting the query if it has not started; empty when there are none. */
  List<PgColumn> describe(Session session) {
    if (columns == null) {
      if (statement.isQuery()) {
        start(session);
      } else {
        columns = statement.isEmpty() ? List.of() : session.columns(statement.command());
        formats.check(columns);
      }
    }
    return columns;
  }

  /**
   * Sends up to {@code maxRows} rows (all when 0), then CommandComplete when the result is
   * exhausted or PortalSuspended when more rows remain.
   */
  void execute(int maxRows, PgWriter out, Session session) throws IOException {
    if (statement.isEmpty()) {
      out.emptyQueryResponse();
      return;
    }
    if (statement.command() != null) {
      describe(session);
      SessionCommand.Result result = session.run(statement.command());
      for (String[] row : result.rows()) {
        out.dataRow(encode(row));
      }
      out.commandComplete(result.tag());
      return;
    }
    if (done) {
      out.commandComplete(tag(0));
      return;
    }
    describe(session);
    long sent = 0;
    while (maxRows <= 0 || sent < maxRows) {
      Object[] row;
      try {
        row = execution.next();
      } catch (QueryException e) {
        throw located(e);
      }
      if (row == null) {
        close(session);
        done = true;
        out.commandComplete(tag(sent));
        return;
      }
      out.dataRow(encode(row));
      sent++;
      if (sent % FLUSH_EVERY_ROWS == 0) {
        out.flush();
      }
    }
    out.portalSuspended();
  }

  /** Closes the portal's query if it is open. */
  void close(Session session) {
    if (execution != null) {
      QueryExecution open = execution;
      execution = null;
      session.finish(open, false);
    }
  }

  /** Cancels and closes the portal's query, for a client that went away. */
  void abort(Session session) {
    if (execution != null) {
      QueryExecution open = execution;
      execution = null;
      session.finish(open, !done);
    }
  }

  private void start(Session session) {
    QueryExecution started;
    try {
      started = session.start(bound.sql());
    } catch (QueryException e) {
      throw located(e);
    }
    try {
      List<PgColumn> described = started.columns().stream().map(PgColumn::of).toList();
      formats.check(described);
      columns = described;
      commandTag = started.commandTag();
      execution = started;
    } catch (FloeException e) {
      session.finish(started, false);
      throw e;
    }
  }

  private String tag(long rows) {
    return commandTag.equals("SELECT") ? "SELECT " + rows : commandTag;
  }

  private byte[][] encode(Object[] row) {
    byte[][] values = new byte[row.length][];
    for (int i = 0; i < row.length; i++) {
      Object value = row[i];
      if (value != null) {
        PgType type = columns.get(i).type();
        values[i] =
            formats.format(i) == ParameterBinder.BINARY_FORMAT
                ? type.binary(value)
                : type.text(value).getBytes(StandardCharsets.UTF_8);
      }
    }
    return values;
  }

  /** The error with its position moved from the bound text to the text the client sent. */
  private QueryException located(QueryException e) {
    if (e.position() <= 0) {
      return e;
    }
    int position = offset + bound.originalPosition(e.position());
    if (position == e.position()) {
      return e;
    }
    return new QueryException(e.code(), e.sqlState(), e.getMessage(), position, e);
  }
}
