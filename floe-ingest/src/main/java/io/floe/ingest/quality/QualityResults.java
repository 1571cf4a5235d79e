package io.floe.ingest.quality;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/** Where pipelines keep the results of their quality rules; thread-safe. */
public interface QualityResults {
  /** Keeps the results of one commit (or block). Never throws: a failure is logged. */
  void record(List<QualityResult> results);

  /** The latest results kept, oldest first, at most {@code limit}. */
  List<QualityResult> recent(int limit);

  /**
   * Results kept in memory only, the latest {@code keep}: for a process without a catalog database.
   */
  static QualityResults inMemory(int keep) {
    if (keep < 1) {
      throw new IllegalArgumentException("keep must be at least 1, was " + keep);
    }
    Deque<QualityResult> kept = new ArrayDeque<>();
    return new QualityResults() {
      @Override
      public synchronized void record(List<QualityResult> results) {
        for (QualityResult result : results) {
          kept.addLast(result);
          if (kept.size() > keep) {
            kept.removeFirst();
          }
        }
      }

      @Override
      public synchronized List<QualityResult> recent(int limit) {
        List<QualityResult> all = new ArrayList<>(kept);
        return List.copyOf(all.subList(Math.max(0, all.size() - limit), all.size()));
      }
    };
  }
}
