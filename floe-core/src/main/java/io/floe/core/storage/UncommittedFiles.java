package io.floe.core.storage;

import org.apache.iceberg.Table;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes files written for a table but left out of its commits (a commit rejected, withdrawn or
 * given up, or a rewrite's file the commit did not use), which no snapshot references. A file that
 * cannot be deleted is left for orphan file removal, with a warning that names it.
 */
public final class UncommittedFiles {
  private static final Logger LOG = LoggerFactory.getLogger(UncommittedFiles.class);

  private UncommittedFiles() {}

  /** Deletes each file, warning about those that cannot be deleted. */
  public static void delete(Table table, Iterable<String> locations) {
    for (String location : locations) {
      try {
        table.io().deleteFile(location);
      } catch (RuntimeException e) {
        LOG.warn(
            "Cannot delete {}, written for table {} but not committed ({}); orphan file removal"
                + " deletes it once it is old enough",
            location,
            table.name(),
            e.toString());
      }
    }
  }
}
