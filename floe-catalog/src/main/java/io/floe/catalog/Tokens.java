package io.floe.catalog;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.apache.iceberg.exceptions.NotAuthorizedException;

/**
 * Bearer tokens: {@code floe1.<payload>.<signature>}, the payload naming the principal, the expiry
 * and the fingerprint of the principal's secret when the token was issued, signed with HMAC-SHA256
 * under the catalog's key. A token is valid until it expires, while its principal is declared with
 * the same secret; nothing about issued tokens is stored.
 */
public final class Tokens {
  private static final String PREFIX = "floe1.";
  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder DECODER = Base64.getUrlDecoder();
  private static final HexFormat HEX = HexFormat.of();

  /** A token and how long it is valid. */
  public record Issued(String token, Duration lifetime) {}

  private final byte[] key;
  private final Principals principals;
  private final Duration lifetime;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  /**
   * @param key the signing key, at least 32 bytes
   * @param lifetime how long an issued token is valid
   */
  public Tokens(byte[] key, Principals principals, Duration lifetime, Clock clock) {
    requireNonNull(key, "key is null");
    if (key.length < 32) {
      throw new IllegalArgumentException("key has fewer than 32 bytes");
    }
    this.key = key.clone();
    this.principals = requireNonNull(principals, "principals is null");
    this.lifetime = requireNonNull(lifetime, "lifetime is null");
    this.clock = requireNonNull(clock, "clock is null");
  }

  /** Issues a token to a declared principal. */
  public Issued issue(Principal principal) {
    byte[] fingerprint =
        principals
            .fingerprint(principal.name())
            .orElseThrow(
                () -> new IllegalArgumentException("unknown principal " + principal.name()));
    byte[] nonce = new byte[12];
    random.nextBytes(nonce);
    String payload =
        String.join(
            "\n",
            principal.name(),
            Long.toString(clock.instant().plus(lifetime).getEpochSecond()),
            HEX.formatHex(fingerprint),
            HEX.formatHex(nonce));
    String encoded = ENCODER.encodeToString(payload.getBytes(StandardCharsets.UTF_8));
    return new Issued(PREFIX + encoded + "." + signature(encoded), lifetime);
  }

  /**
   * The principal a token was issued to.
   *
   * @throws NotAuthorizedException when the token is malformed or forged, has expired, or its
   *     principal is no longer declared or has another secret
   */
  public Principal verify(String token) {
    requireNonNull(token, "token is null");
    if (!token.startsWith(PREFIX)) {
      throw invalid("it was not issued by this catalog");
    }
    String rest = token.substring(PREFIX.length());
    int dot = rest.indexOf('.');
    if (dot < 0) {
      throw invalid("it is malformed");
    }
    String encoded = rest.substring(0, dot);
    // Compared as text: base64 decoding ignores the unused low bits of the last character, so
    // another spelling of the same bytes must not pass for the token that was issued.
    byte[] signature = rest.substring(dot + 1).getBytes(StandardCharsets.US_ASCII);
    if (!MessageDigest.isEqual(signature, signature(encoded).getBytes(StandardCharsets.US_ASCII))) {
      throw invalid("its signature does not match (forged, or signed by another catalog)");
    }
    List<String> fields =
        List.of(new String(DECODER.decode(encoded), StandardCharsets.UTF_8).split("\n", -1));
    if (fields.size() != 4) {
      throw invalid("it is malformed");
    }
    Instant expiry = Instant.ofEpochSecond(Long.parseLong(fields.get(1)));
    if (!clock.instant().isBefore(expiry)) {
      throw new NotAuthorizedException(
          "Not authorized: the token expired at %s; get a new one from POST /v1/oauth/tokens",
          expiry);
    }
    Principal principal =
        principals.principal(fields.get(0)).orElseThrow(() -> invalid("its principal is gone"));
    byte[] fingerprint = principals.fingerprint(principal.name()).orElseThrow();
    if (!Arrays.equals(fingerprint, HEX.parseHex(fields.get(2)))) {
      throw new NotAuthorizedException(
          "Not authorized: the secret of %s changed after the token was issued; get a new token"
              + " with the new secret from POST /v1/oauth/tokens",
          principal.name());
    }
    return principal;
  }

  private String signature(String encodedPayload) {
    return ENCODER.encodeToString(hmac(key, encodedPayload.getBytes(StandardCharsets.US_ASCII)));
  }

  static byte[] hmac(byte[] key, byte[] data) {
    return Principals.mac(key).doFinal(data);
  }

  private static NotAuthorizedException invalid(String reason) {
    return new NotAuthorizedException(
        "Not authorized: the bearer token is invalid: %s; get a token from POST /v1/oauth/tokens",
        reason);
  }
}
