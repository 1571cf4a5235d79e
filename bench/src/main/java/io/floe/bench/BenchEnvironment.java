package io.floe.bench;

import io.floe.core.config.PipelineConfig;
import io.floe.core.config.PostgresSourceConfig;
import io.floe.core.config.SourceType;
import io.floe.core.config.TargetConfig;
import io.floe.core.config.UnboundedNumeric;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.demo.EmbeddedPostgres;
import io.floe.ingest.ChangeSources;
import io.floe.ingest.Pipeline;
import io.floe.ingest.SourceContext;
import io.floe.ingest.http.HttpStreams;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.iceberg.catalog.Catalog;

/**
 * What every benchmark runs against: a throwaway embedded PostgreSQL with database {@value
 * #DATABASE}, and a scratch directory for warehouses. {@link #close()} removes both, unless system
 * property {@code floe.bench.keep=true} keeps the warehouses for inspection.
 */
final class BenchEnvironment implements AutoCloseable {
  static final String DATABASE = "bench";
  static final String NAMESPACE = "raw";

  private final EmbeddedPostgres postgres;
  private final Path scratch;

  /** The writers of the benchmark's pipelines, which its table maintenance hands compactions to. */
  private final TableWriterRegistry writers = new TableWriterRegistry();

  private BenchEnvironment(EmbeddedPostgres postgres, Path scratch) {
    this.postgres = postgres;
    this.scratch = scratch;
  }

  static BenchEnvironment start() throws SQLException, IOException {
    Path scratch = Files.createTempDirectory("floe-bench-");
    EmbeddedPostgres postgres = EmbeddedPostgres.start();
    try {
      postgres.createDatabase(DATABASE);
    } catch (SQLException | RuntimeException e) {
      postgres.close();
      throw e;
    }
    return new BenchEnvironment(postgres, scratch);
  }

  Connection connect() throws SQLException {
    return postgres.connect(DATABASE);
  }

  /** Starts measuring CPU use of the machine, this JVM and the PostgreSQL server. */
  MachineLoad measureLoad() {
    return MachineLoad.start(postgres.dataDirectory());
  }

  /** A new, empty warehouse directory. */
  Path newWarehouse(String name) throws IOException {
    return Files.createDirectories(scratch.resolve(name));
  }

  TableWriterRegistry writers() {
    return writers;
  }

  /** A pipeline of {@link #pipelineConfig} into {@code catalog}, not started. */
  Pipeline pipeline(String name, Duration commitInterval, Catalog catalog) {
    PipelineConfig config = pipelineConfig(name, commitInterval);
    return new Pipeline(
        config,
        catalog,
        ChangeSources.of(config, new SourceContext(scratch, new HttpStreams())),
        writers);
  }

  /** A pipeline replicating {@code public.items} into {@code raw.items}. */
  PipelineConfig pipelineConfig(String name, Duration commitInterval) {
    return new PipelineConfig(
        name,
        new PostgresSourceConfig(
            SourceType.POSTGRES,
            postgres.jdbcUrl(DATABASE),
            postgres.user(),
            postgres.password(),
            List.of("public." + ItemsTable.NAME),
            "floe_" + name,
            "floe_" + name,
            UnboundedNumeric.DECIMAL),
        new TargetConfig(NAMESPACE),
        commitInterval);
  }

  /**
   * Drops the replication slot of a stopped pipeline, so it holds no WAL for the rest of the run.
   * The slot may stay active for a moment after the pipeline stopped.
   */
  void dropSlot(String pipelineName) throws SQLException, InterruptedException {
    String slot = "floe_" + pipelineName;
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    try (Connection connection = connect();
        PreparedStatement drop =
            connection.prepareStatement(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                    + " WHERE slot_name = ?")) {
      drop.setString(1, slot);
      while (true) {
        try {
          drop.execute();
          return;
        } catch (SQLException e) {
          // 55006 object_in_use: the walsender has not exited yet.
          if (!"55006".equals(e.getSQLState()) || System.nanoTime() > deadline) {
            throw e;
          }
          Thread.sleep(100);
        }
      }
    }
  }

  @Override
  public void close() {
    postgres.close();
    if (Boolean.getBoolean("floe.bench.keep")) {
      System.out.println("Kept warehouses in " + scratch);
      return;
    }
    deleteRecursively(scratch);
  }

  /** Deletes a directory and everything in it; reports a failure on standard error. */
  static void deleteRecursively(Path directory) {
    try (Stream<Path> paths = Files.walk(directory)) {
      paths.sorted(Comparator.reverseOrder()).forEach(BenchEnvironment::delete);
    } catch (IOException | UncheckedIOException e) {
      System.err.println("Cannot delete " + directory + ": " + e.getMessage());
    }
  }

  private static void delete(Path path) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
