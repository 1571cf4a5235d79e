package io.floe.sql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Properties;
import org.apache.iceberg.Schema;
import org.apache.iceberg.expressions.Expression;

/**
 * Conditions on a table's rows that users write in SQL outside a query, such as the {@code where}
 * argument of {@code rewrite_data_files}, turned into Iceberg expressions. DuckDB parses the text
 * (nothing is run); {@link ScanFilters#condition} converts the whole condition or says which part
 * it cannot.
 */
public final class WhereConditions {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TABLE = "floe_condition";

  private WhereConditions() {}

  /**
   * The condition as an Iceberg expression on the schema's columns.
   *
   * @throws IllegalArgumentException when the text is not such a condition, saying why
   */
  public static Expression parse(Schema schema, String condition) {
    if (condition == null || condition.isBlank()) {
      throw new IllegalArgumentException("the condition is empty; write one, such as id > 100");
    }
    JsonNode tree = serialize("SELECT * FROM " + TABLE + " WHERE " + condition);
    if (tree.path("error").asBoolean(false)) {
      throw new IllegalArgumentException(
          "'" + condition + "' is not a SQL condition: " + tree.path("error_message").asText());
    }
    JsonNode statements = tree.path("statements");
    JsonNode node = statements.path(0).path("node");
    if (statements.size() != 1
        || !"SELECT_NODE".equals(node.path("type").asText())
        || !TABLE.equals(node.path("from_table").path("table_name").asText())
        || node.path("group_expressions").size() > 0
        || present(node.path("having"))
        || present(node.path("qualify"))
        || node.path("modifiers").size() > 0
        || !node.hasNonNull("where_clause")) {
      throw new IllegalArgumentException(
          "'" + condition + "' is not one condition on the table's columns, such as id > 100");
    }
    return ScanFilters.condition(node.get("where_clause"), schema);
  }

  private static boolean present(JsonNode node) {
    return !node.isNull() && !node.isMissingNode();
  }

  private static JsonNode serialize(String sql) {
    try (Connection sandbox = FreshDuckDb.open(new Properties());
        PreparedStatement statement = sandbox.prepareStatement("SELECT json_serialize_sql(?)")) {
      statement.setString(1, sql);
      try (ResultSet result = statement.executeQuery()) {
        result.next();
        return JSON.readTree(result.getString(1));
      }
    } catch (SQLException | IOException e) {
      throw new IllegalStateException("DuckDB could not parse a condition: " + e.getMessage(), e);
    }
  }
}
