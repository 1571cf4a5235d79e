package io.floe.server.http;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.SchemaHistory;
import io.floe.core.config.EffectiveMaintenancePolicy;
import io.floe.maintenance.MaintenanceHistory;
import io.floe.maintenance.MaintenanceRun;
import io.floe.maintenance.RewriteProgress;
import io.floe.maintenance.WarehouseMaintenance;
import io.floe.server.MaintenanceArguments;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.iceberg.catalog.TableIdentifier;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The maintenance endpoints of the HTTP API, served by {@link QueryApi} after authentication:
 *
 * <ul>
 *   <li>{@code GET /v1/maintenance/runs?table=ns.t&limit=N}: the latest recorded runs, newest
 *       first, as a JSON array ({@link MaintenanceJson#runs}); every table's without {@code table},
 *       at most {@value #DEFAULT_LIMIT} without {@code limit}
 *   <li>{@code GET /v1/maintenance/policy?table=ns.t}: the table's policy and where each value
 *       comes from ({@link MaintenanceJson#policy})
 *   <li>{@code GET /v1/maintenance/schema-history?table=ns.t}: each schema the table has had, what
 *       changed from the one before and the first snapshot written with it, oldest first, as a JSON
 *       array ({@link MaintenanceJson#writeSchemaHistory})
 *   <li>{@code POST /v1/maintenance/{operation}} with a JSON body {@code {"table": "ns.t", ...}}:
 *       runs {@code expire-snapshots}, {@code remove-orphan-files}, {@code rewrite-manifests} or
 *       {@code rewrite-data-files} with the options {@code floe maintain} takes (without their
 *       dashes), and answers its result; the run is recorded unless a dry run
 * </ul>
 *
 * Bad input is answered with 400, an unknown table with 404, an unknown operation with 404. The
 * operation runs while the request waits: the connection's idle timeout does not apply meanwhile.
 */
final class MaintenanceApi {
  static final String PREFIX = "/v1/maintenance/";
  static final String RUNS_PATH = PREFIX + "runs";
  static final String POLICY_PATH = PREFIX + "policy";
  static final String SCHEMA_HISTORY_PATH = PREFIX + "schema-history";
  static final int DEFAULT_LIMIT = 100;

  private static final Logger LOG = LoggerFactory.getLogger(MaintenanceApi.class);
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final long BODY_LIMIT = 64 * 1024;

  /** The operations a request may run, with the members of its body besides {@code table}. */
  private static final Map<MaintenanceRun.Operation, List<String>> OPERATIONS = operations();

  private final WarehouseMaintenance maintenance;
  private final Clock clock;

  MaintenanceApi(WarehouseMaintenance maintenance, Clock clock) {
    this.maintenance = requireNonNull(maintenance, "maintenance is null");
    this.clock = requireNonNull(clock, "clock is null");
  }

  private static Map<MaintenanceRun.Operation, List<String>> operations() {
    Map<MaintenanceRun.Operation, List<String>> operations =
        new EnumMap<>(MaintenanceRun.Operation.class);
    operations.put(
        MaintenanceRun.Operation.EXPIRE_SNAPSHOTS,
        List.of("older-than", "retain-last", "milestones", "dry-run"));
    operations.put(MaintenanceRun.Operation.REMOVE_ORPHAN_FILES, List.of("older-than", "dry-run"));
    operations.put(MaintenanceRun.Operation.REWRITE_MANIFESTS, List.of());
    operations.put(
        MaintenanceRun.Operation.REWRITE_DATA_FILES,
        List.of("target-file-size", "min-input-files", "delete-ratio", "sort-order", "where"));
    return operations;
  }

  /** The methods a path under {@link #PREFIX} allows, for the {@code Allow} header of a 405. */
  static String allowed(String path) {
    return path.equals(RUNS_PATH) || path.equals(POLICY_PATH) || path.equals(SCHEMA_HISTORY_PATH)
        ? "GET"
        : "POST";
  }

  /**
   * Serves a request whose path starts with {@link #PREFIX}, completing {@code callback}.
   *
   * @throws RequestRejected for bad input, an unknown table, path or method, or a failed operation
   */
  void serve(Request request, Response response, Callback callback, String path) {
    String method = request.getMethod();
    try {
      if (path.equals(RUNS_PATH)) {
        RequestRejected.requireMethod(method, "GET", ErrorCode.CONFIG_INVALID);
        runs(request, response, callback);
      } else if (path.equals(POLICY_PATH)) {
        RequestRejected.requireMethod(method, "GET", ErrorCode.CONFIG_INVALID);
        policy(request, response, callback);
      } else if (path.equals(SCHEMA_HISTORY_PATH)) {
        RequestRejected.requireMethod(method, "GET", ErrorCode.CONFIG_INVALID);
        schemaHistory(request, response, callback);
      } else {
        MaintenanceRun.Operation operation =
            MaintenanceRun.Operation.forLabel(path.substring(PREFIX.length()))
                .filter(OPERATIONS::containsKey)
                .orElseThrow(() -> unknownEndpoint(method, path));
        RequestRejected.requireMethod(method, "POST", ErrorCode.CONFIG_INVALID);
        run(request, response, callback, operation);
      }
    } catch (FloeException e) {
      int status =
          e.code() == ErrorCode.TABLE_NOT_FOUND
              ? HttpStatus.NOT_FOUND_404
              : ErrorResponses.status(e);
      throw new RequestRejected(status, e);
    }
  }

  private static RequestRejected unknownEndpoint(String method, String path) {
    return new RequestRejected(
        HttpStatus.NOT_FOUND_404,
        new FloeException(
            ErrorCode.CONFIG_INVALID,
            "Cannot serve "
                + method
                + " "
                + path
                + ": no such maintenance endpoint; the endpoints are GET "
                + RUNS_PATH
                + ", GET "
                + POLICY_PATH
                + ", GET "
                + SCHEMA_HISTORY_PATH
                + " and POST "
                + PREFIX
                + "{operation} for "
                + OPERATIONS.keySet().stream()
                    .map(MaintenanceRun.Operation::label)
                    .collect(Collectors.joining(", "))));
  }

  private void runs(Request request, Response response, Callback callback) {
    Fields parameters = Request.extractQueryParameters(request);
    String table = parameters.getValue("table");
    String limitText = parameters.getValue("limit");
    int limit = DEFAULT_LIMIT;
    if (limitText != null) {
      try {
        limit = Integer.parseInt(limitText.trim());
      } catch (NumberFormatException e) {
        limit = 0;
      }
      if (limit < 1 || limit > MaintenanceHistory.DEFAULT_KEEP) {
        throw invalid(
            "Cannot list maintenance runs: limit '"
                + limitText
                + "' is not a whole number from 1 to "
                + MaintenanceHistory.DEFAULT_KEEP
                + "; send ?limit=100");
      }
    }
    TableIdentifier identifier = table == null ? null : MaintenanceArguments.table(table);
    List<MaintenanceRun> runs = maintenance.runs(identifier, limit);
    Responses.json(
        response,
        callback,
        HttpStatus.OK_200,
        Responses.json(json -> MaintenanceJson.writeRuns(json, runs)));
  }

  private void policy(Request request, Response response, Callback callback) {
    String table = Request.extractQueryParameters(request).getValue("table");
    if (table == null) {
      throw invalid("Cannot show a maintenance policy: name the table with ?table=namespace.table");
    }
    EffectiveMaintenancePolicy policy = maintenance.policy(MaintenanceArguments.table(table));
    Responses.json(
        response,
        callback,
        HttpStatus.OK_200,
        Responses.json(json -> MaintenanceJson.writePolicy(json, policy)));
  }

  private void schemaHistory(Request request, Response response, Callback callback) {
    String table = Request.extractQueryParameters(request).getValue("table");
    if (table == null) {
      throw invalid("Cannot list a schema history: name the table with ?table=namespace.table");
    }
    List<SchemaHistory.Entry> history =
        maintenance.schemaHistory(MaintenanceArguments.table(table));
    Responses.json(
        response,
        callback,
        HttpStatus.OK_200,
        Responses.json(json -> MaintenanceJson.writeSchemaHistory(json, history)));
  }

  private void run(
      Request request, Response response, Callback callback, MaintenanceRun.Operation operation) {
    JsonNode body;
    try {
      body = body(request, operation);
    } catch (UncheckedIOException e) {
      LOG.debug("Cannot read the body of a maintenance request: {}", e.getCause().toString());
      callback.failed(e.getCause());
      return;
    }
    String tableText = member(body, "table", operation);
    if (tableText == null) {
      throw invalid(
          "Cannot "
              + operation.label()
              + ": the request names no table; send {\"table\": \"namespace.table\"}");
    }
    TableIdentifier table = MaintenanceArguments.table(tableText);
    // Nothing is written while the operation runs: an idle connection is expected.
    request.addIdleTimeoutListener(timeout -> false);
    Object result =
        switch (operation) {
          case EXPIRE_SNAPSHOTS ->
              maintenance.expireSnapshots(
                  table,
                  MaintenanceArguments.expirePolicy(
                      "",
                      member(body, "older-than", operation),
                      member(body, "retain-last", operation),
                      member(body, "milestones", operation),
                      dryRun(body, operation),
                      clock));
          case REMOVE_ORPHAN_FILES ->
              maintenance.removeOrphanFiles(
                  table,
                  MaintenanceArguments.orphanAge(
                      "older-than", member(body, "older-than", operation), clock),
                  dryRun(body, operation));
          case REWRITE_MANIFESTS -> maintenance.rewriteManifests(table);
          case REWRITE_DATA_FILES -> {
            EffectiveMaintenancePolicy policy =
                MaintenanceArguments.compaction(
                    maintenance.policy(table),
                    "",
                    member(body, "target-file-size", operation),
                    member(body, "min-input-files", operation),
                    member(body, "delete-ratio", operation),
                    member(body, "sort-order", operation));
            yield maintenance.rewriteDataFiles(
                table,
                MaintenanceArguments.rewriteOptions(
                    maintenance, table, policy, member(body, "where", operation), "where"),
                RewriteProgress.NONE);
          }
          default -> throw new IllegalStateException("not an operation of the API: " + operation);
        };
    Responses.json(
        response,
        callback,
        HttpStatus.OK_200,
        Responses.json(
            json -> MaintenanceJson.writeResult(json, table.toString(), operation, result)));
  }

  /** The JSON object of the body, with only the members {@code operation} takes. */
  private static JsonNode body(Request request, MaintenanceRun.Operation operation) {
    byte[] bytes;
    if (request.getLength() > BODY_LIMIT) {
      throw tooLarge();
    }
    try (InputStream in = Content.Source.asInputStream(request)) {
      bytes = in.readNBytes((int) BODY_LIMIT + 1);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the request body", e);
    }
    if (bytes.length > BODY_LIMIT) {
      throw tooLarge();
    }
    String example = "{\"table\": \"namespace.table\"}";
    JsonNode root;
    try {
      root = MAPPER.readTree(bytes);
    } catch (JsonProcessingException e) {
      throw invalid(
          "Cannot "
              + operation.label()
              + ": the body is not valid JSON ("
              + e.getOriginalMessage()
              + "); send "
              + example);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (root == null || !root.isObject()) {
      throw invalid("Cannot " + operation.label() + ": send a JSON object such as " + example);
    }
    List<String> members = OPERATIONS.get(operation);
    for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!name.equals("table") && !members.contains(name)) {
        throw invalid(
            "Cannot "
                + operation.label()
                + ": unknown member \""
                + name
                + "\"; the members are table"
                + members.stream().map(member -> ", " + member).collect(Collectors.joining()));
      }
    }
    return root;
  }

  /** A member written as a string or a number, or null when absent. */
  private static String member(JsonNode body, String name, MaintenanceRun.Operation operation) {
    JsonNode value = body.get(name);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isTextual() && !value.isNumber()) {
      throw invalid(
          "Cannot " + operation.label() + ": \"" + name + "\" must be a string or a number");
    }
    return value.asText();
  }

  private static boolean dryRun(JsonNode body, MaintenanceRun.Operation operation) {
    JsonNode value = body.get("dry-run");
    if (value == null || value.isNull()) {
      return false;
    }
    if (!value.isBoolean()) {
      throw invalid("Cannot " + operation.label() + ": \"dry-run\" must be true or false");
    }
    return value.asBoolean();
  }

  private static RequestRejected tooLarge() {
    return new RequestRejected(
        HttpStatus.PAYLOAD_TOO_LARGE_413,
        new FloeException(
            ErrorCode.CONFIG_INVALID,
            "Cannot read the request: its body is larger than "
                + BODY_LIMIT
                + " bytes; send only the table and the options"));
  }

  private static RequestRejected invalid(String message) {
    return new RequestRejected(
        HttpStatus.BAD_REQUEST_400, new FloeException(ErrorCode.CONFIG_INVALID, message));
  }
}
