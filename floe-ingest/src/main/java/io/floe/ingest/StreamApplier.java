package io.floe.ingest;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.EnrichConfig;
import io.floe.core.config.StreamTableConfig;
import io.floe.core.writer.AppendTableWriter;
import io.floe.core.writer.CdcTableWriter;
import io.floe.core.writer.TableWriter;
import io.floe.ingest.SourceEvent.Change;
import io.floe.ingest.enrich.Enricher;
import io.floe.ingest.quality.QualityGate;
import io.floe.ingest.stream.DeadLetters;
import io.floe.ingest.stream.DecodedRecord;
import io.floe.ingest.stream.RecordDecoder;
import io.floe.ingest.stream.RecordFields;
import io.floe.ingest.stream.RecordRejectedException;
import io.floe.ingest.stream.RejectReason;
import io.floe.ingest.stream.StreamRecord;
import io.floe.ingest.transform.RecordTransform;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.LongAdder;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.util.SnapshotUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the records of a stream pipeline: each {@link StreamRecord} is decoded and matched to the
 * table's columns, then appended or upserted; a record that cannot be written goes to the
 * dead-letter table with its error instead, and the pipeline goes on. Fields without a column
 * become new columns (a schema change committed between two records), are rejected, or are left
 * out, as the table's {@code unknown-fields} says.
 *
 * <p>Exactly once: the table and the dead-letter table each record the source position they hold in
 * their commits. A replayed record is decoded again only when one of them does not hold it, and
 * lands only in the one it belongs to, if that one does not hold it yet; decoding is deterministic
 * for a given table schema, so a replay sends each record where it went the first time.
 */
final class StreamApplier {
  private static final Logger LOG = LoggerFactory.getLogger(StreamApplier.class);
  private static final long WARN_INTERVAL_NANOS = 10_000_000_000L;

  /** How often records held for their reference row are replayed, at most. */
  private static final Duration HELD_REPLAY_INTERVAL = Duration.ofSeconds(5);

  /** Snapshot summary key of the reference snapshot a commit's records were enriched with. */
  static final String ENRICH_SUMMARY_PREFIX = "floe.enrich.";

  /** Snapshot summary key of a table's commit that took a replay's dead letters. */
  static final String REPLAY_SUMMARY = "floe.dead-letter.replay";

  /** What the pipeline does for the applier: commits, and registers writers. */
  interface Committer {
    /** Commits what is pending in every table, before a schema change. */
    void commitPending();

    /** Puts {@code writer}, a new writer of the table, where the old one was registered. */
    void writerReplaced(TableWriter writer);
  }

  /** Opens a new writer of the table's current schema in place of the old one. */
  private void replaceWriter(Table iceberg) {
    table.writer = writer(config, iceberg);
    committer.writerReplaced(table.writer);
  }

  private final String pipeline;
  private final StreamTableConfig config;
  private final TableSink table;
  private final TableSink deadLetters;
  private final PipelineStats stats;
  private final Committer committer;
  private final Clock clock;
  private final RecordDecoder decoder;
  private final long maxRecordBytes;
  private final StreamProcessing processing;
  private final Duration refreshInterval;
  private final Map<RejectReason, LongAdder> rejected = new EnumMap<>(RejectReason.class);
  private final LongAdder filtered = new LongAdder();
  private long lastRefreshNanos = System.nanoTime();

  /** Whether the dead-letter table may hold records waiting for their reference row. */
  private boolean holding = true;

  private long lastHeldReplayNanos = System.nanoTime() - HELD_REPLAY_INTERVAL.toNanos();
  private boolean referenceChangedSinceHeldReplay = true;
  private long lastWarnNanos = System.nanoTime() - WARN_INTERVAL_NANOS;
  private long rejectedSinceWarn;

