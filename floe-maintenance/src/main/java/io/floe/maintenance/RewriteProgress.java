package io.floe.maintenance;

/** Receives the progress of a long rewrite, from the thread that runs it. */
@FunctionalInterface
public interface RewriteProgress {
  /** Ignores progress. */
  RewriteProgress NONE = (doneBytes, totalBytes, message) -> {};

  /**
   * Reports how far the rewrite got.
   *
   * @param doneBytes bytes of input rewritten so far
   * @param totalBytes bytes of input the rewrite will read
   * @param message what it is doing now, such as {@code "file group 2 of 5"}
   */
  void report(long doneBytes, long totalBytes, String message);
}
