package io.floe.maintenance;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.FloeCatalog;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.iceberg.catalog.TableIdentifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The maintenance runs of a warehouse, kept in its catalog database ({@code catalog.db}) in the
 * table {@value #TABLE}, which is created when missing. Every process that maintains the warehouse
 * ({@code floe run}, {@code floe maintain}) records its runs there, and any process may read them
 * while others write. The latest {@link #DEFAULT_KEEP} runs are kept; older ones are deleted as new
 * ones are recorded.
 *
 * <p>Recording never fails an operation: a run that cannot be recorded is logged and dropped.
 * Reading fails with {@link ErrorCode#CATALOG_FAILED}.
 */
public final class MaintenanceHistory {
  private static final Logger LOG = LoggerFactory.getLogger(MaintenanceHistory.class);

  /** How many runs are kept by default. */
  public static final int DEFAULT_KEEP = 10_000;

  /** The table in the catalog database. */
  public static final String TABLE = "floe_maintenance_runs";

  /** {@code started_at} is UTC text to the millisecond, so that it sorts and reads as written. */
  private static final DateTimeFormatter STARTED_AT =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private static final String COLUMNS =
      "table_name, operation, started_at, duration_ms,"
          + " data_files_before, delete_files_before, bytes_before, snapshots_before,"
          + " data_files_after, delete_files_after, bytes_after, snapshots_after, details, error";

  private final Path warehouse;
  private final int keep;
  private volatile boolean created;

  private MaintenanceHistory(Path warehouse, int keep) {
    this.warehouse = requireNonNull(warehouse, "warehouse is null").toAbsolutePath().normalize();
    if (keep < 1) {
      throw new IllegalArgumentException("keep must be at least 1, was " + keep);
    }
    this.keep = keep;
  }

  /** The history of the warehouse at {@code warehouse}, keeping {@link #DEFAULT_KEEP} runs. */
  public static MaintenanceHistory of(Path warehouse) {
    return new MaintenanceHistory(warehouse, DEFAULT_KEEP);
  }

  /** The history of the warehouse at {@code warehouse}, keeping the latest {@code keep} runs. */
  static MaintenanceHistory keeping(Path warehouse, int keep) {
    return new MaintenanceHistory(warehouse, keep);
  }

  /** The warehouse whose runs this history keeps. */
  public Path warehouse() {
    return warehouse;
  }

  /**
   * Records a run, and deletes the runs beyond the latest {@code keep}. Never throws: a failure is
   * logged with its cause, and the run is not recorded.
   */
  public void record(MaintenanceRun run) {
    requireNonNull(run, "run is null");
    try (Connection connection = FloeCatalog.connect(warehouse)) {
      createIfMissing(connection);
      connection.setAutoCommit(false);
      try {
        insert(connection, run);
        long id;
        try (Statement statement = connection.createStatement();
            ResultSet rows = statement.executeQuery("SELECT last_insert_rowid()")) {
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
          "Cannot record the {} run of table {} in the maintenance history ({}), the run is"
              + " not kept; maintenance goes on",
          run.operation().label(),
          run.table(),
          FloeCatalog.databaseUrl(warehouse),
          e);
    }
  }

  /**
   * The latest runs, newest first.
   *
   * @param table only the runs of this table, or null for every table's
   * @param limit at most this many runs
   * @throws FloeException with {@link ErrorCode#CATALOG_FAILED} when the database cannot be read
   */
  public List<MaintenanceRun> recent(TableIdentifier table, int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1, was " + limit);
    }
    if (!FloeCatalog.exists(warehouse)) {
      return List.of();
    }
    String sql =
        "SELECT "
            + COLUMNS
            + " FROM "
            + TABLE
            + (table == null ? "" : " WHERE table_name = ?")
            + " ORDER BY id DESC LIMIT ?";
    try (Connection connection = FloeCatalog.connect(warehouse)) {
      if (!exists(connection)) {
        return List.of();
      }
      try (PreparedStatement select = connection.prepareStatement(sql)) {
        int parameter = 1;
        if (table != null) {
          select.setString(parameter++, table.toString());
        }
        select.setInt(parameter, limit);
        List<MaintenanceRun> runs = new ArrayList<>();
        try (ResultSet rows = select.executeQuery()) {
          while (rows.next()) {
            read(rows).ifPresent(runs::add);
          }
        }
        return runs;
      }
    } catch (SQLException | RuntimeException e) {
      throw new FloeException(
          ErrorCode.CATALOG_FAILED,
          "Cannot read the maintenance history of warehouse "
              + warehouse
              + ": "
              + e.getMessage()
              + "; check that "
              + FloeCatalog.databaseUrl(warehouse).substring("jdbc:sqlite:".length())
              + " is readable",
          e);
    }
  }

  private void createIfMissing(Connection connection) throws SQLException {
    if (created) {
      return;
    }
    try (Statement statement = connection.createStatement()) {
      statement.executeUpdate(
          "CREATE TABLE IF NOT EXISTS "
              + TABLE
              + " (id INTEGER PRIMARY KEY AUTOINCREMENT,"
              + " table_name TEXT NOT NULL,"
              + " operation TEXT NOT NULL,"
              + " started_at TEXT NOT NULL,"
              + " duration_ms INTEGER NOT NULL,"
              + " data_files_before INTEGER, delete_files_before INTEGER,"
              + " bytes_before INTEGER, snapshots_before INTEGER,"
              + " data_files_after INTEGER, delete_files_after INTEGER,"
              + " bytes_after INTEGER, snapshots_after INTEGER,"
              + " details TEXT NOT NULL,"
              + " error TEXT)");
      statement.executeUpdate(
          "CREATE INDEX IF NOT EXISTS " + TABLE + "_by_table ON " + TABLE + " (table_name, id)");
    }
    created = true;
  }

  private static boolean exists(Connection connection) throws SQLException {
    try (PreparedStatement statement =
        connection.prepareStatement(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")) {
      statement.setString(1, TABLE);
      try (ResultSet rows = statement.executeQuery()) {
        return rows.next();
      }
    }
  }

  private static void insert(Connection connection, MaintenanceRun run) throws SQLException {
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO "
                + TABLE
                + " ("
                + COLUMNS
                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      insert.setString(1, run.table().toString());
      insert.setString(2, run.operation().name());
      insert.setString(3, STARTED_AT.format(run.startedAt()));
      insert.setLong(4, run.durationMillis());
      setFigures(insert, 5, run.before());
      setFigures(insert, 9, run.after());
      insert.setString(13, run.details());
      insert.setString(14, run.error());
      insert.executeUpdate();
    }
  }

  private static void setFigures(PreparedStatement statement, int first, TableFigures figures)
      throws SQLException {
    if (figures == null) {
      for (int index = 0; index < 4; index++) {
        statement.setNull(first + index, Types.INTEGER);
      }
      return;
    }
    statement.setLong(first, figures.dataFiles());
    statement.setLong(first + 1, figures.deleteFiles());
    statement.setLong(first + 2, figures.totalBytes());
    statement.setInt(first + 3, figures.snapshots());
  }

  /** The run of a row; empty for an operation this version of Floe does not know. */
  private static Optional<MaintenanceRun> read(ResultSet rows) throws SQLException {
    MaintenanceRun.Operation operation;
    try {
      operation = MaintenanceRun.Operation.valueOf(rows.getString(2));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    return Optional.of(
        new MaintenanceRun(
            TableIdentifier.parse(rows.getString(1)),
            operation,
            Instant.parse(rows.getString(3)),
            rows.getLong(4),
            figures(rows, 5),
            figures(rows, 9),
            rows.getString(13),
            rows.getString(14)));
  }

  private static TableFigures figures(ResultSet rows, int first) throws SQLException {
    long dataFiles = rows.getLong(first);
    if (rows.wasNull()) {
      return null;
    }
    return new TableFigures(
        dataFiles, rows.getLong(first + 1), rows.getLong(first + 2), rows.getInt(first + 3));
  }
}
