package io.floe.sql;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** Bounded caches of the engine, shared by the threads of its queries and its follower. */
final class LeastRecentlyUsed {
  private LeastRecentlyUsed() {}

  /** A synchronized map that keeps the {@code kept} entries used last. */
  static <K, V> Map<K, V> map(int kept) {
    return Collections.synchronizedMap(
        new LinkedHashMap<>(16, 0.75f, true) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
            return size() > kept;
          }
        });
  }
}
