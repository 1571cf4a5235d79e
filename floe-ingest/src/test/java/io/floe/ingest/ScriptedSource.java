package io.floe.ingest;

import static java.util.Objects.requireNonNull;

import io.floe.ingest.SourceEvent.Operation;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;

/**
 * A second implementation of the {@link ChangeSource} contract, for testing what every source
 * inherits from {@link Pipeline}: a scripted in-memory "database" ({@link Database}) whose
 * committed transactions the source loads in full once and then streams in commit order, on its own
 * thread, in batches of a few events (a transaction may span batches), with heartbeats while idle.
 * Its position is the sequence number of a transaction, as a database's log position would be. Not
 * a model of PostgreSQL: only the contract.
 *
 * <p>{@link #allowEvents} bounds how many events it delivers in all, and {@link #cutAfter} stops
 * delivery inside a transaction, so that a test can crash the pipeline at an exact point.
 */
final class ScriptedSource implements ChangeSource {
  /** Every table of the database: a key and a value. */
  static final Schema SCHEMA =
      new Schema(
          List.of(
              Types.NestedField.required(1, "id", Types.LongType.get()),
              Types.NestedField.optional(2, "value", Types.StringType.get())),
          java.util.Set.of(1));

  static final String STREAM = "floe.source.scripted.stream";
  static final String COMMIT = "floe.source.scripted.commit";
  static final String LOAD_COMPLETE = "floe.source.scripted.load-complete";

  /** A position's commit before the first transaction was delivered. */
  static final long NO_TRANSACTION = 0;

  private final Database database;
  private final List<String> inspected;
  private final int batchSize;
  private final Object lock = new Object();
  private Thread thread;
  private volatile boolean closed;
  private long allowedEvents = Long.MAX_VALUE;
  private long deliveredEvents;
  private int fullLoadsPrepared;
  private long cutSequence = -1;
  private int cutChanges;
  private boolean cut;
  private final List<Position> acknowledged = new ArrayList<>();

  ScriptedSource(Database database, int batchSize) {
    this(database, batchSize, database.tables);
  }

  /** A source that reports only the {@code inspected} tables, but delivers changes of all. */
  ScriptedSource(Database database, int batchSize, List<String> inspected) {
    this.database = requireNonNull(database, "database is null");
    this.batchSize = batchSize;
    this.inspected = List.copyOf(inspected);
  }

  /** One row change, as the database committed it. */
  record Row(String table, Operation operation, long id, String value) {}

  /** A committed transaction: its sequence number (from 1) and its changes. */
  record Transaction(long sequence, List<Row> rows) {}

  /**
   * The source database: its tables and its log of committed transactions. It outlives the
   * pipelines (and sources) that read it, as a real database outlives a crashed Floe.
   */
  static final class Database {
    private final List<String> tables;
    private final List<Transaction> log = new ArrayList<>();

    Database(String... tables) {
      this.tables = List.of(tables);
    }

    /** Commits a transaction of these changes; returns its sequence number. */
    synchronized long commit(Row... rows) {
      for (Row row : rows) {
        if (!tables.contains(row.table())) {
          throw new IllegalArgumentException("No table " + row.table());
        }
      }
      long sequence = log.size() + 1L;
      log.add(new Transaction(sequence, List.of(rows)));
      return sequence;
    }

    synchronized long head() {
      return log.size();
    }

    synchronized List<Transaction> after(long sequence) {
      return List.copyOf(log.subList((int) Math.min(sequence, log.size()), log.size()));
    }

    /** Each table's rows after the transactions up to {@code sequence}: id to value. */
    synchronized Map<String, Map<Long, String>> stateAt(long sequence) {
      Map<String, Map<Long, String>> state = new LinkedHashMap<>();
      tables.forEach(table -> state.put(table, new TreeMap<>()));
      for (Transaction transaction : log.subList(0, (int) sequence)) {
        for (Row row : transaction.rows()) {
          Map<Long, String> rows = state.get(row.table());
          switch (row.operation()) {
            case INSERT:
            case UPDATE:
              rows.put(row.id(), row.value());
              break;
            case DELETE:
              rows.remove(row.id());
              break;
            case TRUNCATE:
              rows.clear();
              break;
            default:
              throw new IllegalArgumentException("A transaction cannot " + row.operation());
          }
        }
      }
      return state;
    }
  }

