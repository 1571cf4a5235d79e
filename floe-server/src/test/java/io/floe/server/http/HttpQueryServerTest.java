package io.floe.server.http;

import static io.floe.server.http.TestServer.ALICE;
import static io.floe.server.http.TestServer.ALICE_PASSWORD;
import static io.floe.server.http.TestServer.body;
import static io.floe.server.http.TestServer.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.floe.sql.SqlUsers;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HttpQueryServerTest {
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
  void answersHealthChecksWithoutCredentials() {
    HttpResponse<String> response =
        server.send(HttpRequest.newBuilder(server.uri("/v1/health")).GET().build());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(json(response.body()).path("status").asText()).isEqualTo("ok");
  }

  @Test
  void answersJsonWithColumnsRowsAndStats() {
    HttpResponse<String> response =
        server.query(
            body(
                "SELECT id, amount, tags, id > 1 AS later, NULL::VARCHAR AS nothing FROM raw.sales"
                    + " WHERE id <= 2 ORDER BY id"));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonNode result = json(response.body());
    assertThat(response.headers().firstValue("X-Floe-Query-Id"))
        .hasValue(result.get("queryId").asText());
    assertThat(result.get("columns").toString())
        .isEqualTo(
            "[{\"name\":\"id\",\"type\":\"BIGINT\"},{\"name\":\"amount\",\"type\":\"DECIMAL(10,2)\"},"
                + "{\"name\":\"tags\",\"type\":\"VARCHAR[]\"},{\"name\":\"later\",\"type\":\"BOOLEAN\"},"
                + "{\"name\":\"nothing\",\"type\":\"VARCHAR\"}]");
    assertThat(response.body())
        .contains("\"rows\":[[1,10.00,\"[t1]\",false,null],[2,20.00,\"[t2]\",true,null]]");
    JsonNode stats = result.get("stats");
    assertThat(stats.get("rows").asLong()).isEqualTo(2);
    assertThat(stats.get("bytesScanned").asLong()).isPositive();
    assertThat(stats.get("elapsedMillis").asLong()).isNotNegative();
    assertThat(stats.get("reused").asBoolean()).isFalse();
    assertThat(stats.get("scans")).hasSize(1);
    assertThat(stats.get("scans").get(0).get("table").asText()).isEqualTo("raw.sales");
    assertThat(response.headers().firstValue("X-Floe-Bytes-Scanned"))
        .hasValue(stats.get("bytesScanned").asText());
  }

  @Test
  void answersCsvForPlainTextQueries() {
    HttpResponse<String> response =
        server.send(
            server
                .request("/v1/query?format=csv", ALICE, ALICE_PASSWORD)
                .header("Content-Type", "text/plain; charset=utf-8")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "SELECT id, amount, 'a,\"b\"' AS quoted, '' AS empty, NULL AS missing"
                            + " FROM raw.sales WHERE id <= 2 ORDER BY id"))
                .build());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValue("text/csv; charset=utf-8; header=present");
    assertThat(response.headers().firstValue("X-Floe-Query-Id")).isPresent();
    assertThat(response.headers().firstValue("X-Floe-Bytes-Scanned").map(Long::parseLong))
        .hasValueSatisfying(bytes -> assertThat(bytes).isPositive());
    assertThat(response.body())
        .isEqualTo(
            "id,amount,quoted,empty,missing\r\n"
                + "1,10.00,\"a,\"\"b\"\"\",\"\",\r\n"
                + "2,20.00,\"a,\"\"b\"\"\",\"\",\r\n");
  }

  @Test
  void formatMayComeFromTheBodyOrTheQueryString() {
    HttpResponse<String> fromBody = server.query(body("SELECT 1 AS one", "\"format\":\"csv\""));
    assertThat(fromBody.body()).isEqualTo("one\r\n1\r\n");
    HttpResponse<String> fromQueryString =
        server.send(
            server
                .request("/v1/query?format=CSV", ALICE, ALICE_PASSWORD)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body("SELECT 2 AS two")))
                .build());
    assertThat(fromQueryString.body()).isEqualTo("two\r\n2\r\n");
  }

  @Test
  void refusesMissingAndWrongCredentials() {
    List<HttpRequest.Builder> requests = new ArrayList<>();
    requests.add(server.request("/v1/query", null, null));
    requests.add(server.request("/v1/query", ALICE, "wrong"));
    requests.add(server.request("/v1/query", "mallory", ALICE_PASSWORD));
    requests.add(server.request("/v1/query", null, null).header("Authorization", "Basic !!!"));
    requests.add(server.request("/v1/query", null, null).header("Authorization", "Bearer abc"));
    for (HttpRequest.Builder request : requests) {
      HttpResponse<String> response =
          server.send(
              request
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(body("SELECT 1")))
                  .build());
      assertThat(response.statusCode()).as(response.body()).isEqualTo(401);
      assertThat(response.headers().firstValue("WWW-Authenticate"))
          .hasValue("Basic realm=\"floe\"");
      JsonNode error = json(response.body()).get("error");
      assertThat(error.get("code").asText()).isEqualTo("FLOE-400");
      assertThat(error.get("sqlState").asText()).isEqualTo("28P01");
      assertThat(error.get("message").asText()).startsWith("Cannot authenticate");
    }
    HttpResponse<String> listing =
        server.send(server.request("/v1/queries", ALICE, "wrong").GET().build());
    assertThat(listing.statusCode()).isEqualTo(401);
  }

  @Test
  void refusesEveryQueryWhileNoUsersAreConfigured(@TempDir Path otherWarehouse) throws Exception {
    try (TestServer closed = TestServer.start(otherWarehouse, new SqlUsers(List.of()))) {
      HttpResponse<String> response = closed.query(body("SELECT 1"));
      assertThat(response.statusCode()).isEqualTo(401);
      assertThat(response.headers().firstValue("WWW-Authenticate")).isPresent();
      assertThat(json(response.body()).get("error").get("message").asText())
          .contains("no SQL users are configured")
          .contains("sql.users");
      HttpResponse<String> health =
          closed.send(HttpRequest.newBuilder(closed.uri("/v1/health")).GET().build());
      assertThat(health.statusCode()).isEqualTo(200);
    }
  }

  @Test
  void reportsSqlErrorsWithCodeSqlStateAndPosition() {
    HttpResponse<String> syntax = server.query(body("SELECT id FROM raw.sales WHERE WHERE"));
    assertThat(syntax.statusCode()).as(syntax.body()).isEqualTo(400);
    assertThat(syntax.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonNode error = json(syntax.body()).get("error");
    assertThat(error.get("code").asText()).isEqualTo("FLOE-300");
    assertThat(error.get("sqlState").asText()).isEqualTo("42601");
    assertThat(error.get("message").asText()).startsWith("Cannot run query");
    assertThat(error.path("position").asInt()).isEqualTo(32);

    HttpResponse<String> missing = server.query(body("SELECT * FROM raw.nope"));
    assertThat(missing.statusCode()).isEqualTo(400);
    JsonNode missingError = json(missing.body()).get("error");
    assertThat(missingError.get("code").asText()).isEqualTo("FLOE-202");
    assertThat(missingError.get("sqlState").asText()).isEqualTo("42P01");
    assertThat(missingError.get("message").asText()).contains("sales");

    HttpResponse<String> write = server.query(body("DROP TABLE raw.sales"));
    assertThat(write.statusCode()).isEqualTo(400);
    assertThat(json(write.body()).get("error").get("code").asText()).isEqualTo("FLOE-301");
  }

  @Test
  void refusesBodiesLargerThanTheQueryLengthAllows() {
    long limit = QueryApi.bodyLimit(TestServer.MAX_QUERY_LENGTH);
    String sql = "SELECT '" + "x".repeat((int) limit) + "'";
    // With a Content-Length, and chunked (the limit is then counted while reading).
    List<HttpRequest.BodyPublisher> bodies =
        List.of(
            HttpRequest.BodyPublishers.ofString(sql),
            HttpRequest.BodyPublishers.ofInputStream(
                () -> new ByteArrayInputStream(sql.getBytes(StandardCharsets.UTF_8))));
    for (HttpRequest.BodyPublisher publisher : bodies) {
      HttpResponse<String> response =
          server.send(
              server
                  .request("/v1/query", ALICE, ALICE_PASSWORD)
                  .header("Content-Type", "text/plain")
                  .POST(publisher)
                  .build());
      assertThat(response.statusCode()).as(response.body()).isEqualTo(413);
      JsonNode error = json(response.body()).get("error");
      assertThat(error.get("code").asText()).isEqualTo("FLOE-305");
      assertThat(error.get("message").asText()).contains("sql.max-query-length");
    }
    // Within the body limit but over the query length: the engine's own limit applies.
    HttpResponse<String> tooLong =
        server.query(body("SELECT '" + "x".repeat(TestServer.MAX_QUERY_LENGTH) + "'"));
    assertThat(tooLong.statusCode()).isEqualTo(400);
    assertThat(json(tooLong.body()).get("error").get("code").asText()).isEqualTo("FLOE-305");
  }

  @Test
  void refusesMalformedRequests() {
    assertRefused(server.query("{\"sql\": "), 400, "not valid JSON");
    assertRefused(server.query("[1]"), 400, "JSON object");
    assertRefused(server.query("{\"query\": \"SELECT 1\"}"), 400, "unknown member \"query\"");
    assertRefused(server.query("{\"format\": \"csv\"}"), 400, "no \"sql\" member");
    assertRefused(server.query("{\"sql\": 1}"), 400, "\"sql\" must be a string");
    assertRefused(server.query(body("SELECT 1", "\"format\":\"xml\"")), 400, "choose json or csv");
    assertRefused(server.query(body("SELECT 1", "\"timeout\":\"soon\"")), 400, "like 500ms");
    assertRefused(server.query(body("SELECT 1", "\"timeout\":\"0s\"")), 400, "longer than zero");
    assertRefused(
        server.query(body("SELECT 1", "\"timeout\":\"2m\"")),
        400,
        "at most 1m (sql.query-timeout)");
    assertRefused(
        server.send(
            server
                .request("/v1/query", ALICE, ALICE_PASSWORD)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("sql=SELECT+1"))
                .build()),
        415,
        "Content-Type: text/plain");
    HttpResponse<String> wrongMethod =
        server.send(server.request("/v1/query", ALICE, ALICE_PASSWORD).GET().build());
    assertRefused(wrongMethod, 405, "use POST");
    assertThat(wrongMethod.headers().firstValue("Allow")).hasValue("POST");
    assertRefused(
        server.send(server.request("/v2/query", ALICE, ALICE_PASSWORD).GET().build()),
        404,
        "no such endpoint");
  }

  private static void assertRefused(HttpResponse<String> response, int status, String message) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    assertThat(json(response.body()).get("error").get("message").asText()).contains(message);
  }

  @Test
  void cancelsOnlyTheCallersOwnQueries() {
    HttpResponse<String> unknown =
        server.send(server.request("/v1/queries/q-999999", ALICE, ALICE_PASSWORD).DELETE().build());
    assertRefused(unknown, 404, "no query with this id is running for alice");
    assertThat(server.runningQueries(ALICE, ALICE_PASSWORD)).isEmpty();
  }

  @Test
  void sendsRowCountTrailersToClientsThatAskForThem() throws Exception {
    String sql = "SELECT id FROM raw.sales ORDER BY id";
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.server.port())) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      byte[] body = sql.getBytes(StandardCharsets.UTF_8);
      out.write(
          ("POST /v1/query?format=csv HTTP/1.1\r\n"
                  + "Host: 127.0.0.1\r\n"
                  + "Authorization: "
                  + TestServer.basic(ALICE, ALICE_PASSWORD)
                  + "\r\n"
                  + "Content-Type: text/plain\r\n"
                  + "TE: trailers\r\n"
                  + "Connection: close\r\n"
                  + "Content-Length: "
                  + body.length
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
      StringBuilder response = new StringBuilder();
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        response.append(line).append('\n');
      }
      String text = response.toString();
      assertThat(text).startsWith("HTTP/1.1 200").contains("Transfer-Encoding: chunked");
      String trailer = text.substring(text.lastIndexOf("\n0\n") + 3);
      assertThat(trailer).contains("X-Floe-Rows: 10").contains("X-Floe-Elapsed-Millis: ");
    }
  }
}
