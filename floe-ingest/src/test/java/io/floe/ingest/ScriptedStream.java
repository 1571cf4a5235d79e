package io.floe.ingest;

import io.floe.core.config.PipelineConfig;
import io.floe.ingest.SourceEvent.Operation;
import io.floe.ingest.stream.JsonDecoder;
import io.floe.ingest.stream.StreamRecord;
import io.floe.ingest.stream.StreamTables;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A stream source for pipeline tests, built on the {@link ChangeSource} contract: records appended
 * with {@link Stream#append} are delivered in order, each at its sequence number, batches of a few
 * at a time; a start resumes after the position given. Delivers heartbeats when idle.
 */
final class ScriptedStream implements ChangeSource {
  static final String SEQUENCE = "floe.source.scripted.sequence";

  /** A record's place: its sequence number, 1 for the first. */
  record Position(long sequence) implements SourcePosition {
    @Override
    public Map<String, String> summary() {
      return Map.of(SEQUENCE, Long.toString(sequence));
    }

    @Override
    public boolean loadComplete() {
      return true;
    }

    @Override
    public boolean holds(SourcePosition commit) {
      return sequence >= ((Position) commit).sequence;
    }

    @Override
    public SourcePosition including(SourcePosition checkpoint) {
      return ((Position) checkpoint).sequence > sequence ? checkpoint : this;
    }
  }

  /** Records of the stream, shared by the sources of successive pipeline runs. */
  static final class Stream {
    private final List<byte[]> values = new CopyOnWriteArrayList<>();

    /** Appends records (JSON text, or anything) and returns the sequence of the last one. */
    long append(String... records) {
      for (String record : records) {
        values.add(record == null ? null : record.getBytes(StandardCharsets.UTF_8));
      }
      return values.size();
    }
  }

  private final PipelineConfig config;
  private final Stream stream;
  private final List<String> keyColumns;
  private final AtomicLong acknowledged = new AtomicLong();
  private volatile boolean closed;
  private Thread thread;
  private ChangeHandler handler;

  ScriptedStream(PipelineConfig config, Stream stream) {
    this.config = config;
    this.stream = stream;
    this.keyColumns = StreamTables.config(config).key();
  }

  long acknowledged() {
    return acknowledged.get();
  }

  @Override
  public List<SourceTable> inspect() {
    return List.of(StreamTables.sourceTable(config, "scripted"));
  }

  @Override
  public Optional<SourcePosition> position(Map<String, String> summary) {
    String sequence = summary.get(SEQUENCE);
    return sequence == null
        ? Optional.empty()
        : Optional.of(new Position(Long.parseLong(sequence)));
  }

  @Override
  public SourcePosition resumePosition(List<SourcePosition> checkpoints) {
    return checkpoints.stream()
        .map(Position.class::cast)
        .min((a, b) -> Long.compare(a.sequence, b.sequence))
        .orElseThrow();
  }

  @Override
  public List<SourceTable> prepareFullLoad(List<SourceTable> tables) {
    return tables;
  }

  @Override
  public void start(Optional<SourcePosition> resume, ChangeHandler handler) {
    this.handler = handler;
    long from = resume.map(p -> ((Position) p).sequence).orElse(0L);
    thread =
        new Thread(
            () -> {
              Throwable failure = null;
              try {
                run(from);
              } catch (Throwable e) {
                failure = e;
              }
              handler.stopped(failure);
            },
            "scripted-stream");
    thread.setDaemon(true);
    thread.start();
  }

  private void run(long from) throws InterruptedException {
    long next = from + 1;
    JsonDecoder decoder = new JsonDecoder(keyColumns);
    while (!closed) {
      List<SourceEvent> batch = new ArrayList<>();
      while (next <= stream.values.size() && batch.size() < 7) {
        byte[] value = stream.values.get((int) next - 1);
        StreamRecord record =
            new StreamRecord(
                "scripted:" + next,
                "record " + next,
                null,
                value,
                System.currentTimeMillis(),
                decoder,
                1024);
        batch.add(
            new SourceEvent.Change(
                "scripted",
                Operation.INSERT,
                record,
                null,
                System.currentTimeMillis(),
                new Position(next)));
        next++;
      }
      if (batch.isEmpty()) {
        batch.add(new SourceEvent.Heartbeat(new Position(next - 1)));
        Thread.sleep(20);
      }
      handler.handle(batch, position -> acknowledged.set(((Position) position).sequence));
    }
  }

  @Override
  public void close() {
    closed = true;
    if (thread != null) {
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
