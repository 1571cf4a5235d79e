package io.floe.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.demo.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TypesWorkloadIT {
  private static final List<String> NULLABLE_COLUMNS =
      List.of(
          "c_smallint",
          "c_int",
          "c_bigint",
          "c_numeric",
          "c_numeric_unbounded",
          "c_real",
          "c_double",
          "c_bool",
          "c_text",
          "c_varchar",
          "c_char",
          "c_bytea",
          "c_date",
          "c_time",
          "c_timestamp",
          "c_timestamptz",
          "c_uuid",
          "c_json",
          "c_jsonb",
          "c_mood",
          "c_int_array",
          "c_text_array",
          "c_big");

  private static EmbeddedPostgres postgres;

  @BeforeAll
  static void startPostgres() {
    postgres = EmbeddedPostgres.start();
  }

  @AfterAll
  static void stopPostgres() {
    if (postgres != null) {
      postgres.close();
    }
  }

  @Test
  void loadsAndChangesEveryType() throws SQLException {
    postgres.createDatabase("types");
    try (Connection connection = postgres.connect("types");
        Statement statement = connection.createStatement()) {
      TypesWorkload.createTables(connection);
      TypesWorkload.createTables(connection); // idempotent

      TypesWorkload.initialLoad(connection, 200, 42);
      assertThat(count(statement, "SELECT count(*) FROM everything")).isEqualTo(200);
      assertThat(count(statement, "SELECT count(*) FROM pairs")).isEqualTo(100);

      TypesWorkload workload = new TypesWorkload(connection, 42);
      workload.runTransactions(300);
      assertThat(workload.totalStatements()).isGreaterThanOrEqualTo(300);
      assertThat(connection.getAutoCommit()).isTrue();

      assertThat(count(statement, "SELECT count(*) FROM everything")).isGreaterThan(150);
      assertThat(count(statement, "SELECT count(*) FROM pairs")).isGreaterThan(50);
      for (String column : NULLABLE_COLUMNS) {
        assertThat(count(statement, "SELECT count(*) FROM everything WHERE " + column + " IS NULL"))
            .as("NULLs in %s", column)
            .isPositive();
        assertThat(
                count(
                    statement, "SELECT count(*) FROM everything WHERE " + column + " IS NOT NULL"))
            .as("values in %s", column)
            .isPositive();
      }

      // c_big: 3-20 KB, incompressible, so stored uncompressed out of line.
      assertThat(count(statement, "SELECT count(*) FROM everything WHERE length(c_big) > 3000"))
          .isGreaterThan(100);
      assertThat(
              count(
                  statement,
                  "SELECT count(*) FROM everything WHERE length(c_big) NOT BETWEEN 3000 AND 20000"))
          .isZero();
      assertThat(
              count(
                  statement,
                  "SELECT count(*) FROM everything WHERE pg_column_size(c_big) < octet_length(c_big)"))
          .as("compressed c_big values")
          .isZero();
      String toastTable =
          text(
              statement,
              "SELECT reltoastrelid::regclass FROM pg_class WHERE oid = 'public.everything'::regclass");
      assertThat(count(statement, "SELECT count(DISTINCT chunk_id) FROM " + toastTable))
          .isGreaterThan(100);

      // Default replica identity, so unchanged TOASTed values reach the decoder as such.
      assertThat(text(statement, "SELECT relreplident FROM pg_class WHERE relname = 'everything'"))
          .isEqualTo("d");
      assertThat(text(statement, "SELECT relreplident FROM pg_class WHERE relname = 'pairs'"))
          .isEqualTo("d");

      // Edge values.
      assertThat(count(statement, "SELECT count(*) FROM everything WHERE id < 0")).isPositive();
      assertThat(count(statement, "SELECT count(*) FROM everything WHERE c_smallint = -32768"))
          .isPositive();
      assertThat(
              count(
                  statement,
                  "SELECT count(*) FROM everything WHERE c_bigint = 9223372036854775807"))
          .isPositive();
      assertThat(
              count(
                  statement,
                  "SELECT count(*) FROM everything WHERE c_numeric_unbounded <> 0 AND scale(c_numeric_unbounded) = 10"))
          .isPositive();
      assertThat(
              count(
                  statement,
                  "SELECT count(*) FROM everything WHERE c_real < 0 AND c_real <> trunc(c_real)"))
          .isPositive();
      assertThat(count(statement, "SELECT count(*) FROM everything WHERE c_text = ''"))
          .isPositive();
      assertThat(
              count(
                  statement,
                  "SELECT count(*) FROM everything WHERE c_text = 'Grüße 東京 🚀'"
                      + " OR 'Grüße 東京 🚀' = ANY (c_text_array)"))
          .isPositive();
      assertThat(
              count(
                  statement,
                  "SELECT count(*) FROM everything WHERE position('\\x00'::bytea in c_bytea) > 0"))
          .isPositive();
      assertThat(
              count(
                  statement,
                  "SELECT count(*) FROM everything WHERE c_date < '1910-01-01' OR c_date > '2090-01-01'"))
          .isPositive();
      assertThat(
              count(
                  statement,
                  "SELECT count(*) FROM everything WHERE extract(microseconds FROM c_time)::bigint % 1000 <> 0"))
          .isPositive();
      assertThat(
              count(
                  statement, "SELECT count(*) FROM everything WHERE cardinality(c_int_array) = 0"))
          .isPositive();
      assertThat(
              count(
                  statement,
                  "SELECT count(*) FROM everything WHERE array_position(c_text_array, NULL) IS NOT NULL"))
          .isPositive();
      assertThat(
              count(
                  statement,
                  "SELECT count(*) FROM everything WHERE jsonb_typeof(c_jsonb) = 'object' AND c_jsonb::text LIKE '%{%{%'"))
          .isPositive();
      assertThat(count(statement, "SELECT count(*) FROM pairs WHERE b = ''")).isPositive();
      assertThat(count(statement, "SELECT count(*) FROM pairs WHERE payload IS NULL")).isPositive();
    }
  }

  @Test
  void decodesUnchangedToastAndKeyChanges() throws SQLException {
    postgres.createDatabase("decoding");
    try (Connection connection = postgres.connect("decoding");
        Statement statement = connection.createStatement()) {
      TypesWorkload.createTables(connection);
      TypesWorkload.initialLoad(connection, 50, 3);
      statement.execute("SELECT pg_create_logical_replication_slot('check', 'test_decoding')");
      new TypesWorkload(connection, 3).runTransactions(200);
      long unchangedToast = 0;
      long everythingKeyChanges = 0;
      long pairsKeyChanges = 0;
      long deletes = 0;
      try (ResultSet changes =
          statement.executeQuery(
              "SELECT data FROM pg_logical_slot_get_changes('check', NULL, NULL)")) {
        while (changes.next()) {
          String change = changes.getString(1);
          if (change.contains("c_big[text]:unchanged-toast-datum")) {
            unchangedToast++;
          }
          if (change.startsWith("table public.everything: UPDATE: old-key:")) {
            everythingKeyChanges++;
          }
          if (change.startsWith("table public.pairs: UPDATE: old-key:")) {
            pairsKeyChanges++;
          }
          if (change.startsWith("table public.everything: DELETE: id[bigint]:")) {
            deletes++;
          }
        }
      }
      statement.execute("SELECT pg_drop_replication_slot('check')");
      assertThat(unchangedToast).isPositive();
      assertThat(everythingKeyChanges).isPositive();
      assertThat(pairsKeyChanges).isPositive();
      assertThat(deletes).isPositive();
    }
  }

  @Test
  void sameSeedMakesSameChanges() throws SQLException {
    assertThat(fingerprintAfterWorkload("repeat_a"))
        .isEqualTo(fingerprintAfterWorkload("repeat_b"));
  }

  private static String fingerprintAfterWorkload(String database) throws SQLException {
    postgres.createDatabase(database);
    try (Connection connection = postgres.connect(database);
        Statement statement = connection.createStatement()) {
      TypesWorkload.createTables(connection);
      TypesWorkload.initialLoad(connection, 50, 7);
      new TypesWorkload(connection, 7).runTransactions(100);
      return text(statement, "SELECT md5(string_agg(e::text, '|' ORDER BY id)) FROM everything e")
          + text(statement, "SELECT md5(string_agg(p::text, '|' ORDER BY a, b)) FROM pairs p");
    }
  }

  private static long count(Statement statement, String sql) throws SQLException {
    try (ResultSet result = statement.executeQuery(sql)) {
      assertThat(result.next()).isTrue();
      return result.getLong(1);
    }
  }

  private static String text(Statement statement, String sql) throws SQLException {
    try (ResultSet result = statement.executeQuery(sql)) {
      assertThat(result.next()).isTrue();
      return result.getString(1);
    }
  }
}
