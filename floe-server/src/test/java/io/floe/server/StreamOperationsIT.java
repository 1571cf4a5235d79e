package io.floe.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Operating a stream pipeline of a running {@code floe run}: its figures on {@code GET
 * /v1/pipelines}, {@code floe dlq list} and {@code show}, and {@code floe dlq replay} after a fix
 * (a widened column) moving the dead letters into the table once.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class StreamOperationsIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TableIdentifier ORDERS = TableIdentifier.of("raw", "orders");
  private static final String AUTH =
      "Basic " + Base64.getEncoder().encodeToString("ops:secret".getBytes(StandardCharsets.UTF_8));

  @TempDir Path directory;

  @Test
  void figuresListShowAndAReplayAfterTheFix() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Path config = directory.resolve("floe.yaml");
    Files.writeString(
        config,
        String.join(
            "\n",
            "warehouse: " + FloeRunProcess.warehouse(directory),
            "pipelines:",
            "  - name: orders",
            "    source:",
            "      type: http",
            "    target:",
            "      namespace: raw",
            "      columns: [order_id long, qty int]",
            "      unknown-fields: reject",
            "    commit-interval: 200ms",
            "sql:",
            "  postgres-port: 0",
            "  http-port: " + port,
            "  users:",
            "    - name: ops",
            "      password: secret",
            "catalog:",
            "  port: 0",
            ""),
        StandardCharsets.UTF_8);
    File log = directory.resolve("floe-run.log").toFile();
    Process floe = FloeRunProcess.start(config, log);
    HttpClient http = HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + port;
    try {
      awaitStream(http, base, log);
      HttpResponse<String> posted =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/v1/streams/orders/records?wait=commit"))
                  .header("Authorization", AUTH)
                  .header("Content-Type", "application/x-ndjson")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"order_id\":1,\"qty\":5}\n"
                              + "{\"order_id\":2,\"qty\":3000000000}\n"
                              + "{\"order_id\":3,\"qty\":\n"
                              + "{\"order_id\":4,\"qty\":4000000000}\n"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(posted.statusCode()).as(posted.body()).isEqualTo(200);

      JsonNode pipelines = awaitDeadLetters(http, base, 3);
      JsonNode orders = pipelines.path("pipelines").get(0);
      assertThat(orders.path("name").asText()).isEqualTo("orders");
      assertThat(orders.path("source").asText()).isEqualTo("http");
      assertThat(orders.path("state").asText()).isEqualTo("streaming");
      assertThat(orders.path("dead_letters_by_class").path("value_out_of_range").asLong())
          .isEqualTo(2);
      assertThat(orders.path("dead_letters_by_class").path("bad_json").asLong()).isEqualTo(1);
      assertThat(orders.path("changes").asLong()).isEqualTo(1);

      String listed = cli("dlq", "list", "orders", "-c", config.toString(), "-f", "csv");
      assertThat(listed).contains("value_out_of_range").contains("bad_json");
      assertThat(listed.lines().count()).isEqualTo(4); // a header and three dead letters
      String firstLine = listed.lines().skip(1).findFirst().orElseThrow();
      String firstId = firstLine.substring(0, firstLine.indexOf(','));
      String shown = cli("dlq", "show", "orders", "-c", config.toString(), firstId);
      assertThat(shown).contains(firstId).contains("raw_value_base64");

      // A condition that is not valid SQL over the dead-letter table is the client's error.
      HttpResponse<String> badCondition =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/v1/pipelines/orders/dead-letters/replay"))
                  .header("Authorization", AUTH)
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString("{\"where\": \"no_such_column = 1\"}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(badCondition.statusCode()).as(badCondition.body()).isEqualTo(400);
      assertThat(badCondition.body()).contains("no_such_column");

      // The fix: qty widened to a long, as ALTER TABLE raw.orders ALTER COLUMN qty TYPE bigint.
      try (JdbcCatalog catalog = catalog()) {
        catalog.loadTable(ORDERS).updateSchema().updateColumn("qty", Types.LongType.get()).commit();
      }
      Path password = directory.resolve("password");
      Files.writeString(password, "secret\n", StandardCharsets.UTF_8);
      String replayed =
          cli(
              "dlq",
              "replay",
              "orders",
              "-c",
              config.toString(),
              "-u",
              "ops",
              "--password-file",
              password.toString(),
              "--where",
              "error_class = 'value_out_of_range'");
      assertThat(replayed).contains("Replayed 2 dead letters into raw.orders; 0 failed again");

      try (JdbcCatalog catalog = catalog()) {
        assertThat(orderQuantities(catalog)).containsExactly("1=5", "2=3000000000", "4=4000000000");
      }
      String left = cli("dlq", "list", "orders", "-c", config.toString(), "-f", "csv");
      assertThat(left.lines().count()).isEqualTo(2);
      assertThat(left).contains("bad_json").doesNotContain("value_out_of_range");
      // A second replay of the same condition finds nothing more to move.
      String again =
          cli(
              "dlq",
              "replay",
              "orders",
              "-c",
              config.toString(),
              "-u",
              "ops",
              "--password-file",
              password.toString(),
              "--where",
              "error_class = 'value_out_of_range'");
      assertThat(again).contains("Replayed 0 dead letters");
      try (JdbcCatalog catalog = catalog()) {
        assertThat(orderQuantities(catalog)).hasSize(3);
      }
    } finally {
      floe.destroy();
      assertThat(floe.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(Files.readString(log.toPath())).doesNotContain("Exception");
  }

  private JdbcCatalog catalog() {
    return FloeCatalog.open(
        WarehouseConfig.local(FloeRunProcess.warehouse(directory)), CatalogConfig.defaults());
  }

  private static List<String> orderQuantities(JdbcCatalog catalog) throws IOException {
    List<String> rows = new ArrayList<>();
    try (CloseableIterable<Record> records =
        IcebergGenerics.read(catalog.loadTable(ORDERS)).build()) {
      for (Record record : records) {
        rows.add(record.getField("order_id") + "=" + record.getField("qty"));
      }
    }
    rows.sort(String::compareTo);
    return rows;
  }

  /** Runs a {@code floe} command in this JVM and returns what it printed; it must succeed. */
  private static String cli(String... arguments) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream originalOut = System.out;
    PrintStream originalErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int exitCode;
    try {
      exitCode = Main.execute(arguments);
    } finally {
      System.setOut(originalOut);
      System.setErr(originalErr);
    }
    String printed = out.toString(StandardCharsets.UTF_8);
    assertThat(exitCode)
        .as(
            "floe %s: %s%s",
            String.join(" ", arguments), printed, err.toString(StandardCharsets.UTF_8))
        .isZero();
    return printed;
  }

  private static JsonNode awaitDeadLetters(HttpClient http, String base, int count)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    JsonNode body = null;
    while (System.nanoTime() < deadline) {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/v1/pipelines"))
                  .header("Authorization", AUTH)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      body = JSON.readTree(response.body());
      if (body.path("pipelines").get(0).path("dead_letters").asLong() >= count) {
        return body;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("Dead letters never reached " + count + ": " + body);
  }

  private static void awaitStream(HttpClient http, String base, File log) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (System.nanoTime() < deadline) {
      try {
        HttpResponse<String> response =
            http.send(
                HttpRequest.newBuilder(URI.create(base + "/v1/streams"))
                    .header("Authorization", AUTH)
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200 && response.body().contains("orders")) {
          return;
        }
      } catch (IOException e) {
        // Not listening yet.
      }
      Thread.sleep(100);
    }
    throw new AssertionError(
        "floe run never served its stream:\n" + Files.readString(log.toPath()));
  }
}
