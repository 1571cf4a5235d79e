package io.floe.catalog;

import static java.util.Objects.requireNonNull;

import io.floe.core.config.PrincipalConfig;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.spec.KeySpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The principals that may get tokens, each with a salted PBKDF2 hash of its secret: the secret
 * itself is not kept. Each principal also has a fingerprint of its secret, which the tokens issued
 * to it carry, so that changing the secret invalidates them.
 */
public final class Principals {
  private static final String HASH_ALGORITHM = "PBKDF2WithHmacSHA256";
  private static final int ITERATIONS = 100_000;
  private static final int HASH_BITS = 256;
  private static final int SALT_BYTES = 16;

  private record Entry(Principal principal, byte[] salt, byte[] hash, byte[] fingerprint) {}

  private final Map<String, Entry> entries;

  /** Hash of a secret no principal has, so an unknown name costs as much as a wrong secret. */
  private final Entry unknown;

  private Principals(Map<String, Entry> entries, Entry unknown) {
    this.entries = Map.copyOf(entries);
    this.unknown = unknown;
  }

  /**
   * The configured principals.
   *
   * @param fingerprintKey key of the secrets' fingerprints; the same key gives the same
   *     fingerprints, so tokens outlive a restart with unchanged secrets
   */
  public static Principals of(List<PrincipalConfig> principals, byte[] fingerprintKey) {
    requireNonNull(principals, "principals is null");
    requireNonNull(fingerprintKey, "fingerprintKey is null");
    SecureRandom random = new SecureRandom();
    Map<String, Entry> entries = new LinkedHashMap<>();
    for (PrincipalConfig config : principals) {
      byte[] salt = new byte[SALT_BYTES];
      random.nextBytes(salt);
      entries.put(
          config.name(),
          new Entry(
              new Principal(config.name()),
              salt,
              hash(config.secret(), salt),
              fingerprint(fingerprintKey, config.name(), config.secret())));
    }
    byte[] salt = new byte[SALT_BYTES];
    random.nextBytes(salt);
    byte[] secret = new byte[32];
    random.nextBytes(secret);
    Entry unknown =
        new Entry(
            Principal.ANONYMOUS,
            salt,
            hash(new String(secret, StandardCharsets.ISO_8859_1), salt),
            new byte[0]);
    return new Principals(entries, unknown);
  }

  /** The principal called {@code name} when {@code secret} is its secret. */
  public Optional<Principal> authenticate(String name, String secret) {
    requireNonNull(name, "name is null");
    requireNonNull(secret, "secret is null");
    Entry entry = entries.get(name);
    Entry compared = entry == null ? unknown : entry;
    boolean matches = MessageDigest.isEqual(compared.hash(), hash(secret, compared.salt()));
    return matches && entry != null ? Optional.of(entry.principal()) : Optional.empty();
  }

  /** The fingerprint of the current secret of the principal called {@code name}. */
  Optional<byte[]> fingerprint(String name) {
    Entry entry = entries.get(name);
    return entry == null ? Optional.empty() : Optional.of(entry.fingerprint().clone());
  }

  /** The principal called {@code name}, if declared. */
  Optional<Principal> principal(String name) {
    Entry entry = entries.get(name);
    return entry == null ? Optional.empty() : Optional.of(entry.principal());
  }

  public boolean isEmpty() {
    return entries.isEmpty();
  }

  private static byte[] hash(String secret, byte[] salt) {
    KeySpec spec = new PBEKeySpec(secret.toCharArray(), salt, ITERATIONS, HASH_BITS);
    try {
      return SecretKeyFactory.getInstance(HASH_ALGORITHM).generateSecret(spec).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("The JVM cannot compute " + HASH_ALGORITHM, e);
    }
  }

  private static byte[] fingerprint(byte[] key, String name, String secret) {
    return Tokens.hmac(key, ("secret\0" + name + "\0" + secret).getBytes(StandardCharsets.UTF_8));
  }

  static Mac mac(byte[] key) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("The JVM cannot compute HmacSHA256", e);
    }
  }
}
