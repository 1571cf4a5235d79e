package io.floe.server;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.FloeConfig;
import io.floe.core.config.FloeConfigLoader;
import io.floe.sql.QueryEngine;
import io.floe.sql.QueryOptions;
import io.floe.sql.ResultFormat;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
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

  @Parameters(index = "0", paramLabel = "QUERY", description = "The SQL query.")
  private String query;

  @Override
  public Integer call() {
    ResultFormat resultFormat = ResultFormats.parse(format);
    Path root = warehouse;
    if (root == null) {
      FloeConfig config = FloeConfigLoader.load(ConfigFiles.choose(null, configFile));
      root = config.warehouse();
    }
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    try (JdbcCatalog catalog = FloeCatalog.open(root)) {
      ResultFormat.Writer writer = resultFormat.writer(out);
      new QueryEngine(catalog, root).execute(query, QueryOptions.local(), writer);
      writer.finish();
    }
    return 0;
  }
}
