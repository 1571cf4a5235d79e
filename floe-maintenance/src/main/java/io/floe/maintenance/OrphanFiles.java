package io.floe.maintenance;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.SupportsPrefixOperations;

/**
 * Finds and deletes files under a table's location that its metadata does not reference: files of
 * failed or abandoned writes, and files left behind when a deletion failed.
 *
 * <p>The listing comes first and the metadata is read after it, so a file committed while the
 * listing runs is found referenced. A file written but not yet committed is unreferenced until its
 * commit lands; only files older than the age window are orphans, which keeps them safe.
 */
final class OrphanFiles {
  /** Shortest age window outside a dry run: a writer's files are unreferenced until it commits. */
  static final Duration MINIMUM_AGE = Duration.ofMinutes(1);

  /** Listings of a table directory tried before giving up on files vanishing under them. */
  private static final int LISTING_ATTEMPTS = 5;

  private OrphanFiles() {}

  static OrphanResult run(Table table, Duration olderThan, boolean dryRun, Clock clock) {
    long started = System.nanoTime();
    if (olderThan.isNegative() || (!dryRun && olderThan.compareTo(MINIMUM_AGE) < 0)) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Cannot remove orphan files of table "
              + table.name()
              + " older than "
              + olderThan
              + ": files younger than "
              + MINIMUM_AGE.toMinutes()
              + " minute may belong to a commit in progress; use a longer window (3 days is"
              + " usual) or a dry run");
    }
    GarbageCollection.check(table, "remove orphan files of");
    FileIO io = table.io();
    if (!(io instanceof SupportsPrefixOperations)) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Cannot remove orphan files of table "
              + table.name()
              + ": its storage ("
              + io.getClass().getName()
              + ") cannot list files; configure a FileIO that can list (Floe's LocalFileIO,"
              + " Iceberg's S3FileIO or HadoopFileIO)");
    }
    long cutoff = clock.millis() - olderThan.toMillis();
    String root = Locations.directory(table.location());
    String normalizedRoot = Locations.directory(Locations.normalize(root));
    List<FileInfo> candidates = new ArrayList<>();
    for (FileInfo file : list((SupportsPrefixOperations) io, root)) {
      // A prefix listing on object storage is a string match: keep to the table's directory.
      if (Locations.normalize(file.location()).startsWith(normalizedRoot)
          && file.createdAtMillis() < cutoff) {
        candidates.add(file);
      }
    }
    table.refresh();
    ReachableFiles reachable = ReachableFiles.ofTable(table);
    List<FileInfo> orphans = new ArrayList<>();
    for (FileInfo file : candidates) {
      if (!reachable.contains(file.location())) {
        orphans.add(file);
      }
    }
    orphans.sort(Comparator.comparing(FileInfo::location));
    List<String> locations = new ArrayList<>();
    long bytes = 0;
    for (FileInfo orphan : orphans) {
      if (!dryRun) {
        io.deleteFile(orphan.location());
      }
      locations.add(orphan.location());
      bytes += orphan.size();
    }
    return new OrphanResult(locations, bytes, dryRun, SnapshotExpiry.millisSince(started));
  }

  /**
   * Lists the directory, again if a file vanished while it was listed: a writer deletes the files
   * of a commit attempt that lost a conflict, and a local directory walk fails on such a file.
   */
  private static List<FileInfo> list(SupportsPrefixOperations io, String root) {
    for (int attempt = 1; ; attempt++) {
      try {
        List<FileInfo> files = new ArrayList<>();
        io.listPrefix(root).forEach(files::add);
        return files;
      } catch (UncheckedIOException e) {
        if (attempt == LISTING_ATTEMPTS || !(e.getCause() instanceof NoSuchFileException)) {
          throw e;
        }
      }
    }
  }
}
