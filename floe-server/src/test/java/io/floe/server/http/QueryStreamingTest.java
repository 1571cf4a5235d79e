package io.floe.server.http;

import static io.floe.server.http.TestServer.ALICE;
import static io.floe.server.http.TestServer.ALICE_PASSWORD;
import static io.floe.server.http.TestServer.BOB;
import static io.floe.server.http.TestServer.BOB_PASSWORD;
import static io.floe.server.http.TestServer.body;
import static io.floe.server.http.TestServer.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Results far larger than every buffer between server and client (about 60 MB), read while the
 * query still runs: streaming, cancellation, timeouts and clients that go away.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class QueryStreamingTest {
  private static final long ROWS = 1_000_000;
  private static final String LARGE =
      "SELECT i, repeat('x', 40) AS padding FROM range(" + ROWS + ") t(i)";
  // Hours of counting: it ends only when cancelled.
  private static final String ENDLESS = "SELECT count(*) FROM range(1000000000000)";

  @TempDir Path warehouse;
  private TestServer server;

  @BeforeEach
  void setUp() {
    server = TestServer.start(warehouse);
  }

  @AfterEach
  void tearDown() throws Exception {
    server.close();
  }

  @Test
  void streamsAMillionRowsWhileTheQueryRuns() throws Exception {
    HttpResponse<InputStream> response = server.queryStreaming(body(LARGE));
    assertThat(response.statusCode()).isEqualTo(200);
    try (StreamedJsonResult result = new StreamedJsonResult(response.body())) {
      assertThat(response.headers().firstValue("X-Floe-Query-Id")).hasValue(result.queryId());
      assertThat(result.columns().toString())
          .isEqualTo(
              "[{\"name\":\"i\",\"type\":\"BIGINT\"},{\"name\":\"padding\",\"type\":\"VARCHAR\"}]");
      JsonNode first = result.nextRow();
      assertThat(first.get(1).asText()).isEqualTo("x".repeat(40));
      // One row read, megabytes still to come: the query is still running on the server.
      assertThat(queryIds(server.runningQueries(ALICE, ALICE_PASSWORD)))
          .containsExactly(result.queryId());
      long rows = 1;
      long sum = first.get(0).asLong();
      for (JsonNode row = result.nextRow(); row != null; row = result.nextRow()) {
        rows++;
        sum += row.get(0).asLong();
      }
      assertThat(rows).isEqualTo(ROWS);
      assertThat(sum).isEqualTo(ROWS * (ROWS - 1) / 2);
      JsonNode rest = result.rest();
      assertThat(rest.has("error")).isFalse();
      assertThat(rest.get("stats").get("rows").asLong()).isEqualTo(ROWS);
    }
    assertThat(server.runningQueries(ALICE, ALICE_PASSWORD)).isEmpty();
  }

  @Test
  void cancelsARunningQueryForTheUserWhoStartedIt() throws Exception {
    HttpResponse<InputStream> response = server.queryStreaming(body(LARGE));
    try (StreamedJsonResult result = new StreamedJsonResult(response.body())) {
      result.nextRow();
      String queryId = result.queryId();
      JsonNode listed = server.runningQueries(ALICE, ALICE_PASSWORD).get(0);
      assertThat(listed.get("queryId").asText()).isEqualTo(queryId);
      assertThat(listed.get("sql").asText()).isEqualTo(LARGE);
      assertThat(listed.get("elapsedMillis").asLong()).isNotNegative();
      assertThat(listed.get("rows").asLong()).isPositive();
      assertThat(server.runningQueries(BOB, BOB_PASSWORD)).isEmpty();

      HttpResponse<String> byBob = delete(queryId, BOB, BOB_PASSWORD);
      assertThat(byBob.statusCode()).isEqualTo(404);
      HttpResponse<String> byAlice = delete(queryId, ALICE, ALICE_PASSWORD);
      assertThat(byAlice.statusCode()).as(byAlice.body()).isEqualTo(200);
      assertThat(json(byAlice.body()).get("queryId").asText()).isEqualTo(queryId);
      assertThat(json(byAlice.body()).get("cancelled").asBoolean()).isTrue();

      long rows = 1;
      while (result.nextRow() != null) {
        rows++;
      }
      assertThat(rows).isLessThan(ROWS);
      JsonNode rest = result.rest();
      assertThat(rest.has("stats")).isFalse();
      JsonNode error = rest.get("error");
      assertThat(error.get("code").asText()).isEqualTo("FLOE-303");
      assertThat(error.get("sqlState").asText()).isEqualTo("57014");
      assertThat(error.get("message").asText()).contains(queryId).contains("cancelled");
    }
    assertThat(server.runningQueries(ALICE, ALICE_PASSWORD)).isEmpty();
  }

  @Test
  void cancelsALongAggregationBeforeItsFirstRow() throws Exception {
    CompletableFuture<HttpResponse<String>> pending =
        server.client.sendAsync(
            server
                .request("/v1/query", ALICE, ALICE_PASSWORD)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body(ENDLESS)))
                .build(),
            HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    JsonNode running = server.runningQueries(ALICE, ALICE_PASSWORD);
    while (running.isEmpty()) {
      Thread.sleep(20);
      running = server.runningQueries(ALICE, ALICE_PASSWORD);
    }
    String queryId = running.get(0).get("queryId").asText();
    assertThat(running.get(0).get("rows").asLong()).isZero();
    assertThat(delete(queryId, ALICE, ALICE_PASSWORD).statusCode()).isEqualTo(200);

    HttpResponse<String> response = pending.get(30, TimeUnit.SECONDS);
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.headers().firstValue("X-Floe-Query-Id")).hasValue(queryId);
    JsonNode error = json(response.body()).get("error");
    assertThat(error.get("code").asText()).isEqualTo("FLOE-303");
    assertThat(error.get("message").asText()).contains(queryId).contains("cancelled");
    assertThat(server.runningQueries(ALICE, ALICE_PASSWORD)).isEmpty();
  }

  @Test
  void timesOutALongAggregation() {
    HttpResponse<String> response = server.query(body(ENDLESS, "\"timeout\": \"1s\""));
    assertThat(response.statusCode()).isEqualTo(400);
    JsonNode error = json(response.body()).get("error");
    assertThat(error.get("code").asText()).isEqualTo("FLOE-304");
    assertThat(error.get("sqlState").asText()).isEqualTo("57014");
    assertThat(error.get("message").asText()).contains("1s");
  }

  @Test
  void keepsTheConnectionWhileAQueryComputesButNotForAClientThatStopsReading(
      @TempDir Path otherWarehouse) throws Exception {
    try (TestServer impatient =
        TestServer.start(otherWarehouse, TestServer.users(), Duration.ofMillis(500))) {
      // Silent for four idle periods while counting: still answered, with the timeout error.
      HttpResponse<String> silent = impatient.query(body(ENDLESS, "\"timeout\": \"2s\""));
      assertThat(silent.statusCode()).isEqualTo(400);
      assertThat(json(silent.body()).get("error").get("code").asText()).isEqualTo("FLOE-304");

      // A client that reads nothing for longer than the idle timeout while a block waits. It uses
      // a new connection: the server may close the first one as idle just as a client reuses it.
      HttpResponse<InputStream> response =
          impatient.sendStreaming(
              impatient
                  .request("/v1/query", ALICE, ALICE_PASSWORD)
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(body(LARGE)))
                  .build(),
              HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build());
      try (StreamedJsonResult result = new StreamedJsonResult(response.body())) {
        result.nextRow();
        Thread.sleep(2_000);
        assertThatThrownBy(
                () -> {
                  while (result.nextRow() != null) {
                    // Rows sent before the server gave up.
                  }
                })
            .isInstanceOf(IOException.class);
      }
      awaitNoRunningQueries(impatient);
    }
  }

  @Test
  void cancelsAQueryWhenItsTimeoutElapses() throws Exception {
    HttpResponse<InputStream> response = server.queryStreaming(body(LARGE, "\"timeout\": \"2s\""));
    try (StreamedJsonResult result = new StreamedJsonResult(response.body())) {
      result.nextRow();
      Thread.sleep(3_000);
      while (result.nextRow() != null) {
        // Rows sent before the timeout.
      }
      JsonNode error = result.rest().get("error");
      assertThat(error.get("code").asText()).isEqualTo("FLOE-304");
      assertThat(error.get("sqlState").asText()).isEqualTo("57014");
      assertThat(error.get("message").asText()).contains("2s");
    }
  }

  @Test
  void breaksTheTransferOfACsvResultThatFailsWhileStreaming() throws Exception {
    HttpResponse<InputStream> response =
        server.sendStreaming(
            server
                .request("/v1/query?format=csv", ALICE, ALICE_PASSWORD)
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString(LARGE))
                .build());
    assertThat(response.statusCode()).isEqualTo(200);
    String queryId = response.headers().firstValue("X-Floe-Query-Id").orElseThrow();
    try (BufferedReader reader =
        new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8), 512)) {
      assertThat(reader.readLine()).isEqualTo("i,padding");
      assertThat(reader.readLine()).isEqualTo("0," + "x".repeat(40));
      assertThat(delete(queryId, ALICE, ALICE_PASSWORD).statusCode()).isEqualTo(200);
      assertThatThrownBy(
              () -> {
                while (reader.readLine() != null) {
                  // Rows sent before the cancellation; the transfer then breaks.
                }
              })
          .isInstanceOf(IOException.class);
    }
  }

  @Test
  void cancelsTheQueryWhenTheClientGoesAway() throws Exception {
    byte[] request = body(LARGE).getBytes(StandardCharsets.UTF_8);
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.server.port())) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("POST /v1/query HTTP/1.1\r\n"
                  + "Host: 127.0.0.1\r\n"
                  + "Authorization: "
                  + TestServer.basic(ALICE, ALICE_PASSWORD)
                  + "\r\n"
                  + "Content-Type: application/json\r\n"
                  + "Content-Length: "
                  + request.length
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(request);
      out.flush();
      byte[] start = socket.getInputStream().readNBytes(64 * 1024);
      assertThat(new String(start, StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 200");
      assertThat(server.runningQueries(ALICE, ALICE_PASSWORD)).hasSize(1);
    }
    awaitNoRunningQueries(server);
  }

  /** Waits until the server has cancelled the queries whose clients left. */
  private static void awaitNoRunningQueries(TestServer server) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (server.runningQueries(ALICE, ALICE_PASSWORD).size() > 0
        || !server.engine.running().isEmpty()) {
      assertThat(System.nanoTime())
          .as("query still running after its client left")
          .isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  private HttpResponse<String> delete(String queryId, String user, String password) {
    return server.send(server.request("/v1/queries/" + queryId, user, password).DELETE().build());
  }

  private static List<String> queryIds(JsonNode queries) {
    List<String> ids = new ArrayList<>();
    queries.forEach(query -> ids.add(query.get("queryId").asText()));
    return ids;
  }
}
