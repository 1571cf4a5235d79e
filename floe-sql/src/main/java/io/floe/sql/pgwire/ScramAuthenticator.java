package io.floe.sql.pgwire;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.text.Normalizer;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The server side of one SCRAM-SHA-256 exchange (RFC 5802, RFC 7677) without channel binding, as
 * PostgreSQL runs it: the client's first message, the server's challenge (nonce, salt, iteration
 * count), the client's proof, the server's signature.
 *
 * <p>The configured password is known in clear, so the salt is drawn anew for every exchange. An
 * unknown user gets an exchange that cannot succeed, indistinguishable from a wrong password.
 */
final class ScramAuthenticator {
  static final String MECHANISM = "SCRAM-SHA-256";
  static final int ITERATIONS = 4096;
  private static final Base64.Encoder BASE64 = Base64.getEncoder();
  private static final Base64.Decoder BASE64_DECODER = Base64.getDecoder();

  private final byte[] saltedPassword;

  /** True when no password can succeed: the user is unknown or has an empty password. */
  private final boolean impossible;

  private final String salt;
  private final String serverNonce;
  private String clientFirstBare;
  private String gs2Header;
  private String serverFirst;
  private String nonce;

  /** An exchange checking {@code password}; null for an unknown user. */
  ScramAuthenticator(String password, SecureRandom random) {
    this(password, randomBytes(random, 16), BASE64.encodeToString(randomBytes(random, 18)));
  }

  ScramAuthenticator(String password, byte[] salt, String serverNonce) {
    this.salt = BASE64.encodeToString(salt);
    this.serverNonce = serverNonce;
    this.impossible = password == null || password.isEmpty();
    // SASLprep's normalization, as clients apply it; the exchange still runs for impossible users.
    this.saltedPassword =
        impossible
            ? salt.clone()
            : pbkdf2(Normalizer.normalize(password, Normalizer.Form.NFKC), salt);
  }

  /** Reads the client's first message and returns the server's first message. */
  String serverFirst(String clientFirst) {
    int firstComma = clientFirst.indexOf(',');
    int secondComma = firstComma < 0 ? -1 : clientFirst.indexOf(',', firstComma + 1);
    if (secondComma < 0) {
      throw malformed("client-first-message");
    }
    String bindingFlag = clientFirst.substring(0, firstComma);
    if (bindingFlag.startsWith("p=")) {
      throw malformed("client-first-message: channel binding is not supported");
    }
    if (!bindingFlag.equals("n") && !bindingFlag.equals("y")) {
      throw malformed("client-first-message");
    }
    gs2Header = clientFirst.substring(0, secondComma + 1);
    clientFirstBare = clientFirst.substring(secondComma + 1);
    String clientNonce = attribute(clientFirstBare, 'r');
    if (clientNonce == null || clientNonce.isEmpty()) {
      throw malformed("client-first-message: no nonce");
    }
    nonce = clientNonce + serverNonce;
    serverFirst = "r=" + nonce + ",s=" + salt + ",i=" + ITERATIONS;
    return serverFirst;
  }

  /**
   * Checks the client's proof; returns the server's final message, or null when the proof is wrong.
   */
  String serverFinal(String clientFinal) {
    if (serverFirst == null) {
      throw malformed("client-final-message before client-first-message");
    }
    int proofStart = clientFinal.lastIndexOf(",p=");
    if (proofStart < 0) {
      throw malformed("client-final-message: no proof");
    }
    String withoutProof = clientFinal.substring(0, proofStart);
    String binding = attribute(withoutProof, 'c');
    if (!BASE64.encodeToString(gs2Header.getBytes(StandardCharsets.UTF_8)).equals(binding)) {
      throw malformed("client-final-message: channel binding data does not match");
    }
    if (!nonce.equals(attribute(withoutProof, 'r'))) {
      throw malformed("client-final-message: nonce does not match");
    }
    byte[] proof;
    try {
      proof = BASE64_DECODER.decode(clientFinal.substring(proofStart + 3));
    } catch (IllegalArgumentException e) {
      throw malformed("client-final-message: proof is not base64");
    }
    byte[] authMessage =
        (clientFirstBare + "," + serverFirst + "," + withoutProof).getBytes(StandardCharsets.UTF_8);
    byte[] clientKey = hmac(saltedPassword, "Client Key");
    byte[] storedKey = sha256(clientKey);
    byte[] clientSignature = hmac(storedKey, authMessage);
    if (proof.length != clientSignature.length) {
      return null;
    }
    byte[] claimedClientKey = new byte[proof.length];
    for (int i = 0; i < proof.length; i++) {
      claimedClientKey[i] = (byte) (proof[i] ^ clientSignature[i]);
    }
    if (!MessageDigest.isEqual(sha256(claimedClientKey), storedKey) || impossible) {
      return null;
    }
    byte[] serverSignature = hmac(hmac(saltedPassword, "Server Key"), authMessage);
    return "v=" + BASE64.encodeToString(serverSignature);
  }

  /** The value of {@code name=} in a comma-separated SCRAM message, or null. */
  private static String attribute(String message, char name) {
    for (String part : message.split(",", -1)) {
      if (part.length() >= 2 && part.charAt(0) == name && part.charAt(1) == '=') {
        return part.substring(2);
      }
    }
    return null;
  }

  private static RuntimeException malformed(String what) {
    return PgErrors.protocol("Cannot authenticate: malformed SCRAM " + what);
  }

  private static byte[] pbkdf2(String password, byte[] salt) {
    try {
      PBEKeySpec spec = new PBEKeySpec(password.toCharArray(), salt, ITERATIONS, 256);
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("PBKDF2WithHmacSHA256 is not available", e);
    }
  }

  private static byte[] hmac(byte[] key, String text) {
    return hmac(key, text.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] hmac(byte[] key, byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  private static byte[] randomBytes(SecureRandom random, int count) {
    byte[] bytes = new byte[count];
    random.nextBytes(bytes);
    return bytes;
  }
}
