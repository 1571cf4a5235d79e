package io.floe.testing;

import static java.util.Objects.requireNonNull;

import io.floe.core.config.StorageConfig;
import io.floe.core.config.WarehouseConfig;
import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;

/**
 * An S3 API server on loopback for tests: s3proxy over an in-memory store, with one bucket and
 * signed (V2 or V4) requests required, as a warehouse in object storage reaches it: path-style
 * access, region {@code us-east-1}.
 */
public final class S3Server implements AutoCloseable {
  public static final String ACCESS_KEY_ID = "floe-access";
  public static final String SECRET_ACCESS_KEY = "floe-secret";
  public static final String REGION = "us-east-1";

  private final BlobStore store;
  private final S3Proxy proxy;
  private final String bucket;

  private S3Server(BlobStore store, S3Proxy proxy, String bucket) {
    this.store = requireNonNull(store, "store is null");
    this.proxy = requireNonNull(proxy, "proxy is null");
    this.bucket = requireNonNull(bucket, "bucket is null");
  }

  /** Starts a server on a free port of 127.0.0.1 with the bucket {@code bucket}. */
  public static S3Server start(String bucket) throws Exception {
    BlobStore store = new TransientNio2BlobStore();
    store.createContainer(bucket);
    S3Proxy proxy =
        S3Proxy.builder()
            .blobStore(store)
            .endpoint(URI.create("http://127.0.0.1:0"))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY_ID, SECRET_ACCESS_KEY)
            .build();
    try {
      proxy.start();
    } catch (Exception e) {
      store.close();
      throw e;
    }
    return new S3Server(store, proxy, bucket);
  }

  /** {@code http://127.0.0.1:<port>}. */
  public String endpoint() {
    return "http://127.0.0.1:" + proxy.getPort();
  }

  public String bucket() {
    return bucket;
  }

  /** The {@code storage} settings that reach this server. */
  public StorageConfig storage() {
    return new StorageConfig(
        Optional.of(endpoint()), REGION, true, ACCESS_KEY_ID, SECRET_ACCESS_KEY);
  }

  /**
   * A warehouse at {@code s3://<bucket>/<prefix>} on this server, with its local state in {@code
   * stateDirectory}.
   */
  public WarehouseConfig warehouse(String prefix, Path stateDirectory) {
    return new WarehouseConfig(
        WarehouseConfig.S3_PREFIX + bucket + "/" + prefix,
        stateDirectory.toAbsolutePath().normalize(),
        storage());
  }

  @Override
  public void close() throws Exception {
    try {
      proxy.stop();
    } finally {
      store.close();
    }
  }
}
