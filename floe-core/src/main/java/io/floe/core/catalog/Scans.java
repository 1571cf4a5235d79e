package io.floe.core.catalog;

import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableScan;

/** Table scans as Floe plans them. */
public final class Scans {
  private static final AbstractExecutorService CALLER_THREAD = new CallerThreadExecutor();

  private Scans() {}

  /**
   * A scan of the table's current snapshot planned in the calling thread: Iceberg's parallel
   * planning waits for its workers in 10 ms steps, which costs more than it saves on the few
   * manifests a Floe table keeps.
   */
  public static TableScan scan(Table table) {
    return table.newScan().planWith(CALLER_THREAD);
  }

  /**
   * An executor that runs each task in the calling thread, for Iceberg's manifest work in commits
   * ({@code scanManifestsWith}): with its worker pool, a commit waits for the workers in 10 ms
   * sleeps, several times per commit.
   */
  public static ExecutorService callerThread() {
    return CALLER_THREAD;
  }

  private static final class CallerThreadExecutor extends AbstractExecutorService {
    @Override
    public void execute(Runnable command) {
      command.run();
    }

    @Override
    public void shutdown() {
      throw new UnsupportedOperationException("the caller-thread executor is shared");
    }

    @Override
    public List<Runnable> shutdownNow() {
      throw new UnsupportedOperationException("the caller-thread executor is shared");
    }

    @Override
    public boolean isShutdown() {
      return false;
    }

    @Override
    public boolean isTerminated() {
      return false;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return false;
    }
  }
}
