package io.floe.ingest.debezium;

import static java.util.Objects.requireNonNull;

import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.PipelineConfig;
import io.floe.ingest.ChangeHandler;
import io.floe.ingest.ChangeLog;
import io.floe.ingest.ChangeSource;
import io.floe.ingest.SourceEvent;
import io.floe.ingest.SourceEvent.Operation;
import io.floe.ingest.SourcePosition;
import io.floe.ingest.SourceTable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A database source read by Debezium's embedded engine (PostgreSQL, MariaDB): the engine's
 * lifecycle, and the translation of its change events, transaction markers and heartbeats into
 * {@link SourceEvent}s. Each subclass inspects its database, configures its connector and says what
 * a position is; Debezium takes the consistent full load (its snapshot), then streams every
 * committed transaction in commit order. Acknowledging a position marks its event processed, after
 * which Debezium flushes its offset and lets the database move on.
 */
public abstract class DebeziumSource implements ChangeSource {
  private static final Logger LOG = LoggerFactory.getLogger(DebeziumSource.class);
  private static final String TRANSACTION_STATUS = "status";
  private static final String OLD_KEY_HEADER = "__debezium.oldkey";
  private static final java.time.Duration CLOSE_WAIT = java.time.Duration.ofSeconds(60);

  /** The pipeline. */
  protected final PipelineConfig config;

  private final String sourceName;
  private final String topicPrefix;
  private final String transactionTopic;
  private final String heartbeatTopic;

  /** The tables by Debezium topic, known once inspected. */
  private final Map<String, SourceTable> tablesByTopic = new HashMap<>();

  private List<SourceTable> tables = List.of();
  private DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
  private ExecutorService executor;

  /**
   * @param sourceName the database's product name, for messages ("PostgreSQL")
   */
  protected DebeziumSource(PipelineConfig config, String sourceName) {
    this.config = requireNonNull(config, "config is null");
    this.sourceName = requireNonNull(sourceName, "sourceName is null");
    this.topicPrefix = topicPrefix(config);
    this.transactionTopic = topicPrefix + ".transaction";
    this.heartbeatTopic = "__debezium-heartbeat." + topicPrefix;
  }

  /** The connector's {@code topic.prefix} for a pipeline. */
  public static String topicPrefix(PipelineConfig pipeline) {
    return "floe_" + pipeline.name();
  }

  /** Checks the database and maps its tables ({@link ChangeSource#inspect}). */
  protected abstract List<SourceTable> inspectTables();

  /**
   * The engine's properties for replicating {@code tables}, resuming from {@code resumeOffset}
   * (Debezium's JSON form) or, when it is null, starting with a full load.
   */
  protected abstract Properties engineProperties(List<SourceTable> tables, String resumeOffset);

  /** The offset a position resumes from, in Debezium's JSON form. */
  protected abstract String offsetJson(SourcePosition resume);

  /** A transaction of the source committed; {@code marker} is its END marker. */
  protected abstract void transactionCommitted(RecordChangeEvent<SourceRecord> marker);

  /** The position of a delivered event, after the last transaction committed before it. */
  protected abstract DebeziumPosition positionOf(RecordChangeEvent<SourceRecord> event);

  /** Where the database is, for messages (its JDBC URL). */
  protected abstract String location();

  @Override
  public final List<SourceTable> inspect() {
    tables = List.copyOf(inspectTables());
    tablesByTopic.clear();
    for (SourceTable table : tables) {
      tablesByTopic.put(topicPrefix + "." + table.qualifiedName(), table);
    }
    return tables;
  }

