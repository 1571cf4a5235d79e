package io.floe.ingest;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.PipelineConfig;
import io.floe.core.writer.CdcTableWriter;
import io.floe.core.writer.TableWriters;
import io.floe.ingest.postgres.PostgresSourceInspector;
import io.floe.ingest.postgres.SourceTable;
import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replicates the tables of one PostgreSQL database into Iceberg tables, exactly once.
 *
 * <p>Debezium's embedded engine delivers a consistent full load, then every committed transaction
 * in commit order. Changes are applied to per-table {@link CdcTableWriter}s and committed every
 * {@code commit-interval}, always at a source transaction boundary. Each Iceberg commit records in
 * its snapshot summary the Debezium offset and the commit LSN of the last source transaction it
 * holds ({@link Checkpoint}). Only after all tables of a cycle have committed are the source
 * records marked processed, which lets Debezium advance the replication slot.
 *
 * <p>On start, the resume offset is the oldest checkpoint among the tables; Debezium replays from
 * there (or from the slot, if that is newer), and each table skips transactions whose commit LSN it
 * already holds. A crash at any moment therefore loses nothing and duplicates nothing. A full load
 * that did not complete is restarted from scratch: the tables are emptied in their first commit.
 */
public final class Pipeline implements AutoCloseable {
  /** Lifecycle of a pipeline. */
  public enum State {
    CREATED,
    STARTING,
    LOADING,
    STREAMING,
    STOPPING,
    STOPPED,
    FAILED
  }

  private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration PROGRESS_INTERVAL = Duration.ofSeconds(5);

  /** Freshness is sampled from the first changes of each commit, which waited longest. */
  private static final int MAX_FRESHNESS_SAMPLES_PER_COMMIT = 16_384;

  private final PipelineConfig config;
  private final Catalog catalog;
  private final AtomicReference<State> state = new AtomicReference<>(State.CREATED);
  private final CountDownLatch terminated = new CountDownLatch(1);
  private final PipelineStats stats = new PipelineStats();
  private final Map<String, TableSink> sinksByTopic = new LinkedHashMap<>();
  private final List<SourceRecord> openTransaction = new ArrayList<>();

  private final ReentrantLock commitLock = new ReentrantLock();
  private volatile boolean stopping;
  private volatile Throwable failure;
  private DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
  private ExecutorService executor;

  private String transactionTopic;
  private String heartbeatTopic;
  private boolean inTransaction;

  /**
   * The newest commit LSN any table held at start. Transactions that commit after it cannot be
   * replays, so their changes are applied as they arrive instead of being held until their end.
   */
  private long replayHorizon = -1;

  private boolean replayPossible;
  private boolean stampAllTables;
  private RecordChangeEvent<SourceRecord> lastApplied;
  private long lastAppliedCommitLsn = -1;
  private long[] uncommittedSourceMillis = new long[1024];
  private int freshnessSamples;
  private long uncommittedEvents;
  private long lastCommitNanos = System.nanoTime();
  private long lastProgressNanos = System.nanoTime();

  public Pipeline(PipelineConfig config, Catalog catalog) {
    this.config = requireNonNull(config, "config is null");
    this.catalog = requireNonNull(catalog, "catalog is null");
  }

  public String name() {
    return config.name();
  }

  public State state() {
    return state.get();
  }

  public PipelineStats stats() {
    return stats;
  }

  /** The failure that stopped the pipeline, or null. */
  public Throwable failure() {
    return failure;
  }

