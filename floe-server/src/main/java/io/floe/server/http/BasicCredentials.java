package io.floe.server.http;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;

/** A user name and password sent with HTTP Basic authentication (RFC 7617). */
record BasicCredentials(String user, String password) {
  private static final String SCHEME = "basic ";

  BasicCredentials {
    requireNonNull(user, "user is null");
    requireNonNull(password, "password is null");
  }

  /** The credentials of an {@code Authorization} header; empty when absent or not Basic. */
  static Optional<BasicCredentials> parse(String header) {
    if (header == null || !header.toLowerCase(Locale.ROOT).startsWith(SCHEME)) {
      return Optional.empty();
    }
    String decoded;
    try {
      decoded =
          new String(
              Base64.getDecoder().decode(header.substring(SCHEME.length()).trim()),
              StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    int colon = decoded.indexOf(':');
    if (colon < 0) {
      return Optional.empty();
    }
    return Optional.of(
        new BasicCredentials(decoded.substring(0, colon), decoded.substring(colon + 1)));
  }

  @Override
  public String toString() {
    return "BasicCredentials[user=" + user + ", password=***]";
  }
}
