package io.floe.maintenance;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.CatalogDatabase;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
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
 * The maintenance runs of a warehouse, kept in its catalog database (the embedded SQLite file
 * {@code catalog.db} or the shared PostgreSQL database, see {@link CatalogDatabase}) in the table
 * {@value #TABLE}, which is created when missing. Every process that maintains the warehouse
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

  private final CatalogDatabase database;
  private final int keep;
  private volatile boolean created;

  private MaintenanceHistory(CatalogDatabase database, int keep) {
    this.database = requireNonNull(database, "database is null");
    if (keep < 1) {
      throw new IllegalArgumentException("keep must be at least 1, was " + keep);
    }
    this.keep = keep;
  }

  /** The history kept in the catalog database {@code database}, of {@link #DEFAULT_KEEP} runs. */
  public static MaintenanceHistory of(CatalogDatabase database) {
    return new MaintenanceHistory(database, DEFAULT_KEEP);
  }

  /** The history kept in the catalog database {@code database}, of the latest {@code keep} runs. */
  static MaintenanceHistory keeping(CatalogDatabase database, int keep) {
    return new MaintenanceHistory(database, keep);
  }

  /** The catalog database this history is kept in. */
  public CatalogDatabase database() {
    return database;
  }

  /**
   * Records a run, and deletes the runs beyond the latest {@code keep}. Never throws: a failure is
   * logged with its cause, and the run is not recorded.
   */
  public void record(MaintenanceRun run) {
    requireNonNull(run, "run is null");
    try (Connection connection = database.connect()) {
      createIfMissing(connection);
      connection.setAutoCommit(false);
      try {
        insert(connection, run);
        // The newest id: this run's, or a later one of another process, which keeps as many.
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
          "Cannot record the {} run of table {} in the maintenance history ({}), the run is"
              + " not kept; maintenance goes on",
          run.operation().label(),
          run.table(),
          database,
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
    if (!database.exists()) {
      return List.of();
    }
    String sql =
        "SELECT "
            + COLUMNS
            + " FROM "
            + TABLE
            + (table == null ? "" : " WHERE table_name = ?")
            + " ORDER BY id DESC LIMIT ?";
    try (Connection connection = database.connect()) {
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
          "Cannot read the maintenance history in the catalog database "
              + database
              + ": "
              + e.getMessage()
              + "; "
              + database.advice(),
          e);
    }
  }

  private void createIfMissing(Connection connection) throws SQLException {
    if (created) {
      return;
    }
    // SQLite's INTEGER is 64 bits wide; PostgreSQL's is 32, and it numbers rows with an identity.
    String integer = database.embedded() ? "INTEGER" : "BIGINT";
    String id =
        database.embedded()
            ? "id INTEGER PRIMARY KEY AUTOINCREMENT"
            : "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY";
    try (Statement statement = connection.createStatement()) {
      statement.executeUpdate(
          ("CREATE TABLE IF NOT EXISTS "
                  + TABLE
                  + " (%1$s,"
                  + " table_name TEXT NOT NULL,"
                  + " operation TEXT NOT NULL,"
                  + " started_at TEXT NOT NULL,"
                  + " duration_ms %2$s NOT NULL,"
                  + " data_files_before %2$s, delete_files_before %2$s,"
                  + " bytes_before %2$s, snapshots_before %2$s,"
                  + " data_files_after %2$s, delete_files_after %2$s,"
                  + " bytes_after %2$s, snapshots_after %2$s,"
                  + " details TEXT NOT NULL,"
                  + " error TEXT)")
              .formatted(id, integer));
      statement.executeUpdate(
          "CREATE INDEX IF NOT EXISTS " + TABLE + "_by_table ON " + TABLE + " (table_name, id)");
    }
    created = true;
  }

  private static boolean exists(Connection connection) throws SQLException {
    DatabaseMetaData metadata = connection.getMetaData();
    try (ResultSet rows =
        metadata.getTables(null, connection.getSchema(), TABLE, new String[] {"TABLE"})) {
      return rows.next();
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
        statement.setNull(first + index, Types.BIGINT);
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