  /**
   * Inspects the source, prepares the Iceberg tables, reads the resume position from them and
   * starts replicating in the background.
   */
  public void start() {
    transition(State.CREATED, State.STARTING);
    try {
      PostgresSourceInspector inspector =
          new PostgresSourceInspector(config.name(), config.source());
      List<SourceTable> sources = inspector.inspect();
      String resumeOffset = prepareTables(sources);
      if (resumeOffset == null) {
        inspector.dropSlotIfExists();
      }
      TableOffsetStore.register(config.name(), resumeOffset);
      // Table maintenance of this process hands its compactions to these writers.
      sinksByTopic.values().forEach(sink -> TableWriters.register(sink.writer));
      String prefix = PostgresEngineProperties.topicPrefix(config);
      transactionTopic = prefix + ".transaction";
      heartbeatTopic = "__debezium-heartbeat." + prefix;
      engine =
          DebeziumEngine.create(ChangeEventFormat.of(io.debezium.embedded.Connect.class))
              .using(PostgresEngineProperties.build(config, sources))
              .notifying(this::handleBatch)
              .using(this::engineCompleted)
              .build();
      executor =
          Executors.newSingleThreadExecutor(
              runnable -> {
                Thread thread = new Thread(runnable, "floe-pipeline-" + config.name());
                thread.setDaemon(false);
                return thread;
              });
      transition(State.STARTING, resumeOffset == null ? State.LOADING : State.STREAMING);
      executor.execute(engine);
    } catch (RuntimeException e) {
      fail(e);
      unregisterWriters();
      terminated.countDown();
      throw e;
    }
  }

  private void unregisterWriters() {
    sinksByTopic.values().forEach(sink -> TableWriters.unregister(sink.writer));
  }

