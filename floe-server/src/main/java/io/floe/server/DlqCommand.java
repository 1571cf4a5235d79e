package io.floe.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.FloeConfig;
import io.floe.core.config.FloeConfigLoader;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.StreamTableConfig;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.maintenance.MaintenanceHistory;
import io.floe.maintenance.WarehouseMaintenance;
import io.floe.sql.QueryEngine;
import io.floe.sql.QueryOptions;
import io.floe.sql.ResultFormat;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.iceberg.jdbc.JdbcCatalog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code floe dlq list|show|replay <pipeline>}: the dead letters of a stream pipeline. {@code list}
 * and {@code show} read the dead-letter table directly; {@code replay} asks the running {@code floe
 * run} (its HTTP API) to write them into the table again, exactly once.
 */
@Command(
    name = "dlq",
    mixinStandardHelpOptions = true,
    description = "List, show and replay the dead letters of a stream pipeline.",
    subcommands = {DlqCommand.List.class, DlqCommand.Show.class, DlqCommand.Replay.class})
final class DlqCommand {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** Options every subcommand takes. */
  static class Common {
    @Option(
        names = {"-c", "--config"},
        paramLabel = "CONFIG",
        description = "Configuration file declaring the pipeline (default: floe.yaml).")
    Path configFile;

    @Parameters(index = "0", paramLabel = "PIPELINE", description = "The stream pipeline.")
    String pipeline;

    FloeConfig config() {
      return FloeConfigLoader.load(ConfigFiles.choose(null, configFile));
    }

    /** The pipeline's configuration; it must be a stream pipeline. */
    PipelineConfig pipeline(FloeConfig config) {
      for (PipelineConfig candidate : config.pipelines()) {
        if (candidate.name().equals(pipeline)) {
          if (candidate.target().stream().isEmpty()) {
            throw new FloeException(
                ErrorCode.CONFIG_INVALID,
                "Pipeline "
                    + pipeline
                    + " replicates a database: only stream pipelines (source.type kafka or"
                    + " http) have dead letters");
          }
          return candidate;
        }
      }
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "No pipeline "
              + pipeline
              + " in the configuration; its pipelines are "
              + config.pipelines().stream().map(PipelineConfig::name).toList());
    }

    /** The dead-letter table, as SQL names it. */
    static String deadLetterTable(PipelineConfig pipeline) {
      StreamTableConfig stream = pipeline.target().stream().orElseThrow();
      return pipeline.target().namespace() + "." + stream.deadLetterTable();
    }

    /** Runs {@code sql} over the warehouse and writes the result in {@code format}. */
    void query(FloeConfig config, String sql, ResultFormat format) {
      try (JdbcCatalog catalog = FloeCatalog.open(config.warehouse(), config.catalog())) {
        WarehouseMaintenance maintenance =
            new WarehouseMaintenance(
                catalog,
                config.maintenance(),
                MaintenanceHistory.of(FloeCatalog.database(config.warehouse(), config.catalog())),
                new TableWriterRegistry());
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        try (QueryEngine engine =
            QueryEngines.openForOneQuery(catalog, config.warehouse(), config.sql(), maintenance)) {
          ResultFormat.Writer writer = format.writer(out);
          engine.execute(sql, QueryOptions.local(), writer);
          writer.finish();
        }
        out.flush();
      }
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "List dead letters, the latest first.")
  static final class List extends Common implements Callable<Integer> {
    @Option(
        names = "--where",
        paramLabel = "CONDITION",
        description =
            "SQL condition on the dead-letter table, such as \"error_class = 'bad_json'\".")
    String where;

    @Option(
        names = "--limit",
        defaultValue = "20",
        description = "Most dead letters to list (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(
        names = {"-f", "--format"},
        defaultValue = "table",
        description = "Output format: table, csv or json (default: ${DEFAULT-VALUE}).")
    String format;

    @Override
    public Integer call() {
      if (limit < 1) {
        throw new FloeException(
            ErrorCode.CONFIG_INVALID, "Cannot use --limit " + limit + ": it must be at least 1");
      }
      FloeConfig config = config();
      String table = deadLetterTable(pipeline(config));
      query(
          config,
          "SELECT record_id, error_class, source_position, attempts, last_seen,"
              + " left(error_message, 120) AS error FROM "
              + table
              + (where == null ? "" : " WHERE (" + where + ")")
              + " ORDER BY last_seen DESC, record_id LIMIT "
              + limit,
          ResultFormats.parse(format));
      return 0;
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = "Show one dead letter in full: its error, position and raw bytes.")
  static final class Show extends Common implements Callable<Integer> {
    @Parameters(index = "1", paramLabel = "RECORD_ID", description = "The dead letter's record_id.")
    String recordId;