  StreamApplier(
      String pipeline,
      StreamTableConfig config,
      TableSink table,
      TableSink deadLetters,
      PipelineStats stats,
      Committer committer,
      Clock clock,
      RecordDecoder decoder,
      long maxRecordBytes,
      StreamProcessing processing,
      Duration refreshInterval) {
    this.pipeline = requireNonNull(pipeline, "pipeline is null");
    this.processing = requireNonNull(processing, "processing is null");
    this.refreshInterval = requireNonNull(refreshInterval, "refreshInterval is null");
    this.holding =
        processing.enrichers().stream()
            .anyMatch(enricher -> enricher.config().missing() == EnrichConfig.Missing.HOLD);
    this.decoder = requireNonNull(decoder, "decoder is null");
    this.maxRecordBytes = maxRecordBytes;
    this.config = requireNonNull(config, "config is null");
    this.table = requireNonNull(table, "table is null");
    this.deadLetters = requireNonNull(deadLetters, "deadLetters is null");
    this.stats = requireNonNull(stats, "stats is null");
    this.committer = requireNonNull(committer, "committer is null");
    this.clock = requireNonNull(clock, "clock is null");
    for (RejectReason reason : RejectReason.values()) {
      rejected.put(reason, new LongAdder());
    }
  }

  /** The writer of a stream table of this mode: appends, or upserts by key. */
  static TableWriter writer(StreamTableConfig config, Table table) {
    return config.mode() == StreamTableConfig.WriteMode.APPEND
        ? AppendTableWriter.open(table)
        : CdcTableWriter.open(table);
  }

  TableSink table() {
    return table;
  }

  TableSink deadLetters() {
    return deadLetters;
  }

  /** Each quality rule's figures since the pipeline started; thread-safe. */
  Map<String, QualityGate.RuleFigures> qualityFigures() {
    return processing.quality().map(QualityGate::figures).orElse(Map.of());
  }

  /** Records the transform's filter dropped, since the pipeline started; thread-safe. */
  long filteredRecords() {
    return filtered.sum();
  }

  /**
   * Between commits (nothing pending in either table): moves the enrichments and referential
   * quality rules onto their reference tables' newest snapshots, at most every refresh interval, so
   * that all records of a commit are enriched with one snapshot of each reference; then replays the
   * records held for their reference row, when the reference changed or their wait may be over.
   */
  void betweenCommits() {
    if (table.writer.pendingChanges() != 0 || deadLetters.writer.pendingChanges() != 0) {
      return;
    }
    long now = System.nanoTime();
    if (now - lastRefreshNanos >= refreshInterval.toNanos()) {
      lastRefreshNanos = now;
      for (Enricher enricher : processing.enrichers()) {
        if (enricher.refresh()) {
          referenceChangedSinceHeldReplay = true;
        }
      }
      processing.quality().ifPresent(QualityGate::refreshReferences);
    }
    if (holding && now - lastHeldReplayNanos >= HELD_REPLAY_INTERVAL.toNanos()) {
      lastHeldReplayNanos = now;
      replayHeld();
    }
  }

