package io.floe.ingest.mariadb;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.MariaDbSourceConfig;
import io.floe.ingest.SourceTable;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks that a MariaDB server can feed a pipeline before anything is written, and maps its tables
 * to Iceberg schemas. Every problem it finds is reported with the statement or setting that fixes
 * it: the binary log (on, in ROW format, with FULL row images), the user's privileges, and each
 * table (it exists, has a primary key, and columns of types Floe maps).
 */
final class MariaDbInspector {
  private static final Logger LOG = LoggerFactory.getLogger(MariaDbInspector.class);

  private final String pipeline;
  private final MariaDbSourceConfig config;

  MariaDbInspector(String pipeline, MariaDbSourceConfig config) {
    this.pipeline = pipeline;
    this.config = config;
  }

  /** Opens a JDBC connection to the server, translating failures into actionable errors. */
  Connection connect() {
    String url = config.url().replaceFirst("^jdbc:mysql:", "jdbc:mariadb:");
    try {
      return DriverManager.getConnection(url, config.user(), config.password());
    } catch (SQLException e) {
      String reason;
      ErrorCode code = ErrorCode.SOURCE_UNREACHABLE;
      if (e.getErrorCode() == 1045) {
        reason = "authentication failed; check source.user and source.password";
        code = ErrorCode.SOURCE_NOT_READY;
      } else if (e.getErrorCode() == 1049) {
        reason = "the database does not exist; check the database name in source.url";
        code = ErrorCode.SOURCE_NOT_READY;
      } else {
        reason = e.getMessage() + "; check that MariaDB is running and reachable at this address";
      }
      throw new FloeException(
          code,
          "Cannot connect to MariaDB at " + config.url() + " as " + config.user() + ": " + reason,
          e);
    }
  }

  /** Runs every check and returns the tables. */
  List<SourceTable> inspect() {
    try (Connection connection = connect()) {
      checkServer(connection);
      List<String> problems = new ArrayList<>();
      List<SourceTable> tables = new ArrayList<>();
      for (String qualified : config.tables()) {
        SourceTable table = inspectTable(connection, qualified, problems);
        if (table != null) {
          tables.add(table);
        }
      }
      if (!problems.isEmpty()) {
        throw new FloeException(
            ErrorCode.SOURCE_TABLE_INVALID,
            "Cannot replicate the tables of pipeline "
                + pipeline
                + ":\n  "
                + String.join("\n  ", problems));
      }
      return tables;
    } catch (SQLException e) {
      throw new FloeException(
          ErrorCode.SOURCE_FAILED,
          "Cannot inspect MariaDB source of pipeline " + pipeline + ": " + e.getMessage(),
          e);
    }
  }

  /**
   * Checks that the binlog file a resume starts in is still on the server.
   *
   * @throws FloeException when the server purged it: the changes since are lost to replication
   */
  void checkBinlogAvailable(String file) {
    try (Connection connection = connect();
        Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery("SHOW BINARY LOGS")) {
      List<String> files = new ArrayList<>();
      while (result.next()) {
        files.add(result.getString(1));
      }
      if (!files.contains(file)) {
        throw new FloeException(
            ErrorCode.SOURCE_NOT_READY,
            "Cannot resume pipeline "
                + pipeline
                + ": its tables stand in binlog file "
                + file
                + ", which MariaDB at "
                + config.url()
                + " has purged (it keeps "
                + (files.isEmpty() ? "none" : files.get(0) + " to " + files.get(files.size() - 1))
                + "), so the changes since are lost to replication. Drop the pipeline's Iceberg"
                + " tables to load them in full again, and keep binlogs longer (SET GLOBAL"
                + " binlog_expire_logs_seconds = ..., expire_logs_days in my.cnf) than Floe may"
                + " be stopped");
      }
    } catch (SQLException e) {
      throw new FloeException(
          ErrorCode.SOURCE_FAILED,
          "Cannot list the binary logs of MariaDB at " + config.url() + ": " + e.getMessage(),
          e);
    }
  }

