package io.floe.spark;

import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark settings this module proves against Floe's REST catalog; the README's "Connecting
 * engines" section cites them.
 *
 * <p>Engine: Apache Spark 4.0.2 (Scala 2.13) with {@code
 * org.apache.iceberg:iceberg-spark-runtime-4.0_2.13:1.11.0}. Catalog {@code floe}:
 *
 * <pre>
 * spark.sql.extensions                = org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions
 * spark.sql.catalog.floe              = org.apache.iceberg.spark.SparkCatalog
 * spark.sql.catalog.floe.type         = rest
 * spark.sql.catalog.floe.uri          = http://127.0.0.1:8181/
 * spark.sql.catalog.floe.credential   = spark:&lt;secret&gt;   (a principal of floe.yaml)
 * spark.sql.catalog.floe.cache-enabled = false          (optional: see below)
 * </pre>
 *
 * <p>Only the URI and the credential are needed; {@link #explicitRestCatalog} adds what Iceberg's
 * client recommends. The extensions are what {@code MERGE INTO}, {@code UPDATE}, {@code DELETE} and
 * {@code CALL floe.system.*} need. The client fetches its token with OAuth2 client credentials from
 * {@code <uri>v1/oauth/tokens}. {@code cache-enabled=false} makes every statement load the table
 * from the catalog, so the commits of other writers (the pipeline, Floe's compaction) are visible
 * to the next statement without waiting on the cache of Iceberg's {@code SparkCatalog}. Table
 * locations are the warehouse's local paths, so Spark must run on the machine that holds the
 * warehouse (or, with S3 storage, reach the bucket).
 *
 * <p>The local-mode settings (master {@code local[2]}, no UI, loopback driver, 2 shuffle
 * partitions) only keep the tests small.
 */
final class SparkSessions {
  static final String CATALOG = "floe";

  private SparkSessions() {}

  /** The {@code spark.sql.catalog.floe*} settings for the REST catalog at {@code uri}. */
  static Map<String, String> restCatalog(String uri, String credential) {
    Map<String, String> settings = new TreeMap<>();
    settings.put(
        "spark.sql.extensions",
        "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions");
    settings.put("spark.sql.catalog." + CATALOG, "org.apache.iceberg.spark.SparkCatalog");
    settings.put("spark.sql.catalog." + CATALOG + ".type", "rest");
    settings.put("spark.sql.catalog." + CATALOG + ".uri", uri);
    settings.put("spark.sql.catalog." + CATALOG + ".credential", credential);
    settings.put("spark.sql.catalog." + CATALOG + ".cache-enabled", "false");
    return settings;
  }

  /**
   * The settings Iceberg 1.11's client recommends besides the URI and credential (it warns when
   * they are left out): the authentication type, the OAuth2 token endpoint, and the warehouse, as
   * catalog {@code name}.
   */
  static Map<String, String> explicitRestCatalog(String name, String uri, String credential) {
    Map<String, String> settings = new TreeMap<>();
    settings.put("spark.sql.catalog." + name, "org.apache.iceberg.spark.SparkCatalog");
    settings.put("spark.sql.catalog." + name + ".type", "rest");
    settings.put("spark.sql.catalog." + name + ".uri", uri);
    settings.put("spark.sql.catalog." + name + ".credential", credential);
    settings.put("spark.sql.catalog." + name + ".rest.auth.type", "oauth2");
    settings.put("spark.sql.catalog." + name + ".oauth2-server-uri", uri + "v1/oauth/tokens");
    settings.put("spark.sql.catalog." + name + ".warehouse", "floe");
    return settings;
  }

  /** A local Spark session with {@code settings}, small enough for a 2-core CI machine. */
  static SparkSession local(String appName, Map<String, String> settings) {
    SparkSession.Builder builder =
        SparkSession.builder()
            .master("local[2]")
            .appName(appName)
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.session.timeZone", "UTC");
    settings.forEach(builder::config);
    return builder.getOrCreate();
  }
}
