package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.IcebergFailures;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.exceptions.ValidationException;

/**
 * Decides what follows a failed attempt at one of a {@link CdcTableWriter}'s commits: whether the
 * writer attempts it again, and otherwise which error the commit fails with. These are the rules,
 * and the writer's commit loop asks only here.
 *
 * <p>Iceberg retries a commit that lost the compare-and-swap of the table's metadata by itself (the
 * table property {@code commit.retry.num-retries}), applying and validating it again on the new
 * metadata each time, so what reaches the writer ({@link IcebergFailures} tells it apart) is what
 * those retries ended in:
 *
 * <ul>
 *   <li>{@link CommitFailedException}: concurrent commits kept winning until Iceberg's retries ran
 *       out. Nothing was committed, and another attempt may succeed: the writer catches up on the
 *       table (reads its current snapshot, and moves its index and batch onto it if another commit
 *       changed the data) and attempts again, up to {@link #COMMIT_ATTEMPTS} attempts in all. After
 *       the last the commit fails with {@link ErrorCode#TABLE_COMMIT_CONFLICT}.
 *   <li>{@link ValidationException}: the commit is invalid for the table as it is. That is never
 *       retried as such. One case is handled: catching up shows that a commit of someone else
 *       changed the table's data since the batch was planned (a {@code floe maintain} compaction in
 *       another process removing files the batch deletes rows of), so the batch conflicted with
 *       that commit; the writer moves the batch onto the table's files, which plans it again, and
 *       makes a new attempt, within the same bound (after the last, {@link
 *       ErrorCode#TABLE_COMMIT_CONFLICT}). Without such a change the writer planned an invalid
 *       commit: it fails at once, with no second attempt, as {@link ErrorCode#TABLE_STATE_INVALID}.
 *   <li>{@link CommitStateUnknownException}: not retried, and the files written for the commit are
 *       kept, as the table may reference them: {@link ErrorCode#TABLE_COMMIT_UNKNOWN}.
 *   <li>A failure of storage (an {@code IOException}, {@code UncheckedIOException}, Iceberg {@code
 *       RuntimeIOException} or {@code NotFoundException} anywhere in the cause chain): {@link
 *       ErrorCode#TABLE_WRITE_FAILED}, not retried by the writer; running it again may succeed.
 *   <li>A failure of the catalog's database ({@code SQLException}): {@link
 *       ErrorCode#CATALOG_FAILED}, not retried.
 *   <li>A {@link FloeException} passes through as it is.
 *   <li>Any other exception is a bug: {@link ErrorCode#INTERNAL_ERROR}, with it as the cause.
 * </ul>
 *
 * <p>After any failed commit the writer refuses further use: a new writer reloads its index from
 * the table.
 */
final class CommitPolicy {
  /**
   * Attempts at one commit, in all, when concurrent commits keep getting in the way. Each attempt
   * already has Iceberg's own retries beneath it.
   */
  static final int COMMIT_ATTEMPTS = 3;

  private final String tableName;

  CommitPolicy(String tableName) {
    this.tableName = requireNonNull(tableName, "tableName is null");
  }

  /**
   * Decides what follows attempt {@code attempt} (counted from 1) failing with {@code failure}:
   * returns if the writer attempts the commit again, having caught up on the table; throws the
   * error the commit fails with otherwise.
   *
   * @return whether catching up moved the index and the batch onto other commits' changes of the
   *     table's data
   * @throws FloeException the error the commit fails with
   */
  boolean beforeNextAttempt(RuntimeException failure, int attempt, CatchUp catchUp) {
    if (failure instanceof FloeException floe) {
      throw floe;
    }
    switch (IcebergFailures.classify(failure)) {
      case CONFLICT -> {
        if (attempt >= COMMIT_ATTEMPTS) {
          throw conflict(attempt, failure);
        }
        return catchUp.catchUp();
      }
      case INVALID -> {
        // Valid on the table the batch was planned on, invalid on the table as it is: a conflict
        // with a commit of someone else if that changed the data in between, a bug otherwise.
        if (attempt >= COMMIT_ATTEMPTS) {
          throw catchUp.dataChanged() ? conflict(attempt, failure) : invalid(failure);
        }
        if (catchUp.catchUp()) {
          return true;
        }
        throw invalid(failure);
      }
      default -> throw error(failure);
    }
  }