  private void checkServer(Connection connection) throws SQLException {
    List<String> problems = new ArrayList<>();
    String logBin;
    String format;
    String rowImage;
    try (Statement statement = connection.createStatement();
        ResultSet result =
            statement.executeQuery(
                "SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_format, @@GLOBAL.binlog_row_image")) {
      result.next();
      logBin = result.getString(1);
      format = result.getString(2);
      rowImage = result.getString(3);
    }
    if (!"1".equals(logBin) && !"ON".equalsIgnoreCase(logBin)) {
      problems.add(
          "the binary log is off: start MariaDB with log_bin (log_bin = mariadb-bin and a"
              + " server_id under [mariadbd] in my.cnf), then restart it");
    }
    if (!"ROW".equalsIgnoreCase(format)) {
      problems.add(
          "binlog_format is "
              + format
              + ", but Floe reads rows: run SET GLOBAL binlog_format = 'ROW'; and set"
              + " binlog_format = ROW in my.cnf so that it stays");
    }
    if (!"FULL".equalsIgnoreCase(rowImage)) {
      problems.add(
          "binlog_row_image is "
              + rowImage
              + ", but Floe needs every column of changed rows: run SET GLOBAL"
              + " binlog_row_image = 'FULL'; and set binlog_row_image = FULL in my.cnf");
    }
    Set<String> privileges = new HashSet<>();
    try (Statement statement = connection.createStatement();
        ResultSet result =
            statement.executeQuery(
                "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES")) {
      while (result.next()) {
        privileges.add(result.getString(1).toUpperCase(Locale.ROOT));
      }
    }
    List<String> missing = new ArrayList<>();
    if (!privileges.contains("REPLICATION SLAVE") && !privileges.contains("REPLICATION REPLICA")) {
      missing.add("REPLICATION SLAVE");
    }
    if (!privileges.contains("BINLOG MONITOR") && !privileges.contains("REPLICATION CLIENT")) {
      missing.add("BINLOG MONITOR");
    }
    if (!privileges.contains("RELOAD")) {
      missing.add("RELOAD");
    }
    if (!missing.isEmpty()) {
      problems.add(
          "user "
              + config.user()
              + " lacks "
              + String.join(", ", missing)
              + ", which reading the binlog and taking a consistent snapshot need: run GRANT "
              + String.join(", ", missing)
              + " ON *.* TO "
              + currentUser(connection)
              + "; (REPLICATION CLIENT instead of BINLOG MONITOR before MariaDB 10.5)");
    }
    if (!problems.isEmpty()) {
      throw new FloeException(
          ErrorCode.SOURCE_NOT_READY,
          "MariaDB at "
              + config.url()
              + " cannot feed pipeline "
              + pipeline
              + ":\n  "
              + String.join("\n  ", problems));
    }
  }

