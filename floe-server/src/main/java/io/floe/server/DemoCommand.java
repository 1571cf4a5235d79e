package io.floe.server;

import io.floe.catalog.RestCatalogServer;
import io.floe.core.catalog.CatalogDatabase;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.HttpSourceConfig;
import io.floe.core.config.MaintenanceConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.PostgresSourceConfig;
import io.floe.core.config.PrincipalConfig;
import io.floe.core.config.SourceType;
import io.floe.core.config.SqlConfig;
import io.floe.core.config.SqlUserConfig;
import io.floe.core.config.StreamTableConfig;
import io.floe.core.config.TargetConfig;
import io.floe.core.config.UnboundedNumeric;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.demo.ClickstreamWorkload;
import io.floe.demo.EmbeddedPostgres;
import io.floe.demo.ShopDatabase;
import io.floe.demo.ShopWorkload;
import io.floe.ingest.ChangeSources;
import io.floe.ingest.Pipeline;
import io.floe.ingest.SourceContext;
import io.floe.ingest.http.HttpStreams;
import io.floe.ingest.quality.CatalogQualityResults;
import io.floe.maintenance.MaintenanceHistory;
import io.floe.maintenance.WarehouseMaintenance;
import io.floe.sql.QueryEngine;
import io.floe.sql.QueryOptions;
import io.floe.sql.ResultFormat;
import io.floe.sql.SqlUsers;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code floe demo}: an embedded PostgreSQL with a shop schema and a live workload, replicated into
 * a local warehouse, with live figures and a sample query whose answer changes as the workload
 * runs. The SQL endpoints listen on their default ports (a free port when taken) for the user
 * {@code demo}, password {@code demo}.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description =
        "Start an embedded PostgreSQL shop database with a live workload and replicate it into"
            + " Iceberg tables, printing live figures. Ctrl-C stops; running again resumes.")
final class DemoCommand implements Callable<Integer> {
  static final String DEMO_USER = "demo";
  private static final String CLICKS = "clicks";
  private static final double CLICKS_PER_SECOND = 50;
  static final String DEMO_PASSWORD = "demo";
  private static final String DEMO_CREDENTIALS = DEMO_USER + ":" + DEMO_PASSWORD;
  static final String SAMPLE_QUERY =
      "SELECT status, count(*) AS orders, sum(total) AS revenue FROM raw.orders"
          + " GROUP BY status ORDER BY status";

  @Option(
      names = {"-w", "--warehouse"},
      defaultValue = "./floe-data",
      description = "Warehouse directory (default: ${DEFAULT-VALUE}).")
  private Path warehouse;

  @Option(
      names = "--rate",
      defaultValue = "200",
      description = "Source changes per second of the live workload (default: ${DEFAULT-VALUE}).")
  private double rate;

  @Option(
      names = "--duration",
      description = "Stop by itself after this long (e.g. 30s); default: run until Ctrl-C.")
  private String duration;

  @Option(
      names = "--interval",
      defaultValue = "2s",
      description = "How often to print figures (default: ${DEFAULT-VALUE}).")
  private String interval;

