package io.floe.ingest;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A source a {@link Pipeline} replicates: it describes its tables, loads them in full once, then
 * delivers every change in order, and resumes from a position that the tables' own checkpoints
 * record. The pipeline does the rest, the same for every source: Iceberg tables and their writers,
 * holding a possibly replayed transaction until its end, skipping what a table already holds,
 * commit cadence, checkpoints in snapshot summaries, the lifecycle and its figures.
 *
 * <h2>Contract</h2>
 *
 * <ol>
 *   <li>{@link #inspect} checks that the source can feed the pipeline, before anything is written,
 *       and says exactly what to fix when it cannot.
 *   <li>The pipeline reads each table's checkpoint back with {@link #position}. When every table
 *       holds a complete full load, it resumes from {@link #resumePosition} of their positions;
 *       otherwise it empties the tables, calls {@link #prepareFullLoad}, and starts without a
 *       position, which asks for a full load first.
 *   <li>{@link #start} delivers {@link SourceEvent}s on the source's own thread, batch after batch,
 *       to {@link ChangeHandler#handle}. Order: a full load's {@link SourceEvent.Operation#READ}
 *       rows (outside transactions), then changes in the source's commit order. Each event carries
 *       the position up to which everything was delivered. After a resume, events at or before a
 *       table's checkpoint may be delivered again: the pipeline skips them for tables that {@link
 *       SourcePosition#holds hold} them, and applies them to the others.
 *   <li>Within {@code handle}, the pipeline acknowledges positions once every table has committed
 *       what lies before them; the source may then forget (or let its server discard) everything up
 *       to there. Nothing else may be discarded: after a crash, the source must be able to deliver
 *       again everything after the oldest checkpoint.
 *   <li>{@link #close} stops delivery; {@link ChangeHandler#stopped} reports the end, clean or not.
 * </ol>
 *
 * <h2>How sources map onto it</h2>
 *
 * <ul>
 *   <li><b>PostgreSQL</b> ({@code io.floe.ingest.postgres}): Debezium's embedded engine reading a
 *       logical replication slot. Positions are Debezium's offset with the commit LSN of the last
 *       transaction; transactions come from Debezium's transaction metadata, heartbeats from its
 *       heartbeat topic; acknowledging marks the record processed, which moves the slot.
 *   <li><b>MySQL / MariaDB</b>: the same engine on the binlog. The position is Debezium's offset
 *       (binlog file and position, or GTID set) with the last transaction's place in the binlog
 *       (file index and position, compared in that order); transactions are the binlog's, the full
 *       load is Debezium's consistent snapshot, acknowledging lets it flush its offset.
 *   <li><b>Kafka</b>: a consumer of the configured topics. A change is a record, outside any
 *       transaction; its position is the consumed offsets of every partition, and {@code holds}
 *       compares the offset of the record's own partition, so a table skips exactly the records it
 *       holds. {@link #resumePosition} takes the smallest offset per partition over the tables;
 *       there is no full load (start at the configured earliest, latest or timestamp offsets);
 *       acknowledging may commit the offsets to the consumer group for monitoring, never for
 *       correctness, since the tables hold them.
 *   <li><b>HTTP batches</b>: a POSTed batch is appended to a local write-ahead log and becomes one
 *       transaction whose position is its sequence number in that log (and its batch id, for
 *       idempotent retries). Acknowledging a position answers the requests of the batches up to it
 *       (their records are durable in Iceberg) and truncates the log; after a crash, the log is
 *       delivered again from the oldest checkpoint.
 * </ul>
 */
public interface ChangeSource extends AutoCloseable {
  /**
   * Checks that the source can feed the pipeline, sets up what it may set up itself (a
   * publication), and returns its tables with their Iceberg schemas.
   *
   * @throws io.floe.core.FloeException saying what to change when the source is not ready
   */
  List<SourceTable> inspect();

  /**
   * The position a checkpoint's snapshot summary records ({@link SourcePosition#summary}), or empty
   * when it records none (a full load that has only emptied the table).
   */
  Optional<SourcePosition> position(Map<String, String> summary);

  /**
   * Where to resume so that no table misses a change, given the checkpoint of every table (at least
   * one), all of complete full loads: for a source with one order, the oldest of them.
   */
  SourcePosition resumePosition(List<SourcePosition> checkpoints);

  /**
   * Readies the source to load the tables in full from scratch (a restarted full load must not
   * replay changes its snapshot already holds), and returns them with row counts for progress.
   */
  List<SourceTable> prepareFullLoad(List<SourceTable> tables);

  /**
   * Starts delivering to {@code handler} on the source's own thread and returns. Events after
   * {@code resume}, or a full load first when it is empty.
   */
  void start(Optional<SourcePosition> resume, ChangeHandler handler);

  /** The source's own figures for the pipeline's status; thread-safe. */
  default SourceFigures figures() {
    return SourceFigures.NONE;
  }

  /**
   * Stops delivering and waits for the batch in progress; {@link ChangeHandler#stopped} follows.
   * Does nothing when not started or already stopped.
   */
  @Override
  void close();
}
