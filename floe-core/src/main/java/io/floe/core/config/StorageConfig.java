package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * How Floe reaches a warehouse in S3-compatible object storage: the {@code storage} section. Unused
 * for a warehouse on the local file system. {@link #toString()} hides the secret access key so the
 * record can be logged.
 *
 * @param endpoint the S3 API endpoint, such as {@code http://minio.internal:9000}; empty for AWS
 *     S3's own endpoint of the region
 * @param region the region the client signs requests for
 * @param pathStyleAccess whether buckets are addressed as {@code <endpoint>/<bucket>} instead of
 *     {@code <bucket>.<endpoint>}, as most S3-compatible servers need
 * @param accessKeyId the access key id, empty for the AWS SDK's default credentials (environment,
 *     profile, instance role)
 * @param secretAccessKey the secret access key, empty exactly when {@code accessKeyId} is
 */
public record StorageConfig(
    Optional<String> endpoint,
    String region,
    boolean pathStyleAccess,
    String accessKeyId,
    String secretAccessKey) {
  public StorageConfig {
    requireNonNull(endpoint, "endpoint is null");
    requireNonNull(region, "region is null");
    requireNonNull(accessKeyId, "accessKeyId is null");
    requireNonNull(secretAccessKey, "secretAccessKey is null");
    if (accessKeyId.isEmpty() != secretAccessKey.isEmpty()) {
      throw new IllegalArgumentException(
          "accessKeyId and secretAccessKey must be both set or both empty");
    }
  }

  /** The configuration used when the file has no {@code storage} section. */
  public static StorageConfig defaults() {
    return FloeConfigSchema.storageDefaults();
  }

  /** Whether the keys are given, as opposed to left to the AWS SDK's default credentials. */
  public boolean hasCredentials() {
    return !accessKeyId.isEmpty();
  }

  @Override
  public String toString() {
    return "StorageConfig[endpoint=%s, region=%s, pathStyleAccess=%s, accessKeyId=%s, secretAccessKey=%s]"
        .formatted(
            endpoint.orElse("(AWS)"),
            region,
            pathStyleAccess,
            accessKeyId,
            secretAccessKey.isEmpty() ? "" : "***");
  }
}