  /**
   * Replays the dead letters waiting for their reference row ({@code reference_pending}): those
   * whose row came move to the table, those whose {@code hold-for} passed become {@code
   * reference_missing}, the others wait on.
   */
  private void replayHeld() {
    Table deadLetterTable = deadLetters.writer.table();
    deadLetterTable.refresh();
    if (deadLetterTable.currentSnapshot() == null) {
      holding = false;
      return;
    }
    List<String> ids = new ArrayList<>();
    Instant oldest = null;
    try (CloseableIterable<Record> found =
        IcebergGenerics.read(deadLetterTable)
            .where(
                Expressions.equal(DeadLetters.ERROR_CLASS, RejectReason.REFERENCE_PENDING.code()))
            .select(DeadLetters.RECORD_ID, DeadLetters.FIRST_SEEN)
            .build()) {
      for (Record row : found) {
        ids.add((String) row.getField(DeadLetters.RECORD_ID));
        Instant first = ((OffsetDateTime) row.getField(DeadLetters.FIRST_SEEN)).toInstant();
        oldest = oldest == null || first.isBefore(oldest) ? first : oldest;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (ids.isEmpty()) {
      holding = false;
      return;
    }
    Duration shortestHold =
        processing.enrichers().stream()
            .map(enricher -> enricher.config().holdFor())
            .min(Duration::compareTo)
            .orElse(Duration.ZERO);
    boolean expired = !clock.instant().isBefore(oldest.plus(shortestHold));
    if (!referenceChangedSinceHeldReplay && !expired) {
      return;
    }
    referenceChangedSinceHeldReplay = false;
    ReplayResult result = replay(ids);
    LOG.info(
        "Pipeline {}: replayed {} records held for their reference rows: {} found them, {} wait"
            + " on or waited too long",
        pipeline,
        ids.size(),
        result.replayed(),
        result.failedAgain());
  }

  /**
   * The snapshot summary entries of the pipeline's next commit of the table: the reference snapshot
   * each enrichment used, {@code floe.enrich.<namespace>.<table>.snapshot}.
   */
  Map<String, String> commitSummary() {
    Map<String, String> summary = new LinkedHashMap<>();
    for (Enricher enricher : processing.enrichers()) {
      enricher
          .snapshotId()
          .ifPresent(
              id ->
                  summary.put(
                      ENRICH_SUMMARY_PREFIX + enricher.config().table() + ".snapshot",
                      Long.toString(id)));
    }
    return summary;
  }

  /** The table committed what was pending as {@code snapshotId}: quality results for it. */
  void tableCommitted(OptionalLong snapshotId) {
    processing.quality().ifPresent(gate -> gate.committed(snapshotId));
  }

  /** Closes the enrichments, transform and quality rules. */
  void close() {
    processing.close();
  }

  /** Dead-lettered records by error class, since the pipeline started; thread-safe. */
  Map<String, Long> rejectedByClass() {
    Map<String, Long> counts = new LinkedHashMap<>();
    rejected.forEach(
        (reason, count) -> {
          long value = count.sum();
          if (value > 0) {
            counts.put(reason.code(), value);
          }
        });
    return counts;
  }

  /**
   * Writes a batch of records where each belongs, skipping those the tables hold already.
   *
   * <p>Which table holds a record after a crash: the dead-letter table commits before the table in
   * every commit of the pipeline that has dead letters. So when the table holds a record's
   * position, the record went to the table (or the transform dropped it): the dead-letter table
   * would hold the position too otherwise. When only the dead-letter table holds it, the record is
   * there if its id is; else it is written now. Either way nothing depends on the record being
   * processed the same way again (the reference data may have changed since).
   *
   * @return the records that changed a table (the pipeline's commit has something to commit)
   * @throws FloeException with {@link ErrorCode#QUALITY_BLOCKED} when a row fails a quality rule
   *     whose action is block: what earlier batches wrote is committed first, nothing of this one
   */
  int apply(List<Change> changes) {
    List<Change> todo = new ArrayList<>(changes.size());
    for (Change change : changes) {
      StreamRecord record = (StreamRecord) change.row();
      if (table.holds(change.position())) {
        table.skippedChanges++;
        stats.skipped.increment();
      } else if (deadLetters.holds(change.position())
          && deadLetters.writer instanceof CdcTableWriter writer
          && writer.holds(DeadLetters.key(writer.schema(), record.id()))) {
        deadLetters.skippedChanges++;
        stats.skipped.increment();
      } else {
        todo.add(change);
      }
    }
    if (todo.isEmpty()) {
      return 0;
    }
    List<StreamRecord> records = new ArrayList<>(todo.size());
    todo.forEach(change -> records.add((StreamRecord) change.row()));
    Instant now = clock.instant();
    List<Prepared> prepared = prepareAll(records, java.util.Collections.nCopies(todo.size(), now));
    int changed = 0;
    for (int i = 0; i < todo.size(); i++) {
      Change change = todo.get(i);
      StreamRecord record = records.get(i);
      Prepared outcome = prepared.get(i);
      if (outcome instanceof Write write) {
        write.write().run();
        stats.sampleFreshness(change.sourceMillis());
        table.appliedChanges++;
        stats.changes.increment();
        stats.bytes.add(record.size());
        changed++;
      } else if (outcome instanceof Rejected rejected) {
        deadLetter(record, rejected.failure());
        changed++;
      } else {
        filtered.increment();
      }
    }
    return changed;
  }

  /** What processing made of a record. */
  private sealed interface Prepared permits Write, Rejected, Filtered {}

  /** A row to write (or a delete), for {@code row} (null for a delete). */
  private record Write(Runnable write, Record row) implements Prepared {}

  /** A record for the dead-letter table. */
  private record Rejected(RecordRejectedException failure) implements Prepared {}

  /** A record the transform's filter dropped. */
  private enum Filtered implements Prepared {
    INSTANCE
  }

  /**
   * Decodes, enriches and transforms records, evolves the schema for them, converts them to rows
   * and checks the rows' quality: what to do with each, in order.
   *
   * @param firstSeen for each record, when it first failed (now for a new one)
   */
  private List<Prepared> prepareAll(List<StreamRecord> records, List<Instant> firstSeen) {
    int count = records.size();
    Instant now = clock.instant();
    Prepared[] outcomes = new Prepared[count];
    DecodedRecord[] decoded = new DecodedRecord[count];
    List<Map<String, Object>> fields = new ArrayList<>(java.util.Collections.nCopies(count, null));
    for (int i = 0; i < count; i++) {
      try {
        decoded[i] = records.get(i).decode();
        // Room for the columns enrichment adds, so that adding them does not grow the map.
        Map<String, Object> recordFields =
            new LinkedHashMap<>(
                (decoded[i].fields().size() + processing.addedTypes().size()) * 4 / 3 + 1);
        recordFields.putAll(decoded[i].fields());
        fields.set(i, recordFields);
      } catch (RecordRejectedException e) {
        outcomes[i] = new Rejected(e);
      }
    }
    for (Enricher enricher : processing.enrichers()) {
      List<Map<String, Object>> enriched = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        enriched.add(
            outcomes[i] == null && decoded[i].operation() == DecodedRecord.Operation.UPSERT
                ? fields.get(i)
                : null);
      }
      RecordRejectedException[] rejected = enricher.enrichAll(enriched, firstSeen, now);
      for (int i = 0; i < count; i++) {
        if (rejected[i] != null) {
          outcomes[i] = new Rejected(rejected[i]);
        }
      }
    }
    if (processing.transform().isPresent()) {
      transform(processing.transform().get(), decoded, fields, outcomes);
    }
    // A first pass adds the columns the records' new fields need (each a commit of what is
    // pending); the second converts them against the final schema.
    for (int i = 0; i < count; i++) {
      if (outcomes[i] == null && decoded[i].operation() == DecodedRecord.Operation.UPSERT) {
        try {
          addUnknownFields(fields.get(i));
        } catch (RecordRejectedException e) {
          outcomes[i] = new Rejected(e);
        }
      }
    }
    TableWriter writer = table.writer;
    Schema schema = writer.schema();
    List<Record> rows = new ArrayList<>();
    List<Integer> rowIndexes = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      if (outcomes[i] != null) {
        continue;
      }
      try {
        if (decoded[i].operation() == DecodedRecord.Operation.DELETE) {
          if (config.mode() == StreamTableConfig.WriteMode.APPEND) {
            throw new RecordRejectedException(
                RejectReason.BAD_CHANGE_EVENT,
                "The record deletes a row, but table "
                    + table.tableName
                    + " is an append table, which keeps every record; make it an upsert table"
                    + " (mode: upsert, key: [...]) to apply deletes");
          }
          Record key = keyRecord(fields.get(i), schema);
          outcomes[i] = new Write(() -> writer.delete(key), null);
        } else {
          Record row = RecordFields.toRecord(fields.get(i), schema);
          if (config.mode() == StreamTableConfig.WriteMode.UPSERT) {
            checkKey(row);
          }
          outcomes[i] = new Write(() -> writer.upsert(row, null), row);
          rows.add(row);
          rowIndexes.add(i);
        }
      } catch (RecordRejectedException e) {
        outcomes[i] = new Rejected(e);
      }
    }
    if (processing.quality().isPresent() && !rows.isEmpty()) {
      QualityGate.Verdict verdict = processing.quality().get().check(schema, rows);
      if (verdict.blocked().isPresent()) {
        QualityGate.Failure failure = verdict.blocked().get();
        committer.commitPending();
        throw new FloeException(
            ErrorCode.QUALITY_BLOCKED,
            "Quality rule "
                + failure.rule()
                + " blocks pipeline "
                + pipeline
                + ": a row for "
                + table.tableName
                + " fails it: "
                + failure.message()
                + ". Nothing after the last commit is written; fix the data at its source, or"
                + " change the rule (its action, or the rule itself) and restart");
      }
      for (int row = 0; row < rows.size(); row++) {
        QualityGate.Failure failure = verdict.quarantined().get(row);
        if (failure != null) {
          outcomes[rowIndexes.get(row)] =
              new Rejected(
                  new RecordRejectedException(
                      RejectReason.QUALITY_FAILED,
                      "Quality rule " + failure.rule() + " failed: " + failure.message()));
        }
      }
    }
    return List.of(outcomes);
  }

