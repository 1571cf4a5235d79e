package io.floe.server.http;

import static io.floe.server.http.TestServer.ALICE;
import static io.floe.server.http.TestServer.ALICE_PASSWORD;
import static io.floe.server.http.TestServer.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.floe.core.writer.CdcTableWriter;
import io.floe.testing.SalesTable;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.catalog.TableIdentifier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The maintenance endpoints of the HTTP API, over a real HTTP client on loopback. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MaintenanceApiTest {
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

  private HttpResponse<String> get(String pathAndQuery) {
    return server.send(server.request(pathAndQuery, ALICE, ALICE_PASSWORD).GET().build());
  }

  private HttpResponse<String> post(String operation, String body) {
    return server.send(
        server
            .request("/v1/maintenance/" + operation, ALICE, ALICE_PASSWORD)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build());
  }

  /** The error of a response with {@code status}: its code and message, and no SQLSTATE. */
  private static String error(HttpResponse<String> response, int status) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    JsonNode error = json(response.body()).get("error");
    assertThat(error.has("sqlState")).as("sqlState of %s", response.body()).isFalse();
    return error.get("code").asText() + " " + error.get("message").asText();
  }

  @Test
  void runsOperationsAndListsTheirRuns() {
    // Two more commits: four snapshots once the manifests are rewritten, the first two expirable.
    CdcTableWriter writer =
        CdcTableWriter.open(server.catalog.loadTable(TableIdentifier.of("raw", "sales")));
    for (long id = 1; id <= 2; id++) {
      writer.upsert(SalesTable.key(id), null);
      writer.commit(Map.of());
    }
    String later = Instant.now().plusSeconds(60).toString();
    HttpResponse<String> manifests = post("rewrite-manifests", "{\"table\": \"raw.sales\"}");
    assertThat(manifests.statusCode()).as(manifests.body()).isEqualTo(200);
    JsonNode rewritten = json(manifests.body());
    assertThat(rewritten.get("table").asText()).isEqualTo("raw.sales");
    assertThat(rewritten.get("operation").asText()).isEqualTo("rewrite-manifests");
    assertThat(rewritten.get("manifestsBefore").asInt()).isPositive();

    HttpResponse<String> dryRun =
        post(
            "expire-snapshots",
            "{\"table\": \"raw.sales\", \"older-than\": \""
                + later
                + "\", \"retain-last\": 1, \"milestones\": \"none\", \"dry-run\": true}");
    assertThat(dryRun.statusCode()).as(dryRun.body()).isEqualTo(200);
    JsonNode wouldExpire = json(dryRun.body());
    assertThat(wouldExpire.get("dryRun").asBoolean()).isTrue();
    assertThat(wouldExpire.get("expiredSnapshotIds")).hasSize(2);

    HttpResponse<String> expire =
        post("expire-snapshots", "{\"table\": \"raw.sales\", \"older-than\": \"" + later + "\"}");
    assertThat(expire.statusCode()).as(expire.body()).isEqualTo(200);
    assertThat(json(expire.body()).get("deletedManifestLists").asInt()).isEqualTo(2);

    HttpResponse<String> orphans =
        post(
            "remove-orphan-files",
            "{\"table\": \"raw.sales\", \"older-than\": \"1m\", \"dry-run\": true}");
    assertThat(orphans.statusCode()).as(orphans.body()).isEqualTo(200);
    assertThat(json(orphans.body()).get("orphanFiles")).isEmpty();

    HttpResponse<String> runs = get("/v1/maintenance/runs?table=raw.sales");
    assertThat(runs.statusCode()).as(runs.body()).isEqualTo(200);
    assertThat(runs.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonNode list = json(runs.body());
    assertThat(list.isArray()).isTrue();
    assertThat(list).hasSize(2);
    JsonNode newest = list.get(0);
    assertThat(newest.get("operation").asText()).isEqualTo("expire-snapshots");
    assertThat(newest.get("failed").asBoolean()).isFalse();
    assertThat(newest.get("before").get("snapshots").asInt()).isEqualTo(4);
    assertThat(newest.get("after").get("snapshots").asInt()).isEqualTo(2);
    assertThat(newest.get("after").get("dataFiles").asLong()).isPositive();
    assertThat(newest.get("details").asText()).startsWith("expired 2 snapshots");
    assertThat(list.get(1).get("operation").asText()).isEqualTo("rewrite-manifests");
    assertThat(json(get("/v1/maintenance/runs?limit=1").body())).hasSize(1);
    assertThat(json(get("/v1/maintenance/runs?table=raw.other").body())).isEmpty();
  }

  @Test
  void showsTheEffectivePolicyWithItsSources() {
    server
        .catalog
        .loadTable(TableIdentifier.of("raw", "sales"))
        .updateProperties()
        .set("floe.maintenance.target-file-size", "128MB")
        .commit();

    HttpResponse<String> response = get("/v1/maintenance/policy?table=raw.sales");

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    JsonNode body = json(response.body());
    assertThat(body.get("table").asText()).isEqualTo("raw.sales");
    JsonNode policy = body.get("policy");
    assertThat(policy.get("target-file-size").toString())
        .isEqualTo(
            "{\"value\":134217728,\"source\":\"table property\","
                + "\"origin\":\"floe.maintenance.target-file-size\"}");
    assertThat(policy.get("retain-last").toString())
        .isEqualTo("{\"value\":100,\"source\":\"default\",\"origin\":\"\"}");
    assertThat(policy.get("expire-older-than").get("value").asText()).isEqualTo("10m");
    assertThat(policy.get("compact").get("value").isBoolean()).isTrue();
    assertThat(policy.get("compact-delete-ratio").get("value").asDouble()).isEqualTo(0.1);
    assertThat(policy.get("sort-order").get("value").asText()).isEmpty();
    assertThat(policy.size()).isEqualTo(10);
  }

  @Test
  void listsTheSchemaHistoryOfATable() {
    server
        .catalog
        .loadTable(TableIdentifier.of("raw", "sales"))
        .updateSchema()
        .addColumn("note", org.apache.iceberg.types.Types.StringType.get())
        .commit();

    HttpResponse<String> response = get("/v1/maintenance/schema-history?table=raw.sales");

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    JsonNode history = json(response.body());
    assertThat(history.size()).isEqualTo(2);
    assertThat(history.get(0).get("schema-id").asInt()).isZero();
    assertThat(history.get(0).get("changes").get(0).asText()).startsWith("created with ");
    assertThat(history.get(0).get("current").asBoolean()).isFalse();
    assertThat(history.get(1).get("changes").toString()).isEqualTo("[\"added note string\"]");
    assertThat(history.get(1).get("first-snapshot-id").isNull()).isTrue();
    assertThat(history.get(1).get("current").asBoolean()).isTrue();
  }

  @Test
  void answersBadInputWith400SayingWhatToSend() {
    assertThat(error(post("expire-snapshots", "{\"table\": "), 400))
        .startsWith("FLOE-001 Cannot expire-snapshots: the body is not valid JSON (")
        .endsWith("); send {\"table\": \"namespace.table\"}");
    assertThat(error(post("expire-snapshots", "[]"), 400))
        .isEqualTo(
            "FLOE-001 Cannot expire-snapshots: send a JSON object such as"
                + " {\"table\": \"namespace.table\"}");
    assertThat(error(post("rewrite-manifests", "{}"), 400))
        .isEqualTo(
            "FLOE-001 Cannot rewrite-manifests: the request names no table; send {\"table\":"
                + " \"namespace.table\"}");
    assertThat(error(post("rewrite-manifests", "{\"table\": \"sales\"}"), 400))
        .isEqualTo("FLOE-001 Cannot maintain 'sales': name the table as namespace.table");
    assertThat(error(post("remove-orphan-files", "{\"table\": \"raw.sales\", \"x\": 1}"), 400))
        .isEqualTo(
            "FLOE-001 Cannot remove-orphan-files: unknown member \"x\"; the members are table,"
                + " older-than, dry-run");
    assertThat(
            error(post("expire-snapshots", "{\"table\": \"raw.sales\", \"retain-last\": 0}"), 400))
        .isEqualTo(
            "FLOE-001 Cannot use retain-last 0: write how many of the latest snapshots to keep, 1"
                + " or more");
    assertThat(
            error(
                post("expire-snapshots", "{\"table\": \"raw.sales\", \"dry-run\": \"yes\"}"), 400))
        .isEqualTo("FLOE-001 Cannot expire-snapshots: \"dry-run\" must be true or false");
    assertThat(
            error(post("expire-snapshots", "{\"table\": \"raw.sales\", \"older-than\": [1]}"), 400))
        .isEqualTo("FLOE-001 Cannot expire-snapshots: \"older-than\" must be a string or a number");
    assertThat(
            error(
                post(
                    "rewrite-data-files",
                    "{\"table\": \"raw.sales\", \"target-file-size\": \"12XB\"}"),
                400))
        .startsWith(
            "FLOE-001 Cannot use target-file-size 12XB: write a whole number of bytes, optionally"
                + " followed by B, KB, MB, GB or TB");
    assertThat(
            error(
                post("rewrite-data-files", "{\"table\": \"raw.sales\", \"where\": \"id >\"}"), 400))
        .startsWith("FLOE-001 Cannot use where id >: 'id >' is not a SQL condition");
    assertThat(error(get("/v1/maintenance/runs?limit=lots"), 400))
        .isEqualTo(
            "FLOE-001 Cannot list maintenance runs: limit 'lots' is not a whole number from 1 to"
                + " 10000; send ?limit=100");
    assertThat(error(get("/v1/maintenance/policy"), 400))
        .isEqualTo(
            "FLOE-001 Cannot show a maintenance policy: name the table with"
                + " ?table=namespace.table");
    assertThat(json(get("/v1/maintenance/runs").body())).as("nothing ran").isEmpty();
  }

  @Test
  void answersAnInvalidTablePropertyWith400NamingIt() {
    server
        .catalog
        .loadTable(TableIdentifier.of("raw", "sales"))
        .updateProperties()
        .set("floe.maintenance.compact", "yes")
        .commit();

    assertThat(error(get("/v1/maintenance/policy?table=raw.sales"), 400))
        .isEqualTo(
            "FLOE-001 Cannot read the maintenance policy of table raw.sales: table property"
                + " floe.maintenance.compact has the invalid value 'yes' (write true or false)."
                + " Set valid values (floe maintain policy raw.sales --set key=value) or remove"
                + " the properties (--unset key)");
  }

  @Test
  void answersUnknownTablesOperationsAndMethods() {
    assertThat(error(post("rewrite-manifests", "{\"table\": \"raw.nope\"}"), 404))
        .startsWith("FLOE-202 Cannot rewrite manifests of table raw.nope: no such table");
    assertThat(error(get("/v1/maintenance/policy?table=raw.nope"), 404))
        .startsWith(
            "FLOE-202 Cannot read the maintenance policy of table raw.nope: no such table; tables"
                + " in namespace raw: ");
    assertThat(error(post("compact", "{\"table\": \"raw.sales\"}"), 404))
        .isEqualTo(
            "FLOE-001 Cannot serve POST /v1/maintenance/compact: no such maintenance endpoint;"
                + " the endpoints are GET /v1/maintenance/runs, GET /v1/maintenance/policy, GET"
                + " /v1/maintenance/schema-history and POST /v1/maintenance/{operation} for"
                + " rewrite-data-files, rewrite-manifests, expire-snapshots, remove-orphan-files");
    assertThat(error(get("/v1/maintenance/schema-history?table=raw.nope"), 404))
        .startsWith("FLOE-202 Cannot list the schema history of table raw.nope: no such table");
    assertThat(error(get("/v1/maintenance/schema-history"), 400))
        .isEqualTo(
            "FLOE-001 Cannot list a schema history: name the table with"
                + " ?table=namespace.table");
    assertThat(error(post("rollback", "{\"table\": \"raw.sales\"}"), 404))
        .startsWith("FLOE-001 Cannot serve POST /v1/maintenance/rollback: no such");
    HttpResponse<String> getOperation = get("/v1/maintenance/expire-snapshots");
    assertThat(error(getOperation, 405)).isEqualTo("FLOE-001 Cannot serve GET here: use POST");
    assertThat(getOperation.headers().firstValue("Allow")).hasValue("POST");
    HttpResponse<String> postRuns = post("runs", "{}");
    assertThat(error(postRuns, 405)).isEqualTo("FLOE-001 Cannot serve POST here: use GET");
    assertThat(postRuns.headers().firstValue("Allow")).hasValue("GET");
  }

  @Test
  void needsTheCredentialsOfASqlUser() {
    HttpResponse<String> anonymous =
        server.send(server.request("/v1/maintenance/runs", null, null).GET().build());
    assertThat(error(anonymous, 401)).startsWith("FLOE-400 Cannot authenticate");
    assertThat(anonymous.headers().firstValue("WWW-Authenticate")).hasValue("Basic realm=\"floe\"");
    HttpResponse<String> wrong =
        server.send(
            server
                .request("/v1/maintenance/rewrite-manifests", ALICE, "wrong")
                .POST(HttpRequest.BodyPublishers.ofString("{\"table\": \"raw.sales\"}"))
                .build());
    assertThat(error(wrong, 401)).startsWith("FLOE-400 Cannot authenticate alice");
    assertThat(json(get("/v1/maintenance/runs").body())).as("nothing ran").isEmpty();
  }
}
