package io.floe.server.http;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.StreamTableConfig;
import io.floe.ingest.Pipeline;
import io.floe.ingest.PipelineStats;
import io.floe.ingest.PipelineSupervisor;
import io.floe.ingest.SourceFigures;
import io.floe.ingest.quality.QualityGate;
import io.floe.sql.QueryEngine;
import io.floe.sql.QueryOptions;
import io.floe.sql.SqlUsers;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The pipeline endpoints of the HTTP API, served by {@link QueryApi} after authentication:
 *
 * <ul>
 *   <li>{@code GET /v1/pipelines}: every pipeline of this {@code floe run} with its state and
 *       figures: records and bytes per second, freshness, source lag (Kafka: offsets behind per
 *       partition; HTTP: buffered records), a problem the source waits out, dead letters by error
 *       class, restarts
 *   <li>{@code POST /v1/pipelines/{name}/dead-letters/replay} with {@code {"where": "<SQL
 *       condition>"}} (or {@code {"all": true}}): replays the dead letters the condition selects,
 *       run as a query over the dead-letter table by the requesting user, exactly once; answers
 *       {@code {"replayed": n, "failed_again": n, "missing": [..]}}
 * </ul>
 */
final class PipelinesApi {
  static final String PREFIX = "/v1/pipelines";
  private static final String REPLAY_SUFFIX = "/dead-letters/replay";
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final long BODY_LIMIT = 64 * 1024;
  private static final Duration REPLAY_TIMEOUT = Duration.ofMinutes(10);

  /** Most dead letters one request replays; select fewer with the condition. */
  static final int MAX_REPLAY = 100_000;

  private final Supplier<List<PipelineSupervisor>> pipelines;
  private final QueryEngine engine;

  PipelinesApi(Supplier<List<PipelineSupervisor>> pipelines, QueryEngine engine) {
    this.pipelines = requireNonNull(pipelines, "pipelines is null");
    this.engine = requireNonNull(engine, "engine is null");
  }

  /** Methods allowed at {@code path}, for a 405's Allow header. */
  static String allowed(String path) {
    return path.endsWith(REPLAY_SUFFIX) ? "POST" : "GET";
  }

  void serve(
      Request request, Response response, Callback callback, String path, SqlUsers.User user) {
    String method = request.getMethod();
    if (path.equals(PREFIX)) {
      RequestRejected.requireMethod(method, "GET", ErrorCode.SQL_INVALID);
      Responses.json(response, callback, HttpStatus.OK_200, Responses.json(this::writeAll));
      return;
    }
    if (path.startsWith(PREFIX + "/") && path.endsWith(REPLAY_SUFFIX)) {
      RequestRejected.requireMethod(method, "POST", ErrorCode.SQL_INVALID);
      String name = path.substring(PREFIX.length() + 1, path.length() - REPLAY_SUFFIX.length());
      PipelineSupervisor pipeline = find(name);
      String where = condition(request);
      Pipeline.ReplayOutcome outcome;
      try {
        outcome = replay(pipeline.pipeline(), where, user);
      } catch (FloeException e) {
        // A pipeline not running (starting, restarting, stopped) may run again: 503.
        throw new RequestRejected(
            e.code() == ErrorCode.PIPELINE_NOT_RUNNING
                ? HttpStatus.SERVICE_UNAVAILABLE_503
                : ErrorResponses.status(e),
            e);
      }
      byte[] body =
          Responses.json(
              json -> {
                json.writeStartObject();
                json.writeStringField("pipeline", name);
                json.writeStringField("replay_id", outcome.replayId());
                json.writeNumberField("replayed", outcome.replayed());
                json.writeNumberField("failed_again", outcome.failedAgain());
                json.writeArrayFieldStart("missing");
                for (String id : outcome.missing()) {
                  json.writeString(id);
                }
                json.writeEndArray();
                json.writeEndObject();
              });
      Responses.json(response, callback, HttpStatus.OK_200, body);
      return;
    }
    throw new RequestRejected(
        HttpStatus.NOT_FOUND_404,
        new FloeException(
            ErrorCode.PIPELINE_NOT_RUNNING,
            "Cannot serve "
                + method
                + " "
                + path
                + ": the pipeline endpoints are GET /v1/pipelines and POST"
                + " /v1/pipelines/{name}/dead-letters/replay"));
  }

  private PipelineSupervisor find(String name) {
    List<String> names = new ArrayList<>();
    for (PipelineSupervisor supervisor : pipelines.get()) {
      if (supervisor.pipeline().name().equals(name)) {
        return supervisor;
      }
      names.add(supervisor.pipeline().name());
    }
    throw new RequestRejected(
        HttpStatus.NOT_FOUND_404,
        new FloeException(
            ErrorCode.PIPELINE_NOT_RUNNING,
            "No pipeline " + name + " runs here; the pipelines are " + names));
  }

  /** The request's condition: its {@code where}, or TRUE for {@code all}. */
  private static String condition(Request request) {
    JsonNode body;
    try (InputStream in = Content.Source.asInputStream(request)) {
      byte[] bytes = in.readNBytes((int) BODY_LIMIT + 1);
      if (bytes.length > BODY_LIMIT) {
        throw bad("the body is larger than " + BODY_LIMIT + " bytes");
      }
      body = bytes.length == 0 ? MAPPER.createObjectNode() : MAPPER.readTree(bytes);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw bad("the body is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw bad("the body could not be read: " + e.getMessage());
    }
    if (body == null || !body.isObject()) {
      throw bad("the body must be a JSON object such as {\"where\": \"error_class = 'bad_json'\"}");
    }
    JsonNode where = body.get("where");
    JsonNode all = body.get("all");
    if (where != null && where.isTextual() && !where.asText().isBlank()) {
      return where.asText();
    }
    if (all != null && all.isBoolean() && all.booleanValue()) {
      return "TRUE";
    }
    throw bad(
        "say which dead letters to replay: {\"where\": \"<SQL condition on the dead-letter"
            + " table's columns>\"} or {\"all\": true}");
  }

  private Pipeline.ReplayOutcome replay(Pipeline pipeline, String where, SqlUsers.User user) {
    PipelineConfig config = pipeline.config();
    Optional<StreamTableConfig> stream = config.target().stream();
    if (stream.isEmpty()) {
      throw bad("pipeline " + config.name() + " is not a stream pipeline: it has no dead letters");
    }
    String table = config.target().namespace() + "." + stream.get().deadLetterTable();
    List<List<Object>> rows =
        engine.queryAll(
            "SELECT record_id FROM "
                + table
                + " WHERE ("
                + where
                + ") ORDER BY record_id LIMIT "
                + (MAX_REPLAY + 1),
            new QueryOptions(user.name(), user.workgroup(), QueryOptions.DEFAULT_TIMEOUT));
    if (rows.size() > MAX_REPLAY) {
      throw bad(
          "the condition selects more than "
              + MAX_REPLAY
              + " dead letters; replay them in parts with narrower conditions");
    }
    List<String> ids = new ArrayList<>();
    rows.forEach(row -> ids.add((String) row.get(0)));
    try {
      return pipeline.replayDeadLetters(ids).get(REPLAY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FloeException(
          ErrorCode.OPERATION_INTERRUPTED, "The replay was interrupted: Floe is stopping", e);
    } catch (ExecutionException e) {
      throw FloeException.in(e.getCause())
          .orElseGet(
              () ->
                  new FloeException(
                      ErrorCode.INTERNAL_ERROR,
                      "The replay failed: " + e.getCause() + "; the log has its stack trace",
                      e.getCause()));
    } catch (TimeoutException e) {
      throw new FloeException(
          ErrorCode.OPERATION_INTERRUPTED,
          "The replay did not finish within "
              + REPLAY_TIMEOUT.toMinutes()
              + " minutes (is the pipeline stuck?); it goes on, and GET /v1/pipelines shows the"
              + " dead letters left",
          e);
    }
  }

  private void writeAll(JsonGenerator json) throws IOException {
    json.writeStartObject();
    json.writeArrayFieldStart("pipelines");
    for (PipelineSupervisor supervisor : pipelines.get()) {
      write(json, supervisor);
    }
    json.writeEndArray();
    json.writeEndObject();
  }

  private static void write(JsonGenerator json, PipelineSupervisor supervisor) throws IOException {
    Pipeline pipeline = supervisor.pipeline();
    PipelineStats stats = pipeline.stats();
    SourceFigures source = pipeline.sourceFigures();
    json.writeStartObject();
    json.writeStringField("name", pipeline.name());
    json.writeStringField(
        "source", pipeline.config().source().type().name().toLowerCase(Locale.ROOT));
    json.writeStringField("state", pipeline.state().name().toLowerCase(Locale.ROOT));
    if (pipeline.failure() != null) {
      json.writeStringField("failure", pipeline.failure().describe());
    }
    json.writeNumberField("restarts", supervisor.restarts());
    json.writeNumberField("rows_loaded", stats.loadedRows());
    json.writeNumberField("changes", stats.changes());
    json.writeNumberField("commits", stats.commits());
    json.writeNumberField("records_per_second", Math.round(stats.recordsPerSecond()));
    json.writeNumberField("bytes_per_second", Math.round(stats.bytesPerSecond()));
    json.writeNumberField("bytes", stats.bytes());
    json.writeObjectFieldStart("freshness_ms");
    json.writeNumberField("p50", stats.freshnessPercentile(50));
    json.writeNumberField("p99", stats.freshnessPercentile(99));
    json.writeNumberField("last", stats.lastFreshnessMillis());
    json.writeEndObject();
    json.writeObjectFieldStart("lag");
    long total = 0;
    for (Map.Entry<String, Long> part : source.lag().entrySet()) {
      json.writeNumberField(part.getKey(), part.getValue());
      total += part.getValue();
    }
    json.writeEndObject();
    json.writeNumberField("lag_total", total);
    json.writeNumberField("buffered_records", source.bufferedRecords());
    if (source.problem().isPresent()) {
      json.writeStringField("problem", source.problem().get());
    }
    json.writeNumberField("dead_letters", stats.deadLettered());
    json.writeObjectFieldStart("dead_letters_by_class");
    for (Map.Entry<String, Long> entry : pipeline.deadLetterCounts().entrySet()) {
      json.writeNumberField(entry.getKey(), entry.getValue());
    }
    json.writeEndObject();
    json.writeNumberField("filtered_records", pipeline.filteredRecords());
    json.writeObjectFieldStart("quality");
    for (Map.Entry<String, QualityGate.RuleFigures> rule : pipeline.qualityFigures().entrySet()) {
      json.writeObjectFieldStart(rule.getKey());
      json.writeStringField("action", rule.getValue().action());
      json.writeNumberField("rows_checked", rule.getValue().checked());
      json.writeNumberField("rows_failed", rule.getValue().failed());
      json.writeEndObject();
    }
    json.writeEndObject();
    json.writeEndObject();
  }

  private static RequestRejected bad(String message) {
    return new RequestRejected(
        HttpStatus.BAD_REQUEST_400,
        new FloeException(ErrorCode.CONFIG_INVALID, "Cannot replay dead letters: " + message));
  }
}
