package io.floe.ingest.postgres;

import static java.util.Objects.requireNonNull;

import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.PostgresSourceConfig;
import io.floe.ingest.ChangeHandler;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL source: Debezium's embedded engine reading a logical replication slot through the
 * {@code pgoutput} plugin. Debezium takes the consistent full load (its snapshot, exported from the
 * slot it creates), then streams every committed transaction in commit order, with transaction
 * markers and heartbeats. Positions are {@link PostgresPosition}s; acknowledging one marks its
 * event processed, after which Debezium flushes its offset and moves the slot.
 */
public final class PostgresSource implements ChangeSource {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresSource.class);
  private static final String TRANSACTION_STATUS = "status";
  private static final String OLD_KEY_HEADER = "__debezium.oldkey";

  private final PipelineConfig config;
  private final PostgresSourceInspector inspector;
  private final String transactionTopic;
  private final String heartbeatTopic;

  /** The tables by Debezium topic, known once inspected. */
  private final Map<String, SourceTable> tablesByTopic = new HashMap<>();

  private List<SourceTable> tables = List.of();
  private DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
  private ExecutorService executor;

  /** The commit LSN of the last transaction delivered; touched by the engine's thread only. */
  private long lastCommitLsn = PostgresPosition.NO_TRANSACTION;

  public PostgresSource(PipelineConfig config) {
    this.config = requireNonNull(config, "config is null");
    this.inspector =
        new PostgresSourceInspector(config.name(), (PostgresSourceConfig) config.source());
    String prefix = PostgresEngineProperties.topicPrefix(config);
    this.transactionTopic = prefix + ".transaction";
    this.heartbeatTopic = "__debezium-heartbeat." + prefix;
  }

  @Override
  public List<SourceTable> inspect() {
    tables = List.copyOf(inspector.inspect());
    tablesByTopic.clear();
    String prefix = PostgresEngineProperties.topicPrefix(config);
    for (SourceTable table : tables) {
      tablesByTopic.put(prefix + "." + table.qualifiedName(), table);
    }
    return tables;
  }

  @Override
  public Optional<SourcePosition> position(Map<String, String> summary) {
    return PostgresPosition.read(summary);
  }

  @Override
  public SourcePosition resumePosition(List<SourcePosition> checkpoints) {
    // Floe resumes from the oldest position its tables hold; when the slot has moved past it,
    // Debezium starts at the slot instead ("offset.mismatch.strategy": trust_slot).
    return PostgresPosition.oldest(checkpoints);
  }

  /**
   * Drops the pipeline's replication slot if it exists, so that the full load gets a new slot whose
   * start matches its snapshot exactly (an old slot would replay changes the snapshot already
   * holds), and counts the rows of tables PostgreSQL has no estimate for.
   */
  @Override
  public List<SourceTable> prepareFullLoad(List<SourceTable> loaded) {
    List<SourceTable> counted = inspector.countUnestimatedRows(loaded);
    inspector.dropSlotIfExists();
    return counted;
  }

  @Override
  public void start(Optional<SourcePosition> resume, ChangeHandler handler) {
    requireNonNull(resume, "resume is null");
    requireNonNull(handler, "handler is null");
    if (engine != null) {
      throw new IllegalStateException("The source of pipeline " + config.name() + " was started");
    }
    String offset = resume.map(position -> ((PostgresPosition) position).offsetJson()).orElse(null);
    engine =
        DebeziumEngine.create(ChangeEventFormat.of(io.debezium.embedded.Connect.class))
            .using(PostgresEngineProperties.build(config, tables, offset))
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
        engine.close();
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
          "Cannot stop reading PostgreSQL for pipeline " + config.name() + ": " + e.getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
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
              ((PostgresPosition) position)
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
      return new SourceEvent.Heartbeat(PostgresPosition.of(event, lastCommitLsn));
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
      lastCommitLsn =
          ((Number) record.sourceOffset().get(PostgresPosition.OFFSET_COMMIT_LSN)).longValue();
      return new SourceEvent.TransactionCommit(PostgresPosition.of(event, lastCommitLsn));
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
    SourcePosition position = PostgresPosition.of(event, lastCommitLsn);
    switch (code) {
      case "r":
        return new SourceEvent.Change(
            name, Operation.READ, after(name, value), null, sourceMillis, position);
      case "c":
      case "u":
        Header oldKey = record.headers().lastWithName(OLD_KEY_HEADER);
        return new SourceEvent.Change(
            name,
            code.equals("c") ? Operation.INSERT : Operation.UPDATE,
            after(name, value),
            oldKey == null ? null : new PostgresRow(name, (Struct) oldKey.value()),
            sourceMillis,
            position);
      case "d":
        return new SourceEvent.Change(
            name,
            Operation.DELETE,
            new PostgresRow(name, (Struct) record.key()),
            null,
            sourceMillis,
            position);
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

  private static PostgresRow after(String table, Struct value) {
    return new PostgresRow(table, value.getStruct("after"));
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
        "Cannot stream changes from PostgreSQL at "
            + ((PostgresSourceConfig) config.source()).url()
            + " for pipeline "
            + config.name()
            + ": "
            + reason
            + "; the pipeline resumes where its tables stand when started again",
        error);
  }
}