  /**
   * The error a commit fails with because of {@code failure}, when it is not attempted again: a
   * {@link FloeException} as it is, any other as the rules say.
   */
  FloeException error(RuntimeException failure) {
    return error("Cannot commit changes to table " + tableName, failure);
  }

  /**
   * The error for a failure after the commit landed, while the writer moved its index onto it: the
   * table is fine, the writer's view of it is lost.
   */
  FloeException errorAfterCommit(RuntimeException failure) {
    return error(
        "Cannot take the commit to table " + tableName + " into the writer's index (it landed)",
        failure);
  }

  private FloeException error(String cannot, RuntimeException failure) {
    if (failure instanceof FloeException floe) {
      return floe;
    }
    return switch (IcebergFailures.classify(failure)) {
      case CONFLICT -> conflict(1, failure);
      case INVALID -> invalid(failure);
      case UNKNOWN_OUTCOME ->
          new FloeException(
              ErrorCode.TABLE_COMMIT_UNKNOWN,
              cannot
                  + ": the catalog did not say whether the commit succeeded ("
                  + failure.getMessage()
                  + "); the files written for it are kept, as the table may reference them; check"
                  + " the table's latest snapshots before running it again",
              failure);
      case STORAGE ->
          new FloeException(
              ErrorCode.TABLE_WRITE_FAILED,
              cannot
                  + ": reading or writing its files failed ("
                  + failure.getMessage()
                  + "); check that the table's storage is reachable and run it again",
              failure);
      case CATALOG ->
          new FloeException(
              ErrorCode.CATALOG_FAILED,
              cannot
                  + ": the catalog failed ("
                  + failure.getMessage()
                  + "); check that the catalog database is reachable and run it again",
              failure);
      case BUG ->
          new FloeException(
              ErrorCode.INTERNAL_ERROR,
              cannot
                  + ": unexpected "
                  + failure
                  + "; report it with the log, which has its stack trace, and run it again with a"
                  + " new writer (which reloads the table)",
              failure);
    };
  }

  /**
   * The error a rewrite taken into a failed attempt fails with when the writer attempts its batch
   * again: the failed attempt deleted the rewrite's files with its own, so later attempts leave it
   * out.
   */
  FloeException rewriteLeftOut(RuntimeException failure) {
    return new FloeException(
        ErrorCode.TABLE_COMMIT_CONFLICT,
        "Cannot commit the rewrite of data files of table "
            + tableName
            + ": the writer's commit that carried it was rejected ("
            + failure.getMessage()
            + "), and the writer commits its changes again without it; run the rewrite again",
        failure);
  }

  /**
   * Whether the files an attempt wrote may be deleted after it failed: when it failed before asking
   * Iceberg to commit, or Iceberg says that nothing was committed. After any other failure of the
   * commit itself the table may reference them; they are kept, and orphan file removal deletes them
   * once old enough if not.
   */
  static boolean writtenFilesUnreferenced(RuntimeException failure, boolean commitCalled) {
    return !commitCalled || IcebergFailures.classify(failure).nothingCommitted();
  }

  private FloeException conflict(int attempts, RuntimeException failure) {
    return new FloeException(
        ErrorCode.TABLE_COMMIT_CONFLICT,
        "Cannot commit changes to table "
            + tableName
            + ": "
            + attempts
            + (attempts == 1 ? " attempt" : " attempts")
            + " failed because concurrent commits kept changing the table ("
            + failure.getMessage()
            + "); nothing of this batch was committed; run it again (a pipeline resumes from the"
            + " last position it committed), and if this keeps happening, find what else commits"
            + " to the table so often",
        failure);
  }

  private FloeException invalid(RuntimeException failure) {
    return new FloeException(
        ErrorCode.TABLE_STATE_INVALID,
        "Cannot commit changes to table "
            + tableName
            + ": Iceberg rejected the commit as invalid ("
            + failure.getMessage()
            + ") although no other commit changed the table's data since the batch was planned;"
            + " report it with the log, and run it again with a new writer (which reloads the"
            + " table)",
        failure);
  }
}