  /** Waits until the pipeline stops or fails. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    State current = state.get();
    if (current == State.STOPPED || current == State.FAILED || current == State.CREATED) {
      return;
    }
    setState(State.STOPPING);
    // Let a commit in progress finish: the engine interrupts its thread on close.
    stopping = true;
    commitLock.lock();
    try {
      if (engine != null) {
        engine.close();
      }
      if (executor != null) {
        executor.shutdown();
        if (!executor.awaitTermination(60, TimeUnit.SECONDS)) {
          LOG.warn("Pipeline {}: engine did not stop within 60 s", config.name());
        }
      }
    } catch (IOException e) {
      throw new FloeException(
          ErrorCode.SOURCE_FAILED,
          "Cannot stop pipeline " + config.name() + ": " + e.getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      commitLock.unlock();
    }
  }

  private String prepareTables(List<SourceTable> sources) {
    Namespace namespace = Namespace.of(config.target().namespace());
    if (catalog instanceof SupportsNamespaces
        && !((SupportsNamespaces) catalog).namespaceExists(namespace)) {
      ((SupportsNamespaces) catalog).createNamespace(namespace);
    }
    Map<TableSink, Checkpoint> checkpoints = new HashMap<>();
    List<TableSink> sinks = new ArrayList<>();
    for (SourceTable source : sources) {
      Table table = loadOrCreate(TableIdentifier.of(namespace, source.tableName()), source);
      Checkpoint checkpoint = Checkpoint.read(table, config.name());
      TableSink sink =
          new TableSink(
              source,
              table,
              checkpoint != null && checkpoint.loadComplete() ? checkpoint.commitLsn() : -1);
      sinks.add(sink);
      checkpoints.put(sink, checkpoint);
      if (checkpoint != null) {
        sink.lastSummary =
            summary(
                checkpoint.offset(),
                checkpoint.loadComplete() ? Checkpoint.PHASE_STREAMING : Checkpoint.PHASE_LOADING,
                checkpoint.commitLsn(),
                checkpoint.orderLsn());
      }
      sinksByTopic.put(
          PostgresEngineProperties.topicPrefix(config) + "." + source.qualifiedName(), sink);
    }

    boolean allComplete =
        sinks.stream()
            .allMatch(
                sink -> checkpoints.get(sink) != null && checkpoints.get(sink).loadComplete());
    if (allComplete) {
      Checkpoint oldest =
          checkpoints.values().stream()
              .min((a, b) -> Long.compare(a.orderLsn(), b.orderLsn()))
              .orElseThrow();
      LOG.info(
          "Pipeline {}: resuming {} tables from source position {} (commit LSN of each table: {})",
          config.name(),
          sinks.size(),
          oldest.orderLsn(),
          sinks.stream().map(sink -> sink.source.tableName() + "=" + sink.committedLsn).toList());
      replayHorizon = sinks.stream().mapToLong(sink -> sink.committedLsn).max().orElse(-1);
      replayPossible = replayHorizon >= 0;
      return oldest.offset();
    }
    boolean anyComplete =
        checkpoints.values().stream().anyMatch(c -> c != null && c.loadComplete());
    if (anyComplete) {
      List<String> missing =
          sinks.stream()
              .filter(
                  sink -> checkpoints.get(sink) == null || !checkpoints.get(sink).loadComplete())
              .map(sink -> sink.source.qualifiedName())
              .toList();
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Cannot resume pipeline "
              + config.name()
              + ": tables "
              + missing
              + " were added after its full load, and adding tables to a loaded pipeline is not"
              + " supported yet; remove them from source.tables, or replicate them in a new"
              + " pipeline");
    }
    // A full load is needed: start from empty tables, whatever an interrupted load left.
    stampAllTables = true;
    sinks.forEach(sink -> sink.writer.setCompactionEnabled(false));
    countRowsToLoad(sinks);
    for (TableSink sink : sinks) {
      if (sink.writer.liveRows() > 0 || checkpoints.get(sink) != null) {
        LOG.info(
            "Pipeline {}: emptying {} ({} rows) before the full load restarts",
            config.name(),
            sink.tableName,
            sink.writer.liveRows());
        sink.writer.truncate();
        sink.lastSummary = summary(null, Checkpoint.PHASE_LOADING, -1, -1);
        sink.writer.checkpoint(sink.lastSummary);
      }
    }
    return null;
  }

  private Table loadOrCreate(TableIdentifier identifier, SourceTable source) {
    if (catalog.tableExists(identifier)) {
      Table table = catalog.loadTable(identifier);
      List<String> existing =
          table.schema().columns().stream().map(Types.NestedField::name).toList();
      if (!existing.equals(source.columns())
          || !table
              .schema()
              .identifierFieldNames()
              .equals(source.icebergSchema().identifierFieldNames())) {
        throw new FloeException(
            ErrorCode.SOURCE_TABLE_INVALID,
            "Cannot replicate "
                + source.qualifiedName()
                + " into "
                + identifier
                + ": the Iceberg table has columns "
                + existing
                + " and key "
                + table.schema().identifierFieldNames()
                + " but the source has "
                + source.columns()
                + " and key "
                + source.icebergSchema().identifierFieldNames()
                + "; schema changes are not replicated yet: drop the Iceberg table to reload it");
      }
      return table;
    }
    Map<String, String> properties = new HashMap<>();
    properties.put(TableProperties.FORMAT_VERSION, "2");
    properties.put(TableProperties.PARQUET_COMPRESSION, "zstd");
    properties.put(TableProperties.DELETE_MODE, "merge-on-read");
    properties.put(TableProperties.UPDATE_MODE, "merge-on-read");
    // CDC commits are small and frequent: merge their manifests early so that planning a read
    // opens a handful of manifests rather than one or two per commit.
    properties.put(TableProperties.MANIFEST_MIN_MERGE_COUNT, "3");
    // A commit a second writes a metadata file a second: keep only the latest ones.
    properties.put(TableProperties.METADATA_DELETE_AFTER_COMMIT_ENABLED, "true");
    properties.put(TableProperties.METADATA_PREVIOUS_VERSIONS_MAX, "50");
    properties.put("floe.source", source.qualifiedName());
    properties.put("floe.pipeline", config.name());
    LOG.info("Pipeline {}: creating table {}", config.name(), identifier);
    return catalog.createTable(
        identifier, source.icebergSchema(), PartitionSpec.unpartitioned(), properties);
  }

  private void countRowsToLoad(List<TableSink> sinks) {
    try (Connection connection = PostgresSourceInspector.connect(config.source());
        Statement statement = connection.createStatement()) {
      for (TableSink sink : sinks) {
        if (sink.estimatedRows > 0) {
          continue;
        }
        try (ResultSet result =
            statement.executeQuery(
                "SELECT count(*) FROM "
                    + PostgresSourceInspector.quoteIdentifier(sink.source.schemaName())
                    + "."
                    + PostgresSourceInspector.quoteIdentifier(sink.source.tableName()))) {
          result.next();
          sink.estimatedRows = result.getLong(1);
        }
      }
    } catch (SQLException e) {
      LOG.warn(
          "Pipeline {}: cannot count rows to load ({}); progress shows no ETA",
          config.name(),
          e.getMessage());
    }
  }

  private void handleBatch(
      List<RecordChangeEvent<SourceRecord>> events,
      DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
      throws InterruptedException {
    try {
      RecordChangeEvent<SourceRecord> lastHeartbeat = null;
      for (RecordChangeEvent<SourceRecord> event : events) {
        SourceRecord record = event.record();
        String topic = record.topic();
        if (topic.equals(heartbeatTopic)) {
          lastHeartbeat = event;
          if (stampAllTables && !inTransaction && lastApplied == null) {
            // A full load of empty tables yields no records: the first heartbeat after it marks
            // the position that every table must record.
            lastApplied = event;
          }
        } else if (topic.equals(transactionTopic)) {
          handleTransactionMarker(event);
        } else {
          handleChange(event);
        }
      }
      if (!inTransaction
          && uncommittedEvents == 0
          && lastApplied == null
          && lastHeartbeat != null
          && !stampAllTables) {
        // Idle: nothing is pending, so the slot may advance past changes Floe does not replicate.
        committer.markProcessed(lastHeartbeat);
      }
      maybeCommit(committer);
      commitRewrites();
      committer.markBatchFinished();
      reportProgress();
    } catch (RuntimeException e) {
      LOG.error("Pipeline {}: {}", config.name(), describe(e));
      throw e;
    }
  }

  private void handleTransactionMarker(RecordChangeEvent<SourceRecord> event) {
    SourceRecord record = event.record();
    Struct value = (Struct) record.value();
    String status = value.getString("status");
    if ("BEGIN".equals(status)) {
      inTransaction = true;
      openTransaction.clear();
      return;
    }
    // END: the whole transaction is here; apply it to every table that does not hold it yet.
    long commitLsn = ((Number) record.sourceOffset().get("lsn_commit")).longValue();
    if (commitLsn > replayHorizon) {
      replayPossible = false;
    }
    for (SourceRecord change : openTransaction) {
      TableSink sink = sinksByTopic.get(change.topic());
      if (commitLsn <= sink.committedLsn) {
        sink.skippedChanges++;
        stats.skipped.increment();
        continue;
      }
      apply(sink, change);
    }
    openTransaction.clear();
    inTransaction = false;
    lastApplied = event;
    lastAppliedCommitLsn = commitLsn;
  }

  private void handleChange(RecordChangeEvent<SourceRecord> event) {
    SourceRecord record = event.record();
    TableSink sink = sinksByTopic.get(record.topic());
    if (sink == null) {
      throw new FloeException(
          ErrorCode.INTERNAL_ERROR,
          "Cannot route change event of topic " + record.topic() + " to a table");
    }
    if (inTransaction) {
      if (replayPossible) {
        openTransaction.add(record);
      } else {
        apply(sink, record);
      }
      return;
    }
    apply(sink, record);
    lastApplied = event;
  }

  private void apply(TableSink sink, SourceRecord record) {
    Struct value = (Struct) record.value();
    String operation = value.getString("op");
    Struct source = value.getStruct("source");
    long sourceMillis = source.getInt64("ts_ms");
    // Freshness is measured for changes only: a full load reads rows committed long ago.
    if (!"r".equals(operation) && freshnessSamples < MAX_FRESHNESS_SAMPLES_PER_COMMIT) {
      if (freshnessSamples == uncommittedSourceMillis.length) {
        uncommittedSourceMillis =
            Arrays.copyOf(uncommittedSourceMillis, uncommittedSourceMillis.length * 2);
      }
      uncommittedSourceMillis[freshnessSamples++] = sourceMillis;
    }
    uncommittedEvents++;
    switch (operation) {
      case "r":
        sink.writer.upsert(sink.toRecord(value.getStruct("after"), null), null);
        sink.loadedRows++;
        stats.loaded.increment();
        return;
      case "c":
      case "u":
        BitSet unchanged = new BitSet();
        Record row = sink.toRecord(value.getStruct("after"), unchanged);
        Header oldKey = record.headers().lastWithName("__debezium.oldkey");
        Record oldKeyRow = oldKey == null ? null : sink.toRecord((Struct) oldKey.value(), null);
        sink.writer.update(oldKeyRow, row, unchanged);
        break;
      case "d":
        sink.writer.delete(sink.toRecord((Struct) record.key(), null));
        break;
      case "t":
        sink.writer.truncate();
        break;
      default:
        throw new FloeException(
            ErrorCode.SOURCE_FAILED,
            "Cannot apply change event with operation '" + operation + "' to " + sink.tableName);
    }
    sink.appliedChanges++;
    stats.changes.increment();
  }

  private void maybeCommit(
      DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
      throws InterruptedException {
    if (inTransaction || lastApplied == null || stopping) {
      return;
    }
    long now = System.nanoTime();
    if (now - lastCommitNanos < config.commitInterval().toNanos()) {
      return;
    }
    if (!commitLock.tryLock()) {
      return;
    }
    try {
      commit(committer, now);
    } finally {
      commitLock.unlock();
    }
  }

  /**
   * Commits the compactions handed to writers that have nothing pending, so that an idle table's
   * compaction does not wait for its next change. The commit repeats the table's last checkpoint:
   * it changes no rows.
   */
  private void commitRewrites() {
    if (stopping) {
      return;
    }
    for (TableSink sink : sinksByTopic.values()) {
      if (sink.writer.rewriteSubmitted()
          && sink.writer.pendingChanges() == 0
          && sink.lastSummary != null
          && commitLock.tryLock()) {
        try {
          sink.writer.commit(sink.lastSummary).ifPresent(result -> logCommit(sink, result));
        } finally {
          commitLock.unlock();
        }
      }
    }
  }

