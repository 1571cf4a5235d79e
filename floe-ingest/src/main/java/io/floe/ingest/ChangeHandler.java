package io.floe.ingest;

import java.util.List;

/** Receives what a {@link ChangeSource} delivers: the pipeline's side of the contract. */
public interface ChangeHandler {
  /**
   * Applies one batch of events, in order, on the source's thread; may commit and acknowledge.
   *
   * @param acknowledger valid during this call only
   * @throws RuntimeException when the batch cannot be applied: the source stops and reports it
   */
  void handle(List<SourceEvent> events, Acknowledger acknowledger) throws InterruptedException;

  /**
   * The source stopped delivering, for good: after {@link ChangeSource#close}, or on its own.
   *
   * @param failure why, or null when it stopped cleanly
   */
  void stopped(Throwable failure);

  /** Tells the source that every table committed what lies up to a position. */
  @FunctionalInterface
  interface Acknowledger {
    /**
     * Everything up to {@code position} (a position of an event delivered to this handler) is
     * durable in the tables: the source may discard it.
     */
    void acknowledge(SourcePosition position);
  }
}
