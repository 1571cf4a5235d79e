package io.floe.sql;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stored results of recent queries, for workgroups that reuse results. A result is found by the
 * workgroup, the exact query text and the metadata version and snapshot of every table it read, so
 * any commit to one of its tables makes it miss. Least recently used results are dropped first.
 */
final class ResultReuse {
  /** A stored result. */
  record Entry(List<SqlColumn> columns, List<Object[]> rows, long storedNanos) {}

  private final Map<String, Entry> entries;

  ResultReuse(int capacity) {
    this.entries =
        new LinkedHashMap<>(16, 0.75f, true) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
            return size() > capacity;
          }
        };
  }

  /** The stored result, if it is younger than {@code maxAge}. */
  synchronized Entry get(String key, Duration maxAge) {
    Entry entry = entries.get(key);
    if (entry == null) {
      return null;
    }
    if (System.nanoTime() - entry.storedNanos() > maxAge.toNanos()) {
      entries.remove(key);
      return null;
    }
    return entry;
  }

  synchronized void put(String key, Entry entry) {
    entries.put(key, entry);
  }
}
