package io.floe.ingest.quality;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.CatalogDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Quality results kept in the warehouse's catalog database, beside the catalog, in table {@value
 * #TABLE}: every process on the warehouse (floe run, floe sql) sees the same results. The latest
 * {@code keep} results are kept.
 */
public final class CatalogQualityResults implements QualityResults {
  private static final Logger LOG = LoggerFactory.getLogger(CatalogQualityResults.class);

  /** The table in the catalog database. */
  public static final String TABLE = "floe_quality_results";

  /** How many results are kept by default: at one commit a second and four rules, about 7 hours. */
  public static final int DEFAULT_KEEP = 100_000;

  private static final String COLUMNS =
      "recorded_at, pipeline, table_name, rule, check_type, action, snapshot_id, rows_checked,"
          + " rows_failed, outcome, example";

  private final CatalogDatabase database;
  private final int keep;
  private volatile boolean created;

  public CatalogQualityResults(CatalogDatabase database, int keep) {
    this.database = requireNonNull(database, "database is null");
    if (keep < 1) {
      throw new IllegalArgumentException("keep must be at least 1, was " + keep);
    }
    this.keep = keep;
  }

  @Override
  public void record(List<QualityResult> results) {
    requireNonNull(results, "results is null");
    if (results.isEmpty()) {
      return;
    }
    try (Connection connection = database.connect()) {
      createIfMissing(connection);
      connection.setAutoCommit(false);
      try {
        try (PreparedStatement insert =
            connection.prepareStatement(
                "INSERT INTO "
                    + TABLE
                    + " ("
                    + COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
          for (QualityResult result : results) {
            insert.setLong(1, result.recordedAt().toEpochMilli());
            insert.setString(2, result.pipeline());
            insert.setString(3, result.table());
            insert.setString(4, result.rule());
            insert.setString(5, result.check());
            insert.setString(6, result.action());
            if (result.snapshotId().isPresent()) {
              insert.setLong(7, result.snapshotId().getAsLong());
            } else {
              insert.setNull(7, Types.BIGINT);
            }
            insert.setLong(8, result.rowsChecked());
            insert.setLong(9, result.rowsFailed());
            insert.setString(10, result.outcome());
            insert.setString(11, result.example());
            insert.addBatch();
          }
          insert.executeBatch();
        }
        long id;
        try (Statement statement = connection.createStatement();
            ResultSet rows = statement.executeQuery("SELECT MAX(id) FROM " + TABLE)) {
          rows.next();
          id = rows.getLong(1);
        }
        try (PreparedStatement delete =
            connection.prepareStatement("DELETE FROM " + TABLE + " WHERE id <= ?")) {
          delete.setLong(1, id - keep);
          delete.executeUpdate();
        }
        connection.commit();
      } catch (SQLException | RuntimeException e) {
        connection.rollback();
        throw e;
      }
    } catch (SQLException | RuntimeException e) {
      LOG.error(
          "Cannot record {} quality results of pipeline {} in {}: they are not kept (the"
              + " pipeline's figures still count them); the pipeline goes on",
          results.size(),
          results.get(0).pipeline(),
          database,
          e);
    }
  }

  /**
   * @throws FloeException with {@link ErrorCode#CATALOG_FAILED} when the database cannot be read
   */
  @Override
  public List<QualityResult> recent(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1, was " + limit);
    }
    if (!database.exists()) {
      return List.of();
    }
    List<QualityResult> results = new ArrayList<>();
    try (Connection connection = database.connect()) {
      createIfMissing(connection);
      try (PreparedStatement select =
          connection.prepareStatement(
              "SELECT "
                  + COLUMNS
                  + " FROM (SELECT id, "
                  + COLUMNS
                  + " FROM "
                  + TABLE
                  + " ORDER BY id DESC LIMIT ?) latest ORDER BY id")) {
        select.setInt(1, limit);
        try (ResultSet rows = select.executeQuery()) {
          while (rows.next()) {
            long snapshot = rows.getLong(7);
            OptionalLong snapshotId =
                rows.wasNull() ? OptionalLong.empty() : OptionalLong.of(snapshot);
            results.add(
                new QualityResult(
                    Instant.ofEpochMilli(rows.getLong(1)),
                    rows.getString(2),
                    rows.getString(3),
                    rows.getString(4),
                    rows.getString(5),
                    rows.getString(6),
                    snapshotId,
                    rows.getLong(8),
                    rows.getLong(9),
                    rows.getString(10),
                    rows.getString(11)));
          }
        }
      }
    } catch (SQLException e) {
      throw new FloeException(
          ErrorCode.CATALOG_FAILED,
          "Cannot read the quality results in "
              + database
              + ": "
              + e.getMessage()
              + "; "
              + database.advice(),
          e);
    }
    return results;
  }

  private void createIfMissing(Connection connection) throws SQLException {
    if (created) {
      return;
    }
    String id =
        database.embedded()
            ? "id INTEGER PRIMARY KEY AUTOINCREMENT"
            : "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY";
    try (Statement statement = connection.createStatement()) {
      statement.executeUpdate(
          "CREATE TABLE IF NOT EXISTS "
              + TABLE
              + " ("
              + id
              + ", recorded_at BIGINT NOT NULL, pipeline TEXT NOT NULL, table_name TEXT NOT NULL,"
              + " rule TEXT NOT NULL, check_type TEXT NOT NULL, action TEXT NOT NULL,"
              + " snapshot_id BIGINT, rows_checked BIGINT NOT NULL, rows_failed BIGINT NOT NULL,"
              + " outcome TEXT NOT NULL, example TEXT NOT NULL)");
    }
    created = true;
  }
}