  private void logCommit(TableSink sink, CdcTableWriter.CommitResult result) {
    if (result == null) {
      return;
    }
    if (result.rebased()) {
      LOG.warn(
          "Pipeline {}: another commit changed the data of {} (a rollback, or a write from"
              + " elsewhere); the writer moved its index onto the table's files and applied its changes"
              + " on top",
          config.name(),
          sink.tableName);
    }
    if (result.filesRewritten() > 0) {
      LOG.info(
          "Pipeline {}: committed a compaction of {} data files of {}",
          config.name(),
          result.filesRewritten(),
          sink.tableName);
    }
  }

  private void commit(
      DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer, long now)
      throws InterruptedException {
    Map<String, ?> offset = lastApplied.record().sourceOffset();
    boolean loadComplete =
        !offset.containsKey("snapshot")
            || Boolean.TRUE.equals(offset.get("last_snapshot_record"))
            || Boolean.TRUE.equals(offset.get("snapshot_completed"));
    long orderLsn = offset.get("lsn") == null ? -1 : ((Number) offset.get("lsn")).longValue();
    if (lastAppliedCommitLsn >= 0) {
      orderLsn = lastAppliedCommitLsn;
    }
    Map<String, String> summary =
        summary(
            toJson(offset),
            loadComplete ? Checkpoint.PHASE_STREAMING : Checkpoint.PHASE_LOADING,
            lastAppliedCommitLsn,
            orderLsn);
    boolean stampAll = stampAllTables && loadComplete;
    int committedTables = 0;
    for (TableSink sink : sinksByTopic.values()) {
      CdcTableWriter.CommitResult result =
          stampAll ? sink.writer.checkpoint(summary) : sink.writer.commit(summary).orElse(null);
      if (result != null) {
        committedTables++;
        sink.lastSummary = summary;
        logCommit(sink, result);
        if (lastAppliedCommitLsn >= 0) {
          sink.committedLsn = lastAppliedCommitLsn;
        }
      }
    }
    long committedAt = System.currentTimeMillis();
    for (int i = 0; i < freshnessSamples; i++) {
      stats.recordFreshness(committedAt - uncommittedSourceMillis[i]);
    }
    stats.commits.increment();
    committer.markProcessed(lastApplied);
    if (stampAll) {
      stampAllTables = false;
      sinksByTopic.values().forEach(sink -> sink.writer.setCompactionEnabled(true));
      LOG.info("Pipeline {}: full load complete; streaming changes", config.name());
      setState(State.STREAMING);
    }
    LOG.debug(
        "Pipeline {}: committed {} events to {} tables at {}",
        config.name(),
        uncommittedEvents,
        committedTables,
        orderLsn);
    lastApplied = null;
    uncommittedEvents = 0;
    freshnessSamples = 0;
    lastCommitNanos = now;
  }

