package io.floe.ingest;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import org.apache.kafka.connect.runtime.WorkerConfig;
import org.apache.kafka.connect.storage.OffsetBackingStore;
import org.apache.kafka.connect.util.Callback;

/**
 * Debezium's offset store for Floe pipelines. It persists nothing itself: the position a pipeline
 * resumes from is read back from the Iceberg tables' snapshot summaries before the engine starts
 * and handed over through {@link #register}. Offsets Debezium flushes later only reach this store
 * after the Iceberg commit that holds them, and they matter only for advancing the replication
 * slot, which Debezium does right after the flush.
 */
public final class TableOffsetStore implements OffsetBackingStore {
  /** Engine property naming the pipeline whose registered offset this store serves. */
  public static final String PIPELINE_PROPERTY = "offset.storage.floe.pipeline";

  private static final Map<String, String> RESUME_OFFSETS = new ConcurrentHashMap<>();

  private final Map<ByteBuffer, ByteBuffer> flushed = new HashMap<>();
  private String resumeOffset;

  /**
   * Sets the offset (Debezium's JSON form) the pipeline resumes from, or null to start with a full
   * load. Call before starting the engine.
   */
  public static void register(String pipeline, String offsetJson) {
    requireNonNull(pipeline, "pipeline is null");
    if (offsetJson == null) {
      RESUME_OFFSETS.remove(pipeline);
    } else {
      RESUME_OFFSETS.put(pipeline, offsetJson);
    }
  }

  @Override
  public void configure(WorkerConfig config) {
    String pipeline = config.originalsStrings().get(PIPELINE_PROPERTY);
    requireNonNull(pipeline, PIPELINE_PROPERTY + " is not set");
    resumeOffset = RESUME_OFFSETS.get(pipeline);
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