  /** Runs the transform over the records still to write, in one batch. */
  private void transform(
      RecordTransform transform,
      DecodedRecord[] decoded,
      List<Map<String, Object>> fields,
      Prepared[] outcomes) {
    List<Integer> indexes = new ArrayList<>();
    List<Map<String, Object>> inputs = new ArrayList<>();
    for (int i = 0; i < outcomes.length; i++) {
      if (outcomes[i] == null && decoded[i].operation() == DecodedRecord.Operation.UPSERT) {
        indexes.add(i);
        inputs.add(fields.get(i));
      }
    }
    if (inputs.isEmpty()) {
      return;
    }
    List<RecordTransform.Outcome> results = transform.apply(inputs);
    for (int j = 0; j < indexes.size(); j++) {
      int i = indexes.get(j);
      RecordTransform.Outcome result = results.get(j);
      if (result instanceof RecordTransform.Row row) {
        fields.set(i, new LinkedHashMap<>(row.fields()));
      } else if (result instanceof RecordTransform.Failed failed) {
        outcomes[i] =
            new Rejected(
                new RecordRejectedException(
                    RejectReason.TRANSFORM_FAILED,
                    "The transform failed for the record: "
                        + failed.message()
                        + "; fix the expression (transform.select, transform.where) or the"
                        + " record, then replay it"));
      } else {
        outcomes[i] = Filtered.INSTANCE;
      }
    }
  }

