package io.floe.sql.pgwire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.sql.QueryException;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class ScramAuthenticatorTest {
  // The SCRAM-SHA-256 example exchange of RFC 7677, section 3.
  private static final byte[] SALT = Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ==");
  private static final String SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  private static final String CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
  private static final String NONCE = "rOprNGfwEbeRWgbNEkqO" + SERVER_NONCE;
  private static final String CLIENT_FINAL =
      "c=biws,r=" + NONCE + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

  @Test
  void runsTheExampleExchangeOfRfc7677() {
    ScramAuthenticator scram = new ScramAuthenticator("pencil", SALT, SERVER_NONCE);
    assertThat(scram.serverFirst(CLIENT_FIRST))
        .isEqualTo("r=" + NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    assertThat(scram.serverFinal(CLIENT_FINAL))
        .isEqualTo("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  }

  @Test
  void refusesAProofForAnotherPassword() {
    ScramAuthenticator scram = new ScramAuthenticator("pencil2", SALT, SERVER_NONCE);
    scram.serverFirst(CLIENT_FIRST);
    assertThat(scram.serverFinal(CLIENT_FINAL)).isNull();
  }

  @Test
  void refusesEveryProofForAnUnknownUser() {
    ScramAuthenticator scram = new ScramAuthenticator(null, SALT, SERVER_NONCE);
    assertThat(scram.serverFirst(CLIENT_FIRST)).startsWith("r=" + NONCE + ",s=");
    assertThat(scram.serverFinal(CLIENT_FINAL)).isNull();
  }

  @Test
  void refusesChannelBindingAndForeignNonces() {
    ScramAuthenticator binding = new ScramAuthenticator("pencil", SALT, SERVER_NONCE);
    assertThatThrownBy(() -> binding.serverFirst("p=tls-server-end-point,,n=,r=abc"))
        .isInstanceOfSatisfying(
            QueryException.class, e -> assertThat(e.sqlState()).isEqualTo("08P01"))
        .hasMessageContaining("channel binding is not supported");
    ScramAuthenticator replay = new ScramAuthenticator("pencil", SALT, "another-nonce");
    replay.serverFirst(CLIENT_FIRST);
    assertThatThrownBy(() -> replay.serverFinal(CLIENT_FINAL))
        .hasMessageContaining("nonce does not match");
  }
}
