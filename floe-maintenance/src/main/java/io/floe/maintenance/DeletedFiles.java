package io.floe.maintenance;

import java.util.EnumMap;
import java.util.Map;
import org.apache.iceberg.io.FileIO;

/** Counts of deleted files by kind, and their bytes. */
final class DeletedFiles {
  private final Map<ReachableFiles.Kind, Integer> counts = new EnumMap<>(ReachableFiles.Kind.class);
  private long bytes;

  void add(ReachableFiles.Kind kind, long fileBytes) {
    counts.merge(kind, 1, Integer::sum);
    bytes += Math.max(0, fileBytes);
  }

  int count(ReachableFiles.Kind kind) {
    return counts.getOrDefault(kind, 0);
  }

  long bytes() {
    return bytes;
  }

  /** A file's size as metadata records it, else as storage reports it; 0 if it is gone. */
  static long size(FileIO io, ReachableFiles.Reference reference) {
    if (reference.bytes() >= 0) {
      return reference.bytes();
    }
    try {
      return io.newInputFile(reference.location()).getLength();
    } catch (RuntimeException e) {
      // Sizes only feed the report: a file that cannot be sized is still deleted.
      return 0;
    }
  }
}
