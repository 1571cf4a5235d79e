package io.floe.core.catalog;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.exceptions.NotFoundException;
import org.apache.iceberg.exceptions.RuntimeIOException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.jdbc.UncheckedSQLException;

/**
 * What a failed Iceberg operation means, for code that decides whether to retry it and which error
 * to report: the CDC writer's commits and table maintenance classify Iceberg's failures here, not
 * each in its own way.
 *
 * <p>Iceberg tells a commit's outcome by the exception's type: {@link CommitFailedException} means
 * that concurrent commits kept winning the compare-and-swap of the table's metadata until Iceberg's
 * own retries ({@code commit.retry.num-retries}) ran out, {@link ValidationException} that the
 * change is invalid for the table as it is, and {@link CommitStateUnknownException} that the
 * catalog did not say whether the commit landed. Failures of storage and of the catalog's database
 * reach the caller as exceptions caused by an {@link IOException} or a {@link SQLException}, often
 * wrapped. Anything else is a bug.
 */
public final class IcebergFailures {
  /** What a failure means; see {@link #classify}. */
  public enum Kind {
    /**
     * Concurrent commits kept changing the table and Iceberg's retries ran out ({@link
     * CommitFailedException}). Nothing was committed; running it again may succeed.
     */
    CONFLICT,
    /**
     * The change is invalid for the table as it is now ({@link ValidationException}), which may be
     * because a concurrent commit changed it. Nothing was committed.
     */
    INVALID,
    /**
     * The catalog did not say whether the commit landed ({@link CommitStateUnknownException}). The
     * table may reference the files written for it: they must be kept.
     */
    UNKNOWN_OUTCOME,
    /** Reading or writing the table's files failed. */
    STORAGE,
    /** The catalog's database failed (a JDBC catalog's connection or statement). */
    CATALOG,
    /** None of the above: a bug. */
    BUG;

    /**
     * Whether Iceberg guarantees that a commit failing this way committed nothing, so that the
     * files written for it may be deleted (Iceberg's {@code CleanableFailure}). A commit that
     * failed any other way may have landed, or be referenced by one that did.
     */
    public boolean nothingCommitted() {
      return this == CONFLICT || this == INVALID;
    }
  }

  private IcebergFailures() {}

  /**
   * Classifies a failure. The commit outcomes ({@link Kind#UNKNOWN_OUTCOME}, {@link Kind#CONFLICT},
   * {@link Kind#INVALID}) are recognised anywhere in the cause chain, the first one found deciding
   * (a commit whose outcome is unknown because storage failed is still of unknown outcome); then a
   * storage failure anywhere in it, then a failure of the catalog's database.
   */
  public static Kind classify(Throwable failure) {
    List<Throwable> chain = causes(failure);
    for (Throwable cause : chain) {
      if (cause instanceof CommitStateUnknownException) {
        return Kind.UNKNOWN_OUTCOME;
      }
      if (cause instanceof CommitFailedException) {
        return Kind.CONFLICT;
      }
      if (cause instanceof ValidationException) {
        return Kind.INVALID;
      }
    }
    if (storageFailure(failure)) {
      return Kind.STORAGE;
    }
    for (Throwable cause : chain) {
      if (cause instanceof UncheckedSQLException || cause instanceof SQLException) {
        return Kind.CATALOG;
      }
    }
    return Kind.BUG;
  }

  /**
   * Whether a failure, or one of its causes, is a failure to read or write storage: an {@link
   * IOException}, an {@link UncheckedIOException} (Iceberg's {@link RuntimeIOException} is one), or
   * Iceberg's {@link NotFoundException} for a file that is missing.
   */
  public static boolean storageFailure(Throwable failure) {
    for (Throwable cause : causes(failure)) {
      if (cause instanceof IOException
          || cause instanceof UncheckedIOException
          || cause instanceof NotFoundException) {
        return true;
      }
    }
    return false;
  }

  /** The failure and its causes, outermost first, each once (a chain may loop). */
  private static List<Throwable> causes(Throwable failure) {
    List<Throwable> chain = new ArrayList<>();
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Throwable cause = failure; cause != null && seen.add(cause); cause = cause.getCause()) {
      chain.add(cause);
    }
    return chain;
  }
}