  private Map<String, String> summary(String offset, String phase, long commitLsn, long orderLsn) {
    Map<String, String> summary = new HashMap<>();
    summary.put(Checkpoint.PIPELINE, config.name());
    summary.put(Checkpoint.PHASE, phase);
    if (offset != null) {
      summary.put(Checkpoint.OFFSET, offset);
    }
    summary.put(Checkpoint.COMMIT_LSN, Long.toString(commitLsn));
    summary.put(Checkpoint.ORDER_LSN, Long.toString(orderLsn));
    return summary;
  }

  private static String toJson(Map<String, ?> offset) {
    try {
      return JSON.writeValueAsString(offset);
    } catch (JsonProcessingException e) {
      throw new FloeException(
          ErrorCode.INTERNAL_ERROR, "Cannot serialize source offset " + offset, e);
    }
  }

  private void reportProgress() {
    long now = System.nanoTime();
    if (now - lastProgressNanos < PROGRESS_INTERVAL.toNanos()) {
      return;
    }
    double seconds = (now - lastProgressNanos) / 1e9;
    lastProgressNanos = now;
    for (TableSink sink : sinksByTopic.values()) {
      long loaded = sink.loadedRows;
      double rate = (loaded - sink.loadedAtLastReport) / seconds;
      sink.loadedAtLastReport = loaded;
      if (state.get() == State.LOADING && rate > 0) {
        long remaining = Math.max(0, sink.estimatedRows - loaded);
        LOG.info(
            "Pipeline {}: loading {}: {} of ~{} rows ({} rows/s, ETA {} s)",
            config.name(),
            sink.source.qualifiedName(),
            loaded,
            sink.estimatedRows,
            Math.round(rate),
            Math.round(remaining / rate));
      }
    }
  }

