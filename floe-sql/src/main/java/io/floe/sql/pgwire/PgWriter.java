package io.floe.sql.pgwire;

import io.floe.core.FloeException;
import io.floe.sql.QueryException;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * Writes backend messages. Output is buffered: callers {@link #flush()} when the client waits for
 * an answer (ReadyForQuery, Flush, a batch of rows).
 */
final class PgWriter {
  private static final int AUTHENTICATION_OK = 0;
  private static final int AUTHENTICATION_SASL = 10;
  private static final int AUTHENTICATION_SASL_CONTINUE = 11;
  private static final int AUTHENTICATION_SASL_FINAL = 12;

  private final DataOutputStream out;
  private final ByteArrayOutputStream bodyBytes = new ByteArrayOutputStream(256);
  private final DataOutputStream body = new DataOutputStream(bodyBytes);

  PgWriter(OutputStream out) {
    this.out = new DataOutputStream(out);
  }

  /** The single byte answering an SSLRequest or GSSENCRequest: not supported, go on in clear. */
  void refuseEncryption() throws IOException {
    out.writeByte('N');
    out.flush();
  }

  void negotiateProtocolVersion(int minorVersion, List<String> unknownOptions) throws IOException {
    body.writeInt(minorVersion);
    body.writeInt(unknownOptions.size());
    for (String option : unknownOptions) {
      cstring(option);
    }
    send('v');
  }

  void authenticationSasl(String mechanism) throws IOException {
    body.writeInt(AUTHENTICATION_SASL);
    cstring(mechanism);
    body.writeByte(0);
    send('R');
  }

  void authenticationSaslContinue(String data) throws IOException {
    body.writeInt(AUTHENTICATION_SASL_CONTINUE);
    body.write(data.getBytes(StandardCharsets.UTF_8));
    send('R');
  }

  void authenticationSaslFinal(String data) throws IOException {
    body.writeInt(AUTHENTICATION_SASL_FINAL);
    body.write(data.getBytes(StandardCharsets.UTF_8));
    send('R');
  }

  void authenticationOk() throws IOException {
    body.writeInt(AUTHENTICATION_OK);
    send('R');
  }

  void parameterStatus(String name, String value) throws IOException {
    cstring(name);
    cstring(value);
    send('S');
  }

  void backendKeyData(int processId, int secretKey) throws IOException {
    body.writeInt(processId);
    body.writeInt(secretKey);
    send('K');
  }

  /** ReadyForQuery: 'I' idle, 'T' in a transaction block. Flushes. */
  void readyForQuery(char status) throws IOException {
    body.writeByte(status);
    send('Z');
    out.flush();
  }

  void parameterDescription(int[] types) throws IOException {
    body.writeShort(types.length);
    for (int type : types) {
      body.writeInt(type);
    }
    send('t');
  }

  void rowDescription(List<PgColumn> columns, ResultFormats formats) throws IOException {
    body.writeShort(columns.size());
    for (int i = 0; i < columns.size(); i++) {
      PgColumn column = columns.get(i);
      cstring(column.name());
      body.writeInt(0); // table OID: not a column of a PostgreSQL table
      body.writeShort(0); // attribute number
      body.writeInt(column.type().oid());
      body.writeShort(column.type().size());
      body.writeInt(column.typeModifier());
      body.writeShort(formats.format(i));
    }
    send('T');
  }

  /** A row; each value is already encoded, null for SQL NULL. */
  void dataRow(byte[][] values) throws IOException {
    int length = 4 + 2;
    for (byte[] value : values) {
      length += 4 + (value == null ? 0 : value.length);
    }
    out.writeByte('D');
    out.writeInt(length);
    out.writeShort(values.length);
    for (byte[] value : values) {
      if (value == null) {
        out.writeInt(-1);
      } else {
        out.writeInt(value.length);
        out.write(value);
      }
    }
  }

  void commandComplete(String tag) throws IOException {
    cstring(tag);
    send('C');
  }

  void emptyQueryResponse() throws IOException {
    send('I');
  }

  void parseComplete() throws IOException {
    send('1');
  }

  void bindComplete() throws IOException {
    send('2');
  }

  void closeComplete() throws IOException {
    send('3');
  }

  void noData() throws IOException {
    send('n');
  }

  void portalSuspended() throws IOException {
    send('s');
  }

  /**
   * ErrorResponse for a Floe error: its SQLSTATE, its message, its code and type as the detail
   * ({@code FLOE-300 (user error)}), and its position in the query text if it has one.
   */
  void error(String severity, FloeException e) throws IOException {
    int position = e instanceof QueryException ? ((QueryException) e).position() : 0;
    error(
        severity,
        QueryException.sqlState(e),
        e.getMessage(),
        e.code().label() + " (" + e.type().name().toLowerCase(Locale.ROOT) + " error)",
        position);
  }

  /**
   * ErrorResponse with severity, SQLSTATE, message, detail (may be null) and 1-based position in
   * the query text (0 for none).
   */
  void error(String severity, String sqlState, String message, String detail, int position)
      throws IOException {
    field('S', severity);
    field('V', severity);
    field('C', sqlState);
    field('M', message);
    if (detail != null) {
      field('D', detail);
    }
    if (position > 0) {
      field('P', Integer.toString(position));
    }
    body.writeByte(0);
    send('E');
  }

  void flush() throws IOException {
    out.flush();
  }

  private void field(char code, String value) throws IOException {
    body.writeByte(code);
    cstring(value);
  }

  private void cstring(String value) throws IOException {
    // A NUL would end the string early; PostgreSQL's text never holds one.
    body.write(value.replace('\0', ' ').getBytes(StandardCharsets.UTF_8));
    body.writeByte(0);
  }

  private void send(char type) throws IOException {
    out.writeByte(type);
    out.writeInt(4 + bodyBytes.size());
    bodyBytes.writeTo(out);
    bodyBytes.reset();
  }
}
