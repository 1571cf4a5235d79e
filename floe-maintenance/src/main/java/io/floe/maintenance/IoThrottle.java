package io.floe.maintenance;

/**
 * Bounds the bytes per second a maintenance operation reads and writes, so that queries and
 * ingestion on the same disks keep their pace. Shared by the operations of one scheduler: callers
 * on several threads share one budget. A token bucket holding at most one second of budget.
 */
public final class IoThrottle {
  /** No bound. */
  public static final IoThrottle UNLIMITED = new IoThrottle(0);

  private final long bytesPerSecond;
  private double available;
  private long refilledAt = System.nanoTime();

  /**
   * Creates a throttle.
   *
   * @param bytesPerSecond the bound, or 0 for none
   */
  public IoThrottle(long bytesPerSecond) {
    if (bytesPerSecond < 0) {
      throw new IllegalArgumentException(
          "I/O rate must be 0 (unlimited) or positive, was " + bytesPerSecond);
    }
    this.bytesPerSecond = bytesPerSecond;
    this.available = bytesPerSecond;
  }

  public long bytesPerSecond() {
    return bytesPerSecond;
  }

  /**
   * Waits until {@code bytes} more may be read or written. A request larger than a second's budget
   * waits for the budget to cover it, then takes it all.
   *
   * @throws InterruptedException if interrupted while waiting
   */
  public void acquire(long bytes) throws InterruptedException {
    if (bytesPerSecond == 0 || bytes <= 0) {
      return;
    }
    long waitNanos;
    synchronized (this) {
      refill();
      available -= bytes;
      waitNanos = available >= 0 ? 0 : (long) (-available * 1e9 / bytesPerSecond);
    }
    if (waitNanos > 0) {
      Thread.sleep(waitNanos / 1_000_000, (int) (waitNanos % 1_000_000));
    }
  }

  private void refill() {
    long now = System.nanoTime();
    available =
        Math.min(
            (double) bytesPerSecond,
            available + (now - refilledAt) * (double) bytesPerSecond / 1e9);
    refilledAt = now;
  }

  @Override
  public String toString() {
    return bytesPerSecond == 0 ? "unlimited" : bytesPerSecond + " bytes/s";
  }
}