  /** Per-table figures for status displays. */
  public List<TableStatus> tables() {
    List<TableStatus> result = new ArrayList<>();
    for (TableSink sink : sinksByTopic.values()) {
      result.add(
          new TableStatus(
              sink.tableName,
              sink.source.qualifiedName(),
              sink.loadedRows,
              sink.estimatedRows,
              sink.appliedChanges,
              sink.skippedChanges,
              sink.writer.unchangedValuesFilled()));
    }
    return result;
  }

  /**
   * Figures of one table.
   *
   * @param unchangedValuesFilled values PostgreSQL left out of updates (unchanged TOAST) that were
   *     taken from the row's previous version
   */
  public record TableStatus(
      String table,
      String source,
      long loadedRows,
      long estimatedRows,
      long changes,
      long skipped,
      long unchangedValuesFilled) {}

  private void engineCompleted(boolean success, String message, Throwable error) {
    if (stopping && state.get() != State.FAILED) {
      // Debezium may report its own executor's shutdown as a failure: a requested stop is a stop.
      if (!success || error != null) {
        LOG.info("Pipeline {}: engine stopped ({})", config.name(), message);
      }
      setState(State.STOPPED);
      LOG.info("Pipeline {}: stopped", config.name());
    } else if (!success || error != null) {
      fail(error != null ? error : new FloeException(ErrorCode.SOURCE_FAILED, message));
    } else if (state.get() != State.FAILED) {
      setState(State.STOPPED);
      LOG.info("Pipeline {}: stopped", config.name());
    }
    unregisterWriters();
    terminated.countDown();
  }

  private void fail(Throwable error) {
    failure = error;
    setState(State.FAILED);
    LOG.error("Pipeline {} failed: {}", config.name(), describe(error));
  }

  private static String describe(Throwable error) {
    Throwable cause = error;
    while (cause != null) {
      if (cause instanceof FloeException) {
        return ((FloeException) cause).describe();
      }
      cause = cause.getCause();
    }
    Throwable root = error;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return error.getMessage() + (root != error ? " (caused by " + root + ")" : "");
  }

  private void transition(State from, State to) {
    if (!state.compareAndSet(from, to)) {
      throw new IllegalStateException(
          "Cannot move pipeline " + config.name() + " from " + state.get() + " to " + to);
    }
    LOG.info("Pipeline {}: {} -> {}", config.name(), from, to);
  }

  private void setState(State to) {
    State from = state.getAndSet(to);
    if (from != to) {
      LOG.info("Pipeline {}: {} -> {}", config.name(), from, to);
    }
  }
}