  private static String currentUser(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery("SELECT CURRENT_USER()")) {
      result.next();
      String user = result.getString(1);
      int at = user.lastIndexOf('@');
      return at < 0
          ? "'" + user + "'"
          : "'" + user.substring(0, at) + "'@'" + user.substring(at + 1) + "'";
    }
  }

  private SourceTable inspectTable(Connection connection, String qualified, List<String> problems)
      throws SQLException {
    int dot = qualified.indexOf('.');
    String database = qualified.substring(0, dot);
    String tableName = qualified.substring(dot + 1);
    long estimatedRows;
    try (PreparedStatement statement =
        connection.prepareStatement(
            "SELECT TABLE_TYPE, TABLE_ROWS FROM information_schema.TABLES"
                + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?")) {
      statement.setString(1, database);
      statement.setString(2, tableName);
      try (ResultSet result = statement.executeQuery()) {
        if (!result.next()) {
          problems.add(
              qualified
                  + ": no such table, or user "
                  + config.user()
                  + " may not see it; check source.tables, or GRANT SELECT ON "
                  + quote(database)
                  + ".* TO the user");
          return null;
        }
        if (!"BASE TABLE".equals(result.getString(1))) {
          problems.add(
              qualified
                  + ": it is a "
                  + result.getString(1).toLowerCase(Locale.ROOT)
                  + ", and only tables have changes in the binlog; capture its base tables");
          return null;
        }
        estimatedRows = Math.max(0, result.getLong(2));
      }
    }
    try (Statement statement = connection.createStatement()) {
      statement
          .executeQuery("SELECT 1 FROM " + quote(database) + "." + quote(tableName) + " LIMIT 0")
          .close();
    } catch (SQLException e) {
      problems.add(
          qualified
              + ": user "
              + config.user()
              + " cannot read it ("
              + e.getMessage()
              + "); GRANT SELECT ON "
              + quote(database)
              + "."
              + quote(tableName)
              + " TO the user");
      return null;
    }
    List<Column> columns = new ArrayList<>();
    try (PreparedStatement statement =
        connection.prepareStatement(
            "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE,"
                + " COLUMN_KEY FROM information_schema.COLUMNS"
                + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION")) {
      statement.setString(1, database);
      statement.setString(2, tableName);
      try (ResultSet result = statement.executeQuery()) {
        while (result.next()) {
          columns.add(
              new Column(
                  result.getString(1),
                  result.getString(2).toLowerCase(Locale.ROOT),
                  result.getString(3).toLowerCase(Locale.ROOT),
                  result.getLong(4),
                  result.getLong(5),
                  "PRI".equals(result.getString(6))));
        }
      }
    }
    Set<String> keyColumns = new LinkedHashSet<>();
    try (PreparedStatement statement =
        connection.prepareStatement(
            "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE"
                + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY'"
                + " ORDER BY ORDINAL_POSITION")) {
      statement.setString(1, database);
      statement.setString(2, tableName);
      try (ResultSet result = statement.executeQuery()) {
        while (result.next()) {
          keyColumns.add(result.getString(1));
        }
      }
    }
    List<String> declared = config.keys().get(qualified);
    if (declared != null) {
      if (!keyColumns.isEmpty()) {
        problems.add(
            qualified
                + ": it has a primary key ("
                + String.join(", ", keyColumns)
                + "), which Floe uses; remove the table's entry from source.keys");
        return null;
      }
      List<String> names = columns.stream().map(Column::name).toList();
      List<String> unknown = declared.stream().filter(name -> !names.contains(name)).toList();
      if (!unknown.isEmpty()) {
        problems.add(
            qualified
                + ": source.keys names "
                + String.join(", ", unknown)
                + ", which the table does not have; its columns are "
                + String.join(", ", names));
        return null;
      }
      keyColumns.addAll(declared);
    }
    if (keyColumns.isEmpty()) {
      problems.add(
          qualified
              + ": it has no primary key, so changed rows cannot be identified; add one (ALTER"
              + " TABLE "
              + quote(database)
              + "."
              + quote(tableName)
              + " ADD PRIMARY KEY (...);), name columns you vouch are unique and never null in"
              + " source.keys (keys: [\""
              + qualified
              + " (column, ...)\"]), or remove the table from source.tables");
      return null;
    }
    List<Types.NestedField> fields = new ArrayList<>();
    Set<Integer> identifierIds = new HashSet<>();
    int before = problems.size();
    int id = 1;
    for (Column column : columns) {
      Type type =
          MariaDbTypes.icebergType(
              column.dataType, column.columnType, column.precision, column.scale);
      if (type == null) {
        problems.add(
            qualified
                + ": column "
                + column.name
                + " has type "
                + column.columnType
                + ", which Floe cannot map yet; remove the table from source.tables or change the"
                + " column's type");
        continue;
      }
      boolean key = keyColumns.contains(column.name);
      if (key) {
        identifierIds.add(id);
      }
      fields.add(
          key
              ? Types.NestedField.required(id, column.name, type)
              : Types.NestedField.optional(id, column.name, type));
      id++;
    }
    if (problems.size() > before) {
      return null;
    }
    LOG.info(
        "Pipeline {}: source table {} has {} columns, primary key ({}), about {} rows",
        pipeline,
        qualified,
        fields.size(),
        String.join(", ", keyColumns),
        estimatedRows);
    return new SourceTable(qualified, tableName, new Schema(fields, identifierIds), estimatedRows);
  }

  /** Quotes a MariaDB identifier. */
  static String quote(String identifier) {
    return "`" + identifier.replace("`", "``") + "`";
  }

  /** A column as information_schema describes it. */
  private record Column(
      String name, String dataType, String columnType, long precision, long scale, boolean key) {}
}
