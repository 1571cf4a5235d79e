package io.floe.maintenance;

import static java.util.Objects.requireNonNull;

import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;

/**
 * What {@link TableMaintenance#rewriteDataFiles} rewrites and how.
 *
 * @param targetFileSizeBytes size the rewritten files aim at; output files are closed once they
 *     reach it
 * @param minInputFiles fewest files a partition's group of small files must have to be rewritten
 *     (files with enough deleted rows are rewritten regardless)
 * @param deleteRatio a data file whose deleted rows (by position deletes) make up at least this
 *     fraction of its rows is rewritten to fold them away, whatever its size; above 1 turns it off
 * @param sortOrder rows of each rewritten file are sorted by this Iceberg sort order, written as in
 *     Spark's {@code sort_order} argument ({@code "id DESC NULLS LAST, name"}); empty for the
 *     table's own sort order, or null to keep arrival order when the table has none
 * @param throttle bounds the bytes read and written per second
 * @param filter only data files that may hold rows matching it are considered, as with Spark's
 *     {@code where}: each such file is rewritten whole when it is due
 */
public record RewriteDataFilesOptions(
    long targetFileSizeBytes,
    int minInputFiles,
    double deleteRatio,
    String sortOrder,
    IoThrottle throttle,
    Expression filter) {

  /** Iceberg's default target file size (write.target-file-size-bytes): 512 MiB. */
  public static final long DEFAULT_TARGET_FILE_SIZE = 512L << 20;

  /** Spark's default min-input-files. */
  public static final int DEFAULT_MIN_INPUT_FILES = 5;

  /** Default share of deleted rows that makes a data file worth rewriting. */
  public static final double DEFAULT_DELETE_RATIO = 0.1;

  public RewriteDataFilesOptions {
    if (targetFileSizeBytes < 1) {
      throw new IllegalArgumentException(
          "Target file size must be positive, was " + targetFileSizeBytes);
    }
    if (minInputFiles < 1) {
      throw new IllegalArgumentException(
          "Minimum input files must be at least 1, was " + minInputFiles);
    }
    if (!(deleteRatio > 0)) {
      throw new IllegalArgumentException("Delete ratio must be above 0, was " + deleteRatio);
    }
    requireNonNull(throttle, "throttle is null");
    requireNonNull(filter, "filter is null");
  }

  /** Options for every data file of the table. */
  public RewriteDataFilesOptions(
      long targetFileSizeBytes,
      int minInputFiles,
      double deleteRatio,
      String sortOrder,
      IoThrottle throttle) {
    this(
        targetFileSizeBytes,
        minInputFiles,
        deleteRatio,
        sortOrder,
        throttle,
        Expressions.alwaysTrue());
  }

  /** These options for the data files that may hold rows matching {@code filter} only. */
  public RewriteDataFilesOptions withFilter(Expression filter) {
    return new RewriteDataFilesOptions(
        targetFileSizeBytes, minInputFiles, deleteRatio, sortOrder, throttle, filter);
  }

  /** Defaults: 512 MiB files, 5 input files, 10% deleted rows, no sort, no throttle. */
  public static RewriteDataFilesOptions defaults() {
    return new RewriteDataFilesOptions(
        DEFAULT_TARGET_FILE_SIZE,
        DEFAULT_MIN_INPUT_FILES,
        DEFAULT_DELETE_RATIO,
        null,
        IoThrottle.UNLIMITED);
  }
}
