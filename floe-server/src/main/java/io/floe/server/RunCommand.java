package io.floe.server;

import io.floe.catalog.RestCatalogServer;
import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.FloeConfig;
import io.floe.core.config.FloeConfigLoader;
import io.floe.core.config.HttpSourceConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.ingest.ChangeSources;
import io.floe.ingest.Pipeline;
import io.floe.ingest.PipelineSupervisor;
import io.floe.ingest.SourceContext;
import io.floe.ingest.http.HttpStreams;
import io.floe.ingest.quality.CatalogQualityResults;
import io.floe.ingest.quality.QualityResults;
import io.floe.maintenance.MaintenanceHistory;
import io.floe.maintenance.MaintenanceScheduler;
import io.floe.maintenance.WarehouseMaintenance;
import io.floe.sql.QueryEngine;
import io.floe.sql.SqlUsers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code floe run floe.yaml}: replicates every configured pipeline until stopped, answers SQL over
 * the tables on the endpoints of the {@code sql} section, and maintains the tables as the {@code
 * maintenance} section says. Maintenance starts after the pipelines and stops before them.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description =
        "Replicate the pipelines of a configuration file until stopped (Ctrl-C), and answer SQL"
            + " over the tables (sql section: HTTP query API, PostgreSQL wire protocol).")
final class RunCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

  /** The longest wait before a failed pipeline starts again. */
  private static final Duration MAX_RESTART_BACKOFF = Duration.ofMinutes(1);

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "CONFIG",
      description = "Configuration file.")
  private Path configFile;

  @Option(
      names = {"-c", "--config"},
      paramLabel = "CONFIG",
      description = "Configuration file (alternative to the positional argument).")
  private Path configOption;

  @Option(
      names = "--status-interval",
      defaultValue = "10s",
      description = "How often to log pipeline figures (default: ${DEFAULT-VALUE}).")
  private String statusInterval;

  @Override
  public Integer call() throws Exception {
    Path file = ConfigFiles.choose(configFile, configOption);
    FloeConfig config = FloeConfigLoader.load(file);
    if (config.pipelines().isEmpty()) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Cannot run " + file + ": it declares no pipelines; add a pipelines: section");
    }
    Duration interval = DurationParser.parse("--status-interval", statusInterval);
    try (JdbcCatalog catalog = FloeCatalog.open(config.warehouse(), config.catalog())) {
      // The pipelines register their writers here, and maintenance hands its compactions to them.
      TableWriterRegistry writers = new TableWriterRegistry();
      // The HTTP streams of the pipelines, which the HTTP API takes records for.
      HttpStreams streams = new HttpStreams();
      config.pipelines().stream()
          .filter(pipeline -> pipeline.source() instanceof HttpSourceConfig)
          .forEach(pipeline -> streams.expect(((HttpSourceConfig) pipeline.source()).stream()));
      SourceContext sources = new SourceContext(config.warehouse().stateDirectory(), streams);
      // Users may run maintenance over HTTP also when the scheduler is disabled.
      WarehouseMaintenance warehouseMaintenance =
          new WarehouseMaintenance(
              catalog,
              config.maintenance(),
              MaintenanceHistory.of(FloeCatalog.database(config.warehouse(), config.catalog())),
              writers);
      // Closed in reverse: the SQL endpoints, the REST catalog, then the engine (its follower reads
      // the catalog), then the catalog.
      try (QueryEngine engine =
              QueryEngines.open(catalog, config.warehouse(), config.sql(), warehouseMaintenance);
          RestCatalogServer restCatalog =
              CatalogEndpoint.start(
                  catalog,
                  FloeCatalog.database(config.warehouse(), config.catalog()),
                  config.catalog(),
                  config.principals(),
                  config.warehouse().clientProperties(true),
                  SqlEndpoints.PortConflict.FAIL);
          SqlEndpoints endpoints =
              SqlEndpoints.start(
                  engine,
                  SqlUsers.of(config.sql(), config.principals()),
                  config.sql(),
                  warehouseMaintenance,
                  streams,
                  SqlEndpoints.PortConflict.FAIL)) {
        return run(config, catalog, writers, sources, endpoints, warehouseMaintenance, interval);
      }
    }
  }

  private static int run(
      FloeConfig config,
      JdbcCatalog catalog,
      TableWriterRegistry writers,
      SourceContext sources,
      SqlEndpoints endpoints,
      WarehouseMaintenance warehouseMaintenance,
      Duration interval)
      throws InterruptedException {
    List<PipelineSupervisor> pipelines = new ArrayList<>();
    QualityResults qualityResults =
        new CatalogQualityResults(
            warehouseMaintenance.history().database(), CatalogQualityResults.DEFAULT_KEEP);
    MaintenanceScheduler maintenance =
        config.maintenance().enabled() ? new MaintenanceScheduler(warehouseMaintenance) : null;
    Thread shutdown =
        new Thread(
            () -> {
              endpoints.close();
              closeMaintenance(maintenance);
              LOG.info("Stopping {} pipelines", pipelines.size());
              pipelines.forEach(PipelineSupervisor::close);
            },
            "floe-shutdown");
    Runtime.getRuntime().addShutdownHook(shutdown);
    try {
      for (PipelineConfig pipelineConfig : config.pipelines()) {
        // A pipeline failing for a reason that may pass starts again, from what its tables hold.
        PipelineSupervisor pipeline =
            new PipelineSupervisor(
                pipelineConfig.name(),
                () ->
                    new Pipeline(
                        pipelineConfig,
                        catalog,
                        ChangeSources.of(pipelineConfig, sources),
                        writers,
                        sources.stateDirectory(),
                        qualityResults),
                MAX_RESTART_BACKOFF);
        pipelines.add(pipeline);
        pipeline.start();
      }
      endpoints.servePipelines(() -> List.copyOf(pipelines));
      if (maintenance != null) {
        maintenance.start();
      }
    } catch (RuntimeException e) {
      // Stop the pipelines already running before the catalog they write to is closed.
      closeMaintenance(maintenance);
      pipelines.forEach(PipelineSupervisor::close);
      throw e;
    }
    LOG.info(
        "Replicating {} pipelines into {}; table maintenance {}",
        pipelines.size(),
        config.warehouse().location(),
        maintenance == null ? "disabled" : "every " + config.maintenance().interval());
    int exitCode = 0;
    for (PipelineSupervisor pipeline : pipelines) {
      while (!pipeline.awaitTermination(interval)) {
        StatusReport.log(pipelines);
      }
      if (pipeline.pipeline().state() == Pipeline.State.FAILED) {
        exitCode = Main.exitCode(pipeline.pipeline().failure());
      }
    }
    closeMaintenance(maintenance);
    pipelines.forEach(PipelineSupervisor::close);
    try {
      Runtime.getRuntime().removeShutdownHook(shutdown);
    } catch (IllegalStateException e) {
      // Already shutting down: the hook is running.
    }
    return exitCode;
  }

  /** Stops maintenance, waiting for the operation in progress, so no commit races the shutdown. */
  private static void closeMaintenance(MaintenanceScheduler maintenance) {
    if (maintenance != null) {
      maintenance.close();
    }
  }
}