  /**
   * Where the source stands: every transaction up to {@code stream} was delivered (or, during a
   * full load, is in the snapshot), the last one delivered being {@code commit}.
   */
  record Position(long stream, long commit, boolean loadComplete) implements SourcePosition {
    @Override
    public Map<String, String> summary() {
      return Map.of(
          STREAM,
          Long.toString(stream),
          COMMIT,
          Long.toString(commit),
          LOAD_COMPLETE,
          Boolean.toString(loadComplete));
    }

    @Override
    public boolean holds(SourcePosition other) {
      long transaction = ((Position) other).commit();
      return loadComplete && transaction != NO_TRANSACTION && transaction <= commit;
    }
  }

  /** A row image: the key and the value of {@link #SCHEMA}, or only the key. */
  private record Image(long id, String value, boolean keyOnly) implements RowImage {
    @Override
    public Record toRecord(Schema schema, BitSet unchanged) {
      GenericRecord record = GenericRecord.create(schema);
      record.setField("id", id);
      if (!keyOnly) {
        record.setField("value", value);
      }
      return record;
    }
  }

  @Override
  public List<SourceTable> inspect() {
    List<SourceTable> tables = new ArrayList<>();
    for (String table : inspected) {
      tables.add(new SourceTable(table, table.substring(table.indexOf('.') + 1), SCHEMA, 0));
    }
    return tables;
  }

  @Override
  public Optional<SourcePosition> position(Map<String, String> summary) {
    if (!summary.containsKey(STREAM)) {
      return Optional.empty();
    }
    return Optional.of(
        new Position(
            Long.parseLong(summary.get(STREAM)),
            Long.parseLong(summary.get(COMMIT)),
            Boolean.parseBoolean(summary.get(LOAD_COMPLETE))));
  }

  @Override
  public SourcePosition resumePosition(List<SourcePosition> checkpoints) {
    return checkpoints.stream()
        .map(Position.class::cast)
        .min(Comparator.comparingLong(Position::stream))
        .orElseThrow();
  }

  @Override
  public List<SourceTable> prepareFullLoad(List<SourceTable> tables) {
    synchronized (lock) {
      fullLoadsPrepared++;
    }
    return tables.stream().map(table -> table.withEstimatedRows(1)).toList();
  }

  @Override
  public void start(Optional<SourcePosition> resume, ChangeHandler handler) {
    thread =
        new Thread(
            () -> {
              Throwable failure = null;
              try {
                run(resume.map(Position.class::cast), handler);
              } catch (InterruptedException e) {
                // Closed while it waited.
              } catch (RuntimeException | Error e) {
                failure = e;
              }
              handler.stopped(failure);
            },
            "scripted-source");
    thread.start();
  }

  private void run(Optional<Position> resume, ChangeHandler handler) throws InterruptedException {
    Batcher batcher = new Batcher(handler);
    long next;
    long commit;
    if (resume.isEmpty()) {
      // The full load: the database's rows as of now, then what commits after.
      long snapshot = database.head();
      next = snapshot;
      commit = NO_TRANSACTION;
      List<SourceEvent> rows = new ArrayList<>();
      database
          .stateAt(snapshot)
          .forEach(
              (table, contents) ->
                  contents.forEach(
                      (id, value) ->
                          rows.add(
                              new SourceEvent.Change(
                                  table,
                                  Operation.READ,
                                  new Image(id, value, false),
                                  null,
                                  0,
                                  new Position(snapshot, NO_TRANSACTION, false)))));
      if (rows.isEmpty()) {
        batcher.add(new SourceEvent.Heartbeat(new Position(next, NO_TRANSACTION, true)));
      } else {
        SourceEvent.Change last = (SourceEvent.Change) rows.remove(rows.size() - 1);
        rows.add(
            new SourceEvent.Change(
                last.table(),
                last.operation(),
                last.row(),
                null,
                0,
                new Position(next, NO_TRANSACTION, true)));
        for (SourceEvent row : rows) {
          batcher.add(row);
        }
      }
      batcher.flush();
    } else {
      next = resume.get().stream();
      commit = resume.get().commit();
    }
    while (!closed) {
      List<Transaction> transactions = database.after(next);
      for (Transaction transaction : transactions) {
        batcher.add(new SourceEvent.TransactionBegin());
        Position inside = new Position(next, commit, true);
        int changes = 0;
        for (Row row : transaction.rows()) {
          if (transaction.sequence() == cutSequence() && changes++ == cutChanges) {
            batcher.flush();
            synchronized (lock) {
              cut = true;
              lock.notifyAll();
              while (!closed) {
                lock.wait(10);
              }
            }
            throw new InterruptedException("closed after the cut");
          }
          batcher.add(
              new SourceEvent.Change(
                  row.table(),
                  row.operation(),
                  row.operation() == Operation.TRUNCATE
                      ? null
                      : new Image(row.id(), row.value(), row.operation() == Operation.DELETE),
                  null,
                  System.currentTimeMillis(),
                  inside));
        }
        next = transaction.sequence();
        commit = transaction.sequence();
        batcher.add(new SourceEvent.TransactionCommit(new Position(next, commit, true)));
      }
      batcher.flush();
      if (transactions.isEmpty()) {
        batcher.add(new SourceEvent.Heartbeat(new Position(next, commit, true)));
        batcher.flush();
        Thread.sleep(5);
      }
    }
  }

