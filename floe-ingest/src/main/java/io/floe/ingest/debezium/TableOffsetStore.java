package io.floe.ingest.debezium;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import org.apache.kafka.connect.runtime.WorkerConfig;
import org.apache.kafka.connect.storage.OffsetBackingStore;
import org.apache.kafka.connect.util.Callback;

/**
 * Debezium's offset store for Floe pipelines. It persists nothing itself: the position a pipeline
 * resumes from is read back from the Iceberg tables' snapshot summaries before the engine starts
 * and handed to the engine in its own properties ({@link #configure(Properties, String)}). Offsets
 * Debezium flushes later reach this store only after the Iceberg commit that holds them, and they
 * matter only for moving the source on (PostgreSQL: the replication slot), which Debezium does
 * right after the flush.
 */
public final class TableOffsetStore implements OffsetBackingStore {
  /** Engine property with the offset (Debezium's JSON form) to resume from; absent: full load. */
  static final String RESUME_OFFSET_PROPERTY = "offset.storage.floe.resume-offset";

  private final Map<ByteBuffer, ByteBuffer> flushed = new HashMap<>();
  private String resumeOffset;

  /**
   * Sets the engine {@code properties} to keep offsets in this store and to resume from {@code
   * offsetJson}, or, when it is null, to start with a full load.
   */
  public static void configure(Properties properties, String offsetJson) {
    properties.setProperty("offset.storage", TableOffsetStore.class.getName());
    properties.setProperty("offset.flush.interval.ms", "0");
    properties.setProperty("offset.flush.timeout.ms", "60000");
    if (offsetJson == null) {
      properties.remove(RESUME_OFFSET_PROPERTY);
    } else {
      properties.setProperty(RESUME_OFFSET_PROPERTY, offsetJson);
    }
  }

  @Override
  public void configure(WorkerConfig config) {
    resumeOffset = config.originalsStrings().get(RESUME_OFFSET_PROPERTY);
  }

  @Override
  public void start() {}

  @Override
  public void stop() {}

  @Override
  public synchronized Future<Map<ByteBuffer, ByteBuffer>> get(Collection<ByteBuffer> keys) {
    Map<ByteBuffer, ByteBuffer> result = new HashMap<>();
    for (ByteBuffer key : keys) {
      ByteBuffer value = flushed.get(key);
      if (value == null && resumeOffset != null) {
        // A pipeline reads one source partition: the resume offset answers for it.
        value = ByteBuffer.wrap(resumeOffset.getBytes(StandardCharsets.UTF_8));
      }
      if (value != null) {
        result.put(key, value);
      }
    }
    return CompletableFuture.completedFuture(result);
  }

  @Override
  public synchronized Future<Void> set(
      Map<ByteBuffer, ByteBuffer> values, Callback<Void> callback) {
    flushed.putAll(values);
    if (callback != null) {
      callback.onCompletion(null, null);
    }
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public Set<Map<String, Object>> connectorPartitions(String connectorName) {
    return Set.of();
  }
}
