package io.floe.ingest.postgres;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.PostgresSourceConfig;
import io.floe.ingest.ChangeLog;
import io.floe.ingest.SourceTable;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks that a PostgreSQL database can feed a pipeline before replication starts, creates the
 * publication the pipeline needs, and reads the source tables' columns and keys. Every problem it
 * finds is reported with the statement or setting that fixes it.
 */
public final class PostgresSourceInspector {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresSourceInspector.class);

  /** How long to wait for a slot held by a departed process to be released. */
  private static final Duration SLOT_RELEASE_WAIT = Duration.ofSeconds(15);

  private final String pipeline;
  private final PostgresSourceConfig config;

  public PostgresSourceInspector(String pipeline, PostgresSourceConfig config) {
    this.pipeline = pipeline;
    this.config = config;
  }

  /** Opens a JDBC connection to the source, translating failures into actionable errors. */
  public static Connection connect(PostgresSourceConfig config) {
    try {
      return DriverManager.getConnection(config.url(), config.user(), config.password());
    } catch (SQLException e) {
      String state = e.getSQLState() == null ? "" : e.getSQLState();
      String reason;
      ErrorCode code = ErrorCode.SOURCE_UNREACHABLE;
      if (state.startsWith("28")) {
        reason = "authentication failed; check source.user and source.password";
        code = ErrorCode.SOURCE_NOT_READY;
      } else if (state.equals("3D000")) {
        reason = "the database does not exist; check the database name in source.url";
        code = ErrorCode.SOURCE_NOT_READY;
      } else if (state.startsWith("08")) {
        reason =
            e.getMessage() + "; check that PostgreSQL is running and reachable at this address";
      } else {
        reason = e.getMessage();
      }
      throw new FloeException(
          code,
          "Cannot connect to PostgreSQL at "
              + config.url()
              + " as "
              + config.user()
              + ": "
              + reason,
          e);
    }
  }

  /** Runs every check, creates or extends the publication, and returns the tables. */
  public List<SourceTable> inspect() {
    try (Connection connection = connect(config)) {
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
      ensurePublication(connection, tables);
      return tables;
    } catch (SQLException e) {
      throw new FloeException(
          ErrorCode.SOURCE_FAILED,
          "Cannot inspect PostgreSQL source of pipeline " + pipeline + ": " + e.getMessage(),
          e);
    }
  }

  private void checkServer(Connection connection) throws SQLException {
    List<String> problems = new ArrayList<>();
    String walLevel = queryString(connection, "SHOW wal_level");
    if (!"logical".equals(walLevel)) {
      problems.add(
          "wal_level is '"
              + walLevel
              + "' but must be 'logical': run ALTER SYSTEM SET wal_level = logical; then restart"
              + " PostgreSQL");
    }
    try (PreparedStatement statement =
        connection.prepareStatement(
            "SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user")) {
      try (ResultSet result = statement.executeQuery()) {
        if (!result.next() || !result.getBoolean(1)) {
          problems.add(
              "user "
                  + config.user()
                  + " lacks the REPLICATION privilege: run ALTER ROLE "
                  + quoteIdentifier(config.user())
                  + " WITH REPLICATION;");
        }
      }
    }
    int maxSlots = Integer.parseInt(queryString(connection, "SHOW max_replication_slots"));
    if (maxSlots == 0) {
      problems.add("max_replication_slots is 0: set it to at least 1 and restart PostgreSQL");
    }
    String slotProblem = checkSlot(connection);
    if (slotProblem != null) {
      problems.add(slotProblem);
    }
    if (!problems.isEmpty()) {
      throw new FloeException(
          ErrorCode.SOURCE_NOT_READY,
          "Cannot replicate from PostgreSQL at "
              + config.url()
              + " for pipeline "
              + pipeline
              + ":\n  "
              + String.join("\n  ", problems));
    }
  }

  /**
   * Checks the replication slot, if it exists. A slot still held by a process that just died (a
   * killed Floe) is released by PostgreSQL within moments, so an active slot is waited for first.
   */
  private String checkSlot(Connection connection) throws SQLException {
    long deadline = System.nanoTime() + SLOT_RELEASE_WAIT.toNanos();
    while (true) {
      try (PreparedStatement statement =
          connection.prepareStatement(
              "SELECT plugin, active, active_pid FROM pg_replication_slots WHERE slot_name = ?")) {
        statement.setString(1, config.slotName());
        try (ResultSet result = statement.executeQuery()) {
          if (!result.next()) {
            return null;
          }
          if (!"pgoutput".equals(result.getString(1))) {
            return "replication slot "
                + config.slotName()
                + " exists with plugin "
                + result.getString(1)
                + ", not pgoutput: drop it (SELECT pg_drop_replication_slot('"
                + config.slotName()
                + "');) or set source.slot-name to another name";
          }
          if (!result.getBoolean(2)) {
            return null;
          }
          if (System.nanoTime() > deadline) {
            return "replication slot "
                + config.slotName()
                + " is in use by process "
                + result.getInt(3)
                + ": is another Floe running this pipeline? Stop it, or set source.slot-name";
          }
        }
      }
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "interrupted while waiting for replication slot " + config.slotName();
      }
    }
  }

  private SourceTable inspectTable(Connection connection, String qualified, List<String> problems)
      throws SQLException {
    int dot = qualified.indexOf('.');
    String schemaName = qualified.substring(0, dot);
    String tableName = qualified.substring(dot + 1);
    long oid;
    long estimatedRows;
    String replicaIdentity;
    try (PreparedStatement statement =
        connection.prepareStatement(
            "SELECT c.oid, c.reltuples::bigint, has_table_privilege(c.oid, 'SELECT'),"
                + " c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE n.nspname = ? AND c.relname = ? AND c.relkind IN ('r', 'p')")) {
      statement.setString(1, schemaName);
      statement.setString(2, tableName);
      try (ResultSet result = statement.executeQuery()) {
        if (!result.next()) {
          problems.add(
              qualified
                  + ": no such table; tables in schema "
                  + schemaName
                  + ": "
                  + listTables(connection, schemaName));
          return null;
        }
        oid = result.getLong(1);
        estimatedRows = result.getLong(2);
        replicaIdentity = result.getString(4);
        if (!result.getBoolean(3)) {
          problems.add(
              qualified
                  + ": user "
                  + config.user()
                  + " cannot read it: run GRANT SELECT ON "
                  + quoteIdentifier(schemaName)
                  + "."
                  + quoteIdentifier(tableName)
                  + " TO "
                  + quoteIdentifier(config.user())
                  + ";");
          return null;
        }
      }
    }

    Set<String> keyColumns = new LinkedHashSet<>();
    try (PreparedStatement statement =
        connection.prepareStatement(
            "SELECT a.attname FROM pg_index i"
                + " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
                + " WHERE i.indrelid = ? AND i.indisprimary")) {
      statement.setLong(1, oid);
      try (ResultSet result = statement.executeQuery()) {
        while (result.next()) {
          keyColumns.add(result.getString(1));
        }
      }
    }
    String quotedTable = quoteIdentifier(schemaName) + "." + quoteIdentifier(tableName);
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
      if (!"f".equals(replicaIdentity)) {
        problems.add(
            qualified
                + ": a table keyed by source.keys needs the old values of updated and deleted"
                + " rows: run ALTER TABLE "
                + quotedTable
                + " REPLICA IDENTITY FULL;");
        return null;
      }
      keyColumns.addAll(declared);
    }
    boolean changeLog = config.changeLog().contains(qualified);
    if (changeLog) {
      if (!"f".equals(replicaIdentity)) {
        problems.add(
            qualified
                + ": a change log needs the old values of updated and deleted rows: run ALTER"
                + " TABLE "
                + quotedTable
                + " REPLICA IDENTITY FULL;");
        return null;
      }
      keyColumns.clear();
    } else if (keyColumns.isEmpty()) {
      problems.add(
          qualified
              + ": it has no primary key, so changed rows cannot be identified; add one (ALTER"
              + " TABLE "
              + quotedTable
              + " ADD PRIMARY KEY (...);), name columns you vouch are unique and never null in"
              + " source.keys (keys: [\""
              + qualified
              + " (column, ...)\"]) after ALTER TABLE "
              + quotedTable
              + " REPLICA IDENTITY FULL, write it as a change log (change-log: ["
              + qualified
              + "]) after the same, or remove the table from source.tables");
      return null;
    }

    AtomicInteger nextId = new AtomicInteger(1);
    List<String> columnNames = new ArrayList<>();
    List<Types.NestedField> fields = new ArrayList<>();
    Set<Integer> identifierIds = new HashSet<>();
    List<ColumnType> columnTypes = new ArrayList<>();
    try (PreparedStatement statement =
        connection.prepareStatement(
            "SELECT a.attname, t.typname, t.typtype, a.atttypmod, t.typcategory,"
                + " e.typname, e.typtype, format_type(a.atttypid, a.atttypmod)"
                + " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
                + " LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'"
                + " WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped"
                + " ORDER BY a.attnum")) {
      statement.setLong(1, oid);
      try (ResultSet result = statement.executeQuery()) {
        while (result.next()) {
          columnTypes.add(
              new ColumnType(
                  result.getString(1),
                  result.getString(2),
                  result.getString(3),
                  result.getInt(4),
                  "A".equals(result.getString(5)) && result.getString(6) != null,
                  result.getString(6),
                  result.getString(7),
                  result.getString(8)));
        }
      }
    }
    int fieldId = 0;
    List<Integer> fieldIds = new ArrayList<>();
    for (int i = 0; i < columnTypes.size(); i++) {
      fieldIds.add(nextId.getAndIncrement());
    }
    for (ColumnType column : columnTypes) {
      int id = fieldIds.get(fieldId++);
      Type type;
      if (column.array) {
        Type element =
            PostgresTypes.icebergType(
                column.elementName, column.elementType, -1, config.unboundedNumeric());
        type = element == null ? null : PostgresTypes.list(element, nextId::getAndIncrement);
      } else {
        type =
            PostgresTypes.icebergType(
                column.typeName, column.typeType, column.typeModifier, config.unboundedNumeric());
      }
      if (type == null) {
        problems.add(
            qualified
                + ": column "
                + column.name
                + " has type "
                + column.formatted
                + ", which Floe cannot map yet; remove the table from source.tables or change the"
                + " column's type");
        continue;
      }
      boolean key = keyColumns.contains(column.name);
      if (key) {
        identifierIds.add(id);
      }
      columnNames.add(column.name);
      fields.add(
          key
              ? Types.NestedField.required(id, column.name, type)
              : Types.NestedField.optional(id, column.name, type));
    }
    if (columnNames.size() != columnTypes.size()) {
      return null;
    }
    List<String> unknown = keyColumns.stream().filter(name -> !columnNames.contains(name)).toList();
    if (!unknown.isEmpty()) {
      problems.add(
          qualified
              + ": source.keys names "
              + String.join(", ", unknown)
              + ", which the table does not have; its columns are "
              + String.join(", ", columnNames));
      return null;
    }
    Schema schema = changeLog ? ChangeLog.schema(fields) : new Schema(fields, identifierIds);
    if (estimatedRows < 0) {
      estimatedRows = 0;
    }
    LOG.info(
        "Pipeline {}: source table {} has {} columns, primary key ({}), about {} rows",
        pipeline,
        qualified,
        columnNames.size(),
        String.join(", ", keyColumns),
        estimatedRows);
    return new SourceTable(qualified, tableName, schema, estimatedRows);
  }

  private void ensurePublication(Connection connection, List<SourceTable> tables)
      throws SQLException {
    String name = config.publication();
    boolean exists;
    try (PreparedStatement statement =
        connection.prepareStatement("SELECT 1 FROM pg_publication WHERE pubname = ?")) {
      statement.setString(1, name);
      try (ResultSet result = statement.executeQuery()) {
        exists = result.next();
      }
    }
    List<String> missing = new ArrayList<>();
    if (exists) {
      Set<String> published = new HashSet<>();
      try (PreparedStatement statement =
          connection.prepareStatement(
              "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = ?")) {
        statement.setString(1, name);
        try (ResultSet result = statement.executeQuery()) {
          while (result.next()) {
            published.add(result.getString(1));
          }
        }
      }
      for (SourceTable table : tables) {
        if (!published.contains(table.qualifiedName())) {
          missing.add(quoted(table));
        }
      }
      if (missing.isEmpty()) {
        return;
      }
    }
    String sql =
        exists
            ? "ALTER PUBLICATION "
                + quoteIdentifier(name)
                + " ADD TABLE "
                + String.join(", ", missing)
            : "CREATE PUBLICATION "
                + quoteIdentifier(name)
                + " FOR TABLE "
                + tables.stream()
                    .map(PostgresSourceInspector::quoted)
                    .collect(Collectors.joining(", "));
    try (Statement statement = connection.createStatement()) {
      statement.execute(sql);
      LOG.info("Pipeline {}: {}", pipeline, sql);
    } catch (SQLException e) {
      throw new FloeException(
          ErrorCode.SOURCE_NOT_READY,
          "Cannot "
              + (exists ? "extend" : "create")
              + " publication "
              + name
              + " for pipeline "
              + pipeline
              + ": "
              + e.getMessage()
              + "; ask a database owner to run: "
              + sql
              + ";",
          e);
    }
  }

  /**
   * Drops the pipeline's replication slot if it exists, so that a restarted full load gets a new
   * slot whose start matches its snapshot exactly (an old slot would replay changes the snapshot
   * already holds).
   */
  public void dropSlotIfExists() {
    try (Connection connection = connect(config);
        PreparedStatement statement =
            connection.prepareStatement(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                    + " WHERE slot_name = ? AND NOT active")) {
      statement.setString(1, config.slotName());
      try (ResultSet result = statement.executeQuery()) {
        if (result.next()) {
          LOG.info(
              "Pipeline {}: dropped replication slot {}: the full load restarts with a new slot",
              pipeline,
              config.slotName());
        }
      }
    } catch (SQLException e) {
      throw new FloeException(
          ErrorCode.SOURCE_FAILED,
          "Cannot drop replication slot "
              + config.slotName()
              + " before restarting the full load of pipeline "
              + pipeline
              + ": "
              + e.getMessage()
              + "; drop it by hand (SELECT pg_drop_replication_slot('"
              + config.slotName()
              + "');) and start again",
          e);
    }
  }

  /**
   * Counts the rows of the tables PostgreSQL has no estimate for (never analyzed), for the progress
   * of a full load; the others keep their estimate. A count that fails leaves progress without an
   * ETA, and is logged.
   */
  List<SourceTable> countUnestimatedRows(List<SourceTable> tables) {
    if (tables.stream().allMatch(table -> table.estimatedRows() > 0)) {
      return tables;
    }
    List<SourceTable> counted = new ArrayList<>();
    try (Connection connection = connect(config);
        Statement statement = connection.createStatement()) {
      for (SourceTable table : tables) {
        if (table.estimatedRows() > 0) {
          counted.add(table);
          continue;
        }
        try (ResultSet result = statement.executeQuery("SELECT count(*) FROM " + quoted(table))) {
          result.next();
          counted.add(table.withEstimatedRows(result.getLong(1)));
        }
      }
      return counted;
    } catch (SQLException e) {
      LOG.warn(
          "Pipeline {}: cannot count rows to load ({}); progress shows no ETA",
          pipeline,
          e.getMessage());
      return tables;
    }
  }

  private static String listTables(Connection connection, String schemaName) throws SQLException {
    List<String> names = new ArrayList<>();
    try (PreparedStatement statement =
        connection.prepareStatement(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE n.nspname = ? AND c.relkind IN ('r', 'p') ORDER BY 1 LIMIT 50")) {
      statement.setString(1, schemaName);
      try (ResultSet result = statement.executeQuery()) {
        while (result.next()) {
          names.add(result.getString(1));
        }
      }
    }
    return names.isEmpty() ? "(none)" : String.join(", ", names);
  }

  private static String queryString(Connection connection, String sql) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery(sql)) {
      result.next();
      return result.getString(1);
    }
  }

  /** {@code "schema"."table"} of a table configured as {@code schema.table}. */
  private static String quoted(SourceTable table) {
    String qualified = table.qualifiedName();
    int dot = qualified.indexOf('.');
    return quoteIdentifier(qualified.substring(0, dot))
        + "."
        + quoteIdentifier(qualified.substring(dot + 1));
  }

  /** Quotes a PostgreSQL identifier. */
  public static String quoteIdentifier(String identifier) {
    return "\"" + identifier.replace("\"", "\"\"") + "\"";
  }

  private record ColumnType(
      String name,
      String typeName,
      String typeType,
      int typeModifier,
      boolean array,
      String elementName,
      String elementType,
      String formatted) {}
}
