package io.floe.catalog;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.TableTransactions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.metrics.CommitReport;
import org.apache.iceberg.metrics.ScanReport;
import org.apache.iceberg.rest.requests.ReportMetricsRequest;
import org.apache.iceberg.rest.requests.ReportMetricsRequestParser;

/**
 * The REST catalog's own tables in the catalog database, beside Iceberg's: {@value #KEYS_TABLE}
 * holds the key that signs tokens (made once, shared by every server on the database), {@value
 * #REPORTS_TABLE} the metrics reports engines send. Plain SQL that SQLite and PostgreSQL both run.
 */
public final class CatalogServerTables {
  /** The signing keys, by name. */
  public static final String KEYS_TABLE = "floe_catalog_keys";

  /** The metrics reports, one row each. */
  public static final String REPORTS_TABLE = "floe_metrics_reports";

  private static final String TOKEN_KEY = "token-signing";

  /** How many metrics reports are kept: older ones are deleted as new ones arrive. */
  public static final int REPORTS_KEPT = 100_000;

  private static final int PRUNE_EVERY = 1_000;

  /** {@code received_at} is UTC text to the millisecond, so that it sorts as it reads. */
  private static final java.time.format.DateTimeFormatter RECEIVED_AT =
      java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'")
          .withZone(java.time.ZoneOffset.UTC);

  /** A stored metrics report. */
  public record StoredReport(
      Instant receivedAt,
      String principal,
      String tableNamespace,
      String tableName,
      String reportType,
      Long snapshotId,
      String report) {}

  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(CatalogServerTables.class);

  private final java.util.concurrent.atomic.AtomicLong storedReports =
      new java.util.concurrent.atomic.AtomicLong();

  /** The connection kept for storing reports; null until the first, or after a failure. */
  private Connection reportConnection;

  private final TableTransactions.Database database;

  public CatalogServerTables(TableTransactions.Database database) {
    this.database = requireNonNull(database, "database is null");
  }

  /** The key that signs tokens: the one in the database, or a new random one stored there first. */
  public byte[] tokenKey() {
    byte[] fresh = new byte[32];
    new SecureRandom().nextBytes(fresh);
    try (Connection connection = database.connect()) {
      try (Statement statement = connection.createStatement()) {
        statement.execute(
            "CREATE TABLE IF NOT EXISTS "
                + KEYS_TABLE
                + " (key_name VARCHAR(64) PRIMARY KEY, key_value VARCHAR(128) NOT NULL)");
      }
      try (PreparedStatement insert =
          connection.prepareStatement(
              "INSERT INTO "
                  + KEYS_TABLE
                  + " (key_name, key_value) VALUES (?, ?) ON CONFLICT (key_name) DO NOTHING")) {
        insert.setString(1, TOKEN_KEY);
        insert.setString(2, Base64.getEncoder().encodeToString(fresh));
        insert.executeUpdate();
      }
      try (PreparedStatement select =
          connection.prepareStatement(
              "SELECT key_value FROM " + KEYS_TABLE + " WHERE key_name = ?")) {
        select.setString(1, TOKEN_KEY);
        try (ResultSet rows = select.executeQuery()) {
          if (!rows.next()) {
            throw new SQLException("the key inserted into " + KEYS_TABLE + " is missing");
          }
          return Base64.getDecoder().decode(rows.getString(1));
        }
      }
    } catch (SQLException e) {
      throw new FloeException(
          ErrorCode.CATALOG_FAILED,
          "Cannot read the REST catalog's token key from the catalog database: "
              + e.getMessage()
              + "; check that the database is reachable and writable",
          e);
    }
  }

  /** Creates the table of metrics reports when it is missing. */
  public void createReportsTable() {
    try (Connection connection = database.connect();
        Statement statement = connection.createStatement()) {
      statement.execute(
          "CREATE TABLE IF NOT EXISTS "
              + REPORTS_TABLE
              + " (received_at VARCHAR(32) NOT NULL, principal VARCHAR(255) NOT NULL,"
              + " table_namespace VARCHAR(1024) NOT NULL, table_name VARCHAR(255) NOT NULL,"
              + " report_type VARCHAR(32) NOT NULL, snapshot_id BIGINT, report TEXT NOT NULL)");
    } catch (SQLException e) {
      throw new FloeException(
          ErrorCode.CATALOG_FAILED,
          "Cannot create table " + REPORTS_TABLE + " in the catalog database: " + e.getMessage(),
          e);
    }
  }

