package io.floe.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.rest.RESTCatalog;
import org.apache.iceberg.rest.RESTUtil;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hostile requests to the running REST catalog, sent raw with {@link java.net.http.HttpClient}:
 * each is answered with the status the spec gives it and the spec's error JSON, without a stack
 * trace, and changes nothing in the catalog or the warehouse.
 */
class RestCatalogHostileInputTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SCHEMA =
      "{\"type\":\"struct\",\"schema-id\":0,\"fields\":[{\"id\":1,\"name\":\"id\","
          + "\"required\":true,\"type\":\"long\"}]}";
  private static final String ORDERS_COMMIT = "/v1/namespaces/db/tables/orders";

  @TempDir static Path directory;
  private static RestCatalogFixture fixture;
  private static String token;
  private RestCatalogFixture.State before;

  /** One server for the class: every test but one asserts that it changed nothing. */
  @BeforeAll
  static void start() throws Exception {
    fixture = RestCatalogFixture.start(RestCatalogFixture.Metastore.SQLITE, directory);
    RESTCatalog client = fixture.client(Map.of());
    client.createNamespace(Namespace.of("db"), new HashMap<>(Map.of("owner", "floe")));
    Table orders =
        client.createTable(
            TableIdentifier.of("db", "orders"),
            new Schema(Types.NestedField.required(1, "id", Types.LongType.get())));
    orders
        .newFastAppend()
        .appendFile(
            DataFiles.builder(PartitionSpec.unpartitioned())
                .withPath("/x/f-0.parquet")
                .withFileSizeInBytes(10)
                .withRecordCount(1)
                .build())
        .commit();
    token = fixture.token();
  }

  @BeforeEach
  void readState() {
    before = fixture.state();
    assertThat(before.tables()).containsKey("db.orders");
  }

  @AfterAll
  static void stop() throws Exception {
    fixture.close();
  }

  /** Bodies that are not JSON, on every endpoint that reads one. */
  static Stream<Arguments> malformedJson() {
    List<String> bodies =
        List.of(
            "{",
            "not json",
            "{\"namespace\": [\"x\"],}",
            "[1, 2",
            "\"open",
            "{\"namespace\":[\"x\"]} {\"namespace\":[\"y\"]}");
    List<String> paths =
        List.of(
            "/v1/namespaces",
            "/v1/namespaces/db/properties",
            "/v1/namespaces/db/tables",
            ORDERS_COMMIT,
            "/v1/tables/rename",
            "/v1/namespaces/db/register",
            "/v1/transactions/commit",
            "/v1/namespaces/db/views");
    return paths.stream().flatMap(path -> bodies.stream().map(body -> Arguments.of(path, body)));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource
  void malformedJson(String path, String body) {
    assertRefused(post(path, body), 400);
  }

  /** JSON of the wrong shape: wrong types, missing required fields, unknown actions. */
  static Stream<Arguments> wrongShape() {
    return Stream.of(
        Arguments.of("/v1/namespaces", "[]"),
        Arguments.of("/v1/namespaces", "\"db2\""),
        Arguments.of("/v1/namespaces", "null"),
        Arguments.of("/v1/namespaces", "{}"),
        Arguments.of("/v1/namespaces", "{\"namespace\":\"db2\"}"),
        Arguments.of("/v1/namespaces", "{\"namespace\":[1,{}]}"),
        Arguments.of("/v1/namespaces", "{\"namespace\":[\"db2\"],\"properties\":[\"a\"]}"),
        Arguments.of("/v1/namespaces/db/properties", "{\"updates\":[\"a\"]}"),
        Arguments.of("/v1/namespaces/db/tables", "{\"name\":\"t2\"}"),
        Arguments.of("/v1/namespaces/db/tables", "{\"name\":\"t2\",\"schema\":\"x\"}"),
        Arguments.of("/v1/namespaces/db/tables", "{\"name\":[\"t2\"],\"schema\":" + SCHEMA + "}"),
        Arguments.of(ORDERS_COMMIT, "[]"),
        Arguments.of(ORDERS_COMMIT, "null"),
        Arguments.of(ORDERS_COMMIT, "{\"requirements\":{},\"updates\":[]}"),
        Arguments.of(
            ORDERS_COMMIT, "{\"requirements\":[],\"updates\":[{\"action\":\"nonsense\"}]}"),
        Arguments.of(
            ORDERS_COMMIT, "{\"requirements\":[],\"updates\":[{\"action\":\"set-properties\"}]}"),
        Arguments.of(
            ORDERS_COMMIT,
            "{\"requirements\":[],\"updates\":[{\"action\":\"add-snapshot\",\"snapshot\":{}}]}"),
        Arguments.of(
            ORDERS_COMMIT,
            "{\"requirements\":[{\"type\":\"assert-ref-snapshot-id\"}],\"updates\":[]}"),
        Arguments.of(
            ORDERS_COMMIT,
            "{\"requirements\":[],\"updates\":[{\"action\":\"set-current-schema\","
                + "\"schema-id\":99}]}"),
        Arguments.of(
            ORDERS_COMMIT,
            "{\"requirements\":[],\"updates\":[{\"action\":\"upgrade-format-version\","
                + "\"format-version\":99}]}"),
        Arguments.of(
            ORDERS_COMMIT,
            "{\"identifier\":{\"namespace\":[\"db\"],\"name\":\"other\"},\"requirements\":[],"
                + "\"updates\":[]}"),
        Arguments.of("/v1/tables/rename", "{\"source\":\"db.orders\",\"destination\":{}}"),
        Arguments.of("/v1/tables/rename", "{\"source\":{\"namespace\":[\"db\"]}}"),
        Arguments.of("/v1/transactions/commit", "{\"table-changes\":{}}"),
        Arguments.of("/v1/transactions/commit", "{\"table-changes\":[]}"),
        Arguments.of("/v1/transactions/commit", "{\"table-changes\":[{\"updates\":[]}]}"),
        Arguments.of("/v1/namespaces/db/register", "{\"name\":\"t3\"}"));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource
  void wrongShape(String path, String body) {
    assertRefused(post(path, body), 400);
  }

  /** Unknown fields are refused with a 400 that names them, rather than ignored. */
  static Stream<Arguments> unknownField() {
    return Stream.of(
        Arguments.of("/v1/namespaces", "{\"namespace\":[\"db2\"],\"colour\":\"red\"}"),
        Arguments.of("/v1/namespaces/db/properties", "{\"updates\":{},\"colour\":\"red\"}"),
        Arguments.of(
            "/v1/namespaces/db/tables",
            "{\"name\":\"t2\",\"schema\":" + SCHEMA + ",\"colour\":\"red\"}"),
        Arguments.of(
            "/v1/tables/rename",
            "{\"source\":{\"namespace\":[\"db\"],\"name\":\"orders\"},\"destination\":"
                + "{\"namespace\":[\"db\"],\"name\":\"orders2\"},\"colour\":\"red\"}"),
        Arguments.of(
            ORDERS_COMMIT,
            "{\"requirements\":[],\"updates\":[{\"action\":\"set-properties\",\"updates\":"
                + "{\"k\":\"v\"}}],\"colour\":\"red\"}"),
        Arguments.of(
            "/v1/transactions/commit",
            "{\"table-changes\":[{\"identifier\":{\"namespace\":[\"db\"],\"name\":\"orders\"},"
                + "\"requirements\":[],\"updates\":[{\"action\":\"set-properties\",\"updates\":"
                + "{\"k\":\"v\"}}]}],\"colour\":\"red\"}"),
        Arguments.of(
            "/v1/transactions/commit",
            "{\"table-changes\":[{\"identifier\":{\"namespace\":[\"db\"],\"name\":\"orders\"},"
                + "\"requirements\":[],\"updates\":[{\"action\":\"set-properties\",\"updates\":"
                + "{\"k\":\"v\"}}],\"colour\":\"red\"}]}"),
        Arguments.of(
            "/v1/namespaces/db/register",
            "{\"name\":\"t3\",\"metadata-location\":\"/nowhere.json\",\"colour\":\"red\"}"));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource
  void unknownField(String path, String body) {
    JsonNode error = assertRefused(post(path, body), 400);
    assertThat(error.get("message").asText()).contains("colour");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/v1/namespaces",
        "/v1/namespaces/db/properties",
        "/v1/namespaces/db/tables",
        ORDERS_COMMIT,
        "/v1/tables/rename",
        "/v1/namespaces/db/register",
        "/v1/transactions/commit",
        "/v1/namespaces/db/views"
      })
  void emptyBody(String path) {
    assertRefused(fixture.send("POST", path, "", token), 400);
    assertRefused(fixture.send("POST", path, null, token), 400);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/v1/namespaces", ORDERS_COMMIT, "/v1/transactions/commit"})
  void tenMegabyteBody(String path) {
    String body =
        "{\"namespace\":[\"big\"],\"properties\":{\"k\":\"" + "a".repeat(10 << 20) + "\"}}";
    assertRefused(post(path, body), 413);
    // Without a Content-Length (chunked), the limit holds while reading.
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    HttpResponse<String> chunked =
        fixture.sendRaw(
            "POST",
            path,
            HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(bytes)),
            Map.of("Authorization", "Bearer " + token, "Content-Type", "application/json"));
    assertRefused(chunked, 413);
  }

  /** Names that are refused wherever a name is given. */
  static Stream<String> badNames() {
    return Stream.of(
        "..",
        ".",
        "a/b",
        "/",
        "a\\b",
        "a\u0000b",
        "\u0000",
        "a\u0001b",
        "a\u001Fb",
        "a\u007Fb",
        "a\u0085b",
        "line\nbreak",
        "tab\tname",
        "a\u2028b",
        "zero\u200Bwidth",
        "\u200B",
        "bidi\u202Etxt",
        "\u202Egnp.exe",
        "\uFEFFbom",
        "\u043Erders", // Cyrillic о, then Latin: looks like "orders"
        "p\u0430ypal", // Cyrillic а inside Latin
        "x".repeat(256),
        "\u00E9".repeat(128), // 128 characters, 256 bytes in UTF-8
        "\u0437".repeat(128), // Cyrillic з: 256 bytes
        " padded",
        "padded ",
        "e\u0301", // decomposed é, not NFC
        "");
  }

  @ParameterizedTest
  @MethodSource("badNames")
  void badNamespaceNamesAreRefused(String name) throws Exception {
    assertRefused(post("/v1/namespaces", namespaceJson(List.of(name))), 400);
    assertRefused(post("/v1/namespaces", namespaceJson(List.of("db", name))), 400);
  }

  @ParameterizedTest
  @MethodSource("badNames")
  void badTableNamesAreRefused(String name) throws Exception {
    assertRefused(post("/v1/namespaces/db/tables", createTableJson(name)), 400);
    assertRefused(
        post(
            "/v1/tables/rename",
            "{\"source\":{\"namespace\":[\"db\"],\"name\":\"orders\"},\"destination\":"
                + "{\"namespace\":[\"db\"],\"name\":"
                + JSON.writeValueAsString(name)
                + "}}"),
        400);
    assertRefused(
        post(
            "/v1/namespaces/db/views",
            "{\"name\":"
                + JSON.writeValueAsString(name)
                + ",\"schema\":"
                + SCHEMA
                + ",\"view-version\":{\"version-id\":1,\"timestamp-ms\":1,\"schema-id\":0,"
                + "\"summary\":{},\"default-namespace\":[\"db\"],\"representations\":[{\"type\":"
                + "\"sql\",\"sql\":\"select 1\",\"dialect\":\"spark\"}]},\"properties\":{}}"),
        400);
  }

  /** A bad name as the namespace of the path, percent-encoded as Iceberg's client encodes it. */
  @ParameterizedTest
  @MethodSource("badNames")
  void badNamespaceNamesInPathsAreRefused(String name) throws Exception {
    String encoded = RESTUtil.encodeString(name);
    if (name.equals("a\u001Fb")) {
      // %1F separates namespace levels in paths: this is namespace a.b, which does not exist.
      assertRefused(post("/v1/namespaces/" + encoded + "/tables", createTableJson("t")), 404);
      return;
    }
    if (name.isEmpty() || name.equals(".") || name.equals("..")) {
      // A path segment that is empty or a dot segment names no namespace: the server never
      // sees it as a name (an empty segment matches no route, and dot segments are resolved).
      int status = post("/v1/namespaces/" + encoded + "/tables", createTableJson("t")).statusCode();
      assertThat(status).isIn(400, 404, 405);
      assertThat(fixture.state()).isEqualTo(before);
      return;
    }
    assertRefused(post("/v1/namespaces/" + encoded + "/tables", createTableJson("t")), 400);
    HttpResponse<String> head = fixture.send("HEAD", "/v1/namespaces/" + encoded, null, token);
    assertThat(head.statusCode()).isIn(400, 404);
    assertThat(head.body()).isEmpty();
    assertUnchanged();
  }

  @Test
  void percentEncodedDotsAndSeparatorsInPathsAreRefused() {
    for (String segment : List.of("%2E%2E", "%2e", "a%2Fb", "a%5Cb", "a%00b", "%00")) {
      assertRefused(
          post("/v1/namespaces/" + segment + "/tables", createTableJson("t")), 400, segment);
    }
  }

  /**
   * Jetty refuses these before any handler runs, and closes the connection after a {@code %00}
   * without being asked to: the answer must say so, or a client that pools connections sends its
   * next request into the closed socket (the JDK's client hides the header, so this reads it raw).
   */
  @Test
  void refusalsBeforeTheHandlerCloseTheConnectionAndSaySo() throws Exception {
    for (String segment : List.of("a%00b", "%2E%2E")) {
      URI server = URI.create(fixture.uri());
      String body = createTableJson("t");
      try (Socket socket = new Socket(server.getHost(), server.getPort())) {
        socket.setSoTimeout(10_000);
        OutputStream out = socket.getOutputStream();
        out.write(
            ("POST /v1/namespaces/"
                    + segment
                    + "/tables HTTP/1.1\r\nHost: "
                    + server.getHost()
                    + "\r\nAuthorization: Bearer "
                    + token
                    + "\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.getBytes(StandardCharsets.UTF_8).length
                    + "\r\n\r\n"
                    + body)
                .getBytes(StandardCharsets.UTF_8));
        out.flush();
        String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(answer).as(segment).startsWith("HTTP/1.1 400 ");
        String headers = answer.substring(0, answer.indexOf("\r\n\r\n")).toLowerCase(Locale.ROOT);
        assertThat(headers).as(segment).contains("\r\nconnection: close");
        JsonNode error = JSON.readTree(answer.substring(answer.indexOf("\r\n\r\n") + 4));
        assertThat(error.path("error").path("code").asInt()).as(segment).isEqualTo(400);
        if (segment.contains("%00")) {
          assertThat(error.path("error").path("message").asText()).contains("%00");
        }
      }
    }
    assertUnchanged();
  }

  @Test
  void namespaceLevelsMayNotContainDots() throws Exception {
    assertRefused(post("/v1/namespaces", namespaceJson(List.of("a.b"))), 400);
    assertRefused(post("/v1/namespaces", namespaceJson(List.of("db", "x.y"))), 400);
  }

  @Test
  void singleScriptNamesInAnyScriptAreAccepted() throws Exception {
    String orders = "\u0437\u0430\u043A\u0430\u0437\u044B"; // заказы
    HttpResponse<String> namespace = post("/v1/namespaces", namespaceJson(List.of(orders)));
    assertThat(namespace.statusCode()).as(namespace.body()).isEqualTo(200);
    HttpResponse<String> table =
        post(
            "/v1/namespaces/" + RESTUtil.encodeString(orders) + "/tables", createTableJson(orders));
    assertThat(table.statusCode()).as(table.body()).isEqualTo(200);
    HttpResponse<String> japanese = post("/v1/namespaces/db/tables", createTableJson("注文"));
    assertThat(japanese.statusCode()).as(japanese.body()).isEqualTo(200);
    HttpResponse<String> longest =
        post("/v1/namespaces/db/tables", createTableJson("x".repeat(255)));
    assertThat(longest.statusCode()).as(longest.body()).isEqualTo(200);
    assertThat(fixture.catalog().tableExists(TableIdentifier.of(Namespace.of(orders), orders)))
        .isTrue();
  }

  @Test
  void wrongMethodIsRefusedWithAllow() {
    record Case(String method, String path, List<String> allowed) {}
    for (Case wrong :
        List.of(
            new Case("DELETE", "/v1/config", List.of("GET")),
            new Case("PUT", "/v1/namespaces", List.of("GET", "POST")),
            new Case("PATCH", "/v1/namespaces/db", List.of("GET", "HEAD", "DELETE")),
            new Case("PUT", ORDERS_COMMIT, List.of("GET", "HEAD", "POST", "DELETE")),
            new Case("GET", "/v1/namespaces/db/tables/orders/metrics", List.of("POST")),
            new Case("DELETE", "/v1/transactions/commit", List.of("POST")),
            new Case("GET", "/v1/oauth/tokens", List.of("POST")))) {
      HttpResponse<String> response = fixture.send(wrong.method(), wrong.path(), null, token);
      assertRefused(response, 405, wrong.method() + " " + wrong.path());
      assertThat(
              Arrays.stream(response.headers().firstValue("Allow").orElse("").split(","))
                  .map(String::trim)
                  .toList())
          .as("Allow of %s %s", wrong.method(), wrong.path())
          .containsExactlyInAnyOrderElementsOf(wrong.allowed());
    }
  }

  @Test
  void unknownPathsAreNotFound() {
    for (String path :
        List.of(
            "/",
            "/v1",
            "/v2/namespaces",
            "/v1/nothing",
            "/v1/namespaces/db/tables/orders/extra/segments")) {
      assertRefused(fixture.send("GET", path, null, token), 404, path);
    }
    // Jetty refuses an empty segment before any route is matched, in the spec's error model.
    assertRefused(fixture.send("GET", "/v1/namespaces//tables", null, token), 400);
  }

  @Test
  void headOnMissingObjectsIsNotFoundWithoutBody() {
    for (String path :
        List.of(
            "/v1/namespaces/missing",
            "/v1/namespaces/db/tables/missing",
            "/v1/namespaces/missing/tables/orders",
            "/v1/namespaces/db/views/missing")) {
      HttpResponse<String> response = fixture.send("HEAD", path, null, token);
      assertThat(response.statusCode()).as(path).isEqualTo(404);
      assertThat(response.body()).as(path).isEmpty();
    }
    assertThat(fixture.send("HEAD", "/v1/namespaces/db", null, token).statusCode()).isEqualTo(204);
    assertThat(fixture.send("HEAD", ORDERS_COMMIT, null, token).statusCode()).isEqualTo(204);
    assertUnchanged();
  }

  private HttpResponse<String> post(String path, String body) {
    return fixture.send("POST", path, body, token);
  }

  private JsonNode assertRefused(HttpResponse<String> response, int status) {
    return assertRefused(response, status, response.request().uri().getRawPath());
  }

  /**
   * Asserts the spec's error JSON with {@code status}, no stack trace, and that nothing changed.
   */
  private JsonNode assertRefused(HttpResponse<String> response, int status, String what) {
    String body = response.body();
    assertThat(response.statusCode()).as("%s: %s", what, body).isEqualTo(status);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValueSatisfying(type -> assertThat(type).startsWith("application/json"));
    assertThat(body).doesNotContain("\tat ").doesNotContain("Exception:");
    JsonNode error;
    try {
      error = JSON.readTree(body).get("error");
    } catch (java.io.IOException e) {
      throw new AssertionError(what + ": the body is not JSON: " + body, e);
    }
    assertThat(error).as("%s: %s", what, body).isNotNull();
    assertThat(error.get("message").isTextual()).as(body).isTrue();
    assertThat(error.get("message").asText()).as(body).isNotBlank();
    assertThat(error.get("type").isTextual()).as(body).isTrue();
    assertThat(error.get("code").asInt()).as(body).isEqualTo(status);
    assertUnchanged();
    return error;
  }

  private void assertUnchanged() {
    assertThat(fixture.state()).isEqualTo(before);
  }

  private static String namespaceJson(List<String> levels) throws Exception {
    return "{\"namespace\":" + JSON.writeValueAsString(levels) + ",\"properties\":{}}";
  }

  private static String createTableJson(String name) {
    try {
      return "{\"name\":" + JSON.writeValueAsString(name) + ",\"schema\":" + SCHEMA + "}";
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
