package io.floe.ingest;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.ErrorType;
import io.floe.core.FloeException;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one pipeline running: when it fails for a reason that may pass (storage, the catalog or the
 * source unreachable, a commit conflict or a commit whose outcome is unknown), it is started again
 * after an exponential back-off, from what its tables hold, so nothing is lost or repeated. A
 * failure that will not pass by itself (a configuration or data problem, a bug) stops it for good.
 * The first start is not retried: a pipeline that cannot start says why at once.
 */
public final class PipelineSupervisor implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PipelineSupervisor.class);
  private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);

  /** A pipeline that streamed this long before failing starts its back-off from the beginning. */
  private static final Duration HEALTHY_RUN = Duration.ofMinutes(1);

  /**
   * Failures a restart may get past; everything of type EXTERNAL_RETRIABLE, and these. A pipeline
   * blocked by a quality rule checks again on each restart: the data may have been fixed.
   */
  private static final Set<ErrorCode> RETRIED =
      EnumSet.of(ErrorCode.TABLE_COMMIT_UNKNOWN, ErrorCode.QUALITY_BLOCKED);

  private final String name;
  private final Supplier<Pipeline> factory;
  private final Duration maxBackoff;
  private final CountDownLatch terminated = new CountDownLatch(1);
  private volatile Pipeline current;
  private volatile boolean closed;
  private final AtomicInteger restarts = new AtomicInteger();
  private volatile FloeException lastFailure;
  private Thread monitor;

  /**
   * @param name the pipeline's name, for logs
   * @param factory a new, unstarted pipeline (with a new source) for each start
   * @param maxBackoff the longest wait between two starts
   */
  public PipelineSupervisor(String name, Supplier<Pipeline> factory, Duration maxBackoff) {
    this.name = requireNonNull(name, "name is null");
    this.factory = requireNonNull(factory, "factory is null");
    this.maxBackoff = requireNonNull(maxBackoff, "maxBackoff is null");
  }

  /** Whether a pipeline that failed with {@code failure} is started again. */
  static boolean retried(FloeException failure) {
    return failure.type() == ErrorType.EXTERNAL_RETRIABLE || RETRIED.contains(failure.code());
  }

  /**
   * Starts the pipeline, and watches it in the background.
   *
   * @throws FloeException when the pipeline cannot start; nothing is retried then, except a
   *     reference table that does not exist yet ({@link ErrorCode#REFERENCE_NOT_READY}): another
   *     pipeline of the process may be about to create it, so the start is retried as a restart
   */
  public synchronized void start() {
    if (monitor != null) {
      throw new IllegalStateException("Pipeline " + name + " is supervised already");
    }
    Pipeline first = factory.get();
    current = first;
    try {
      first.start();
    } catch (FloeException e) {
      if (e.code() != ErrorCode.REFERENCE_NOT_READY) {
        throw e;
      }
      lastFailure = e;
    }
    monitor = new Thread(this::watch, "floe-supervisor-" + name);
    monitor.setDaemon(true);
    monitor.start();
  }

  /** The pipeline running now, or the last one. */
  public Pipeline pipeline() {
    return current;
  }

  /** How often the pipeline was started again after a failure. */
  public int restarts() {
    return restarts.get();
  }

  /** The failure of the last restart's predecessor, or null when it never failed. */
  public FloeException lastFailure() {
    return lastFailure;
  }

  /** Waits until the pipeline stopped for good: closed, or failed in a way no restart fixes. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void watch() {
    Duration backoff = FIRST_BACKOFF;
    try {
      while (!closed) {
        Pipeline pipeline = current;
        long started = System.nanoTime();
        while (!pipeline.awaitTermination(Duration.ofSeconds(1))) {
          if (closed) {
            return;
          }
        }
        FloeException failure = pipeline.failure();
        if (closed || pipeline.state() != Pipeline.State.FAILED || failure == null) {
          return;
        }
        if (!retried(failure)) {
          LOG.error(
              "Pipeline {} stopped for good: {} is not a failure a restart gets past",
              name,
              failure.code().label());
          return;
        }
        lastFailure = failure;
        if (System.nanoTime() - started > HEALTHY_RUN.toNanos()) {
          backoff = FIRST_BACKOFF;
        }
        while (!closed) {
          LOG.warn(
              "Pipeline {} failed ({}); starting it again in {} s, from what its tables hold",
              name,
              failure.describe(),
              backoff.toSeconds());
          if (sleep(backoff)) {
            return;
          }
          backoff =
              backoff.multipliedBy(2).compareTo(maxBackoff) > 0
                  ? maxBackoff
                  : backoff.multipliedBy(2);
          Pipeline next = factory.get();
          synchronized (this) {
            if (closed) {
              return;
            }
            current = next;
          }
          try {
            next.start();
            if (closed) {
              next.close(); // closed while it started: close() found it not started yet
              return;
            }
            LOG.info("Pipeline {} started again (restart {})", name, restarts.incrementAndGet());
            break;
          } catch (FloeException e) {
            if (!retried(e)) {
              LOG.error("Pipeline {} cannot start again: {}", name, e.describe());
              return;
            }
            failure = e;
            lastFailure = e;
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      terminated.countDown();
    }
  }

  /** Sleeps, unless closed meanwhile; returns whether it was closed. */
  private boolean sleep(Duration duration) throws InterruptedException {
    long deadline = System.nanoTime() + duration.toNanos();
    while (!closed) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      Thread.sleep(Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1, 100));
    }
    return true;
  }

  /** Stops the pipeline (and any restart to come). */
  @Override
  public void close() {
    Pipeline pipeline;
    synchronized (this) {
      closed = true;
      pipeline = current;
    }
    if (pipeline != null) {
      pipeline.close();
    }
    if (monitor == null) {
      terminated.countDown();
    }
  }
}
