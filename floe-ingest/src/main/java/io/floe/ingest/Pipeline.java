package io.floe.ingest;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.ErrorType;
import io.floe.core.FloeException;
import io.floe.core.catalog.IcebergFailures;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.QualityRuleConfig;
import io.floe.core.config.StreamTableConfig;
import io.floe.core.writer.AppendTableWriter;
import io.floe.core.writer.CdcTableWriter;
import io.floe.core.writer.TableWriter;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.ingest.SourceEvent.Change;
import io.floe.ingest.SourceEvent.Heartbeat;
import io.floe.ingest.SourceEvent.TransactionBegin;
import io.floe.ingest.SourceEvent.TransactionCommit;
import io.floe.ingest.enrich.ReferenceLookup;
import io.floe.ingest.quality.QualityGate;
import io.floe.ingest.quality.QualityResults;
import io.floe.ingest.stream.DeadLetters;
import io.floe.ingest.stream.StreamRecord;
import io.floe.ingest.stream.StreamTables;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replicates the tables of one {@link ChangeSource} into Iceberg tables, exactly once. This is the
 * part every source shares; see {@link ChangeSource} for what a source provides.
 *
 * <p>The source delivers a consistent full load, then every committed transaction in commit order.
 * Changes are applied to per-table {@link CdcTableWriter}s and committed every {@code
 * commit-interval}, always at a source transaction boundary. Each Iceberg commit records in its
 * snapshot summary the source position it holds ({@link Checkpoint}). Only after all tables of a
 * cycle have committed is the position acknowledged to the source, which may then discard what lies
 * before it (PostgreSQL: the replication slot advances).
 *
 * <p>On start, the resume position is the oldest checkpoint among the tables ({@link
 * ChangeSource#resumePosition}); the source replays from there, and each table skips what its own
 * checkpoint already holds. While a replay is possible, a transaction is held until its end, when
 * it is known which tables hold it; after the first transaction no table holds, changes are applied
 * as they arrive. A crash at any moment therefore loses nothing and duplicates nothing. A full load
 * that did not complete is restarted from scratch: the tables are emptied in their first commit.
 */
public final class Pipeline implements AutoCloseable {
  /** Lifecycle of a pipeline; every move goes through {@link #transition}, which logs it. */
  public enum State {
    CREATED,
    STARTING,
    LOADING,
    STREAMING,
    STOPPING,
    STOPPED,
    FAILED;

    /** The states this one may move to. */
    Set<State> next() {
      switch (this) {
        case CREATED:
          return EnumSet.of(STARTING);
        case STARTING:
          return EnumSet.of(LOADING, STREAMING, STOPPING, FAILED);
        case LOADING:
          return EnumSet.of(STREAMING, STOPPING, STOPPED, FAILED);
        case STREAMING:
          return EnumSet.of(STOPPING, STOPPED, FAILED);
        case STOPPING:
          return EnumSet.of(STOPPED, FAILED);
        default:
          return EnumSet.noneOf(State.class);
      }
    }

    boolean terminal() {
      return this == STOPPED || this == FAILED;
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);
  private static final Duration PROGRESS_INTERVAL = Duration.ofSeconds(5);

  /**
   * How long a stream pipeline's table that receives nothing (typically the dead-letter table) may
   * go without recording the source position: a restart re-reads at most this much of the stream to
   * find out that it holds nothing of it.
   */
  private static final Duration IDLE_CHECKPOINT_INTERVAL = Duration.ofMinutes(1);

  private final PipelineConfig config;
  private final Catalog catalog;
  private final ChangeSource source;
  private final TableWriterRegistry writers;
  private final AtomicReference<State> state = new AtomicReference<>(State.CREATED);
  private final CountDownLatch terminated = new CountDownLatch(1);
  private final PipelineStats stats = new PipelineStats();
  private final Map<String, TableSink> sinks = new LinkedHashMap<>();
  private final List<Change> openTransaction = new ArrayList<>();
  private final ReentrantLock commitLock = new ReentrantLock();

  /** The writer of a stream pipeline's records; null for a database pipeline. */
  private volatile StreamApplier stream;

  /** Replays of dead letters asked for, done by the source's thread between batches. */
  private final ConcurrentLinkedQueue<ReplayRequest> replays = new ConcurrentLinkedQueue<>();

  /** Whether replays a crash interrupted are still to be finished (before the first batch). */
  private boolean recoverReplays;

  private record ReplayRequest(
      List<String> recordIds, CompletableFuture<StreamApplier.ReplayResult> result) {}

  /** The acknowledger of the batch being handled, for commits in the middle of it. */
  private ChangeHandler.Acknowledger acknowledger;

  private volatile boolean stopping;
  private volatile FloeException failure;
  private boolean inTransaction;

  /**
   * Whether a transaction may still be a replay that some table holds: true from a resume until the
   * first transaction no table holds.
   */
  private boolean replayPossible;

  /** Whether the full load's end is still to be committed to every table, changed or not. */
  private boolean stampAllTables;

  /** The position of the last event applied and not yet committed, or null. */
  private SourcePosition lastApplied;

  private long uncommittedEvents;
  private long lastCommitNanos = System.nanoTime();
  private long lastProgressNanos = System.nanoTime();

  /**
   * A pipeline from {@code source} into {@code config}'s target namespace of {@code catalog}; it
   * registers its writers in {@code writers} while it streams, so that table maintenance of this
   * process hands compactions of its tables to them.
   */
  public Pipeline(
      PipelineConfig config, Catalog catalog, ChangeSource source, TableWriterRegistry writers) {
    this(config, catalog, source, writers, null, QualityResults.inMemory(10_000));
  }

  /**
   * A pipeline as above that keeps the lookup indexes of its enrichments under {@code
   * stateDirectory} (the warehouse's local state directory; a temporary directory when null) and
   * its quality rules' results in {@code qualityResults}.
   */
  public Pipeline(
      PipelineConfig config,
      Catalog catalog,
      ChangeSource source,
      TableWriterRegistry writers,
      Path stateDirectory,
      QualityResults qualityResults) {
    this.config = requireNonNull(config, "config is null");
    this.catalog = requireNonNull(catalog, "catalog is null");
    this.source = requireNonNull(source, "source is null");
    this.writers = requireNonNull(writers, "writers is null");
    this.stateDirectory = stateDirectory;
    this.qualityResults = requireNonNull(qualityResults, "qualityResults is null");
  }

  private final Path stateDirectory;
  private final QualityResults qualityResults;

  /** The state directory given, or a temporary one (deleted when the process ends). */
  private Path stateDirectory() {
    if (stateDirectory != null) {
      return stateDirectory;
    }
    try {
      Path temporary = Files.createTempDirectory("floe-" + config.name() + "-");
      temporary.toFile().deleteOnExit();
      return temporary;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create a temporary state directory", e);
    }
  }

  public String name() {
    return config.name();
  }

  public PipelineConfig config() {
    return config;
  }

  public State state() {
    return state.get();
  }

  public PipelineStats stats() {
    return stats;
  }

  /** The failure that stopped the pipeline, or null. */
  public FloeException failure() {
    return failure;
  }

  /**
   * Inspects the source, prepares the Iceberg tables, reads the resume position from them and
   * starts replicating in the background.
   *
   * @throws FloeException when the source or the tables are not ready; the pipeline is then FAILED
   */
  public void start() {
    transition(State.STARTING);
    try {
      Optional<SourcePosition> resume = prepareTables(source.inspect());
      // Table maintenance of this process hands its compactions to these writers.
      registerWriters();
      // A stream has no full load: it streams from the start.
      State next = resume.isPresent() || stream != null ? State.STREAMING : State.LOADING;
      if (!transitionFrom(State.STARTING, next)) {
        // Closed while it started: nothing was delivered, so there is nothing to stop.
        sourceStopped(null);
        return;
      }
      source.start(resume, new Handler());
    } catch (RuntimeException e) {
      FloeException failed = fail(e);
      unregisterWriters();
      closeProcessing();
      terminated.countDown();
      throw failed;
    }
  }

  /** Closes a stream's enrichments, transform and quality rules; never throws. */
  private void closeProcessing() {
    List<AutoCloseable> open = new ArrayList<>();
    StreamApplier applier = stream;
    if (applier != null) {
      open.add(applier::close);
    }
    for (TableSink sink : sinks.values()) {
      if (sink.quality != null) {
        open.add(sink.quality);
      }
    }
    for (AutoCloseable closeable : open) {
      try {
        closeable.close();
      } catch (Exception e) {
        LOG.warn(
            "Pipeline {}: cannot close its enrichments, transform or quality rules cleanly",
            config.name(),
            e);
      }
    }
  }

  /** Opens the quality rules of a database pipeline's tables, each table's rules together. */
  private void openQualityGates() {
    boolean cleared = false;
    for (TableSink sink : sinks.values()) {
      List<QualityRuleConfig> rules =
          config.quality().stream()
              .filter(rule -> rule.table().equals(Optional.of(sink.source.qualifiedName())))
              .toList();
      if (rules.isEmpty()) {
        continue;
      }
      Path lookups = stateDirectory().resolve("lookups").resolve(config.name());
      if (!cleared) {
        ReferenceLookup.deleteStale(lookups);
        cleared = true;
      }
      Table table = sink.writer.table();
      List<String> key = table.schema().identifierFieldNames().stream().sorted().toList();
      sink.quality =
          StreamProcessing.qualityGate(
              config.name(),
              sink.tableName,
              config.target().namespace() + "." + TableIdentifier.parse(table.name()).name(),
              key,
              rules,
              catalog,
              lookups,
              qualityResults,
              Clock.systemUTC());
    }
  }

  /**
   * Checks the rows written to a database pipeline's tables since the last check against their
   * quality rules, before they commit.
   *
   * @throws FloeException with {@link ErrorCode#QUALITY_BLOCKED} when a row fails a block rule:
   *     nothing since the last commit commits, and the source delivers it again on restart
   */
  private void checkQuality() {
    for (TableSink sink : sinks.values()) {
      if (sink.quality == null || sink.unchecked.isEmpty()) {
        continue;
      }
      QualityGate.Verdict verdict = sink.quality.check(sink.writer.schema(), sink.unchecked);
      sink.unchecked.clear();
      if (verdict.blocked().isPresent()) {
        QualityGate.Failure failure = verdict.blocked().get();
        throw new FloeException(
            ErrorCode.QUALITY_BLOCKED,
            "Quality rule "
                + failure.rule()
                + " blocks pipeline "
                + config.name()
                + ": a row of "
                + sink.tableName
                + " fails it: "
                + failure.message()
                + ". Nothing after the last commit is written; fix the data at its source, or"
                + " change the rule (its action, or the rule itself) and restart");
      }
    }
  }

  private void registerWriters() {
    for (TableSink sink : sinks.values()) {
      if (sink.writer instanceof CdcTableWriter cdc) {
        writers.register(cdc);
      }
    }
  }

  private void unregisterWriters() {
    for (TableSink sink : sinks.values()) {
      try {
        // What was not committed is delivered again at the next start.
        sink.writer.discard();
      } catch (RuntimeException e) {
        LOG.warn(
            "Pipeline {}: cannot delete the files written for table {}'s uncommitted batch; table"
                + " maintenance's orphan removal deletes them",
            config.name(),
            sink.writer.table().name(),
            e);
      }
      if (sink.writer instanceof CdcTableWriter cdc) {
        writers.unregister(cdc);
      }
    }
  }

  /** Waits until the pipeline stops or fails. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Stops the pipeline: lets a commit in progress finish, then stops the source. Changes not yet
   * committed are not acknowledged, so the source delivers them again on the next start.
   */
  @Override
  public void close() {
    while (true) {
      State current = state.get();
      if (current == State.CREATED || current == State.STOPPING || current.terminal()) {
        return;
      }
      if (transitionFrom(current, State.STOPPING)) {
        break;
      }
    }
    stopping = true;
    commitLock.lock();
    try {
      source.close();
    } finally {
      commitLock.unlock();
    }
  }

  /**
   * Opens the tables, reads their checkpoints and decides: resume from the oldest of them when
   * every table holds a complete full load, else empty the tables for a full load from scratch.
   */
  private Optional<SourcePosition> prepareTables(List<SourceTable> sources) {
    Namespace namespace = Namespace.of(config.target().namespace());
    TargetTables.ensureNamespace(catalog, namespace);
    Optional<StreamTableConfig> streamTable = config.target().stream();
    if (streamTable.isPresent() && sources.size() != 1) {
      throw new IllegalStateException(
          "A stream source describes one table, not " + sources.size() + ": " + sources);
    }
    List<SourceTable> tables = new ArrayList<>(sources);
    if (streamTable.isPresent()) {
      tables.add(
          new SourceTable(
              deadLetterName(sources.get(0)),
              streamTable.get().deadLetterTable(),
              DeadLetters.SCHEMA,
              0));
    }
    for (SourceTable table : tables) {
      TableIdentifier identifier = TableIdentifier.of(namespace, table.tableName());
      TableSink sink;
      if (streamTable.isEmpty()) {
        Table target =
            TargetTables.loadOrCreate(
                catalog,
                config.name(),
                identifier,
                table,
                config.target().partitionBy(table.qualifiedName()));
        sink =
            ChangeLog.is(table.icebergSchema())
                ? new TableSink(table, AppendTableWriter.open(target), true)
                : new TableSink(table, CdcTableWriter.open(target));
      } else if (table.icebergSchema() == DeadLetters.SCHEMA) {
        sink =
            new TableSink(
                table,
                CdcTableWriter.open(
                    TargetTables.loadOrCreateStream(
                        catalog, config.name(), identifier, table, List.of())));
      } else {
        Table target =
            TargetTables.loadOrCreateStream(
                catalog, config.name(), identifier, table, streamTable.get().partitionBy());
        sink = new TableSink(table, StreamApplier.writer(streamTable.get(), target));
      }
      Table target = sink.writer.table();
      // A table with a checkpoint has a last summary; one of a complete full load, a position.
      Checkpoint.read(target, config.name(), source)
          .ifPresent(
              held -> {
                SourcePosition position = held.position().orElse(null);
                sink.lastSummary = Checkpoint.summary(config.name(), position);
                if (held.loadComplete()) {
                  sink.checkpoint = position;
                }
              });
      sinks.put(table.qualifiedName(), sink);
    }
    if (streamTable.isPresent()) {
      StreamProcessing processing =
          config.enrich().isEmpty() && config.transform().isEmpty() && config.quality().isEmpty()
              ? StreamProcessing.none()
              : StreamProcessing.open(
                  config,
                  catalog,
                  config.target().namespace() + "." + streamTable.get().table(),
                  streamTable.get().key(),
                  stateDirectory(),
                  qualityResults,
                  Clock.systemUTC());
      stream =
          new StreamApplier(
              config.name(),
              streamTable.get(),
              sinks.get(sources.get(0).qualifiedName()),
              sinks.get(deadLetterName(sources.get(0))),
              stats,
              new StreamApplier.Committer() {
                @Override
                public void commitPending() {
                  Pipeline.this.commitPending();
                }

                @Override
                public void writerReplaced(TableWriter writer) {
                  // Table maintenance hands its compactions of the table to the new writer.
                  if (writer instanceof CdcTableWriter cdc) {
                    writers.register(cdc);
                  }
                }
              },
              Clock.systemUTC(),
              StreamTables.decoder(config),
              StreamTables.maxRecordBytes(config),
              processing,
              config.commitInterval());
      recoverReplays = true;
    }

    if (streamTable.isEmpty()) {
      openQualityGates();
    }
    List<TableSink> incomplete =
        sinks.values().stream().filter(sink -> sink.checkpoint == null).toList();
    if (stream != null) {
      return prepareStreamTables(incomplete);
    }
    if (incomplete.isEmpty() && !sinks.isEmpty()) {
      List<SourcePosition> held = sinks.values().stream().map(sink -> sink.checkpoint).toList();
      SourcePosition resume = source.resumePosition(held);
      LOG.info(
          "Pipeline {}: resuming {} tables from source position {} (position of each table: {})",
          config.name(),
          sinks.size(),
          resume,
          sinks.values().stream()
              .map(sink -> sink.source.tableName() + "=" + sink.checkpoint)
              .toList());
      replayPossible = true;
      return Optional.of(resume);
    }
    if (incomplete.size() < sinks.size()) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Cannot resume pipeline "
              + config.name()
              + ": tables "
              + incomplete.stream().map(sink -> sink.source.qualifiedName()).toList()
              + " were added after its full load, and adding tables to a loaded pipeline is not"
              + " supported yet; remove them from source.tables, or replicate them in a new"
              + " pipeline");
    }
    // A full load is needed: start from empty tables, whatever an interrupted load left.
    stampAllTables = true;
    List<SourceTable> counted =
        source.prepareFullLoad(sinks.values().stream().map(sink -> sink.source).toList());
    for (SourceTable table : counted) {
      sinks.get(table.qualifiedName()).estimatedRows = table.estimatedRows();
    }
    for (TableSink sink : sinks.values()) {
      sink.writer.setCompactionEnabled(false);
      if (sink.writer.liveRows() != 0 || sink.lastSummary != null) {
        LOG.info(
            "Pipeline {}: emptying {} ({} rows) before the full load restarts",
            config.name(),
            sink.tableName,
            sink.writer.liveRows());
        sink.writer.truncate();
        sink.lastSummary = Checkpoint.summary(config.name(), null);
        sink.writer.checkpoint(sink.lastSummary);
      }
    }
    return Optional.empty();
  }

  /** The pipeline's side of the source contract, called on the source's thread. */
  private final class Handler implements ChangeHandler {
    @Override
    public void handle(List<SourceEvent> events, Acknowledger acknowledger)
        throws InterruptedException {
      Pipeline.this.acknowledger = acknowledger;
      if (stream != null) {
        replayDeadLetters();
        stream.betweenCommits();
      }
      Heartbeat lastHeartbeat = null;
      List<Change> records = new ArrayList<>();
      for (SourceEvent event : events) {
        if (stream != null && event instanceof Change change) {
          records.add(change);
          continue;
        }
        applyRecords(records);
        if (event instanceof Change change) {
          handleChange(change);
        } else if (event instanceof TransactionBegin) {
          inTransaction = true;
          openTransaction.clear();
        } else if (event instanceof TransactionCommit commit) {
          handleCommit(commit);
        } else if (event instanceof Heartbeat heartbeat) {
          lastHeartbeat = heartbeat;
          if (stampAllTables && !inTransaction && lastApplied == null) {
            // A full load of empty tables yields no rows: the first heartbeat after it marks the
            // position that every table must record.
            lastApplied = heartbeat.position();
          }
        }
      }
      applyRecords(records);
      if (!inTransaction
          && uncommittedEvents == 0
          && lastApplied == null
          && lastHeartbeat != null
          && !stampAllTables) {
        // Idle: nothing is pending, so the source may move past changes Floe does not replicate.
        acknowledger.acknowledge(lastHeartbeat.position());
      }
      maybeCommit(acknowledger);
      commitRewrites();
      reportProgress();
    }

    @Override
    public void stopped(Throwable error) {
      sourceStopped(error);
    }
  }

  private void handleCommit(TransactionCommit commit) {
    // The whole transaction is here: apply it to every table that does not hold it yet.
    if (replayPossible
        && sinks.values().stream().noneMatch(sink -> sink.holds(commit.position()))) {
      replayPossible = false;
    }
    for (Change change : openTransaction) {
      TableSink sink = sinks.get(change.table());
      if (sink.holds(commit.position())) {
        skip(sink);
      } else {
        apply(sink, change);
      }
    }
    openTransaction.clear();
    inTransaction = false;
    lastApplied = commit.position();
  }

  /** Applies a stream's records, in one batch, and empties the list. */
  private void applyRecords(List<Change> records) {
    if (records.isEmpty()) {
      return;
    }
    for (Change change : records) {
      if (inTransaction || !(change.row() instanceof StreamRecord)) {
        throw new IllegalStateException(
            "A stream source delivers records, outside transactions: " + change);
      }
    }
    uncommittedEvents += stream.apply(records);
    lastApplied = records.get(records.size() - 1).position();
    records.clear();
  }

  private void handleChange(Change change) {
    TableSink sink = sinks.get(change.table());
    if (sink == null) {
      throw new FloeException(
          ErrorCode.INTERNAL_ERROR,
          "Cannot route a change of "
              + change.table()
              + " to a table of pipeline "
              + config.name()
              + ": its tables are "
              + sinks.keySet());
    }
    if (inTransaction) {
      if (replayPossible) {
        openTransaction.add(change);
      } else {
        apply(sink, change);
      }
      return;
    }
    if (sink.holds(change.position())) {
      skip(sink);
    } else {
      apply(sink, change);
    }
    lastApplied = change.position();
  }

  /**
   * Where a stream pipeline starts: from the oldest position its tables hold, or, when none holds
   * one, where its source starts. A stream has no full load, so nothing is emptied: a table without
   * a checkpoint (new, or created by someone else) holds no record of the stream yet and gets every
   * record delivered from there.
   */
  private Optional<SourcePosition> prepareStreamTables(List<TableSink> withoutCheckpoint) {
    if (withoutCheckpoint.size() == sinks.size()) {
      stampAllTables = true;
      return Optional.empty();
    }
    if (withoutCheckpoint.contains(stream.table())) {
      // The dead-letter table commits first: a crash before the table's first commit leaves the
      // table without a position while the dead-letter table has one. The table needs every record
      // from the stream's start; the dead-letter table skips those it holds.
      LOG.warn(
          "Pipeline {}: table {} holds no position of the stream (its first commit did not land,"
              + " or it was dropped and created again): reading the stream from where the"
              + " pipeline's first start read it; {} skips the records it holds",
          config.name(),
          stream.table().tableName,
          stream.deadLetters().tableName);
      stampAllTables = true;
      replayPossible = true;
      return Optional.empty();
    }
    if (!withoutCheckpoint.isEmpty()) {
      LOG.warn(
          "Pipeline {}: tables {} hold no position of the stream (new, or dropped and created"
              + " again): they get the records from where the others stand, not the earlier ones",
          config.name(),
          withoutCheckpoint.stream().map(sink -> sink.tableName).toList());
      stampAllTables = true;
    }
    List<SourcePosition> held =
        sinks.values().stream().map(sink -> sink.checkpoint).filter(Objects::nonNull).toList();
    SourcePosition resume = source.resumePosition(held);
    LOG.info(
        "Pipeline {}: resuming from stream position {} (position of each table: {})",
        config.name(),
        resume,
        sinks.values().stream().map(sink -> sink.tableName + "=" + sink.checkpoint).toList());
    replayPossible = true;
    return Optional.of(resume);
  }

  /** The name changes of the dead-letter table of a stream's table go by (never a source's). */
  private static String deadLetterName(SourceTable streamTable) {
    return streamTable.qualifiedName() + "#dead-letter";
  }

  /**
   * Commits what every table holds pending, in the middle of a batch (before a schema change): at
   * the position of the last record applied, which lies between records.
   *
   * @throws PipelineStoppingException when the pipeline is stopping: the batch ends there, and what
   *     it did is delivered again on the next start
   */
  private void commitPending() {
    if (lastApplied == null || inTransaction) {
      return;
    }
    try {
      while (!commitLock.tryLock(100, TimeUnit.MILLISECONDS)) {
        if (stopping) {
          throw new PipelineStoppingException();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PipelineStoppingException();
    }
    try {
      if (stopping) {
        throw new PipelineStoppingException();
      }
      commit(acknowledger, System.nanoTime());
    } finally {
      commitLock.unlock();
    }
  }

  /** Ends a batch because the pipeline stops; its source reports it as its stop. */
  private static final class PipelineStoppingException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    PipelineStoppingException() {
      super("The pipeline is stopping");
    }
  }

  private void skip(TableSink sink) {
    sink.skippedChanges++;
    stats.skipped.increment();
  }

  private void apply(TableSink sink, Change change) {
    SchemaDrift drift = sink.drift(change);
    if (!drift.isEmpty()) {
      evolve(sink, drift);
    }
    sink.apply(change, stats);
    uncommittedEvents++;
  }

  /**
   * Follows a schema change of a source table, seen in the first row written after it: commits what
   * every table has pending, at the last source transaction boundary (inside a transaction the
   * changes of it applied so far are committed too; a replay after a crash applies the whole
   * transaction again, which sets each row to the same end state), then adds the new columns and
   * promotes the widened ones in one Iceberg schema change (no data is rewritten: older files read
   * null for a new column, and time travel reads each snapshot with its own schema), and writes on
   * with a writer of the new schema.
   *
   * @throws FloeException for a change a column cannot follow in place (text to number, narrowing a
   *     type): nothing of the row is written, and the pipeline stops with what to do
   */
  private void evolve(TableSink sink, SchemaDrift drift) {
    if (!drift.incompatible().isEmpty()) {
      throw new FloeException(
          ErrorCode.SOURCE_TABLE_INVALID,
          "Cannot follow the schema change of "
              + sink.source.qualifiedName()
              + " into "
              + sink.tableName
              + ": "
              + String.join("; ", drift.incompatible())
              + ". The source's log holds rows of the new type: drop the Iceberg tables of"
              + " pipeline "
              + config.name()
              + " (it loads them again when it starts), or move "
              + sink.source.qualifiedName()
              + " to a pipeline of its own");
    }
    // A compaction handed to the writer goes into this commit too, not away with the writer.
    if (sink.writer.pendingChanges() > 0 || sink.writer.rewriteSubmitted()) {
      commitLock.lock();
      try {
        if (lastApplied != null) {
          commit(acknowledger, System.nanoTime());
        } else {
          // Inside a transaction whose predecessors are committed: this table's changes of it so
          // far are committed under the checkpoint the table holds, which a crash replays from.
          if (sink.lastSummary == null) {
            throw new FloeException(
                ErrorCode.INTERNAL_ERROR,
                "Cannot follow the schema change of "
                    + sink.source.qualifiedName()
                    + ": changes are pending but the table records no position");
          }
          sink.writer.commit(sink.lastSummary).ifPresent(result -> logCommit(sink, result));
        }
      } finally {
        commitLock.unlock();
      }
    }
    List<String> changes = sink.evolve(drift);
    if (!changes.isEmpty()) {
      stats.schemaChanges.increment();
    }
    if (!drift.retyped().isEmpty()) {
      LOG.warn(
          "Pipeline {}: columns {} of {} changed to types their Iceberg columns cannot be promoted"
              + " to ({}); each old column is kept under a new name with the values written before,"
              + " and a new column of the new type takes the name: rows written before read null"
              + " in it until they change (query coalesce(new, CAST(old AS ...)) to see both, or"
              + " drop the table to load it again in the new type)",
          config.name(),
          drift.retyped().keySet(),
          sink.source.qualifiedName(),
          drift.retyped(),
          sink.tableName);
    }
    if (!drift.defaults().isEmpty()) {
      LOG.warn(
          "Pipeline {}: columns {} of {} were added with defaults at the source ({}); the rows that"
              + " existed before read null for them in {} until they change, since a format"
              + " version 2 table cannot give existing rows a default without rewriting them",
          config.name(),
          drift.defaults().keySet(),
          sink.source.qualifiedName(),
          drift.defaults(),
          sink.tableName);
    }
    if (sink.writer instanceof CdcTableWriter old) {
      writers.unregister(old);
    }
    TableWriter writer = sink.reopenWriter(!stampAllTables);
    if (writer instanceof CdcTableWriter cdc) {
      writers.register(cdc);
    }
    LOG.info(
        "Pipeline {}: the schema of {} changed at the source; {}: {} (schema {}; earlier snapshots"
            + " keep the schema they were written with)",
        config.name(),
        sink.source.qualifiedName(),
        sink.tableName,
        changes.isEmpty() ? "already in the table" : String.join(", ", changes),
        writer.schema().schemaId());
  }

  private void maybeCommit(ChangeHandler.Acknowledger acknowledger) {
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
      commit(acknowledger, now);
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
    for (TableSink sink : sinks.values()) {
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

  /**
   * The order tables commit in: a stream's dead-letter table before its table, so that a crash
   * between the two commits never leaves a record in neither (see {@link StreamApplier#apply}).
   */
  private List<TableSink> commitOrder() {
    if (stream == null) {
      return List.copyOf(sinks.values());
    }
    return List.of(stream.deadLetters(), stream.table());
  }

  /**
   * Commits every table's pending changes at {@link #lastApplied}, then acknowledges it. When the
   * full load ends here, every table commits, changed or not, so that each records its end.
   */
  private void commit(ChangeHandler.Acknowledger acknowledger, long now) {
    checkQuality();
    SourcePosition position = lastApplied;
    Map<String, String> positionSummary = Checkpoint.summary(config.name(), position);
    boolean stampAll = stampAllTables && position.loadComplete();
    int committedTables = 0;
    for (TableSink sink : commitOrder()) {
      // What this table holds: the position, and for a source of several parts (Kafka's
      // partitions) what it held further on than the resume from the oldest of the tables.
      SourcePosition held =
          sink.checkpoint == null ? position : position.including(sink.checkpoint);
      Map<String, String> summary =
          held == position ? positionSummary : Checkpoint.summary(config.name(), held);
      boolean streamTable = stream != null && sink == stream.table();
      if (streamTable) {
        Map<String, String> extra = stream.commitSummary();
        if (!extra.isEmpty()) {
          summary = new LinkedHashMap<>(summary);
          summary.putAll(extra);
        }
      }
      // A stream's table that receives nothing (the dead-letter table, mostly) records the
      // position now and then, so that a restart does not read the stream from its last record.
      boolean stamp =
          stampAll
              || (stream != null
                  && sink.writer.pendingChanges() == 0
                  && now - sink.lastCheckpointNanos > IDLE_CHECKPOINT_INTERVAL.toNanos());
      Optional<CdcTableWriter.CommitResult> result =
          stamp ? Optional.of(sink.writer.checkpoint(summary)) : sink.writer.commit(summary);
      if (result.isPresent()) {
        sink.lastCheckpointNanos = now;
        committedTables++;
        sink.lastSummary = summary;
        if (position.loadComplete()) {
          sink.checkpoint = held;
        }
        logCommit(sink, result.get());
        if (streamTable) {
          stream.tableCommitted(result.get().snapshotId());
        } else if (sink.quality != null) {
          sink.quality.committed(result.get().snapshotId());
        }
      }
    }
    stats.committed(System.currentTimeMillis());
    acknowledger.acknowledge(position);
    if (stampAll) {
      stampAllTables = false;
      sinks.values().forEach(sink -> sink.writer.setCompactionEnabled(true));
      if (stream == null) {
        LOG.info("Pipeline {}: full load complete; streaming changes", config.name());
        transition(State.STREAMING);
      }
    }
    LOG.debug(
        "Pipeline {}: committed {} events to {} tables at {}",
        config.name(),
        uncommittedEvents,
        committedTables,
        position);
    lastApplied = null;
    uncommittedEvents = 0;
    lastCommitNanos = now;
  }

  private void reportProgress() {
    long now = System.nanoTime();
    if (now - lastProgressNanos < PROGRESS_INTERVAL.toNanos()) {
      return;
    }
    double seconds = (now - lastProgressNanos) / 1e9;
    lastProgressNanos = now;
    for (TableSink sink : sinks.values()) {
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

  /** The source's own figures: lag, buffered records, a problem it waits out. */
  public SourceFigures sourceFigures() {
    return source.figures();
  }

  /**
   * Replays dead letters of a stream pipeline: the records with these ids are written to its table
   * again (after a fix: a widened column, a corrected producer), exactly once; those that succeed
   * leave the dead-letter table, the others stay with one more attempt and their new error. Done
   * between two batches of the source; thread-safe.
   *
   * @return completes with what the replay did, or with the error that failed it (which fails the
   *     pipeline too when a commit failed)
   */
  public CompletableFuture<ReplayOutcome> replayDeadLetters(List<String> recordIds) {
    requireNonNull(recordIds, "recordIds is null");
    if (stream == null) {
      return CompletableFuture.failedFuture(
          new FloeException(
              ErrorCode.CONFIG_INVALID,
              "Pipeline " + config.name() + " is not a stream pipeline: it has no dead letters"));
    }
    State current = state.get();
    if (current != State.STREAMING) {
      return CompletableFuture.failedFuture(
          new FloeException(
              ErrorCode.PIPELINE_NOT_RUNNING,
              "Cannot replay dead letters of pipeline "
                  + config.name()
                  + ": it is "
                  + current.name().toLowerCase(Locale.ROOT)
                  + "; start it and replay again"));
    }
    CompletableFuture<StreamApplier.ReplayResult> result = new CompletableFuture<>();
    replays.add(new ReplayRequest(List.copyOf(recordIds), result));
    return result.thenApply(
        done ->
            new ReplayOutcome(
                done.replayId(), done.replayed(), done.failedAgain(), done.missing()));
  }

  /**
   * What a replay of dead letters did.
   *
   * @param replayed records now in the table and no longer dead letters
   * @param failedAgain records that failed again and stay dead letters, with their new error
   * @param missing ids asked for that are not dead letters (replayed already, or never)
   */
  public record ReplayOutcome(
      String replayId, int replayed, int failedAgain, List<String> missing) {}

  /** Finishes interrupted replays, then does the replays asked for; on the source's thread. */
  private void replayDeadLetters() {
    if (recoverReplays) {
      stream.recoverReplays();
      recoverReplays = false;
    }
    ReplayRequest request;
    while ((request = replays.poll()) != null) {
      try {
        request.result().complete(stream.replay(request.recordIds()));
      } catch (RuntimeException e) {
        request.result().completeExceptionally(e);
        throw e;
      }
    }
  }

  /**
   * Records a stream pipeline sent to its dead-letter table since it started, by error class (only
   * classes with records); empty for a database pipeline.
   */
  public Map<String, Long> deadLetterCounts() {
    StreamApplier applier = stream;
    return applier == null ? Map.of() : applier.rejectedByClass();
  }

  /** Records a stream pipeline's transform dropped since it started (its {@code where}). */
  public long filteredRecords() {
    StreamApplier applier = stream;
    return applier == null ? 0 : applier.filteredRecords();
  }

  /** Each quality rule's figures since the pipeline started, by name. */
  public Map<String, QualityGate.RuleFigures> qualityFigures() {
    StreamApplier applier = stream;
    return applier == null ? Map.of() : applier.qualityFigures();
  }

  /** Per-table figures for status displays. */
  public List<TableStatus> tables() {
    List<TableStatus> result = new ArrayList<>();
    for (TableSink sink : sinks.values()) {
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
   * @param unchangedValuesFilled values the source left out of updates (PostgreSQL's unchanged
   *     TOAST) that were taken from the row's previous version
   */
  public record TableStatus(
      String table,
      String source,
      long loadedRows,
      long estimatedRows,
      long changes,
      long skipped,
      long unchangedValuesFilled) {}

  private void sourceStopped(Throwable error) {
    if (error != null && !stopping) {
      fail(error);
    } else {
      if (error != null) {
        // A source may report its own shutdown as a failure: a requested stop is a stop.
        LOG.info("Pipeline {}: source stopped ({})", config.name(), error.getMessage());
      }
      if (moveTo(State.STOPPED)) {
        LOG.info("Pipeline {}: stopped", config.name());
      }
    }
    unregisterWriters();
    closeProcessing();
    terminated.countDown();
  }

  /**
   * Moves to FAILED with {@code error} as the failure, logged once: with its stack trace only when
   * it is Floe's own (internal) error, as other failures say all there is in their message.
   *
   * @return the failure as users see it ({@link #floeFailure})
   */
  private FloeException fail(Throwable error) {
    FloeException floe = floeFailure(error);
    synchronized (this) {
      if (!state.get().next().contains(State.FAILED)) {
        return floe; // stopped already: this failure came too late to matter
      }
      // Set before the state moves, so that whoever sees FAILED finds the failure.
      failure = floe;
    }
    if (!moveTo(State.FAILED)) {
      return floe;
    }
    if (floe.type() == ErrorType.INTERNAL) {
      LOG.error("Pipeline {} failed: {}", config.name(), floe.describe(), floe);
    } else {
      LOG.error("Pipeline {} failed: {}", config.name(), floe.describe());
    }
    return floe;
  }

  /**
   * The failure as users see it: the {@link FloeException} in its causes (the source and the
   * writers throw those), or an internal error.
   */
  private FloeException floeFailure(Throwable error) {
    Optional<FloeException> own = FloeException.in(error);
    if (own.isPresent()) {
      return own.get();
    }
    // Not the writers' (they classify their own): the catalog's, while the tables were prepared.
    String cannot = "Cannot run pipeline " + config.name() + ": ";
    switch (IcebergFailures.classify(error)) {
      case STORAGE:
        return new FloeException(
            ErrorCode.TABLE_WRITE_FAILED,
            cannot
                + "reading or writing table files failed ("
                + error.getMessage()
                + "); check that the warehouse's storage is reachable and start it again",
            error);
      case CATALOG:
        return new FloeException(
            ErrorCode.CATALOG_FAILED,
            cannot
                + "the catalog failed ("
                + error.getMessage()
                + "); check that the catalog database is reachable and start it again",
            error);
      case UNKNOWN_OUTCOME:
        return new FloeException(
            ErrorCode.TABLE_COMMIT_UNKNOWN,
            cannot
                + "the catalog did not say whether a commit of its tables succeeded ("
                + error.getMessage()
                + "); start it again: it resumes from what the tables hold",
            error);
      case CONFLICT:
      case INVALID:
        return new FloeException(
            ErrorCode.TABLE_COMMIT_CONFLICT,
            cannot
                + "a concurrent change of its tables got in the way ("
                + error.getMessage()
                + "); start it again",
            error);
      default:
        return new FloeException(
            ErrorCode.INTERNAL_ERROR,
            cannot + "unexpected " + error + "; report it with the log, which has its stack trace",
            error);
    }
  }

  /** Moves from the current state to {@code to}, which must be allowed from it. */
  private void transition(State to) {
    State from = state.get();
    if (!transitionFrom(from, to)) {
      throw new IllegalStateException(
          "Cannot move pipeline " + config.name() + " from " + state.get() + " to " + to);
    }
  }

  /** Moves from whatever state the pipeline is in to {@code to}, if that move is allowed. */
  private boolean moveTo(State to) {
    while (true) {
      State from = state.get();
      if (!from.next().contains(to)) {
        return false;
      }
      if (transitionFrom(from, to)) {
        return true;
      }
    }
  }

  /**
   * Moves from {@code from} to {@code to} if the pipeline is still in {@code from} and the move is
   * allowed; logs it.
   */
  private boolean transitionFrom(State from, State to) {
    if (!from.next().contains(to) || !state.compareAndSet(from, to)) {
      return false;
    }
    LOG.info("Pipeline {}: {} -> {}", config.name(), from, to);
    return true;
  }
}
