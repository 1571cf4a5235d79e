package io.floe.server;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.FloeConfig;
import io.floe.core.config.FloeConfigLoader;
import io.floe.core.config.MaintenanceConfig;
import io.floe.core.config.SqlConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.maintenance.MaintenanceHistory;
import io.floe.maintenance.WarehouseMaintenance;
import io.floe.sql.QueryOptions;
import io.floe.sql.ResultFormat;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.jdbc.JdbcCatalog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code floe sql -c floe.yaml "SELECT ..."}: answers one query over the warehouse's tables. */
@Command(
    name = "sql",
    mixinStandardHelpOptions = true,
    description = "Run one SQL query over the current state of Floe's tables (namespace.table).")
final class SqlCommand implements Callable<Integer> {
  /** Exit code of a query cancelled with Ctrl-C, as shells report a SIGINT. */
  static final int CANCELLED_EXIT_CODE = 130;

  private static final Duration CANCEL_WAIT = Duration.ofSeconds(5);

  @Option(
      names = {"-c", "--config"},
      paramLabel = "CONFIG",
      description = "Configuration file naming the warehouse (default: floe.yaml).")
  private Path configFile;

  @Option(
      names = {"-w", "--warehouse"},
      paramLabel = "DIR",
      description = "Warehouse directory; overrides the configuration file's.")
  private Path warehouse;

  @Option(
      names = {"-f", "--format"},
      defaultValue = "table",
      description = "Output format: table, csv or json (default: ${DEFAULT-VALUE}).")
  private String format;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      description =
          "Cancel the query after this long, such as 30s or 10m (default: sql.query-timeout of"
              + " the configuration file, 5m without one).")
  private String timeout;

  @Parameters(index = "0", paramLabel = "QUERY", description = "The SQL query.")
  private String query;

  @Override
  public Integer call() {
    ResultFormat resultFormat = ResultFormats.parse(format);
    WarehouseConfig root = warehouse == null ? null : WarehouseConfig.local(warehouse);
    CatalogConfig catalogConfig = CatalogConfig.defaults();
    SqlConfig sql = SqlConfig.defaults();
    MaintenanceConfig maintenanceConfig = MaintenanceConfig.defaults();
    if (root == null || configFile != null) {
      FloeConfig config = FloeConfigLoader.load(ConfigFiles.choose(null, configFile));
      root = root == null ? config.warehouse() : root;
      catalogConfig = config.catalog();
      sql = config.sql();
      maintenanceConfig = config.maintenance();
    }
    Duration limit =
        timeout == null ? sql.queryTimeout() : DurationParser.parse("--timeout", timeout);
    if (limit.isZero()) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Cannot use --timeout " + timeout + ": it must be longer than zero");
    }
    QueryOptions options = QueryOptions.local().withTimeout(limit);
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    InterruptibleQuery running = new InterruptibleQuery();
    CountDownLatch done = new CountDownLatch(1);
    // Ctrl-C: cancel the query and let this thread report it before the JVM halts.
    Thread hook =
        new Thread(
            () -> {
              running.interrupt();
              try {
                done.await(CANCEL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "floe-sql-interrupt");
    Runtime.getRuntime().addShutdownHook(hook);
    try (JdbcCatalog catalog = FloeCatalog.open(root, catalogConfig)) {
      ResultFormat.Writer writer = resultFormat.writer(out);
      WarehouseMaintenance maintenance =
          new WarehouseMaintenance(
              catalog,
              maintenanceConfig,
              MaintenanceHistory.of(FloeCatalog.database(root, catalogConfig)),
              // No pipeline runs in this process: CALL rewrite_data_files commits directly.
              new TableWriterRegistry());
      if (!running.run(
          QueryEngines.openForOneQuery(catalog, root, sql, maintenance), query, options, writer)) {
        out.flush();
        System.err.println("Query cancelled");
        return CANCELLED_EXIT_CODE;
      }
      return 0;
    } finally {
      done.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // Already shutting down: the hook is running.
      }
    }
  }
}