  /** Deletes the reports older than the latest {@link #REPORTS_KEPT}. */
  private static void prune(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.executeUpdate(
          "DELETE FROM "
              + REPORTS_TABLE
              + " WHERE received_at < (SELECT received_at FROM "
              + REPORTS_TABLE
              + " ORDER BY received_at DESC LIMIT 1 OFFSET "
              + (REPORTS_KEPT - 1)
              + ")");
    }
  }

  /** The stored metrics reports, oldest first. */
  public List<StoredReport> reports() {
    List<StoredReport> reports = new ArrayList<>();
    try (Connection connection = database.connect();
        Statement statement = connection.createStatement();
        ResultSet rows =
            statement.executeQuery(
                "SELECT received_at, principal, table_namespace, table_name, report_type,"
                    + " snapshot_id, report FROM "
                    + REPORTS_TABLE
                    + " ORDER BY received_at")) {
      while (rows.next()) {
        long snapshotId = rows.getLong(6);
        reports.add(
            new StoredReport(
                Instant.parse(rows.getString(1)),
                rows.getString(2),
                rows.getString(3),
                rows.getString(4),
                rows.getString(5),
                rows.wasNull() ? null : snapshotId,
                rows.getString(7)));
      }
    } catch (SQLException e) {
      throw new FloeException(
          ErrorCode.CATALOG_FAILED,
          "Cannot read the metrics reports from the catalog database: "
              + e.getMessage()
              + "; check that the database is reachable",
          e);
    }
    return reports;
  }

  /**
   * Stores a metrics report an engine sent about a table, on a connection kept for reports (an
   * engine sends one with each commit and scan, so opening a connection each time would double the
   * cost of a small commit).
   *
   * @return false, storing nothing, when the catalog has no such table
   */
  synchronized boolean storeReport(
      String catalogName,
      Principal principal,
      TableIdentifier table,
      ReportMetricsRequest request,
      Instant at) {
    Long snapshotId = null;
    if (request.report() instanceof ScanReport scan) {
      snapshotId = scan.snapshotId();
    } else if (request.report() instanceof CommitReport commit) {
      snapshotId = commit.snapshotId();
    }
    String namespace = String.join(".", table.namespace().levels());
    try {
      if (reportConnection == null) {
        reportConnection = database.connect();
      }
      int stored;
      try (PreparedStatement insert =
          reportConnection.prepareStatement(
              "INSERT INTO "
                  + REPORTS_TABLE
                  + " (received_at, principal, table_namespace, table_name, report_type,"
                  + " snapshot_id, report) SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM"
                  + " iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND"
                  + " table_name = ? AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL))")) {
        insert.setString(1, RECEIVED_AT.format(at));
        insert.setString(2, principal.name());
        insert.setString(3, namespace);
        insert.setString(4, table.name());
        insert.setString(5, request.reportType().name().toLowerCase(java.util.Locale.ROOT));
        if (snapshotId == null) {
          insert.setNull(6, java.sql.Types.BIGINT);
        } else {
          insert.setLong(6, snapshotId);
        }
        insert.setString(7, ReportMetricsRequestParser.toJson(request));
        insert.setString(8, catalogName);
        insert.setString(9, namespace);
        insert.setString(10, table.name());
        stored = insert.executeUpdate();
      }
      if (stored > 0 && storedReports.incrementAndGet() % PRUNE_EVERY == 0) {
        prune(reportConnection);
      }
      return stored > 0;
    } catch (SQLException e) {
      closeReportConnection(e);
      throw new FloeException(
          ErrorCode.CATALOG_FAILED,
          "Cannot store the metrics report of " + table + ": " + e.getMessage(),
          e);
    }
  }

  /** Closes the connection kept for reports. */
  synchronized void close() {
    closeReportConnection(null);
  }

  private void closeReportConnection(Exception failure) {
    if (reportConnection == null) {
      return;
    }
    try {
      reportConnection.close();
    } catch (SQLException e) {
      if (failure != null) {
        failure.addSuppressed(e);
      } else {
        LOG.warn("Cannot close the connection of the metrics reports: {}", e.toString());
      }
    }
    reportConnection = null;
  }
}
