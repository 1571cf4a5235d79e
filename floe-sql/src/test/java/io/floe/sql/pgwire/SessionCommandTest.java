package io.floe.sql.pgwire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.sql.QueryException;
import org.junit.jupiter.api.Test;

class SessionCommandTest {
  private final SessionState state = new SessionState("analyst", "psql");

  private SessionCommand.Result run(String sql) {
    return SessionCommand.parse(sql).run(state);
  }

  private String show(String sql) {
    return run(sql).rows().get(0)[0];
  }

  @Test
  void leavesQueriesToTheEngine() {
    assertThat(SessionCommand.parse("SELECT 1")).isNull();
    assertThat(SessionCommand.parse("WITH s AS (SELECT 1) SELECT * FROM s")).isNull();
    assertThat(SessionCommand.parse("START 1")).isNull();
    assertThat(SessionCommand.parse("settings")).isNull();
  }

  @Test
  void recordsSettingsButKeepsTheFixedOnes() {
    assertThat(run("SET application_name = 'report'").applicationNameChanged()).isTrue();
    assertThat(show("SHOW application_name")).isEqualTo("report");
    assertThat(run("SET SESSION extra_float_digits TO 3").tag()).isEqualTo("SET");
    assertThat(show("show EXTRA_FLOAT_DIGITS")).isEqualTo("3");
    assertThat(run("SET DateStyle = 'SQL, DMY'").applicationNameChanged()).isFalse();
    assertThat(show("SHOW datestyle")).isEqualTo("ISO, MDY");
    assertThat(SessionCommand.parse("SHOW datestyle").columns(state))
        .extracting(PgColumn::name)
        .containsExactly("DateStyle");
    assertThat(run("SET TIME ZONE 'Europe/Paris'").tag()).isEqualTo("SET");
    assertThat(show("SHOW TIME ZONE")).isEqualTo("UTC");
    assertThat(show("SHOW TRANSACTION ISOLATION LEVEL")).isEqualTo("read committed");
    assertThat(show("SHOW server_version")).isEqualTo("16.0 (Floe)");
    assertThat(run("RESET extra_float_digits").tag()).isEqualTo("RESET");
    assertThatThrownBy(() -> run("SHOW extra_float_digits"))
        .isInstanceOfSatisfying(
            QueryException.class, e -> assertThat(e.sqlState()).isEqualTo("42704"));
    assertThat(run("SET application_name TO DEFAULT").applicationNameChanged()).isTrue();
    assertThat(show("SHOW application_name")).isEqualTo("psql");
    assertThat(run("SHOW ALL").rows()).hasSizeGreaterThan(10);
  }

  @Test
  void tracksTransactionBlocks() {
    assertThat(run("BEGIN").tag()).isEqualTo("BEGIN");
    assertThat(state.transactionStatus()).isEqualTo('T');
    assertThat(run("SAVEPOINT a").tag()).isEqualTo("SAVEPOINT");
    assertThat(run("ROLLBACK TO SAVEPOINT a").tag()).isEqualTo("ROLLBACK");
    assertThat(state.transactionStatus()).isEqualTo('T');
    assertThat(run("END").tag()).isEqualTo("COMMIT");
    assertThat(state.transactionStatus()).isEqualTo('I');
    assertThat(run("START TRANSACTION READ ONLY").tag()).isEqualTo("START TRANSACTION");
    assertThat(run("ABORT").tag()).isEqualTo("ROLLBACK");
    assertThat(state.transactionStatus()).isEqualTo('I');
  }

  @Test
  void discardsAndDeallocates() {
    run("SET application_name = 'x'");
    SessionCommand.Result discard = run("DISCARD ALL");
    assertThat(discard.tag()).isEqualTo("DISCARD ALL");
    assertThat(discard.discardAll()).isTrue();
    assertThat(discard.applicationNameChanged()).isTrue();
    assertThat(run("DEALLOCATE PREPARE \"S_1\"").deallocate()).isEqualTo("S_1");
    assertThat(run("DEALLOCATE ALL").deallocate()).isEmpty();
  }
}