  /** Adds columns for a record's fields that have none, or rejects it, as unknown-fields says. */
  private void addUnknownFields(Map<String, Object> fields) {
    List<String> unknown = RecordFields.unknownFields(fields, table.writer.schema());
    if (unknown.isEmpty()) {
      return;
    }
    switch (config.unknownFields()) {
      case REJECT:
        throw new RecordRejectedException(
            RejectReason.UNKNOWN_FIELD,
            "The record has fields "
                + unknown
                + " that table "
                + table.tableName
                + " has no columns for; declare them in target.columns, or set"
                + " target.unknown-fields to add (new columns) or ignore");
      case ADD:
        addColumns(unknown, fields);
        break;
      case IGNORE:
        break;
    }
  }

  private Record keyRecord(Map<String, Object> fields, Schema schema) {
    Map<String, Object> keyFields = new LinkedHashMap<>();
    for (String column : config.key()) {
      keyFields.put(column, fields.get(column));
    }
    Record key = RecordFields.toRecord(keyFields, schema);
    checkKey(key);
    return key;
  }

  private void checkKey(Record row) {
    List<String> missing = new ArrayList<>();
    for (String column : config.key()) {
      if (row.getField(column) == null) {
        missing.add(column);
      }
    }
    if (!missing.isEmpty()) {
      throw new RecordRejectedException(
          RejectReason.MISSING_KEY,
          "The record has no value for key column"
              + (missing.size() == 1 ? " " : "s ")
              + String.join(", ", missing)
              + " of upsert table "
              + table.tableName
              + "; every record needs its key "
              + config.key());
    }
  }

  /**
   * Adds columns for the fields that have none, typed by their values; fields whose value is null
   * wait for a record that says their type. Commits what is pending first, so that every commit
   * holds rows of one schema.
   */
  private void addColumns(List<String> names, Map<String, Object> fields) {
    Map<String, Type> types = new LinkedHashMap<>();
    Map<String, Boolean> json = new LinkedHashMap<>();
    for (String name : names) {
      Object value = fields.get(name);
      Type known = processing.addedTypes().get(name);
      Optional<Type> type =
          known != null ? Optional.of(known) : RecordFields.inferType(name, value);
      if (type.isPresent()) {
        types.put(name, type.get());
        json.put(name, RecordFields.inferJson(value));
      }
    }
    if (types.isEmpty()) {
      return;
    }
    committer.commitPending();
    Table iceberg = table.writer.table();
    UpdateSchema update = iceberg.updateSchema();
    types.forEach(
        (name, type) ->
            update.addColumn(name, type, json.get(name) ? RecordFields.JSON_DOC : null));
    try {
      update.commit();
    } catch (RuntimeException e) {
      throw new FloeException(
          ErrorCode.TABLE_COMMIT_CONFLICT,
          "Cannot add columns "
              + types.keySet()
              + " to table "
              + table.tableName
              + " of pipeline "
              + pipeline
              + ": "
              + e.getMessage()
              + "; start the pipeline again",
          e);
    }
    iceberg.refresh();
    LOG.info(
        "Pipeline {}: added columns {} to {} for fields of record types {}",
        pipeline,
        types.keySet(),
        table.tableName,
        types.values());
    replaceWriter(iceberg);
  }

