package io.floe.ingest.http;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.HttpSourceConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.RecordFormat;
import io.floe.ingest.ChangeHandler;
import io.floe.ingest.ChangeSource;
import io.floe.ingest.SourceContext;
import io.floe.ingest.SourceEvent;
import io.floe.ingest.SourceFigures;
import io.floe.ingest.SourcePosition;
import io.floe.ingest.SourceTable;
import io.floe.ingest.stream.RecordDecoder;
import io.floe.ingest.stream.RecordDecoders;
import io.floe.ingest.stream.StreamRecord;
import io.floe.ingest.stream.StreamTables;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP stream source: batches of records POSTed to {@code /v1/streams/{stream}/records} are
 * appended to a local {@link HttpIngestLog} ({@link #submit}), and delivered from it to the
 * pipeline on the source's own thread, each record a {@link SourceEvent.Change} (an insert of a
 * {@link StreamRecord}) of its own, outside any transaction, so that the pipeline may commit
 * between any two records. A record's position is its sequence number in the log ({@link
 * HttpPosition}); acknowledging a position truncates the log up to it and answers the requests that
 * wait for their commit. After a crash, the log is delivered again after the oldest checkpoint.
 *
 * <p>There is no full load: a pipeline without checkpoints starts at the beginning of the log.
 * While idle, the source sends a heartbeat every {@value #HEARTBEAT_MILLIS} ms, so that the
 * pipeline commits what it holds and records where it stands.
 *
 * <p>The log is kept in {@code <state directory>/streams/<pipeline>/}. While it runs, the source is
 * registered in the process's {@link HttpStreams} under its stream name.
 */
public final class HttpSource implements ChangeSource {
  static final long HEARTBEAT_MILLIS = 500;
  private static final int MAX_RECORDS_PER_DELIVERY = 10_000;
  private static final long MAX_BYTES_PER_DELIVERY = 16L * 1024 * 1024;
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
  private static final Logger LOG = LoggerFactory.getLogger(HttpSource.class);

  /** Lifecycle of the source. */
  private enum State {
    CREATED,
    INSPECTED,
    RUNNING,
    STOPPING,
    STOPPED
  }

  /**
   * What {@link #submit} accepted.
   *
   * @param stream the stream's name
   * @param accepted how many records the batch has; 0 for an empty batch, which is not logged
   * @param firstSequence the sequence number of its first record (0 for an empty batch)
   * @param lastSequence the sequence number of its last record (0 for an empty batch)
   * @param duplicate whether a batch with its id was accepted before: nothing was appended, and the
   *     sequence numbers are that batch's
   */
  public record Result(
      String stream, int accepted, long firstSequence, long lastSequence, boolean duplicate) {
    public Result {
      requireNonNull(stream, "stream is null");
    }
  }

  /** A request waiting for the commit of its batch, and its answer. */
  private record Waiter(CompletableFuture<Result> future, Result result) {}

  private final PipelineConfig config;
  private final HttpSourceConfig http;
  private final String table;
  private final Path logDirectory;
  private final HttpStreams streams;
  private final RecordDecoder decoder;

  /** Guards the state: submits hold it shared, state changes exclusively. */
  private final ReentrantReadWriteLock stateLock = new ReentrantReadWriteLock();

  /** Guards {@link #acknowledged} and {@link #waiting}; signals appends to the delivery thread. */
  private final ReentrantLock lock = new ReentrantLock();

  private final Condition appended = lock.newCondition();

  /** Requests waiting for the commit of their last sequence number, by it. */
  private final NavigableMap<Long, List<Waiter>> waiting = new TreeMap<>();

  private volatile State state = State.CREATED;
  private volatile HttpIngestLog log;

  /** The sequence number up to which the tables committed everything. */
  private volatile long acknowledged;

  private Thread thread;

  /**
   * A source for {@code config}, a pipeline with {@code source.type: http}, that keeps its log in
   * {@code <stateDirectory>/streams/<pipeline>/} and registers in {@code context}'s streams.
   */
  public HttpSource(PipelineConfig config, SourceContext context) {
    this(
        config,
        requireNonNull(context, "context is null")
            .stateDirectory()
            .resolve("streams")
            .resolve(config.name()),
        context.httpStreams());
  }

  /** A source for {@code config} that keeps its log in {@code logDirectory}. */
  public HttpSource(PipelineConfig config, Path logDirectory, HttpStreams streams) {
    this.config = requireNonNull(config, "config is null");
    if (!(config.source() instanceof HttpSourceConfig source)) {
      throw new IllegalArgumentException("Pipeline " + config.name() + " is not an HTTP stream");
    }
    this.http = source;
    this.table = StreamTables.config(config).table();
    this.logDirectory = requireNonNull(logDirectory, "logDirectory is null");
    this.streams = requireNonNull(streams, "streams is null");
    this.decoder = RecordDecoders.of(RecordFormat.JSON, "", StreamTables.config(config).key());
  }

  /** The stream's name in the ingest URL. */
  public String stream() {
    return http.stream();
  }

  /** The pipeline's name. */
  public String pipeline() {
    return config.name();
  }

  /** The largest request body the stream accepts, in bytes. */
  public long maxRequestBytes() {
    return http.maxRequestBytes();
  }

  /** How long a refused client should wait: the commit interval, in whole seconds, at least 1. */
  public long retryAfterSeconds() {
    long millis = config.commitInterval().toMillis();
    return Math.max(1, (millis + 999) / 1000);
  }

  /**
   * The longest a request should wait for its commit: a few commit intervals, and at least 30 s.
   */
  public Duration commitWait() {
    Duration intervals = config.commitInterval().multipliedBy(3);
    Duration least = Duration.ofSeconds(30);
    return intervals.compareTo(least) > 0 ? intervals : least;
  }

  /** Opens (or creates) the stream's log, and returns the stream's table. */
  @Override
  public List<SourceTable> inspect() {
    stateLock.writeLock().lock();
    try {
      if (log == null) {
        log = HttpIngestLog.open(logDirectory);
        state = State.INSPECTED;
      }
    } finally {
      stateLock.writeLock().unlock();
    }
    return List.of(StreamTables.sourceTable(config, table));
  }

  @Override
  public Optional<SourcePosition> position(Map<String, String> summary) {
    return HttpPosition.read(summary);
  }

  @Override
  public SourcePosition resumePosition(List<SourcePosition> checkpoints) {
    return HttpPosition.oldest(checkpoints);
  }

  /** There is no full load: the tables are returned as they are. */
  @Override
  public List<SourceTable> prepareFullLoad(List<SourceTable> tables) {
    return tables;
  }

  @Override
  public void start(Optional<SourcePosition> resume, ChangeHandler handler) {
    requireNonNull(resume, "resume is null");
    requireNonNull(handler, "handler is null");
    stateLock.writeLock().lock();
    try {
      if (state != State.INSPECTED) {
        throw new IllegalStateException(
            "Cannot start the source of pipeline "
                + config.name()
                + " when "
                + state
                + ": inspect it first, and start it once");
      }
      HttpPosition from = resume.map(HttpPosition::cast).orElse(new HttpPosition(0, null));
      checkLog(from, resume.isPresent());
      acknowledged = from.sequence();
      streams.register(this);
      state = State.RUNNING;
      thread = new Thread(() -> deliver(from, handler), "floe-pipeline-" + config.name());
      thread.setDaemon(true);
      thread.start();
      LOG.info(
          "Pipeline {}: accepting records of stream {}; delivering its log after {} (next sequence"
              + " {})",
          config.name(),
          stream(),
          from,
          log.nextSequence());
    } finally {
      stateLock.writeLock().unlock();
    }
  }

  /** Compares the log with where the tables stand, and moves its numbering past them if needed. */
  private void checkLog(HttpPosition from, boolean resumed) {
    long last = log.nextSequence() - 1;
    if (from.sequence() > last) {
      LOG.warn(
          "Pipeline {}: the tables hold records up to {} but the ingest log in {} ends at {} (was"
              + " the directory moved or emptied?); new records are numbered after {}",
          config.name(),
          from,
          logDirectory,
          last,
          from.sequence());
      log.advancePast(from.sequence());
    } else if (resumed && from.sequence() + 1 < log.firstSequence()) {
      LOG.warn(
          "Pipeline {}: the tables hold records up to {} but the ingest log in {} begins at"
              + " sequence {}: records {} to {} are no longer in it and cannot be replayed",
          config.name(),
          from,
          logDirectory,
          log.firstSequence(),
          from.sequence() + 1,
          log.firstSequence() - 1);
    }
  }

  /**
   * Accepts a batch: appends it to the log (unless a batch with its id was accepted before), and
   * completes once it is durable in the log or, with {@code waitForCommit}, once a commit of the
   * tables holds it.
   *
   * @param batchId the client's id of the batch, for retries, or null
   * @param records the records, each the bytes of one JSON value
   * @throws IngestRefusedException when the stream's buffer is full ({@link ErrorCode#STREAM_BUSY})
   *     or its pipeline is not running ({@link ErrorCode#STREAM_UNAVAILABLE}); nothing was accepted
   * @throws FloeException when the log cannot be written
   */
  public CompletableFuture<Result> submit(
      String batchId, List<byte[]> records, boolean waitForCommit) {
    requireNonNull(records, "records is null");
    stateLock.readLock().lock();
    try {
      if (state != State.RUNNING) {
        throw unavailable();
      }
      if (records.isEmpty()) {
        return CompletableFuture.completedFuture(new Result(stream(), 0, 0, 0, false));
      }
      if (batchId != null) {
        Optional<HttpIngestLog.Appended> seen = log.find(batchId);
        if (seen.isPresent()) {
          return answer(seen.get(), true, waitForCommit);
        }
      }
      long buffered = bufferedRecords();
      if (buffered >= http.maxBufferedRecords()) {
        throw new IngestRefusedException(
            ErrorCode.STREAM_BUSY,
            "Cannot accept records of stream "
                + stream()
                + " now: "
                + buffered
                + " accepted records wait for their commit, as many as max-buffered-records ("
                + http.maxBufferedRecords()
                + ") allows; send the request again in "
                + retryAfterSeconds()
                + " s",
            retryAfterSeconds());
      }
      HttpIngestLog.AppendResult result = log.append(batchId, records, System.currentTimeMillis());
      if (!result.duplicate()) {
        lock.lock();
        try {
          appended.signalAll();
        } finally {
          lock.unlock();
        }
      }
      return answer(result.batch(), result.duplicate(), waitForCommit);
    } finally {
      stateLock.readLock().unlock();
    }
  }

  /**
   * Completes with {@code accepted} (an answer of {@link #submit}) once a commit of the tables
   * holds its records, or fails with an {@link IngestRefusedException} when the source stops first.
   */
  public CompletableFuture<Result> committed(Result accepted) {
    requireNonNull(accepted, "accepted is null");
    return waitFor(accepted);
  }

  private CompletableFuture<Result> answer(
      HttpIngestLog.Appended batch, boolean duplicate, boolean waitForCommit) {
    Result result =
        new Result(stream(), batch.count(), batch.firstSequence(), batch.lastSequence(), duplicate);
    return waitForCommit ? waitFor(result) : CompletableFuture.completedFuture(result);
  }

  private CompletableFuture<Result> waitFor(Result result) {
    if (result.accepted() == 0) {
      return CompletableFuture.completedFuture(result);
    }
    lock.lock();
    try {
      if (acknowledged >= result.lastSequence()) {
        return CompletableFuture.completedFuture(result);
      }
      if (state != State.RUNNING) {
        return CompletableFuture.failedFuture(unavailable());
      }
      CompletableFuture<Result> future = new CompletableFuture<>();
      waiting
          .computeIfAbsent(result.lastSequence(), last -> new ArrayList<>())
          .add(new Waiter(future, result));
      return future;
    } finally {
      lock.unlock();
    }
  }

  private IngestRefusedException unavailable() {
    String why =
        switch (state) {
          case CREATED, INSPECTED -> "is starting";
          case RUNNING -> "runs";
          case STOPPING -> "is stopping";
          case STOPPED -> "stopped";
        };
    return new IngestRefusedException(
        ErrorCode.STREAM_UNAVAILABLE,
        "Cannot accept records of stream "
            + stream()
            + ": its pipeline "
            + config.name()
            + " "
            + why
            + "; send the request again once it runs",
        retryAfterSeconds());
  }

  /** Records appended to the log but not yet acknowledged; 0 unless running. */
  public long bufferedRecords() {
    HttpIngestLog current = log;
    if (current == null || state != State.RUNNING) {
      return 0;
    }
    return Math.max(0, current.nextSequence() - 1 - acknowledged);
  }

  @Override
  public SourceFigures figures() {
    return new SourceFigures(Map.of(), bufferedRecords(), Optional.empty());
  }

  /** Delivers the log after {@code from}, then what is appended, until stopped. */
  private void deliver(HttpPosition from, ChangeHandler handler) {
    Throwable failure = null;
    HttpPosition position = from;
    ChangeHandler.Acknowledger acknowledger = this::acknowledge;
    try {
      while (state == State.RUNNING) {
        List<HttpIngestLog.Batch> batches =
            log.readAfter(position.sequence(), MAX_RECORDS_PER_DELIVERY, MAX_BYTES_PER_DELIVERY);
        if (batches.isEmpty()) {
          if (!awaitAppend(position.sequence()) && state == State.RUNNING) {
            handler.handle(List.of(new SourceEvent.Heartbeat(position)), acknowledger);
          }
          continue;
        }
        List<SourceEvent> events = new ArrayList<>();
        for (HttpIngestLog.Batch batch : batches) {
          for (int i = 0; i < batch.records().size(); i++) {
            long sequence = batch.firstSequence() + i;
            if (sequence <= position.sequence()) {
              continue;
            }
            position = new HttpPosition(sequence, batch.batchId());
            events.add(change(batch, i, position));
          }
        }
        handler.handle(events, acknowledger);
      }
    } catch (InterruptedException e) {
      if (state == State.RUNNING) {
        failure =
            new FloeException(
                ErrorCode.OPERATION_INTERRUPTED,
                "Stopped delivering stream " + stream() + ": interrupted",
                e);
      }
    } catch (RuntimeException | Error e) {
      failure = e;
    }
    if (failure != null) {
      LOG.debug("Pipeline {}: the delivery of stream {} failed", config.name(), stream(), failure);
      // Nothing is delivered any more: refuse new requests until the pipeline starts again.
      stop("its pipeline failed");
    }
    handler.stopped(failure);
  }

  private SourceEvent change(HttpIngestLog.Batch batch, int index, HttpPosition position) {
    String origin =
        batch.batchId() != null
            ? "batch " + batch.batchId() + " record " + (index + 1)
            : "request "
                + batch.firstSequence()
                + "-"
                + batch.lastSequence()
                + " record "
                + (index + 1);
    StreamRecord record =
        new StreamRecord(
            recordId(position.sequence()),
            origin,
            null,
            batch.records().get(index),
            batch.receivedMillis(),
            decoder,
            http.maxRecordBytes());
    return new SourceEvent.Change(
        table, SourceEvent.Operation.INSERT, record, null, batch.receivedMillis(), position);
  }

  /** The id of the record with {@code sequence}, as the dead-letter table keys it. */
  static String recordId(long sequence) {
    return String.format(Locale.ROOT, "http:%012d", sequence);
  }

  /**
   * Waits until a record after {@code delivered} is appended, the source stops, or a heartbeat is
   * due; returns whether a record was appended.
   */
  private boolean awaitAppend(long delivered) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(HEARTBEAT_MILLIS);
    lock.lock();
    try {
      while (true) {
        if (log.nextSequence() - 1 > delivered) {
          return true;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0 || state != State.RUNNING) {
          return false;
        }
        appended.awaitNanos(left);
      }
    } finally {
      lock.unlock();
    }
  }

  /** The tables committed everything up to {@code position}: truncate the log and answer. */
  private void acknowledge(SourcePosition position) {
    long sequence = HttpPosition.cast(position).sequence();
    List<Waiter> committed = new ArrayList<>();
    lock.lock();
    try {
      if (sequence > acknowledged) {
        acknowledged = sequence;
      }
      NavigableMap<Long, List<Waiter>> done = waiting.headMap(sequence, true);
      done.values().forEach(committed::addAll);
      done.clear();
    } finally {
      lock.unlock();
    }
    log.truncate(sequence);
    for (Waiter waiter : committed) {
      waiter.future().complete(waiter.result());
    }
  }

  /**
   * Stops delivering, waits for the batch in progress, and closes the log; requests that wait for
   * their commit are answered that the stream stopped (their records are durable in the log and are
   * committed when the pipeline starts again).
   */
  @Override
  public void close() {
    Thread delivery;
    stateLock.writeLock().lock();
    try {
      if (state == State.CREATED || state == State.INSPECTED) {
        state = State.STOPPED;
        closeLog();
        return;
      }
      if (state != State.RUNNING) {
        return;
      }
      state = State.STOPPING;
      delivery = thread;
    } finally {
      stateLock.writeLock().unlock();
    }
    lock.lock();
    try {
      appended.signalAll();
    } finally {
      lock.unlock();
    }
    if (delivery != Thread.currentThread()) {
      try {
        delivery.join(STOP_TIMEOUT.toMillis());
        if (delivery.isAlive()) {
          LOG.warn(
              "Pipeline {}: the delivery of stream {} did not stop within {} s; interrupting it",
              config.name(),
              stream(),
              STOP_TIMEOUT.toSeconds());
          delivery.interrupt();
          delivery.join(STOP_TIMEOUT.toMillis());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    stop("is stopping");
  }

  /** Unregisters the stream, fails the requests waiting for a commit, closes the log. */
  private void stop(String why) {
    stateLock.writeLock().lock();
    try {
      if (state == State.STOPPED) {
        return;
      }
      state = State.STOPPED;
      streams.unregister(this);
      List<Waiter> pending = new ArrayList<>();
      lock.lock();
      try {
        waiting.values().forEach(pending::addAll);
        waiting.clear();
      } finally {
        lock.unlock();
      }
      for (Waiter waiter : pending) {
        waiter
            .future()
            .completeExceptionally(
                new IngestRefusedException(
                    ErrorCode.STREAM_UNAVAILABLE,
                    "Stream "
                        + stream()
                        + " stopped before its tables committed the request's records, because its"
                        + " pipeline "
                        + why
                        + "; they are durable in its log and are committed when the pipeline runs"
                        + " again: send the request again with the same batch id to wait for that",
                    retryAfterSeconds()));
      }
      closeLog();
    } finally {
      stateLock.writeLock().unlock();
    }
  }

  private void closeLog() {
    if (log != null) {
      log.close();
    }
  }
}
