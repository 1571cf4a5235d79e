package io.floe.ingest;

import java.util.Arrays;
import java.util.concurrent.atomic.LongAdder;

/** Counters and freshness figures of a running pipeline, safe to read from any thread. */
public final class PipelineStats {
  private static final int FRESHNESS_SAMPLES = 200_000;

  /** Freshness is sampled from the first changes of each commit, which waited longest. */
  private static final int MAX_SAMPLES_PER_COMMIT = 16_384;

  final LongAdder loaded = new LongAdder();
  final LongAdder changes = new LongAdder();
  final LongAdder skipped = new LongAdder();
  final LongAdder commits = new LongAdder();
  final LongAdder bytes = new LongAdder();
  final LongAdder deadLettered = new LongAdder();
  final LongAdder schemaChanges = new LongAdder();

  /** Seconds over which {@link #recordsPerSecond} and {@link #bytesPerSecond} average. */
  private static final long RATE_WINDOW_NANOS = 10_000_000_000L;

  private static final int RATE_SAMPLES = 256;

  /** At each commit: when, and the records and bytes handled by then; a ring. */
  private final long[] sampleNanos = new long[RATE_SAMPLES];

  private final long[] sampleRecords = new long[RATE_SAMPLES];
  private final long[] sampleBytes = new long[RATE_SAMPLES];
  private long samples;

  private final long[] freshness = new long[FRESHNESS_SAMPLES];

  /** Source commit times of the changes applied since the last commit; the pipeline's thread's. */
  private long[] uncommittedMillis = new long[1024];

  private int uncommittedSamples;

  private long freshnessCount;
  private volatile long lastFreshnessMillis = -1;

  /** Rows read by the full load. */
  public long loadedRows() {
    return loaded.sum();
  }

  /** Inserts, updates and deletes applied after the full load. */
  public long changes() {
    return changes.sum();
  }

  /** Replayed changes skipped because the table already held them. */
  public long skippedChanges() {
    return skipped.sum();
  }

  /** Bytes of stream records handled (written or dead-lettered); 0 for database pipelines. */
  public long bytes() {
    return bytes.sum();
  }

  /** Stream records sent to the dead-letter table. */
  public long deadLettered() {
    return deadLettered.sum();
  }

  /** Schema changes of source tables followed by their Iceberg tables (each an Iceberg commit). */
  public long schemaChanges() {
    return schemaChanges.sum();
  }

  /**
   * Rows loaded, changes applied and records dead-lettered per second, over the commits of about
   * the last 10 seconds; 0 before two commits.
   */
  public synchronized double recordsPerSecond() {
    return rate(sampleRecords);
  }

  /** Bytes of stream records per second, over the commits of about the last 10 seconds. */
  public synchronized double bytesPerSecond() {
    return rate(sampleBytes);
  }

  private double rate(long[] values) {
    if (samples < 2) {
      return 0;
    }
    int newest = (int) ((samples - 1) % RATE_SAMPLES);
    long now = System.nanoTime();
    if (now - sampleNanos[newest] > RATE_WINDOW_NANOS) {
      return 0; // Nothing committed lately.
    }
    int oldest = newest;
    for (long back = 1; back < Math.min(samples, RATE_SAMPLES); back++) {
      int index = (int) ((samples - 1 - back) % RATE_SAMPLES);
      oldest = index;
      if (sampleNanos[newest] - sampleNanos[index] >= RATE_WINDOW_NANOS) {
        break;
      }
    }
    long nanos = sampleNanos[newest] - sampleNanos[oldest];
    return nanos <= 0 ? 0 : (values[newest] - values[oldest]) * 1e9 / nanos;
  }

  /** Commit cycles completed. */
  public long commits() {
    return commits.sum();
  }

  /** Source commit to Iceberg commit, in milliseconds, of the last change sampled; -1 if none. */
  public long lastFreshnessMillis() {
    return lastFreshnessMillis;
  }

  /** Notes when the source committed a change just applied; called by the pipeline's thread. */
  void sampleFreshness(long sourceMillis) {
    if (uncommittedSamples == MAX_SAMPLES_PER_COMMIT) {
      return;
    }
    if (uncommittedSamples == uncommittedMillis.length) {
      uncommittedMillis = Arrays.copyOf(uncommittedMillis, uncommittedMillis.length * 2);
    }
    uncommittedMillis[uncommittedSamples++] = sourceMillis;
  }

  /**
   * A commit cycle ended at {@code committedMillis}: the changes sampled since the last one are
   * visible. Called by the pipeline's thread.
   */
  void committed(long committedMillis) {
    synchronized (this) {
      for (int i = 0; i < uncommittedSamples; i++) {
        long millis = committedMillis - uncommittedMillis[i];
        freshness[(int) (freshnessCount++ % FRESHNESS_SAMPLES)] = millis;
        lastFreshnessMillis = millis;
      }
    }
    uncommittedSamples = 0;
    commits.increment();
    synchronized (this) {
      int index = (int) (samples % RATE_SAMPLES);
      sampleNanos[index] = System.nanoTime();
      sampleRecords[index] = loaded.sum() + changes.sum() + deadLettered.sum();
      sampleBytes[index] = bytes.sum();
      samples++;
    }
  }

  /** Freshness percentile (0-100) over the most recent commits, in milliseconds; -1 if none. */
  public synchronized long freshnessPercentile(double percentile) {
    int count = (int) Math.min(freshnessCount, FRESHNESS_SAMPLES);
    if (count == 0) {
      return -1;
    }
    long[] sorted = Arrays.copyOf(freshness, count);
    Arrays.sort(sorted);
    int index = (int) Math.ceil(percentile / 100.0 * count) - 1;
    return sorted[Math.max(0, Math.min(count - 1, index))];
  }

  /** Forgets freshness samples, e.g. after a warm-up. */
  public synchronized void resetFreshness() {
    freshnessCount = 0;
  }
}