  /**
   * What a replay of dead letters did.
   *
   * @param replayId the replay's id, recorded in the table's commit that took its records
   * @param replayed records now in the table, removed from the dead-letter table
   * @param failedAgain records that failed again: still dead letters, with one more attempt and
   *     their new error
   * @param missing requested record ids that are not (or no longer) in the dead-letter table
   */
  record ReplayResult(String replayId, int replayed, int failedAgain, List<String> missing) {
    ReplayResult {
      requireNonNull(replayId, "replayId is null");
      missing = List.copyOf(missing);
    }
  }

  /**
   * Writes the dead letters with these ids into the table again, exactly once: those that now
   * succeed move from the dead-letter table to the table, the others stay with one more attempt.
   * Three commits: the dead letters are marked with the replay's id; the table commits their rows
   * with the id in its snapshot summary; the dead-letter table removes (or updates) them. After a
   * crash between them, {@link #recoverReplays} finishes the replay from what the table holds. Call
   * with nothing pending in either table (the pipeline commits first).
   */
  ReplayResult replay(Collection<String> recordIds) {
    committer.commitPending();
    refreshSchema();
    String replayId = UUID.randomUUID().toString();
    Table deadLetterTable = deadLetters.writer.table();
    deadLetterTable.refresh();
    List<Record> rows = new ArrayList<>();
    Set<String> wanted = new LinkedHashSet<>(recordIds);
    if (!wanted.isEmpty() && deadLetterTable.currentSnapshot() != null) {
      try (CloseableIterable<Record> found =
          IcebergGenerics.read(deadLetterTable)
              .where(Expressions.in(DeadLetters.RECORD_ID, wanted.toArray()))
              .build()) {
        for (Record row : found) {
          rows.add(row.copy());
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    List<String> missing = new ArrayList<>(wanted);
    rows.forEach(row -> missing.remove((String) row.getField(DeadLetters.RECORD_ID)));
    if (rows.isEmpty()) {
      return new ReplayResult(replayId, 0, 0, missing);
    }
    List<Record> marked = new ArrayList<>();
    for (Record row : rows) {
      Record copy = row.copy();
      copy.setField(DeadLetters.REPLAY_ID, replayId);
      deadLetters.writer.upsert(copy, null);
      marked.add(copy);
    }
    commit(deadLetters, Map.of());
    ReplayResult result = move(replayId, marked, false);
    LOG.info(
        "Pipeline {}: replayed {} dead letters into {} ({} failed again, {} not found)",
        pipeline,
        result.replayed(),
        table.tableName,
        result.failedAgain(),
        missing.size());
    return new ReplayResult(replayId, result.replayed(), result.failedAgain(), missing);
  }

  /**
   * Opens a new writer when the table's schema changed since its writer opened (a column widened
   * with ALTER TABLE from an engine, typically before a replay).
   */
  private void refreshSchema() {
    Table iceberg = table.writer.table();
    iceberg.refresh();
    if (iceberg.schema().schemaId() != table.writer.schema().schemaId()) {
      LOG.info(
          "Pipeline {}: the schema of {} changed; writing with its new schema", pipeline, table);
      replaceWriter(iceberg);
    }
  }

  /**
   * Finishes the replays a crash interrupted: dead letters marked with a replay id whose commit the
   * table holds are removed (or updated, if they failed); those whose commit it does not hold are
   * replayed now.
   */
  void recoverReplays() {
    Table deadLetterTable = deadLetters.writer.table();
    if (deadLetterTable.currentSnapshot() == null) {
      return;
    }
    Map<String, List<Record>> byReplay = new LinkedHashMap<>();
    try (CloseableIterable<Record> found =
        IcebergGenerics.read(deadLetterTable)
            .where(Expressions.notNull(DeadLetters.REPLAY_ID))
            .build()) {
      for (Record row : found) {
        byReplay
            .computeIfAbsent((String) row.getField(DeadLetters.REPLAY_ID), id -> new ArrayList<>())
            .add(row.copy());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (Map.Entry<String, List<Record>> replay : byReplay.entrySet()) {
      boolean committed = tableHoldsReplay(replay.getKey());
      LOG.info(
          "Pipeline {}: finishing replay {} of {} dead letters, interrupted {} its commit to {}",
          pipeline,
          replay.getKey(),
          replay.getValue().size(),
          committed ? "after" : "before",
          table.tableName);
      move(replay.getKey(), replay.getValue(), committed);
    }
  }

  private boolean tableHoldsReplay(String replayId) {
    Table iceberg = table.writer.table();
    iceberg.refresh();
    if (iceberg.currentSnapshot() == null) {
      return false;
    }
    for (Snapshot snapshot :
        SnapshotUtil.ancestorsOf(iceberg.currentSnapshot().snapshotId(), iceberg::snapshot)) {
      if (replayId.equals(snapshot.summary().get(REPLAY_SUMMARY))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Moves marked dead letters: writes those that succeed to the table (unless it holds the replay's
   * commit already) and commits it with the replay id, then removes them from the dead-letter table
   * and records another attempt for the others.
   */
  private ReplayResult move(String replayId, List<Record> marked, boolean tableCommitted) {
    List<StreamRecord> records = new ArrayList<>(marked.size());
    List<Instant> firstSeen = new ArrayList<>(marked.size());
    for (Record row : marked) {
      records.add(DeadLetters.record(row, decoder, maxRecordBytes));
      firstSeen.add(((OffsetDateTime) row.getField(DeadLetters.FIRST_SEEN)).toInstant());
    }
    List<Prepared> prepared = prepareAll(records, firstSeen);
    List<Record> succeeded = new ArrayList<>();
    Map<Record, RecordRejectedException> failed = new LinkedHashMap<>();
    for (int i = 0; i < marked.size(); i++) {
      Record row = marked.get(i);
      Prepared outcome = prepared.get(i);
      if (outcome instanceof Rejected rejected) {
        failed.put(row, rejected.failure());
        continue;
      }
      if (!tableCommitted && outcome instanceof Write write) {
        write.write().run();
      }
      succeeded.add(row); // Written, or dropped by the transform's filter.
    }
    if (!tableCommitted && !succeeded.isEmpty()) {
      commit(table, Map.of(REPLAY_SUMMARY, replayId));
      table.appliedChanges += succeeded.size();
    }
    Instant now = clock.instant();
    Schema schema = deadLetters.writer.schema();
    for (Record row : succeeded) {
      deadLetters.writer.delete(
          DeadLetters.key(schema, (String) row.getField(DeadLetters.RECORD_ID)));
    }
    for (Map.Entry<Record, RecordRejectedException> failure : failed.entrySet()) {
      Record row = failure.getKey();
      deadLetters.writer.upsert(
          DeadLetters.row(
              schema,
              DeadLetters.record(row, decoder, maxRecordBytes),
              failure.getValue(),
              (Integer) row.getField(DeadLetters.ATTEMPTS) + 1,
              ((OffsetDateTime) row.getField(DeadLetters.FIRST_SEEN)).toInstant(),
              now),
          null);
    }
    commit(deadLetters, Map.of());
    return new ReplayResult(replayId, succeeded.size(), failed.size(), List.of());
  }

  /** Commits a table's pending rows with its last checkpoint's summary and {@code extra}. */
  private void commit(TableSink sink, Map<String, String> extra) {
    if (sink.lastSummary == null) {
      throw new IllegalStateException(
          "Table " + sink.tableName + " has no checkpoint of pipeline " + pipeline + " yet");
    }
    Map<String, String> summary = new LinkedHashMap<>(sink.lastSummary);
    summary.putAll(extra);
    sink.writer.commit(summary);
  }

  private void deadLetter(StreamRecord record, RecordRejectedException failure) {
    Instant now = clock.instant();
    Record row = DeadLetters.row(deadLetters.writer.schema(), record, failure, 1, now, now);
    deadLetters.writer.upsert(row, null);
    deadLetters.appliedChanges++;
    if (failure.reason() == RejectReason.REFERENCE_PENDING) {
      holding = true;
    }
    rejected.get(failure.reason()).increment();
    stats.deadLettered.increment();
    stats.bytes.add(record.size());
    rejectedSinceWarn++;
    long nanos = System.nanoTime();
    if (nanos - lastWarnNanos >= WARN_INTERVAL_NANOS) {
      LOG.warn(
          "Pipeline {}: {} record(s) went to dead-letter table {}; the last, {} from {}: {}: {}",
          pipeline,
          rejectedSinceWarn,
          deadLetters.tableName,
          record.id(),
          record.origin(),
          failure.reason().code(),
          failure.getMessage());
      lastWarnNanos = nanos;
      rejectedSinceWarn = 0;
    }
  }
}