    @Override
    public Integer call() {
      FloeConfig config = config();
      String table = deadLetterTable(pipeline(config));
      query(
          config,
          "SELECT record_id, error_class, error_message, source_position, record_time, attempts,"
              + " first_seen, last_seen, raw_text, to_base64(raw_key) AS raw_key_base64,"
              + " to_base64(raw_value) AS raw_value_base64 FROM "
              + table
              + " WHERE record_id = '"
              + recordId.replace("'", "''")
              + "'",
          ResultFormat.JSON);
      return 0;
    }
  }

  @Command(
      name = "replay",
      mixinStandardHelpOptions = true,
      description =
          "Write dead letters into the pipeline's table again, after a fix (a widened column, a"
              + " corrected producer), through the running floe run: exactly once; those that"
              + " fail again stay, with one more attempt.")
  static final class Replay extends Common implements Callable<Integer> {
    @Option(
        names = "--where",
        paramLabel = "CONDITION",
        description = "SQL condition selecting the dead letters to replay.")
    String where;

    @Option(names = "--all", description = "Replay every dead letter of the pipeline.")
    boolean all;

    @Option(
        names = "--url",
        paramLabel = "URL",
        description =
            "HTTP API of the running floe run (default: http://<sql.listen-address>:<sql.http-port>"
                + " of the configuration).")
    String url;

    @Option(
        names = {"-u", "--user"},
        paramLabel = "NAME",
        description =
            "A sql.users name to authenticate as; its password is read from --password-file, or"
                + " else from the environment variable FLOE_PASSWORD.")
    String user;

    @Option(
        names = "--password-file",
        paramLabel = "FILE",
        description = "File whose first line is the password of --user.")
    Path passwordFile;

    @Override
    public Integer call() throws IOException, InterruptedException {
      if ((where == null) == !all) {
        throw new FloeException(
            ErrorCode.CONFIG_INVALID,
            "Say which dead letters to replay: --where \"<condition>\" or --all (not both)");
      }
      FloeConfig config = config();
      PipelineConfig pipelineConfig = pipeline(config);
      String base =
          url != null
              ? url
              : "http://" + config.sql().listenAddress() + ":" + config.sql().httpPort();
      String body = MAPPER.writeValueAsString(all ? Map.of("all", true) : Map.of("where", where));
      HttpRequest.Builder request =
          HttpRequest.newBuilder(
                  URI.create(
                      base + "/v1/pipelines/" + pipelineConfig.name() + "/dead-letters/replay"))
              .timeout(Duration.ofMinutes(11))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(body));
      if (user != null) {
        String password =
            passwordFile != null
                ? Files.readAllLines(passwordFile, StandardCharsets.UTF_8).stream()
                    .findFirst()
                    .orElse("")
                : System.getenv().getOrDefault("FLOE_PASSWORD", "");
        request.header(
            "Authorization",
            "Basic "
                + Base64.getEncoder()
                    .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
      }
      HttpResponse<String> response;
      HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
      try {
        response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        throw new FloeException(
            ErrorCode.PIPELINE_NOT_RUNNING,
            "Cannot reach floe run at "
                + base
                + " ("
                + e
                + "): a replay runs in the process that runs the pipeline; start floe run, or"
                + " pass --url with its HTTP API",
            e);
      }
      JsonNode answer = MAPPER.readTree(response.body());
      if (response.statusCode() != 200) {
        JsonNode message = answer.path("error").path("message");
        throw new FloeException(
            response.statusCode() == 401
                ? ErrorCode.AUTHENTICATION_FAILED
                : response.statusCode() == 404
                    ? ErrorCode.PIPELINE_NOT_RUNNING
                    : ErrorCode.CONFIG_INVALID,
            "floe run refused the replay ("
                + response.statusCode()
                + "): "
                + (message.isMissingNode() ? response.body().strip() : message.asText()));
      }
      PrintStream out = System.out;
      int replayed = answer.path("replayed").asInt();
      int failed = answer.path("failed_again").asInt();
      java.util.List<String> missing =
          MAPPER.convertValue(
              answer.path("missing"),
              MAPPER.getTypeFactory().constructCollectionType(java.util.List.class, String.class));
      out.println(
          "Replayed "
              + replayed
              + " dead letter"
              + (replayed == 1 ? "" : "s")
              + " into "
              + pipelineConfig.target().namespace()
              + "."
              + pipelineConfig.target().stream().orElseThrow().table()
              + "; "
              + failed
              + " failed again and stay in "
              + deadLetterTable(pipelineConfig)
              + " with one more attempt");
      if (!missing.isEmpty()) {
        out.println(missing.size() + " selected were gone by then (replayed already)");
      }
      return 0;
    }
  }

  private DlqCommand() {}
}
