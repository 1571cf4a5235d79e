package io.floe.sql.pgwire;

import io.floe.core.ErrorCode;
import io.floe.sql.QueryException;
import io.floe.sql.SqlUsers;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The start of a connection: refuses SSL and GSSAPI encryption (the client goes on in clear),
 * forwards a CancelRequest, reads the startup packet and authenticates the user with SCRAM-SHA-256.
 */
final class PgStartup {
  private static final Logger LOG = LoggerFactory.getLogger(PgStartup.class);
  private static final int PROTOCOL_3 = 3 << 16;
  private static final int CANCEL_REQUEST = 80877102;
  private static final int SSL_REQUEST = 80877103;
  private static final int GSSENC_REQUEST = 80877104;
  private static final String INVALID_PASSWORD = QueryException.SqlState.INVALID_PASSWORD;

  /** Where cancel requests go. */
  interface CancelTarget {
    void cancel(int processId, int secretKey);
  }

  /** An authenticated connection: who, and the startup parameters. */
  record Accepted(SqlUsers.User user, Map<String, String> parameters) {
    Accepted {
      parameters = Map.copyOf(parameters);
    }

    String applicationName() {
      return parameters.getOrDefault(SessionState.APPLICATION_NAME, "");
    }
  }

  private final DataInputStream in;
  private final PgWriter out;
  private final SqlUsers users;
  private final CancelTarget cancels;
  private final SecureRandom random;
  private final String client;

  PgStartup(
      DataInputStream in,
      PgWriter out,
      SqlUsers users,
      CancelTarget cancels,
      SecureRandom random,
      String client) {
    this.in = in;
    this.out = out;
    this.users = users;
    this.cancels = cancels;
    this.random = random;
    this.client = client;
  }

  /**
   * Runs the start of the connection; returns null when it ends there (a cancel request, or a
   * client that gave up).
   *
   * @throws QueryException when the client must be refused; send it as FATAL
   */
  Accepted accept() throws IOException {
    while (true) {
      PgMessage packet = PgMessage.readStartup(in);
      if (packet == null) {
        return null;
      }
      int code = packet.int32();
      if (code == SSL_REQUEST || code == GSSENC_REQUEST) {
        out.refuseEncryption();
      } else if (code == CANCEL_REQUEST) {
        cancels.cancel(packet.int32(), packet.int32());
        return null;
      } else if ((code >>> 16) == 3) {
        Map<String, String> parameters = parameters(packet, code);
        return authenticate(parameters);
      } else {
        throw PgErrors.unsupported(
            "Cannot accept connection: unsupported frontend protocol "
                + (code >>> 16)
                + "."
                + (code & 0xFFFF)
                + "; this server supports protocol 3.0");
      }
    }
  }

  private Map<String, String> parameters(PgMessage packet, int version) throws IOException {
    Map<String, String> parameters = new LinkedHashMap<>();
    List<String> unknownOptions = new ArrayList<>();
    while (packet.remaining() > 1) {
      String name = packet.cstring();
      String value = packet.cstring();
      if (name.startsWith("_pq_.")) {
        unknownOptions.add(name);
      } else {
        parameters.put(name, value);
      }
    }
    if (version != PROTOCOL_3 || !unknownOptions.isEmpty()) {
      out.negotiateProtocolVersion(0, unknownOptions);
    }
    return parameters;
  }

  private Accepted authenticate(Map<String, String> parameters) throws IOException {
    String name = parameters.get("user");
    if (name == null || name.isEmpty()) {
      throw refused("Cannot accept connection: no user name was given in the startup packet");
    }
    if (users.isEmpty()) {
      throw refused(
          "Cannot accept connection: no SQL users are configured; add users (name, password,"
              + " workgroup) under sql.users in the configuration");
    }
    Optional<SqlUsers.User> user = users.user(name);
    ScramAuthenticator scram =
        new ScramAuthenticator(user.map(SqlUsers.User::password).orElse(null), random);
    out.authenticationSasl(ScramAuthenticator.MECHANISM);
    out.flush();
    PgMessage initial = saslMessage();
    if (initial == null) {
      return null;
    }
    String mechanism = initial.cstring();
    if (!mechanism.equals(ScramAuthenticator.MECHANISM)) {
      throw refused(
          "Cannot authenticate: SASL mechanism "
              + mechanism
              + " is not supported; use "
              + ScramAuthenticator.MECHANISM);
    }
    byte[] clientFirst = initial.lengthPrefixed();
    if (clientFirst == null) {
      throw PgErrors.protocol("Cannot authenticate: the SASL initial response is empty");
    }
    out.authenticationSaslContinue(
        scram.serverFirst(new String(clientFirst, StandardCharsets.UTF_8)));
    out.flush();
    PgMessage response = saslMessage();
    if (response == null) {
      return null;
    }
    String serverFinal = scram.serverFinal(response.rest());
    if (serverFinal == null || user.isEmpty()) {
      LOG.info("Refused PostgreSQL client {}: password authentication failed for {}", client, name);
      throw new QueryException(
          ErrorCode.AUTHENTICATION_FAILED,
          INVALID_PASSWORD,
          "password authentication failed for user \"" + name + "\"");
    }
    out.authenticationSaslFinal(serverFinal);
    out.authenticationOk();
    return new Accepted(user.get(), parameters);
  }

  /** The client's next SASL message ('p'), or null when it closed the connection. */
  private PgMessage saslMessage() throws IOException {
    PgMessage message = PgMessage.read(in);
    if (message == null) {
      return null;
    }
    if (message.type() != 'p') {
      throw PgErrors.protocol(
          "Cannot authenticate: expected a SASL response, got message type '"
              + message.type()
              + "'");
    }
    return message;
  }

  private static QueryException refused(String message) {
    return new QueryException(
        ErrorCode.AUTHENTICATION_FAILED, PgErrors.INVALID_AUTHORIZATION, message);
  }
}
