package io.floe.server.http;

import static io.floe.server.http.TestServer.ALICE;
import static io.floe.server.http.TestServer.ALICE_PASSWORD;
import static io.floe.server.http.TestServer.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.floe.core.config.HttpSourceConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.StreamTableConfig;
import io.floe.core.config.TargetConfig;
import io.floe.ingest.ChangeHandler;
import io.floe.ingest.SourceContext;
import io.floe.ingest.SourceEvent;
import io.floe.ingest.http.HttpSource;
import io.floe.ingest.http.HttpStreams;
import io.floe.ingest.stream.StreamRecord;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /v1/streams/{stream}/records} and {@code GET /v1/streams} on a real server and HTTP
 * client, with a real {@link HttpSource} whose pipeline side is a recording handler.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HttpIngestApiTest {
  private static final long MAX_REQUEST_BYTES = 4096;

  @TempDir Path warehouse;
  @TempDir Path state;

  private final HttpStreams streams = new HttpStreams();
  private final List<HttpSource> sources = new ArrayList<>();
  private TestServer server;

  @AfterEach
  void tearDown() throws Exception {
    sources.forEach(HttpSource::close);
    if (server != null) {
      server.close();
    }
  }

  /** The pipeline's side: records the changes; acknowledges what it got when {@code commits}. */
  static final class Handler implements ChangeHandler {
    private final boolean commits;
    private final List<SourceEvent.Change> changes = new ArrayList<>();

    Handler(boolean commits) {
      this.commits = commits;
    }

    @Override
    public synchronized void handle(List<SourceEvent> events, Acknowledger acknowledger) {
      for (SourceEvent event : events) {
        if (event instanceof SourceEvent.Change change) {
          changes.add(change);
        }
      }
      if (commits && !events.isEmpty()) {
        SourceEvent last = events.get(events.size() - 1);
        acknowledger.acknowledge(
            last instanceof SourceEvent.Change change
                ? change.position()
                : ((SourceEvent.Heartbeat) last).position());
      }
    }

    @Override
    public void stopped(Throwable failure) {}

    synchronized List<String> values() {
      return changes.stream()
          .map(change -> new String(((StreamRecord) change.row()).value(), StandardCharsets.UTF_8))
          .toList();
    }
  }

  private HttpSource startStream(String name, int maxBufferedRecords, Handler handler) {
    PipelineConfig config =
        new PipelineConfig(
            name,
            new HttpSourceConfig(name, 1024 * 1024, MAX_REQUEST_BYTES, maxBufferedRecords),
            new TargetConfig(
                "raw",
                Optional.of(
                    new StreamTableConfig(
                        name,
                        StreamTableConfig.WriteMode.APPEND,
                        List.of(),
                        List.of(),
                        List.of(),
                        StreamTableConfig.UnknownFields.ADD,
                        name + "_dead_letter"))),
            Duration.ofMillis(1500));
    HttpSource source = new HttpSource(config, new SourceContext(state, streams));
    sources.add(source);
    source.inspect();
    source.start(Optional.empty(), handler);
    return source;
  }

  private void startServer() {
    server = TestServer.start(warehouse, TestServer.users(), streams);
  }

  private HttpResponse<String> post(String pathAndQuery, String contentType, String body) {
    HttpRequest.Builder request =
        server
            .request(pathAndQuery, ALICE, ALICE_PASSWORD)
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      request.header("Content-Type", contentType);
    }
    return server.send(request.build());
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 20 s");
      }
      Thread.sleep(10);
    }
  }

  private static void assertError(HttpResponse<String> response, int status, String... parts) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    JsonNode error = json(response.body()).get("error");
    assertThat(error).as(response.body()).isNotNull();
    assertThat(error.get("code").asText()).startsWith("FLOE-");
    assertThat(error.has("sqlState")).isFalse();
    for (String part : parts) {
      assertThat(error.get("message").asText()).contains(part);
    }
  }

  @Test
  void takesAJsonArrayWithTheExactBytesOfEachElement() throws Exception {
    Handler handler = new Handler(false);
    startStream("clicks", 100, handler);
    startServer();
    HttpResponse<String> response =
        post(
            "/v1/streams/clicks/records",
            "application/json; charset=utf-8",
            "[ {\"a\": 1,  \"b\": [1, 2]},\n{\"a\":\"x\\\"y\"} , 3, \"text\", null ]");
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(json(response.body()).toString())
        .isEqualTo(
            "{\"stream\":\"clicks\",\"accepted\":5,\"first_sequence\":1,\"last_sequence\":5,"
                + "\"duplicate\":false,\"durable\":\"log\"}");
    await(() -> handler.values().size() == 5);
    assertThat(handler.values())
        .containsExactly(
            "{\"a\": 1,  \"b\": [1, 2]}", "{\"a\":\"x\\\"y\"}", "3", "\"text\"", "null");

    HttpResponse<String> empty = post("/v1/streams/clicks/records", "application/json", "[]");
    assertThat(empty.statusCode()).isEqualTo(200);
    assertThat(json(empty.body()).get("accepted").asInt()).isZero();
    assertThat(json(empty.body()).get("first_sequence").isNull()).isTrue();
  }

  @Test
  void takesNdjsonLineByLineAcceptingLinesThatAreNotJson() throws Exception {
    Handler handler = new Handler(false);
    startStream("clicks", 100, handler);
    startServer();
    HttpResponse<String> response =
        post(
            "/v1/streams/clicks/records",
            "application/x-ndjson",
            "{\"a\":1}\r\n\n   \n{\"a\": 2}\nnot json {\n{\"a\":3}");
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    JsonNode answer = json(response.body());
    assertThat(answer.get("accepted").asInt()).isEqualTo(4);
    assertThat(answer.get("last_sequence").asLong()).isEqualTo(4);
    await(() -> handler.values().size() == 4);
    assertThat(handler.values())
        .containsExactly("{\"a\":1}", "{\"a\": 2}", "not json {", "{\"a\":3}");
  }

  @Test
  void answersARetriedBatchIdWithTheFirstAnswerAndAppendsNothing() throws Exception {
    Handler handler = new Handler(false);
    HttpSource source = startStream("clicks", 100, handler);
    startServer();
    HttpResponse<String> first =
        server.send(
            server
                .request("/v1/streams/clicks/records", ALICE, ALICE_PASSWORD)
                .header("Content-Type", "application/x-ndjson")
                .header("Floe-Batch-Id", "producer-1-000042")
                .POST(HttpRequest.BodyPublishers.ofString("{\"a\":1}\n{\"a\":2}\n"))
                .build());
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    assertThat(json(first.body()).get("duplicate").asBoolean()).isFalse();
    // The same batch id, as a query parameter this time.
    HttpResponse<String> retry =
        post(
            "/v1/streams/clicks/records?batch-id=producer-1-000042",
            "application/x-ndjson",
            "{\"a\":1}\n{\"a\":2}\n");
    assertThat(retry.statusCode()).as(retry.body()).isEqualTo(200);
    assertThat(json(retry.body()).toString())
        .isEqualTo(
            "{\"stream\":\"clicks\",\"accepted\":2,\"first_sequence\":1,\"last_sequence\":2,"
                + "\"duplicate\":true,\"durable\":\"log\"}");
    await(() -> handler.values().size() == 2);
    Thread.sleep(200);
    assertThat(handler.values()).hasSize(2);
    assertThat(source.bufferedRecords()).isEqualTo(2);

    assertError(
        post("/v1/streams/clicks/records?batch-id=has%20space", "application/x-ndjson", "{}"),
        400,
        "printable ASCII");
    assertError(
        post(
            "/v1/streams/clicks/records?batch-id=" + "x".repeat(129), "application/x-ndjson", "{}"),
        400,
        "1 to 128");
  }

  @Test
  void answersAfterTheCommitWhenAskedTo() throws Exception {
    Handler handler = new Handler(true);
    startStream("clicks", 100, handler);
    startServer();
    HttpResponse<String> response =
        post("/v1/streams/clicks/records?wait=commit", "application/json", "[{\"a\":1}]");
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(json(response.body()).get("durable").asText()).isEqualTo("commit");
    assertError(
        post("/v1/streams/clicks/records?wait=forever", "application/json", "[]"),
        400,
        "wait=commit");
  }

  @Test
  void answersThatTheStreamStoppedToARequestWaitingForItsCommit() throws Exception {
    HttpSource source = startStream("clicks", 100, new Handler(false));
    startServer();
    CompletableFuture<HttpResponse<String>> waiting =
        CompletableFuture.supplyAsync(
            () ->
                post(
                    "/v1/streams/clicks/records?wait=commit&batch-id=b-1",
                    "application/json",
                    "[{\"a\":1}]"));
    await(() -> source.bufferedRecords() == 1);
    source.close();
    HttpResponse<String> response = waiting.get(30, TimeUnit.SECONDS);
    assertError(response, 503, "durable in its log");
    assertThat(response.headers().firstValue("Retry-After")).hasValue("2");
  }

  @Test
  void refusesABodyLargerThanTheLimitBeforeReadingItAll() throws Exception {
    Handler handler = new Handler(false);
    HttpSource source = startStream("clicks", 100, handler);
    startServer();
    String large = "{\"a\":\"" + "x".repeat((int) MAX_REQUEST_BYTES) + "\"}\n";
    assertError(
        post("/v1/streams/clicks/records", "application/x-ndjson", large),
        413,
        "max-request-bytes of 4096");
    // Without a Content-Length (chunked), it is counted while it streams.
    HttpResponse<String> chunked =
        server.send(
            server
                .request("/v1/streams/clicks/records", ALICE, ALICE_PASSWORD)
                .header("Content-Type", "application/x-ndjson")
                .POST(
                    HttpRequest.BodyPublishers.ofInputStream(
                        () ->
                            new ByteArrayInputStream(
                                large.repeat(100).getBytes(StandardCharsets.UTF_8))))
                .build());
    assertError(chunked, 413, "more than 4096 bytes");
    assertThat(source.bufferedRecords()).isZero();
  }

  @Test
  void refusesWithRetryAfterWhileTheBufferIsFull() {
    startStream("clicks", 3, new Handler(false));
    startServer();
    assertThat(post("/v1/streams/clicks/records", "application/json", "[1, 2, 3]").statusCode())
        .isEqualTo(200);
    HttpResponse<String> refused = post("/v1/streams/clicks/records", "application/json", "[4]");
    assertError(refused, 429, "max-buffered-records (3)");
    assertThat(refused.headers().firstValue("Retry-After")).hasValue("2");
  }

  @Test
  void refusesBadRequestsWithoutAcceptingAnything() {
    HttpSource source = startStream("clicks", 100, new Handler(false));
    startStream("orders", 100, new Handler(false));
    startServer();
    assertError(
        post("/v1/streams/nosuch/records", "application/json", "[]"),
        404,
        "no such stream",
        "clicks, orders");
    HttpResponse<String> get =
        server.send(
            server.request("/v1/streams/clicks/records", ALICE, ALICE_PASSWORD).GET().build());
    assertError(get, 405, "use POST");
    assertThat(get.headers().firstValue("Allow")).hasValue("POST");
    assertError(
        post("/v1/streams/clicks/records", "application/json", "[{\"a\":1},\n {\"a\": }]"),
        400,
        "line 2, column 8",
        "nothing was accepted");
    assertError(post("/v1/streams/clicks/records", "application/json", "{\"a\":1}"), 400, "array");
    assertError(
        post("/v1/streams/clicks/records", "application/json", "[1] [2]"), 400, "more after");
    assertError(post("/v1/streams/clicks/records", "text/csv", "a,b"), 415, "x-ndjson");
    assertError(
        post("/v1/streams/clicks/other", "application/json", "[]"), 404, "no such endpoint");
    assertThat(source.bufferedRecords()).isZero();
  }

  @Test
  void needsTheCredentialsOfQueries() {
    startStream("clicks", 100, new Handler(false));
    startServer();
    HttpResponse<String> anonymous =
        server.send(
            server
                .request("/v1/streams/clicks/records", null, null)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("[1]"))
                .build());
    assertThat(anonymous.statusCode()).isEqualTo(401);
    assertThat(anonymous.headers().firstValue("WWW-Authenticate")).hasValue("Basic realm=\"floe\"");
    HttpResponse<String> wrong =
        server.send(
            server
                .request("/v1/streams/clicks/records", ALICE, "wrong")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("[1]"))
                .build());
    assertThat(wrong.statusCode()).isEqualTo(401);
    HttpResponse<String> list =
        server.send(server.request("/v1/streams", null, null).GET().build());
    assertThat(list.statusCode()).isEqualTo(401);
  }

  @Test
  void listsTheStreamsWithTheirBufferedRecords() {
    startStream("clicks", 100, new Handler(false));
    startStream("orders", 100, new Handler(false));
    startServer();
    post("/v1/streams/orders/records", "application/json", "[1, 2]");
    HttpResponse<String> list =
        server.send(server.request("/v1/streams", ALICE, ALICE_PASSWORD).GET().build());
    assertThat(list.statusCode()).as(list.body()).isEqualTo(200);
    assertThat(json(list.body()).toString())
        .isEqualTo(
            "{\"streams\":[{\"stream\":\"clicks\",\"pipeline\":\"clicks\",\"buffered_records\":0},"
                + "{\"stream\":\"orders\",\"pipeline\":\"orders\",\"buffered_records\":2}]}");
  }

  @Test
  void measuresRecordsPerSecondThroughTheEndpoint() throws Exception {
    Handler handler = new Handler(true);
    startStream("clicks", 1_000_000, handler);
    startServer();
    StringBuilder body = new StringBuilder();
    String record = "{\"user\":\"u-1\",\"page\":\"" + "p".repeat(20) + "\",\"n\":1}\n";
    for (int i = 0; i < 100 && body.length() + record.length() <= MAX_REQUEST_BYTES; i++) {
      body.append(record);
    }
    int perRequest = (int) body.chars().filter(c -> c == '\n').count();
    long start = System.nanoTime();
    long records = 0;
    while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(3)) {
      HttpResponse<String> response =
          post("/v1/streams/clicks/records", "application/x-ndjson", body.toString());
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      records += perRequest;
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf(
        "POST /v1/streams/clicks/records, one client, %d records of %d bytes per request: %.0f"
            + " records/s (%.0f requests/s)%n",
        perRequest, record.length(), records / seconds, records / seconds / perRequest);
    long expected = records;
    await(() -> handler.values().size() == expected);
  }
}