  @Override
  public Integer call() throws Exception {
    Path root = warehouse.toAbsolutePath().normalize();
    Duration every = DurationParser.parse("--interval", interval);
    Duration limit = duration == null ? null : DurationParser.parse("--duration", duration);
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              stop.countDown();
              try {
                stopped.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "floe-demo-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);

    out.println(
        "Starting embedded PostgreSQL (data in " + root.resolve(".demo-postgres") + ") ...");
    try (EmbeddedPostgres postgres = EmbeddedPostgres.start(root.resolve(".demo-postgres"))) {
      postgres.createDatabase("shop");
      try (Connection connection = postgres.connect("shop")) {
        ShopDatabase.create(connection);
        ShopDatabase.seed(connection, 2_000, 200, 7);
      }
      String url = postgres.jdbcUrl("shop");
      PipelineConfig config =
          new PipelineConfig(
              "shop",
              new PostgresSourceConfig(
                  SourceType.POSTGRES,
                  url,
                  postgres.user(),
                  postgres.password(),
                  List.of(
                      "public.countries", "public.customers", "public.products", "public.orders"),
                  "floe_shop",
                  "floe_shop",
                  UnboundedNumeric.DECIMAL),
              new TargetConfig("raw"),
              Duration.ofSeconds(1));
      TableWriterRegistry writers = new TableWriterRegistry();
      WarehouseConfig warehouseConfig = WarehouseConfig.local(root);
      HttpStreams streams = new HttpStreams();
      PipelineConfig clicksConfig = clickstreamConfig();
      streams.expect(CLICKS);
      SourceContext context = new SourceContext(warehouseConfig.stateDirectory(), streams);
      try (JdbcCatalog catalog = FloeCatalog.open(warehouseConfig, CatalogConfig.defaults());
          Pipeline pipeline =
              new Pipeline(config, catalog, ChangeSources.of(config, context), writers);
          Pipeline clicks =
              new Pipeline(
                  clicksConfig,
                  catalog,
                  ChangeSources.of(clicksConfig, context),
                  writers,
                  warehouseConfig.stateDirectory(),
                  new CatalogQualityResults(
                      CatalogDatabase.embedded(root), CatalogQualityResults.DEFAULT_KEEP))) {
        pipeline.start();
        clicks.start();
        out.println("Replicating " + url + " into " + root + " (namespace raw)");
        SqlConfig sql = demoSqlConfig();
        WarehouseMaintenance maintenance =
            new WarehouseMaintenance(
                catalog,
                MaintenanceConfig.defaults(),
                MaintenanceHistory.of(CatalogDatabase.embedded(root)),
                writers);
        // Closed in reverse: the workload, the endpoints, then the engine (its follower reads the
        // catalog), before the catalog.
        try (QueryEngine engine = QueryEngines.open(catalog, warehouseConfig, sql, maintenance);
            RestCatalogServer restCatalog =
                CatalogEndpoint.start(
                    catalog,
                    CatalogDatabase.embedded(root),
                    CatalogConfig.defaults(),
                    List.of(
                        new PrincipalConfig(DEMO_USER, DEMO_PASSWORD, SqlConfig.PRIMARY_WORKGROUP)),
                    warehouseConfig.clientProperties(true),
                    SqlEndpoints.PortConflict.USE_FREE_PORT);
            SqlEndpoints endpoints =
                SqlEndpoints.start(
                    engine,
                    SqlUsers.of(sql),
                    sql,
                    maintenance,
                    streams,
                    SqlEndpoints.PortConflict.USE_FREE_PORT);
            ShopWorkload workload =
                new ShopWorkload(
                    url, postgres.user(), postgres.password(), rate, System.nanoTime());
            ClickstreamWorkload clickstream =
                new ClickstreamWorkload(
                    URI.create(endpoints.streamUrl(CLICKS)),
                    DEMO_USER,
                    DEMO_PASSWORD,
                    CLICKS_PER_SECOND)) {
          printConnectionHints(out, endpoints);
          printCatalogHints(out, restCatalog);
          out.println(
              "A clickstream of "
                  + Math.round(CLICKS_PER_SECOND)
                  + " events/s goes to "
                  + endpoints.streamUrl(CLICKS)
                  + " (3 in 50 are bad: they land in raw.clicks_dead_letter):");
          out.println(
              "  ./floe sql -w "
                  + root
                  + " \"SELECT error_class, count(*) FROM raw.clicks_dead_letter GROUP BY 1\"");
          Thread workloadThread = new Thread(workload, "floe-demo-workload");
          workloadThread.setDaemon(true);
          workloadThread.start();
          Thread clickstreamThread = new Thread(clickstream, "floe-demo-clickstream");
          clickstreamThread.setDaemon(true);
          clickstreamThread.start();
          long started = System.nanoTime();
          long lastChanges = 0;
          long lastTick = started;
          int tick = 0;
          while (!stop.await(every.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
            for (Pipeline running : List.of(pipeline, clicks)) {
              if (running.state() == Pipeline.State.FAILED) {
                out.println(
                    "Pipeline " + running.name() + " failed: " + running.failure().describe());
                return Main.exitCode(running.failure());
              }
            }
            long now = System.nanoTime();
            long changes = pipeline.stats().changes();
            double perSecond = (changes - lastChanges) / ((now - lastTick) / 1e9);
            lastChanges = changes;
            lastTick = now;
            out.printf(
                Locale.ROOT,
                "[%s] %s | source %d tx | applied %.0f changes/s | freshness %s | rows: %s%n",
                formatElapsed(now - started),
                pipeline.state(),
                workload.transactions(),
                perSecond,
                pipeline.stats().lastFreshnessMillis() < 0
                    ? "-"
                    : pipeline.stats().lastFreshnessMillis() + " ms",
                rowCounts(engine));
            if (tick++ % 5 == 0 && pipeline.stats().commits() > 0) {
              out.println("  " + SAMPLE_QUERY);
              ResultFormat.Writer writer = ResultFormat.TABLE.writer(out);
              engine.execute(SAMPLE_QUERY, QueryOptions.local(), writer);
              writer.finish();
              out.println(
                  "  (ask your own: "
                      + endpoints.connectionHints(DEMO_USER, DEMO_PASSWORD).get(0)
                      + ")");
            }
            if (limit != null && now - started >= limit.toNanos()) {
              break;
            }
          }
        }
        out.println("Stopping: the next run resumes where this one stopped.");
      }
    } finally {
      stopped.countDown();
      if (stop.getCount() > 0) {
        Runtime.getRuntime().removeShutdownHook(hook);
      }
    }
    return 0;
  }

  /**
   * The demo's clickstream: page views POSTed to the HTTP stream {@value #CLICKS}, appended to
   * {@code raw.clicks} (partitioned by day), with bad records in {@code raw.clicks_dead_letter}.
   */
  private static PipelineConfig clickstreamConfig() {
    return new PipelineConfig(
        CLICKS,
        new HttpSourceConfig(CLICKS, 1L << 20, 16L << 20, 100_000),
        new TargetConfig(
            "raw",
            Optional.of(
                new StreamTableConfig(
                    CLICKS,
                    StreamTableConfig.WriteMode.APPEND,
                    List.of(),
                    List.of(
                        column("event_id", Types.StringType.get()),
                        column("user_id", Types.LongType.get()),
                        column("page", Types.StringType.get()),
                        column("country", Types.StringType.get()),
                        column("duration_ms", Types.IntegerType.get()),
                        column("event_time", Types.TimestampType.withZone())),
                    List.of(new StreamTableConfig.PartitionField("day", 0, "event_time")),
                    StreamTableConfig.UnknownFields.REJECT,
                    CLICKS + "_dead_letter"))),
        Duration.ofSeconds(1));
  }

  private static StreamTableConfig.Column column(String name, Type.PrimitiveType type) {
    return new StreamTableConfig.Column(name, type, false);
  }

  /** The {@code sql} section of the demo: default ports and one user, demo/demo. */
  static SqlConfig demoSqlConfig() {
    SqlConfig defaults = SqlConfig.defaults();
    return new SqlConfig(
        defaults.listenAddress(),
        defaults.postgresPort(),
        defaults.httpPort(),
        defaults.queryTimeout(),
        defaults.maxQueryLength(),
        defaults.cacheSize(),
        defaults.residentSize(),
        List.of(new SqlUserConfig(DEMO_USER, DEMO_PASSWORD, SqlConfig.PRIMARY_WORKGROUP)),
        List.of());
  }

  private static void printConnectionHints(PrintStream out, SqlEndpoints endpoints) {
    out.println(
        "Query the tables while the demo runs (user "
            + DEMO_USER
            + ", password "
            + DEMO_PASSWORD
            + "):");
    for (String hint : endpoints.connectionHints(DEMO_USER, DEMO_PASSWORD)) {
      out.println("  " + hint);
    }
    out.println(
        "  curl -u "
            + DEMO_CREDENTIALS
            + " -H 'Content-Type: application/json' -d '{\"sql\": \""
            + SAMPLE_QUERY
            + "\"}' "
            + endpoints.queryUrl());
  }

  /** How to point Spark and PyIceberg at the demo's REST catalog. */
  private static void printCatalogHints(PrintStream out, RestCatalogServer restCatalog) {
    String uri = restCatalog.uri();
    out.println(
        "Iceberg REST catalog on " + uri + " (principal " + DEMO_CREDENTIALS + "); for example:");
    out.println(
        "  spark-sql --packages org.apache.iceberg:iceberg-spark-runtime-4.0_2.13:1.11.0"
            + " --conf spark.sql.extensions="
            + "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
            + " --conf spark.sql.catalog.floe=org.apache.iceberg.spark.SparkCatalog"
            + " --conf spark.sql.catalog.floe.type=rest --conf spark.sql.catalog.floe.uri="
            + uri
            + " --conf spark.sql.catalog.floe.credential="
            + DEMO_CREDENTIALS);
    out.println(
        "  python -c \"from pyiceberg.catalog import load_catalog;"
            + " print(load_catalog('floe', type='rest', uri='"
            + uri
            + "', credential='"
            + DEMO_CREDENTIALS
            + "').load_table('raw.orders').scan().to_arrow().num_rows)\"");
  }

  private static String rowCounts(QueryEngine engine) {
    try {
      List<List<Object>> rows =
          engine.queryAll(
              "SELECT (SELECT count(*) FROM raw.countries), (SELECT count(*) FROM raw.customers),"
                  + " (SELECT count(*) FROM raw.products), (SELECT count(*) FROM raw.orders),"
                  + " (SELECT count(*) FROM raw.clicks),"
                  + " (SELECT count(*) FROM raw.clicks_dead_letter)");
      List<Object> counts = rows.get(0);
      return String.format(
          Locale.ROOT,
          "countries %s, customers %s, products %s, orders %s | clicks %s, dead letters %s",
          counts.get(0),
          counts.get(1),
          counts.get(2),
          counts.get(3),
          counts.get(4),
          counts.get(5));
    } catch (RuntimeException e) {
      return "(not yet queryable: " + e.getMessage() + ")";
    }
  }

  private static String formatElapsed(long nanos) {
    long seconds = nanos / 1_000_000_000L;
    return String.format(Locale.ROOT, "%02d:%02d", seconds / 60, seconds % 60);
  }
}
