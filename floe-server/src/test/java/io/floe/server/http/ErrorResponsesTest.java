package io.floe.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.sql.QueryException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class ErrorResponsesTest {
  @Test
  void bodyCarriesCodeSqlStateMessageAndPositionWhenThereIsOne() {
    QueryException located =
        new QueryException(
            ErrorCode.SQL_INVALID,
            QueryException.SqlState.SYNTAX_ERROR,
            "Cannot run query: syntax error at or near \"FORM\"",
            15,
            null);
    assertThat(new String(ErrorResponses.body(located), StandardCharsets.UTF_8))
        .isEqualTo(
            "{\"error\":{\"code\":\"FLOE-300\",\"sqlState\":\"42601\","
                + "\"message\":\"Cannot run query: syntax error at or near \\\"FORM\\\"\","
                + "\"position\":15}}\n");
    FloeException unlocated = new FloeException(ErrorCode.TABLE_NOT_FOUND, "Cannot query raw.x");
    assertThat(new String(ErrorResponses.body(unlocated), StandardCharsets.UTF_8))
        .isEqualTo(
            "{\"error\":{\"code\":\"FLOE-202\",\"sqlState\":\"42P01\","
                + "\"message\":\"Cannot query raw.x\"}}\n");
  }

  @Test
  void statusFollowsTheErrorType() {
    assertThat(ErrorResponses.status(new FloeException(ErrorCode.SQL_INVALID, "x"))).isEqualTo(400);
    assertThat(ErrorResponses.status(new FloeException(ErrorCode.SQL_CANCELLED, "x")))
        .isEqualTo(400);
    assertThat(ErrorResponses.status(new FloeException(ErrorCode.SQL_TIMEOUT, "x"))).isEqualTo(400);
    assertThat(ErrorResponses.status(new FloeException(ErrorCode.AUTHENTICATION_FAILED, "x")))
        .isEqualTo(401);
    assertThat(ErrorResponses.status(new FloeException(ErrorCode.CATALOG_FAILED, "x")))
        .isEqualTo(502);
    assertThat(ErrorResponses.status(new FloeException(ErrorCode.SQL_FAILED, "x"))).isEqualTo(500);
  }

  @Test
  void parsesBasicCredentials() {
    String encoded =
        Base64.getEncoder().encodeToString("alice:pa:ss wörd".getBytes(StandardCharsets.UTF_8));
    assertThat(BasicCredentials.parse("Basic " + encoded))
        .hasValue(new BasicCredentials("alice", "pa:ss wörd"));
    assertThat(BasicCredentials.parse("basic " + encoded)).isPresent();
    assertThat(BasicCredentials.parse(null)).isEmpty();
    assertThat(BasicCredentials.parse("Bearer " + encoded)).isEmpty();
    assertThat(BasicCredentials.parse("Basic %%%")).isEmpty();
    assertThat(
            BasicCredentials.parse(
                "Basic "
                    + Base64.getEncoder()
                        .encodeToString("nocolon".getBytes(StandardCharsets.UTF_8))))
        .isEmpty();
    assertThat(new BasicCredentials("alice", "secret").toString()).doesNotContain("secret");
  }
}