  /** Hands events to the pipeline in batches of {@link #batchSize}, within the allowed count. */
  private final class Batcher {
    private final ChangeHandler handler;
    private final List<SourceEvent> batch = new ArrayList<>();

    Batcher(ChangeHandler handler) {
      this.handler = handler;
    }

    void add(SourceEvent event) throws InterruptedException {
      boolean limited;
      synchronized (lock) {
        limited = deliveredEvents + batch.size() >= allowedEvents;
      }
      if (limited) {
        flush();
        synchronized (lock) {
          while (deliveredEvents >= allowedEvents && !closed) {
            lock.wait(10);
          }
        }
      }
      if (closed) {
        throw new InterruptedException("closed");
      }
      batch.add(event);
      if (batch.size() >= batchSize) {
        flush();
      }
    }

    void flush() throws InterruptedException {
      if (batch.isEmpty() || closed) {
        return;
      }
      List<SourceEvent> events = List.copyOf(batch);
      batch.clear();
      handler.handle(
          events,
          position -> {
            synchronized (lock) {
              acknowledged.add((Position) position);
            }
          });
      synchronized (lock) {
        deliveredEvents += events.size();
        lock.notifyAll();
      }
    }
  }

  /**
   * Lets the source deliver {@code events} events in all from now on, and no more until allowed
   * again: a test stops it at an exact point this way.
   */
  void allowEvents(long events) {
    synchronized (lock) {
      allowedEvents = events;
      lock.notifyAll();
    }
  }

  /**
   * Stops delivering inside transaction {@code sequence}, after its begin and {@code changes} of
   * its changes, until closed: the pipeline sees a transaction that never ends.
   */
  void cutAfter(long sequence, int changes) {
    synchronized (lock) {
      cutSequence = sequence;
      cutChanges = changes;
    }
  }

  private long cutSequence() {
    synchronized (lock) {
      return cutSequence;
    }
  }

  /** Waits until delivery stopped at the {@link #cutAfter cut}. */
  void awaitCut() throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    synchronized (lock) {
      while (!cut) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("Delivery never reached the cut");
        }
        lock.wait(10);
      }
    }
  }

  /** Events delivered so far. */
  long deliveredEvents() {
    synchronized (lock) {
      return deliveredEvents;
    }
  }

  /** Waits until {@code events} events were delivered in all. */
  void awaitDelivered(long events) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    synchronized (lock) {
      while (deliveredEvents < events) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("Only " + deliveredEvents + " of " + events + " delivered");
        }
        lock.wait(10);
      }
    }
  }

  /** The positions acknowledged, in order. */
  List<Position> acknowledged() {
    synchronized (lock) {
      return List.copyOf(acknowledged);
    }
  }

  int fullLoadsPrepared() {
    synchronized (lock) {
      return fullLoadsPrepared;
    }
  }

  @Override
  public void close() {
    closed = true;
    synchronized (lock) {
      lock.notifyAll();
    }
    if (thread != null && thread != Thread.currentThread()) {
      try {
        thread.join(30_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
