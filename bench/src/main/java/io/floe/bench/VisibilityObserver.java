package io.floe.bench;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotChanges;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.parquet.Parquet;

/**
 * Watches an Iceberg table from the outside, as a reader would: through its own catalog connection
 * it refreshes the table every {@code pollInterval}, and for every new snapshot reads the ids of
 * the rows in the data files the snapshot added, noting when each id was first seen.
 */
final class VisibilityObserver implements AutoCloseable {
  private final JdbcCatalog catalog;
  private final Table table;
  private final Duration pollInterval;
  private final long minimumId;
  private final Schema idSchema;
  private final Map<Long, Long> firstSeenNanos = new ConcurrentHashMap<>();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final Thread thread;
  private volatile boolean running = true;
  private final AtomicLong polls = new AtomicLong();
  private long lastSnapshotId;

  /** Starts watching; ids below {@code minimumId} are not recorded. */
  VisibilityObserver(
      Path warehouse, TableIdentifier identifier, Duration pollInterval, long minimumId) {
    this(warehouse, identifier, "id", pollInterval, minimumId);
  }

  /**
   * Starts watching the {@code long} column {@code idColumn}; ids below {@code minimumId} are not
   * recorded.
   */
  VisibilityObserver(
      Path warehouse,
      TableIdentifier identifier,
      String idColumn,
      Duration pollInterval,
      long minimumId) {
    this.catalog = FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
    this.table = catalog.loadTable(identifier);
    this.pollInterval = pollInterval;
    this.minimumId = minimumId;
    this.idSchema = table.schema().select(idColumn);
    Snapshot current = table.currentSnapshot();
    this.lastSnapshotId = current == null ? -1 : current.snapshotId();
    this.thread = new Thread(this::run, "bench-visibility-observer");
    thread.setDaemon(true);
    thread.start();
  }

  /** When the row with this id was first seen in the table (System.nanoTime()), or null. */
  Long firstSeen(long id) {
    return firstSeenNanos.get(id);
  }

  long polls() {
    return polls.get();
  }

  /** Waits at most {@code timeout} until every sampled id was seen. */
  void awaitSeen(Map<Long, Long> samples, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline
        && samples.keySet().stream().anyMatch(id -> firstSeen(id) == null)) {
      checkFailure();
      Thread.sleep(pollInterval.toMillis());
    }
  }

  /**
   * Client commit to first seen, in milliseconds, of each sampled id (id to client-side commit
   * time, {@link System#nanoTime()}) that was seen.
   */
  double[] visibleMillis(Map<Long, Long> samples) {
    return samples.entrySet().stream()
        .filter(sample -> firstSeen(sample.getKey()) != null)
        .mapToDouble(sample -> Bench.millis(firstSeen(sample.getKey()) - sample.getValue()))
        .toArray();
  }

  private void run() {
    try {
      while (running) {
        table.refresh();
        long seen = System.nanoTime();
        polls.incrementAndGet();
        Snapshot current = table.currentSnapshot();
        if (current != null && current.snapshotId() != lastSnapshotId) {
          for (Snapshot snapshot : newSnapshots(current)) {
            for (DataFile file :
                SnapshotChanges.builderFor(table).snapshot(snapshot).build().addedDataFiles()) {
              recordIds(file, seen);
            }
          }
          lastSnapshotId = current.snapshotId();
        }
        Thread.sleep(pollInterval.toMillis());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      failure.set(e);
    }
  }

  /** Snapshots after the last one seen, oldest first. */
  private List<Snapshot> newSnapshots(Snapshot current) {
    List<Snapshot> snapshots = new ArrayList<>();
    Snapshot snapshot = current;
    while (snapshot != null && snapshot.snapshotId() != lastSnapshotId) {
      snapshots.add(0, snapshot);
      snapshot = snapshot.parentId() == null ? null : table.snapshot(snapshot.parentId());
    }
    return snapshots;
  }

  private void recordIds(DataFile file, long seen) {
    try (CloseableIterable<Record> rows =
        Parquet.read(table.io().newInputFile(file.location()))
            .project(idSchema)
            .createReaderFunc(fileSchema -> GenericParquetReaders.buildReader(idSchema, fileSchema))
            .build()) {
      for (Record row : rows) {
        long id = (Long) row.get(0);
        if (id >= minimumId) {
          firstSeenNanos.putIfAbsent(id, seen);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void checkFailure() {
    Throwable error = failure.get();
    if (error != null) {
      throw new IllegalStateException("Cannot observe table " + table.name() + ": " + error, error);
    }
  }

  @Override
  public void close() throws IOException {
    running = false;
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    catalog.close();
  }
}
