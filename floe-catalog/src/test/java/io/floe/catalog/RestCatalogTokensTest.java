package io.floe.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.floe.core.config.PrincipalConfig;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Authentication of the running REST catalog: bearer tokens that are missing, malformed, forged,
 * expired or issued before the secret changed are refused with 401 (and change nothing); tokens
 * outlive a restart while the secret is unchanged; the token endpoint answers in OAuth2's format.
 */
class RestCatalogTokensTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration LIFETIME = Duration.ofMinutes(10);
  private static final String CREATE = "{\"namespace\":[\"created\"],\"properties\":{}}";

  @TempDir Path directory;
  private final MutableClock clock = new MutableClock(Instant.parse("2026-12-06T12:00:00Z"));
  private RestCatalogFixture fixture;

  @BeforeEach
  void start() throws Exception {
    fixture =
        RestCatalogFixture.start(
            RestCatalogFixture.Metastore.SQLITE, directory.resolve("warehouse"), clock, LIFETIME);
  }

  @AfterEach
  void stop() throws Exception {
    fixture.close();
  }

  @Test
  void missingTokenIsRefusedWithChallenge() {
    HttpResponse<String> response = fixture.send("GET", "/v1/namespaces", null, (String) null);
    assertUnauthorized(response);
    assertThat(response.body()).contains("no bearer token");
    assertUnauthorized(fixture.send("POST", "/v1/namespaces", CREATE, null));
    assertThat(fixture.catalog().listNamespaces()).isEmpty();
  }

  @Test
  void malformedTokensAreRefused() {
    for (String header :
        List.of(
            "Bearer",
            "Bearer ",
            "Bearer garbage",
            "Bearer floe1.",
            "Bearer floe1..",
            "Bearer floe1.abc",
            "Bearer floe1.!!!.!!!",
            "Bearer floe1.abc.def.ghi",
            "Bearer floe1.\u00e9\u00e9.xx",
            "Basic " + base64("spark:spark-secret"),
            "Token " + fixture.token(),
            "bearer" + fixture.token())) {
      HttpResponse<String> response =
          fixture.sendRaw(
              "POST",
              "/v1/namespaces",
              java.net.http.HttpRequest.BodyPublishers.ofString(CREATE),
              Map.of("Authorization", header, "Content-Type", "application/json"));
      assertThat(response.statusCode()).as(header + ": " + response.body()).isEqualTo(401);
      assertUnauthorized(response);
    }
    assertThat(fixture.catalog().listNamespaces()).isEmpty();
  }

  @Test
  void forgedTokensAreRefused() throws Exception {
    String token = fixture.token();
    assertThat(fixture.send("GET", "/v1/namespaces", null, token).statusCode()).isEqualTo(200);
    String[] parts = token.split("\\.");
    assertThat(parts).hasSize(3);
    String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
    List<String> fields = List.of(payload.split("\n", -1));

    // The signature changed in its first character (every bit of it is signature, unlike the
    // last character of unpadded base64).
    char first = parts[2].charAt(0);
    String flipped =
        parts[0] + "." + parts[1] + "." + (first == 'A' ? 'B' : 'A') + parts[2].substring(1);
    // The payload changed, the signature kept: another principal, a later expiry.
    String otherPrincipal =
        parts[0] + "." + encode(payload.replaceFirst("^spark\n", "admin\n")) + "." + parts[2];
    String laterExpiry =
        parts[0]
            + "."
            + encode(String.join("\n", fields.get(0), "99999999999", fields.get(2), fields.get(3)))
            + "."
            + parts[2];
    // No signature at all, and a token signed by another catalog (another key).
    String unsigned = parts[0] + "." + parts[1] + ".";
    String otherCatalog;
    try (RestCatalogFixture other =
        RestCatalogFixture.start(
            RestCatalogFixture.Metastore.SQLITE, directory.resolve("other"), clock, LIFETIME)) {
      otherCatalog = other.token();
    }
    for (String forged : List.of(flipped, otherPrincipal, laterExpiry, unsigned, otherCatalog)) {
      HttpResponse<String> response = fixture.send("POST", "/v1/namespaces", CREATE, forged);
      assertUnauthorized(response);
      assertThat(response.body()).as(forged).contains("invalid");
    }
    assertThat(fixture.catalog().listNamespaces()).isEmpty();
  }

  @Test
  void expiredTokensAreRefused() {
    String token = fixture.token();
    clock.advance(LIFETIME.minusSeconds(1));
    assertThat(fixture.send("GET", "/v1/namespaces", null, token).statusCode()).isEqualTo(200);
    clock.advance(Duration.ofSeconds(1));
    HttpResponse<String> expired = fixture.send("POST", "/v1/namespaces", CREATE, token);
    assertUnauthorized(expired);
    assertThat(expired.body()).contains("expired");
    assertThat(fixture.catalog().listNamespaces()).isEmpty();
    // Exchanging the expired token for a new one is refused too.
    HttpResponse<String> exchange =
        fixture.postTokenForm(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token="
                + token
                + "&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token",
            Map.of());
    assertOAuthError(exchange, 400, "invalid_grant");
    // A new token, issued now, works.
    String fresh = fixture.token();
    assertThat(fixture.send("POST", "/v1/namespaces", CREATE, fresh).statusCode()).isEqualTo(200);
  }

  @ParameterizedTest
  @EnumSource(RestCatalogFixture.Metastore.class)
  void aRotatedSecretInvalidatesTokensAndAnUnchangedOneSurvivesRestarts(
      RestCatalogFixture.Metastore metastore) throws Exception {
    try (RestCatalogFixture server =
        RestCatalogFixture.start(metastore, directory.resolve("rotated"), clock, LIFETIME)) {
      String tokenA = server.token();
      assertThat(server.send("GET", "/v1/namespaces", null, tokenA).statusCode()).isEqualTo(200);

      // Restarted with the same secret: the key is in the catalog database, the token holds.
      server.restart(RestCatalogFixture.PRINCIPALS);
      assertThat(server.send("GET", "/v1/namespaces", null, tokenA).statusCode()).isEqualTo(200);

      // Restarted with a new secret for the same principal: the old token and secret are refused.
      server.restart(
          List.of(new PrincipalConfig(RestCatalogFixture.PRINCIPAL, "secret-b", "primary")));
      HttpResponse<String> old = server.send("POST", "/v1/namespaces", CREATE, tokenA);
      assertUnauthorized(old);
      assertThat(old.body()).contains("secret");
      assertThat(server.catalog().listNamespaces()).isEmpty();
      assertOAuthError(
          server.postTokenForm(
              "grant_type=client_credentials&client_id=spark&client_secret=spark-secret", Map.of()),
          401,
          "invalid_client");
      String tokenB = server.token(RestCatalogFixture.PRINCIPAL, "secret-b");
      assertThat(server.send("POST", "/v1/namespaces", CREATE, tokenB).statusCode()).isEqualTo(200);
      // Another restart with secret B: the old token stays refused, the new one holds.
      server.restart(
          List.of(new PrincipalConfig(RestCatalogFixture.PRINCIPAL, "secret-b", "primary")));
      assertUnauthorized(server.send("GET", "/v1/namespaces", null, tokenA));
      assertThat(server.send("GET", "/v1/namespaces", null, tokenB).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void tokenEndpointRefusesBadClientsInOAuthFormat() {
    assertOAuthError(
        fixture.postTokenForm(
            "grant_type=client_credentials&client_id=spark&client_secret=wrong", Map.of()),
        401,
        "invalid_client");
    assertOAuthError(
        fixture.postTokenForm(
            "grant_type=client_credentials&client_id=nobody&client_secret=spark-secret", Map.of()),
        401,
        "invalid_client");
    assertOAuthError(
        fixture.postTokenForm("grant_type=password&username=spark&password=spark-secret", Map.of()),
        400,
        "unsupported_grant_type");
    assertOAuthError(
        fixture.postTokenForm("client_id=spark&client_secret=spark-secret", Map.of()),
        400,
        "unsupported_grant_type");
    assertOAuthError(
        fixture.postTokenForm("grant_type=client_credentials&client_id=spark", Map.of()),
        400,
        "invalid_request");
    assertOAuthError(
        fixture.postTokenForm("grant_type=client_credentials", Map.of()), 400, "invalid_request");
    for (String malformed : List.of("", "grant_type", "a=1&a=2", "grant_type=%ZZ", "&&&")) {
      assertOAuthError(fixture.postTokenForm(malformed, Map.of()), 400, null);
    }
    assertOAuthError(
        fixture.postTokenForm(
            "grant_type=client_credentials",
            Map.of("Authorization", "Basic " + base64("spark:wrong"))),
        401,
        "invalid_client");
  }

  @Test
  void tokenEndpointAcceptsHttpBasicClientAuthentication() throws Exception {
    HttpResponse<String> response =
        fixture.postTokenForm(
            "grant_type=client_credentials&scope=catalog",
            Map.of("Authorization", "Basic " + base64("spark:spark-secret")));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    JsonNode token = JSON.readTree(response.body());
    assertThat(token.get("token_type").asText()).isEqualToIgnoringCase("bearer");
    assertThat(token.get("expires_in").asLong()).isEqualTo(LIFETIME.toSeconds());
    String accessToken = token.get("access_token").asText();
    assertThat(fixture.send("POST", "/v1/namespaces", CREATE, accessToken).statusCode())
        .isEqualTo(200);
  }

  private static void assertUnauthorized(HttpResponse<String> response) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(401);
    assertThat(response.headers().firstValue("WWW-Authenticate"))
        .hasValueSatisfying(value -> assertThat(value).startsWith("Bearer"));
    JsonNode error = errorOf(response.body()).get("error");
    assertThat(error.get("code").asInt()).isEqualTo(401);
    assertThat(error.get("type").asText()).isEqualTo("NotAuthorizedException");
    assertThat(error.get("message").asText()).isNotBlank();
    assertThat(response.body()).doesNotContain("\tat ").doesNotContain("Exception:");
  }

  /** Asserts RFC 6749's error JSON; {@code error} null: any error code. */
  private static void assertOAuthError(HttpResponse<String> response, int status, String error) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    JsonNode body = errorOf(response.body());
    assertThat(body.get("error").isTextual()).as(response.body()).isTrue();
    if (error != null) {
      assertThat(body.get("error").asText()).isEqualTo(error);
    }
    assertThat(body.get("error_description").asText()).isNotBlank();
    assertThat(response.body()).doesNotContain("\tat ").doesNotContain("Exception:");
    if (status == 401) {
      assertThat(response.headers().firstValue("WWW-Authenticate")).isPresent();
    }
  }

  private static JsonNode errorOf(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + body, e);
    }
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  private static String encode(String payload) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(payload.getBytes(StandardCharsets.UTF_8));
  }

  /** A clock the test moves. */
  static final class MutableClock extends Clock {
    private final AtomicReference<Instant> now;

    MutableClock(Instant start) {
      this.now = new AtomicReference<>(start);
    }

    void advance(Duration duration) {
      now.updateAndGet(instant -> instant.plus(duration));
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now.get();
    }
  }
}
