package io.floe.sql.pgwire;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The PostgreSQL endpoint message by message, through a bare protocol client. */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class PgProtocolIT {
  @TempDir static Path warehouse;
  private static PgWireFixture fixture;

  @BeforeAll
  static void startServer() {
    fixture = PgWireFixture.start(warehouse, Duration.ofMinutes(1));
  }

  @AfterAll
  static void stopServer() throws Exception {
    fixture.close();
  }

  private static RawPgClient login() throws Exception {
    RawPgClient client = new RawPgClient(fixture.port());
    client.login(PgWireFixture.USER, PgWireFixture.PASSWORD);
    return client;
  }

  private static String types(List<RawPgClient.Message> messages) {
    StringBuilder types = new StringBuilder();
    messages.forEach(message -> types.append(message.type()));
    return types.toString();
  }

  @Test
  void refusesEncryptionAndReportsSessionParameters() throws Exception {
    try (RawPgClient client = new RawPgClient(fixture.port())) {
      client.sendUntyped(RawPgClient.SSL_REQUEST);
      assertThat(client.readByte()).isEqualTo('N');
      client.sendUntyped(RawPgClient.GSSENC_REQUEST);
      assertThat(client.readByte()).isEqualTo('N');
      client.sendStartup(
          RawPgClient.PROTOCOL_3,
          Map.of("user", PgWireFixture.USER, "database", "any", "application_name", "raw"));
      List<RawPgClient.Message> messages = client.authenticate(PgWireFixture.PASSWORD);
      Map<String, String> parameters = new LinkedHashMap<>();
      for (RawPgClient.Message message : messages) {
        if (message.type() == 'S') {
          parameters.put(message.nameAndValue().get(0), message.nameAndValue().get(1));
        }
      }
      assertThat(parameters)
          .containsEntry("server_version", "16.0 (Floe)")
          .containsEntry("server_encoding", "UTF8")
          .containsEntry("client_encoding", "UTF8")
          .containsEntry("DateStyle", "ISO, MDY")
          .containsEntry("TimeZone", "UTC")
          .containsEntry("integer_datetimes", "on")
          .containsEntry("standard_conforming_strings", "on")
          .containsEntry("application_name", "raw")
          .containsEntry("IntervalStyle", "postgres")
          .containsEntry("is_superuser", "off")
          .containsEntry("session_authorization", "analyst");
      // AuthenticationSASLFinal, AuthenticationOk, parameters, BackendKeyData, ReadyForQuery idle
      assertThat(types(messages)).matches("RRS{11}KZ");
      assertThat(messages.get(messages.size() - 1).body()).containsExactly('I');
    }
  }

  @Test
  void negotiatesDownToProtocol30() throws Exception {
    try (RawPgClient client = new RawPgClient(fixture.port())) {
      Map<String, String> parameters = new LinkedHashMap<>();
      parameters.put("user", PgWireFixture.USER);
      parameters.put("_pq_.future_option", "on");
      client.sendStartup(RawPgClient.PROTOCOL_3 + 2, parameters);
      RawPgClient.Message negotiation = client.read();
      assertThat(negotiation.type()).isEqualTo('v');
      assertThat(negotiation.buffer().getInt()).isZero();
      assertThat(client.authenticate(PgWireFixture.PASSWORD)).isNotEmpty();
    }
  }

  @Test
  void answersEmptyQueries() throws Exception {
    try (RawPgClient client = login()) {
      client.query("");
      assertThat(types(client.readUntilReady())).isEqualTo("IZ");
      client.query(" ; -- nothing to run\n");
      assertThat(types(client.readUntilReady())).isEqualTo("IZ");
    }
  }

  @Test
  void describesStatementsBeforeTheyAreBound() throws Exception {
    try (RawPgClient client = login()) {
      client.parse(
          "by_id",
          "SELECT id, amount FROM raw.sales WHERE id > $1 AND amount > $2 ORDER BY id",
          20);
      client.describe('S', "by_id");
      client.sync();
      List<RawPgClient.Message> messages = client.readUntilReady();
      assertThat(types(messages)).isEqualTo("1tTZ");
      assertThat(messages.get(1).types()).containsExactly(20, 25);
      assertThat(messages.get(2).types()).containsExactly(20, 1700);

      client.bind("", "by_id", List.of("5", "65"));
      client.describe('P', "");
      client.execute("", 0);
      client.sync();
      messages = client.readUntilReady();
      assertThat(types(messages)).isEqualTo("2TDDDDCZ");
      assertThat(messages.get(2).values()).containsExactly("7", "70.00");
      assertThat(messages.get(6).text()).isEqualTo("SELECT 4");
    }
  }

  @Test
  void suspendsPortalsAtTheRowLimit() throws Exception {
    try (RawPgClient client = login()) {
      client.query("BEGIN");
      assertThat(types(client.readUntilReady())).isEqualTo("CZ");
      client.parse("", "SELECT range FROM range(5)");
      client.bind("cursor", "", List.of());
      client.execute("cursor", 2);
      client.sync();
      List<RawPgClient.Message> messages = client.readUntilReady();
      assertThat(types(messages)).isEqualTo("12DDsZ");
      assertThat(messages.get(messages.size() - 1).body()).containsExactly('T');
      // Inside a transaction block the named portal outlives Sync.
      client.execute("cursor", 2);
      client.flush();
      assertThat(types(List.of(client.read(), client.read(), client.read()))).isEqualTo("DDs");
      client.execute("cursor", 2);
      client.sync();
      messages = client.readUntilReady();
      assertThat(types(messages)).isEqualTo("DCZ");
      assertThat(messages.get(0).values()).containsExactly("4");
      assertThat(messages.get(1).text()).isEqualTo("SELECT 1");
      client.close('P', "cursor");
      client.query("COMMIT");
      assertThat(types(client.readUntilReady())).isEqualTo("3CZ");
    }
  }

  @Test
  void skipsToSyncAfterAnErrorAndRecovers() throws Exception {
    try (RawPgClient client = login()) {
      client.parse("", "SELECT * FROM raw.missing");
      client.bind("", "", List.of());
      client.execute("", 0);
      client.parse("", "SELECT 1");
      client.bind("", "", List.of());
      client.execute("", 0);
      client.sync();
      List<RawPgClient.Message> messages = client.readUntilReady();
      assertThat(types(messages)).isEqualTo("12EZ");
      assertThat(messages.get(2).fields()).containsEntry('S', "ERROR").containsEntry('C', "42P01");

      client.bind("", "no_such_statement", List.of());
      client.sync();
      messages = client.readUntilReady();
      assertThat(types(messages)).isEqualTo("EZ");
      assertThat(messages.get(0).fields()).containsEntry('C', "26000");

      client.parse("named", "SELECT $1::INTEGER + 1", 23);
      client.bind("", "named", List.of("41"));
      client.execute("", 0);
      client.close('S', "named");
      client.bind("", "named", List.of("1"));
      client.sync();
      messages = client.readUntilReady();
      assertThat(types(messages)).isEqualTo("12DC3EZ");
      assertThat(messages.get(2).values()).containsExactly("42");
    }
  }

  @Test
  void cancelsOnlyWithTheRightSecret() throws Exception {
    try (RawPgClient client = new RawPgClient(fixture.port())) {
      client.sendStartup(RawPgClient.PROTOCOL_3, Map.of("user", PgWireFixture.USER));
      List<RawPgClient.Message> messages = client.authenticate(PgWireFixture.PASSWORD);
      RawPgClient.Message keyData =
          messages.stream().filter(message -> message.type() == 'K').findFirst().orElseThrow();
      int processId = keyData.buffer().getInt();
      int secret = keyData.buffer().getInt(4);
      client.query("SELECT count(*) FROM range(1000000000000) a");

      try (RawPgClient canceller = new RawPgClient(fixture.port())) {
        canceller.sendUntyped(RawPgClient.CANCEL_REQUEST, processId, secret + 1);
        assertThat(canceller.read()).isNull(); // the server closes the connection
      }
      client.timeout(1000);
      try {
        RawPgClient.Message early = client.read();
        throw new AssertionError("The query ended although the secret was wrong: " + early);
      } catch (SocketTimeoutException expected) {
        // still running
      }
      client.timeout(30_000);
      try (RawPgClient canceller = new RawPgClient(fixture.port())) {
        canceller.sendUntyped(RawPgClient.CANCEL_REQUEST, processId, secret);
        assertThat(canceller.read()).isNull();
      }
      messages = client.readUntilReady();
      assertThat(types(messages)).isEqualTo("TEZ");
      assertThat(messages.get(1).fields()).containsEntry('C', "57014");
    }
  }

  @Test
  void cancelsTheQueryOfAClientThatWentAway() throws Exception {
    try (RawPgClient client = login()) {
      client.query("SELECT count(*) FROM range(1000000000000) a");
      waitFor(() -> !fixture.engine().running().isEmpty());
    }
    waitFor(() -> fixture.engine().running().isEmpty());
  }

  @Test
  void endsTheSessionOnAnUnknownMessageType() throws Exception {
    try (RawPgClient client = login()) {
      client.send('y');
      RawPgClient.Message error = client.read();
      assertThat(error.type()).isEqualTo('E');
      assertThat(error.fields()).containsEntry('S', "FATAL").containsEntry('C', "08P01");
      assertThat(client.read()).isNull();
    }
  }

  @Test
  void closingTheServerEndsItsSessions() throws Exception {
    PgWireServer server =
        new PgWireServer(
            fixture.engine(), PgWireFixture.users(), "127.0.0.1", 0, Duration.ofMinutes(1));
    server.start();
    List<RawPgClient> clients = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        RawPgClient client = new RawPgClient(server.port());
        client.login(PgWireFixture.USER, PgWireFixture.PASSWORD);
        clients.add(client);
      }
      clients.get(0).query("SELECT count(*) FROM range(1000000000000) a");
      server.close();
      for (RawPgClient client : clients) {
        RawPgClient.Message message = client.read();
        while (message != null) {
          message = client.read();
        }
      }
    } finally {
      server.close();
      for (RawPgClient client : clients) {
        client.close();
      }
    }
    waitFor(() -> fixture.engine().running().isEmpty());
  }

  private interface Condition {
    boolean holds();
  }

  private static void waitFor(Condition condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.holds()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("Condition not met within 20 s");
      }
      Thread.sleep(50);
    }
  }
}