  @Override
  public final void start(Optional<SourcePosition> resume, ChangeHandler handler) {
    requireNonNull(resume, "resume is null");
    requireNonNull(handler, "handler is null");
    if (engine != null) {
      throw new IllegalStateException("The source of pipeline " + config.name() + " was started");
    }
    String offset = resume.map(this::offsetJson).orElse(null);
    engine =
        DebeziumEngine.create(ChangeEventFormat.of(io.debezium.embedded.Connect.class))
            .using(engineProperties(tables, offset))
            .notifying((events, committer) -> deliver(events, committer, handler))
            .using(
                (success, message, error) ->
                    handler.stopped(success && error == null ? null : failure(message, error)))
            .build();
    executor =
        Executors.newSingleThreadExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "floe-pipeline-" + config.name());
              thread.setDaemon(false);
              return thread;
            });
    executor.execute(engine);
  }

  @Override
  public void close() {
    try {
      if (engine != null) {
        closeEngine();
      }
      if (executor != null) {
        executor.shutdown();
        if (!executor.awaitTermination(60, TimeUnit.SECONDS)) {
          LOG.warn("Pipeline {}: Debezium's engine did not stop within 60 s", config.name());
        }
      }
    } catch (IOException e) {
      throw new FloeException(
          ErrorCode.SOURCE_FAILED,
          "Cannot stop reading "
              + sourceName
              + " for pipeline "
              + config.name()
              + ": "
              + e.getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Closes the engine. Debezium refuses to close while its tasks are starting (a pipeline stopped
   * right after it started): the close is retried until they have started, for up to {@link
   * #CLOSE_WAIT}.
   */
  private void closeEngine() throws IOException, InterruptedException {
    long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
    while (true) {
      try {
        engine.close();
        return;
      } catch (IllegalStateException e) {
        String message = String.valueOf(e.getMessage());
        if (message.contains("already shut down")) {
          return; // It stopped by itself (a failure): nothing to close.
        }
        boolean starting = message.contains("starting");
        if (!starting || System.nanoTime() > deadline) {
          throw new FloeException(
              ErrorCode.SOURCE_FAILED,
              "Cannot stop reading "
                  + sourceName
                  + " for pipeline "
                  + config.name()
                  + ": "
                  + (starting
                      ? "Debezium's engine was still starting after "
                          + CLOSE_WAIT.toSeconds()
                          + " s"
                      : message),
              e);
        }
        LOG.debug("Pipeline {}: the engine is starting; closing it again", config.name(), e);
        Thread.sleep(100);
      }
    }
  }

  /** Translates one batch of Debezium's events and hands it to the pipeline. */
  private void deliver(
      List<RecordChangeEvent<SourceRecord>> records,
      DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer,
      ChangeHandler handler)
      throws InterruptedException {
    List<SourceEvent> events = new ArrayList<>(records.size());
    for (RecordChangeEvent<SourceRecord> record : records) {
      events.add(translate(record));
    }
    handler.handle(
        events,
        position -> {
          RecordChangeEvent<SourceRecord> event =
              ((DebeziumPosition) position)
                  .event()
                  .orElseThrow(
                      () ->
                          new IllegalArgumentException(
                              "Cannot acknowledge " + position + ": not a delivered event's"));
          try {
            committer.markProcessed(event);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FloeException(
                ErrorCode.OPERATION_INTERRUPTED,
                "Cannot acknowledge " + position + " to Debezium: interrupted (stopping?)",
                e);
          }
        });
    committer.markBatchFinished();
  }

  private SourceEvent translate(RecordChangeEvent<SourceRecord> event) {
    SourceRecord record = event.record();
    String topic = record.topic();
    if (topic.equals(heartbeatTopic)) {
      return new SourceEvent.Heartbeat(positionOf(event));
    }
    if (topic.equals(transactionTopic)) {
      String status = ((Struct) record.value()).getString(TRANSACTION_STATUS);
      if ("BEGIN".equals(status)) {
        return new SourceEvent.TransactionBegin();
      }
      if (!"END".equals(status)) {
        throw new FloeException(
            ErrorCode.SOURCE_DATA_INVALID,
            "Cannot read a transaction marker with status '"
                + status
                + "' from Debezium for pipeline "
                + config.name()
                + ": only BEGIN and END are known");
      }
      transactionCommitted(event);
      return new SourceEvent.TransactionCommit(positionOf(event));
    }
    SourceTable table = tablesByTopic.get(topic);
    if (table == null) {
      throw new FloeException(
          ErrorCode.INTERNAL_ERROR,
          "Cannot route change event of topic "
              + topic
              + " to a table of pipeline "
              + config.name());
    }
    Struct value = (Struct) record.value();
    String name = table.qualifiedName();
    String code = value.getString("op");
    long sourceMillis = value.getStruct("source").getInt64("ts_ms");
    SourcePosition position = positionOf(event);
    switch (code) {
      case "r":
        return new SourceEvent.Change(
            name,
            Operation.READ,
            row(name, value.getStruct("after")),
            null,
            sourceMillis,
            position);
      case "c":
      case "u":
        Header oldKey = record.headers().lastWithName(OLD_KEY_HEADER);
        return new SourceEvent.Change(
            name,
            code.equals("c") ? Operation.INSERT : Operation.UPDATE,
            row(name, value.getStruct("after")),
            oldKey == null ? null : row(name, (Struct) oldKey.value()),
            sourceMillis,
            position);
      case "d":
        // A change log appends the deleted row's old values; a copy deletes by key.
        Struct before = value.getStruct("before");
        Struct deleted =
            ChangeLog.is(table.icebergSchema()) && before != null ? before : (Struct) record.key();
        return new SourceEvent.Change(
            name, Operation.DELETE, row(name, deleted), null, sourceMillis, position);
      case "t":
        return new SourceEvent.Change(name, Operation.TRUNCATE, null, null, sourceMillis, position);
      default:
        throw new FloeException(
            ErrorCode.SOURCE_DATA_INVALID,
            "Cannot apply change event with operation '"
                + code
                + "' to "
                + name
                + ": Floe knows r, c, u, d and t");
    }
  }

  private DebeziumRow row(String table, Struct image) {
    return new DebeziumRow(sourceName, table, image);
  }

  /**
   * What stopped the engine, as users see it: the pipeline's own failure if it was one (Debezium
   * wraps what the handler throws), else a failure of the source.
   */
  private FloeException failure(String message, Throwable error) {
    Optional<FloeException> own = FloeException.in(error);
    if (own.isPresent()) {
      return own.get();
    }
    String reason = error == null ? message : error.getMessage();
    return new FloeException(
        ErrorCode.SOURCE_FAILED,
        "Cannot stream changes from "
            + sourceName
            + " at "
            + location()
            + " for pipeline "
            + config.name()
            + ": "
            + reason
            + "; the pipeline resumes where its tables stand when started again",
        error);
  }
}
