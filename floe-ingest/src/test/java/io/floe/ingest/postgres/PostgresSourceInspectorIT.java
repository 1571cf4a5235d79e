package io.floe.ingest.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.PostgresSourceConfig;
import io.floe.core.config.SourceType;
import io.floe.core.config.UnboundedNumeric;
import io.floe.demo.EmbeddedPostgres;
import io.floe.ingest.SourceTable;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The source checks against a real PostgreSQL: each problem is reported with its fix. */
class PostgresSourceInspectorIT {
  private static EmbeddedPostgres postgres;

  @BeforeAll
  static void start() throws Exception {
    postgres = EmbeddedPostgres.start();
    postgres.createDatabase("inspect");
    try (Connection connection = postgres.connect("inspect");
        Statement statement = connection.createStatement()) {
      statement.execute(
          "CREATE TABLE keyed (id int PRIMARY KEY, n numeric(12,3), u numeric, t text[])");
      statement.execute("CREATE TABLE keyless (a int, b text)");
      statement.execute("CREATE TABLE shapes (id int PRIMARY KEY, p point)");
      statement.execute("CREATE ROLE plain LOGIN");
      statement.execute("CREATE ROLE replicator LOGIN REPLICATION");
      statement.execute("GRANT SELECT ON keyed TO replicator");
    }
  }

  @AfterAll
  static void stop() {
    if (postgres != null) {
      postgres.close();
    }
  }

  private static PostgresSourceConfig source(String user, String database, List<String> tables) {
    return new PostgresSourceConfig(
        SourceType.POSTGRES,
        postgres.jdbcUrl(database),
        user,
        "",
        tables,
        "floe_inspect",
        "floe_inspect",
        UnboundedNumeric.DECIMAL);
  }

  @Test
  void mapsTypesAndCreatesPublication() throws Exception {
    List<SourceTable> tables =
        new PostgresSourceInspector(
                "p", source(postgres.user(), "inspect", List.of("public.keyed")))
            .inspect();
    SourceTable keyed = tables.get(0);
    assertThat(keyed.icebergSchema().identifierFieldNames()).containsExactly("id");
    assertThat(keyed.icebergSchema().findField("n").type()).isEqualTo(Types.DecimalType.of(12, 3));
    assertThat(keyed.icebergSchema().findField("u").type()).isEqualTo(Types.DecimalType.of(38, 10));
    assertThat(keyed.icebergSchema().findField("t").type())
        .isEqualTo(Types.ListType.ofOptional(5, Types.StringType.get()));
    try (Connection connection = postgres.connect("inspect");
        Statement statement = connection.createStatement()) {
      var result =
          statement.executeQuery(
              "SELECT tablename FROM pg_publication_tables WHERE pubname = 'floe_inspect'");
      assertThat(result.next()).isTrue();
      assertThat(result.getString(1)).isEqualTo("keyed");
    }
  }

  @Test
  void refusesTablesWithoutPrimaryKeyUnknownTablesAndUnmappableTypes() {
    assertThatThrownBy(
            () ->
                new PostgresSourceInspector(
                        "p",
                        source(
                            postgres.user(),
                            "inspect",
                            List.of("public.keyless", "public.missing", "public.shapes")))
                    .inspect())
        .isInstanceOfSatisfying(
            FloeException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.SOURCE_TABLE_INVALID))
        .hasMessageContaining("Cannot replicate the tables of pipeline p")
        .hasMessageContaining(
            "public.keyless: it has no primary key, so changed rows cannot be identified; add one"
                + " (ALTER TABLE \"public\".\"keyless\" ADD PRIMARY KEY (...);)")
        .hasMessageContaining(
            "public.missing: no such table; tables in schema public: keyed, keyless, shapes")
        .hasMessageContaining("public.shapes: column p has type point, which Floe cannot map yet");
  }

  @Test
  void explainsMissingReplicationPrivilege() {
    assertThatThrownBy(
            () ->
                new PostgresSourceInspector(
                        "p", source("plain", "inspect", List.of("public.keyed")))
                    .inspect())
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SOURCE_NOT_READY))
        .hasMessageContaining(
            "user plain lacks the REPLICATION privilege: run ALTER ROLE \"plain\" WITH REPLICATION;");
  }

  @Test
  void explainsMissingSelectGrantAndPublicationOwnership() {
    assertThatThrownBy(
            () ->
                new PostgresSourceInspector(
                        "p", source("replicator", "inspect", List.of("public.keyless")))
                    .inspect())
        .hasMessageContaining(
            "public.keyless: user replicator cannot read it: run GRANT SELECT ON \"public\".\"keyless\""
                + " TO \"replicator\";");
    assertThatThrownBy(
            () ->
                new PostgresSourceInspector(
                        "q",
                        new PostgresSourceConfig(
                            SourceType.POSTGRES,
                            postgres.jdbcUrl("inspect"),
                            "replicator",
                            "",
                            List.of("public.keyed"),
                            "floe_q",
                            "floe_q",
                            UnboundedNumeric.DECIMAL))
                    .inspect())
        .hasMessageContaining("Cannot create publication floe_q for pipeline q")
        .hasMessageContaining(
            "ask a database owner to run: CREATE PUBLICATION \"floe_q\" FOR TABLE \"public\".\"keyed\";");
  }

  @Test
  void explainsWalLevelThatIsNotLogical() throws Exception {
    try (EmbeddedPostgres replica =
        EmbeddedPostgres.startWithSettings(Map.of("wal_level", "replica"))) {
      replica.createDatabase("inspect");
      PostgresSourceConfig config =
          new PostgresSourceConfig(
              SourceType.POSTGRES,
              replica.jdbcUrl("inspect"),
              replica.user(),
              "",
              List.of("public.anything"),
              "s",
              "s",
              UnboundedNumeric.DECIMAL);
      assertThatThrownBy(() -> new PostgresSourceInspector("p", config).inspect())
          .isInstanceOfSatisfying(
              FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SOURCE_NOT_READY))
          .hasMessageContaining(
              "wal_level is 'replica' but must be 'logical': run ALTER SYSTEM SET wal_level ="
                  + " logical; then restart PostgreSQL");
    }
  }

  @Test
  void explainsUnreachableServerAndMissingDatabase() {
    PostgresSourceConfig unreachable =
        new PostgresSourceConfig(
            SourceType.POSTGRES,
            "jdbc:postgresql://127.0.0.1:1/inspect",
            "postgres",
            "",
            List.of("public.keyed"),
            "s",
            "s",
            UnboundedNumeric.DECIMAL);
    assertThatThrownBy(() -> new PostgresSourceInspector("p", unreachable).inspect())
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SOURCE_UNREACHABLE))
        .hasMessageStartingWith(
            "Cannot connect to PostgreSQL at jdbc:postgresql://127.0.0.1:1/inspect as postgres:")
        .hasMessageContaining("check that PostgreSQL is running and reachable at this address");
    assertThatThrownBy(
            () ->
                new PostgresSourceInspector(
                        "p", source(postgres.user(), "nosuchdb", List.of("public.keyed")))
                    .inspect())
        .hasMessageContaining("the database does not exist; check the database name in source.url");
  }
}
