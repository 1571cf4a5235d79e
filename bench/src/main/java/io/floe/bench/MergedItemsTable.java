package io.floe.bench;

import io.floe.ingest.Pipeline;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * Builds a merge-on-read {@code raw.items}: a full load by a pipeline, then update commits that
 * each leave a data file with the new row versions and a position-delete file, as a streaming
 * pipeline does.
 */
final class MergedItemsTable {
  static final TableIdentifier ITEMS =
      TableIdentifier.of(BenchEnvironment.NAMESPACE, ItemsTable.NAME);

  /** Commit interval of the pipeline that applies the update commits. */
  static final Duration UPDATE_COMMIT_INTERVAL = Duration.ofMillis(100);

  private MergedItemsTable() {}

  /**
   * Runs a pipeline (commit interval 1 s) until its full load of {@code rows} rows is committed.
   */
  static void load(
      BenchEnvironment environment, JdbcCatalog catalog, String pipelineName, long rows)
      throws Exception {
    try (Pipeline pipeline = environment.pipeline(pipelineName, Duration.ofSeconds(1), catalog)) {
      pipeline.start();
      Bench.awaitFullLoad(pipeline, rows);
    }
    Bench.info("full load of %d rows committed", rows);
  }

  /**
   * Resumes the pipeline with a {@link #UPDATE_COMMIT_INTERVAL} commit interval and sends {@code
   * commits} source transactions, each updating {@code qty} of {@code updatesPerCommit} random
   * distinct rows with ids in {@code 1..rows}; each is sent only after the previous one was
   * committed, so each lands in its own Iceberg commit. Checks that exactly {@code commits}
   * snapshots were added, and stops the pipeline.
   */
  static void updateCommits(
      BenchEnvironment environment,
      JdbcCatalog catalog,
      String pipelineName,
      int commits,
      long rows,
      int updatesPerCommit)
      throws Exception {
    if (updatesPerCommit > rows) {
      throw new IllegalArgumentException("Cannot update more rows per commit than the table has");
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long started = System.nanoTime();
    try (Pipeline pipeline = environment.pipeline(pipelineName, UPDATE_COMMIT_INTERVAL, catalog);
        Connection connection = environment.connect();
        PreparedStatement update =
            connection.prepareStatement("UPDATE items SET qty = qty + 1 WHERE id = ANY(?)")) {
      pipeline.start();
      long snapshotsBefore = LakeTables.snapshotCount(catalog.loadTable(ITEMS));
      for (int commit = 0; commit < commits; commit++) {
        Set<Long> ids = new HashSet<>();
        while (ids.size() < updatesPerCommit) {
          ids.add(random.nextLong(1, rows + 1));
        }
        Array array = connection.createArrayOf("bigint", ids.toArray());
        update.setArray(1, array);
        long target = pipeline.stats().changes() + update.executeUpdate();
        array.free();
        Bench.awaitCommitted(
            pipeline, target, UPDATE_COMMIT_INTERVAL.plusSeconds(2), Duration.ofMinutes(2));
      }
      long added = LakeTables.snapshotCount(catalog.loadTable(ITEMS)) - snapshotsBefore;
      if (added != commits) {
        throw new IllegalStateException(
            "Cannot build the merged table: expected "
                + commits
                + " update commits but the table gained "
                + added
                + " snapshots");
      }
    }
    Bench.info(
        "%d update commits of %d rows in %.1f s",
        commits, updatesPerCommit, Bench.seconds(System.nanoTime() - started));
  }
}
