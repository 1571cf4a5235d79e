package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A compaction a {@link CdcTableWriter} is to commit. Created by {@link
 * CdcTableWriter#beginRewrite}, which reserves the files being rewritten (the writer leaves them
 * out of its own tidying); then either {@link #submit submitted} once the new files are written,
 * for the writer's next commit, or {@link #withdraw withdrawn}. Thread-safe: the compaction's
 * thread and the writer's thread share it.
 */
public final class RewriteHandoff {
  /** Where a handoff is; each moves forward only. */
  enum State {
    RESERVED,
    SUBMITTED,
    TAKEN,
    WITHDRAWN
  }

  private final Set<String> reserved;
  private final AtomicReference<State> state = new AtomicReference<>(State.RESERVED);
  private final CompletableFuture<Outcome> outcome = new CompletableFuture<>();
  private volatile DataFileRewrite rewrite;

  RewriteHandoff(Set<String> reserved) {
    this.reserved = Set.copyOf(reserved);
  }

  /** Locations of the data files reserved for this rewrite. */
  public Set<String> reserved() {
    return reserved;
  }

  /**
   * Hands the written files over to the writer's next commit.
   *
   * @return completes once the writer committed the rewrite, or failed it; a rewrite the writer
   *     took and failed has had its outputs deleted by the writer if the commit was rejected
   * @throws IllegalStateException if submitted already
   */
  public CompletableFuture<Outcome> submit(DataFileRewrite rewrite) {
    requireNonNull(rewrite, "rewrite is null");
    for (var source : rewrite.sources()) {
      if (!reserved.contains(source.location())) {
        throw new IllegalArgumentException(
            "Rewrite source " + source.location() + " was not reserved for this rewrite");
      }
    }
    this.rewrite = rewrite;
    if (!state.compareAndSet(State.RESERVED, State.SUBMITTED) && state.get() != State.WITHDRAWN) {
      throw new IllegalStateException("Cannot submit a rewrite that is " + state.get());
    }
    // Withdrawn meanwhile (the writer stopped, or the table changed under it): the future says why.
    return outcome;
  }

  /**
   * Takes the rewrite back, unless the writer took it already.
   *
   * @return true if withdrawn: the writer will not commit it, and its outputs are the caller's to
   *     delete; false if the writer took it, and {@link #submit}'s future tells what happened
   */
  public boolean withdraw(String reason) {
    return withdraw(new IllegalStateException(reason));
  }

  /** As {@link #withdraw(String)}, failing the outcome with {@code failure}. */
  boolean withdraw(RuntimeException failure) {
    requireNonNull(failure, "failure is null");
    while (true) {
      State current = state.get();
      if (current == State.TAKEN) {
        return false;
      }
      if (current == State.WITHDRAWN || state.compareAndSet(current, State.WITHDRAWN)) {
        outcome.completeExceptionally(failure);
        return true;
      }
    }
  }

  /** Whether the rewrite is over: committed, failed or withdrawn. */
  boolean finished() {
    return outcome.isDone();
  }

  /** Whether the writer took the rewrite into a commit. */
  public boolean taken() {
    return state.get() == State.TAKEN;
  }

  /** Whether the reservation still holds: neither taken nor withdrawn. */
  boolean pending() {
    State current = state.get();
    return current == State.RESERVED || current == State.SUBMITTED;
  }

  /** Called by the writer: takes a submitted rewrite, or returns null. */
  DataFileRewrite take() {
    return state.compareAndSet(State.SUBMITTED, State.TAKEN) ? rewrite : null;
  }

  boolean submitted() {
    return state.get() == State.SUBMITTED;
  }

  void complete(Outcome result) {
    outcome.complete(result);
  }

  void fail(Throwable error) {
    outcome.completeExceptionally(error);
  }

  /**
   * What the writer's commit of a rewrite did.
   *
   * @param snapshotId the snapshot that committed it; empty if it was not committed ({@link
   *     #stale}), or if its snapshot had left the table's history (rolled back or expired by
   *     another process) by the time the writer looked for it, right after the commit
   * @param rewrittenFiles source files it replaced (sources the writer had already compacted away
   *     are not counted); none if it was not committed
   * @param rowsDeletedSince rows of the outputs that the writer deleted or updated since the base
   *     snapshot: position deletes on the new files
   */
  public record Outcome(OptionalLong snapshotId, int rewrittenFiles, long rowsDeletedSince) {
    /**
     * Not committed: the writer had compacted every source file itself meanwhile. Plan it again.
     */
    public static final Outcome STALE = new Outcome(OptionalLong.empty(), 0, 0);

    public Outcome {
      requireNonNull(snapshotId, "snapshotId is null");
      if (rewrittenFiles == 0 && snapshotId.isPresent()) {
        throw new IllegalArgumentException(
            "A rewrite committed in snapshot " + snapshotId.getAsLong() + " replaced no files");
      }
    }

    /**
     * Whether the rewrite was not committed because none of its sources was live any more: a
     * committed rewrite replaces at least one of them.
     */
    public boolean stale() {
      return rewrittenFiles == 0;
    }
  }
}
