package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.InternalRecordWrapper;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.encryption.EncryptedOutputFile;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFileFactory;

/**
 * Writes a batch of rows into Parquet data files, one per partition, on a background thread while
 * the caller goes on producing rows: Parquet's encoding (about a third of a stream pipeline's work)
 * then overlaps decoding, enrichment and the catalog commit instead of following them. Rows are
 * handed over in chunks; the caller waits only when the files fall more than {@value
 * #MAX_CHUNKS_AHEAD} chunks behind (which bounds the memory of rows in flight), and at {@link
 * #finish}, for the last chunk and the files' footers.
 *
 * <p>A failure of the background write is thrown by {@link #finish}, after the batch's files are
 * deleted; rows added after it are dropped, as the batch cannot be committed any more. A caller
 * that gives up a batch {@link #discard discards} it, which deletes its files too. Thread-safe; the
 * chunks of one batch are written in order, one at a time.
 */
final class BackgroundDataFiles {
  static final int CHUNK_ROWS = 1024;
  static final int MAX_CHUNKS_AHEAD = 8;

  private static final AtomicInteger THREADS = new AtomicInteger();

  /** Shared by every writer: each runs at most one task at a time, so threads follow writers. */
  private static final ExecutorService WORKERS =
      Executors.newCachedThreadPool(
          task -> {
            Thread thread = new Thread(task, "floe-data-files-" + THREADS.incrementAndGet());
            thread.setDaemon(true);
            return thread;
          });

  private final Table table;
  private final PartitionSpec spec;
  private final OutputFileFactory files;

  // Used by the background tasks only, which run one after the other (each the previous one's
  // continuation, so each sees what the previous one did).
  private final PartitionKey key;
  private final InternalRecordWrapper wrapper;
  private final Map<PartitionKey, DataWriter<Record>> open = new LinkedHashMap<>();
  private final List<String> locations = new ArrayList<>();

  private List<Record> chunk = new ArrayList<>(CHUNK_ROWS);
  private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
  private final ArrayDeque<CompletableFuture<Void>> ahead = new ArrayDeque<>();

  BackgroundDataFiles(Table table, Schema schema, PartitionSpec spec, OutputFileFactory files) {
    this.table = requireNonNull(table, "table is null");
    this.spec = requireNonNull(spec, "spec is null");
    this.files = requireNonNull(files, "files is null");
    this.key = new PartitionKey(spec, schema);
    this.wrapper = new InternalRecordWrapper(schema.asStruct());
  }

  /** Adds a row to the batch; waits while the files are too far behind. */
  synchronized void add(Record row) {
    if (tail.isCompletedExceptionally()) {
      return; // The batch failed: finish() says why, and nothing of it is committed.
    }
    chunk.add(row);
    if (chunk.size() >= CHUNK_ROWS) {
      handOver();
    }
  }

  /**
   * Writes the rest of the batch and closes its files; the next row starts a new batch.
   *
   * @return the batch's data files, none when it had no rows
   * @throws RuntimeException the background write's failure, after the batch's files are deleted
   */
  synchronized List<DataFile> finish() {
    if (!chunk.isEmpty()) {
      handOver();
    }
    CompletableFuture<List<DataFile>> closed = tail.thenApplyAsync(ignored -> closeAll(), WORKERS);
    try {
      List<DataFile> written = closed.join();
      locations.clear();
      return written;
    } catch (CompletionException e) {
      RuntimeException failure = unwrap(e);
      deleteFiles(failure);
      throw failure;
    } finally {
      reset();
    }
  }

  /**
   * Drops the batch: waits for the background write to stop, then deletes the files written for it.
   *
   * @throws UncheckedIOException when a file cannot be deleted (it stays behind, unreferenced, for
   *     orphan removal)
   */
  synchronized void discard() {
    chunk = new ArrayList<>(CHUNK_ROWS);
    // The background write may have failed: the batch is dropped either way.
    tail.handle((ignored, failure) -> null).join();
    reset();
    deleteFiles(null);
  }

  private void handOver() {
    List<Record> rows = chunk;
    chunk = new ArrayList<>(CHUNK_ROWS);
    tail = tail.thenRunAsync(() -> write(rows), WORKERS);
    ahead.add(tail);
    while (ahead.size() > MAX_CHUNKS_AHEAD) {
      // Back-pressure. A failure is not thrown here but by finish(), for the whole batch.
      ahead.remove().handle((ignored, failure) -> null).join();
    }
  }

  private void reset() {
    tail = CompletableFuture.completedFuture(null);
    ahead.clear();
  }

  /** Background: appends rows to their partitions' files, opening those not open yet. */
  private void write(List<Record> rows) {
    boolean partitioned = !spec.isUnpartitioned();
    for (Record row : rows) {
      PartitionKey partition = null;
      if (partitioned) {
        key.partition(wrapper.wrap(row));
        partition = key;
      }
      DataWriter<Record> writer = open.get(partition);
      if (writer == null) {
        PartitionKey copy = partitioned ? partition.copy() : null;
        EncryptedOutputFile file = ParquetRows.newOutputFile(files, spec, copy);
        locations.add(file.encryptingOutputFile().location());
        writer = ParquetRows.dataWriter(table, file, spec, copy);
        open.put(copy, writer);
      }
      writer.write(row);
    }
  }

  /** Background: closes the open files, in the order they were opened. */
  private List<DataFile> closeAll() {
    List<DataFile> written = new ArrayList<>(open.size());
    var writers = open.values().iterator();
    while (writers.hasNext()) {
      DataWriter<Record> writer = writers.next();
      try {
        writer.close();
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot write a data file of table " + table.name(), e);
      }
      writers.remove();
      written.add(writer.toDataFile());
    }
    return written;
  }

  /**
   * Closes what is still open and deletes every file of the batch; what fails is added to {@code
   * failure}, or thrown when there is none. Runs with no background task left.
   */
  private void deleteFiles(RuntimeException failure) {
    RuntimeException problem = failure;
    for (DataWriter<Record> writer : open.values()) {
      try {
        writer.close();
      } catch (IOException e) {
        problem =
            addTo(
                problem,
                new UncheckedIOException("Cannot close a data file of table " + table.name(), e));
      } catch (RuntimeException e) {
        problem = addTo(problem, e);
      }
    }
    open.clear();
    for (String location : locations) {
      try {
        table.io().deleteFile(location);
      } catch (RuntimeException e) {
        problem = addTo(problem, e);
      }
    }
    locations.clear();
    if (failure == null && problem != null) {
      throw problem;
    }
  }

  private static RuntimeException addTo(RuntimeException problem, RuntimeException e) {
    if (problem == null) {
      return e;
    }
    problem.addSuppressed(e);
    return problem;
  }

  private static RuntimeException unwrap(CompletionException e) {
    Throwable cause = e.getCause() == null ? e : e.getCause();
    if (cause instanceof RuntimeException runtime) {
      return runtime;
    }
    if (cause instanceof Error error) {
      throw error;
    }
    return new IllegalStateException(cause);
  }
}
