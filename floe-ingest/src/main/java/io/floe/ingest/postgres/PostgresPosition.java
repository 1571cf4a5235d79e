package io.floe.ingest.postgres;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.debezium.engine.RecordChangeEvent;
import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.ingest.SourcePosition;
import io.floe.ingest.debezium.DebeziumPosition;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * A position in a PostgreSQL pipeline's change stream: Debezium's source offset of one event, with
 * the commit LSN of the last source transaction delivered up to it. Transactions arrive in commit
 * LSN order, so a table whose checkpoint has commit LSN {@code c} holds exactly the transactions
 * committed at or before {@code c}.
 *
 * <p>A checkpoint records it in three snapshot summary properties, kept as earlier Floe versions
 * wrote them: the offset (JSON), the commit LSN ({@code -1} before the first transaction), and an
 * LSN to order checkpoints by (the commit LSN, or during a full load the offset's LSN).
 */
final class PostgresPosition implements DebeziumPosition {
  static final String OFFSET = "floe.source.offset";
  static final String COMMIT_LSN = "floe.source.commit-lsn";
  static final String ORDER_LSN = "floe.source.lsn";

  /** The commit LSN of a position before the first transaction (a full load's), as stored. */
  static final long NO_TRANSACTION = -1;

  // Keys of Debezium's PostgreSQL source offset.
  static final String OFFSET_LSN = "lsn";
  static final String OFFSET_COMMIT_LSN = "lsn_commit";
  private static final String OFFSET_SNAPSHOT = "snapshot";
  private static final String OFFSET_LAST_SNAPSHOT_RECORD = "last_snapshot_record";
  private static final String OFFSET_SNAPSHOT_COMPLETED = "snapshot_completed";

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Debezium's offset; not copied (one per event), never modified. */
  private final Map<String, ?> offset;

  private final boolean loadComplete;
  private final long commitLsn;
  private final long orderLsn;

  /** The event this position is of, to mark it processed; empty when read from a checkpoint. */
  private final Optional<RecordChangeEvent<SourceRecord>> event;

  private String offsetJson;

  private PostgresPosition(
      Map<String, ?> offset,
      String offsetJson,
      long commitLsn,
      long orderLsn,
      Optional<RecordChangeEvent<SourceRecord>> event) {
    this.offset = requireNonNull(offset, "offset is null");
    this.offsetJson = offsetJson;
    this.commitLsn = commitLsn;
    this.orderLsn = orderLsn;
    this.event = requireNonNull(event, "event is null");
    this.loadComplete =
        !offset.containsKey(OFFSET_SNAPSHOT)
            || Boolean.TRUE.equals(offset.get(OFFSET_LAST_SNAPSHOT_RECORD))
            || Boolean.TRUE.equals(offset.get(OFFSET_SNAPSHOT_COMPLETED));
  }

  /**
   * The position of a delivered event, after the transaction committed at {@code commitLsn} (or
   * {@link #NO_TRANSACTION}).
   */
  static PostgresPosition of(RecordChangeEvent<SourceRecord> event, long commitLsn) {
    Map<String, ?> offset = event.record().sourceOffset();
    long orderLsn = commitLsn;
    if (orderLsn == NO_TRANSACTION) {
      Object lsn = offset.get(OFFSET_LSN);
      orderLsn = lsn == null ? NO_TRANSACTION : ((Number) lsn).longValue();
    }
    return new PostgresPosition(offset, null, commitLsn, orderLsn, Optional.of(event));
  }

  /** The position a checkpoint's summary records, if it records one. */
  static Optional<SourcePosition> read(Map<String, String> summary) {
    String json = summary.get(OFFSET);
    if (json == null) {
      return Optional.empty();
    }
    try {
      Map<String, Object> offset =
          JSON.readValue(json, new TypeReference<Map<String, Object>>() {});
      return Optional.of(
          new PostgresPosition(
              offset,
              json,
              Long.parseLong(summary.getOrDefault(COMMIT_LSN, Long.toString(NO_TRANSACTION))),
              Long.parseLong(summary.getOrDefault(ORDER_LSN, Long.toString(NO_TRANSACTION))),
              Optional.empty()));
    } catch (JsonProcessingException | NumberFormatException e) {
      throw new FloeException(
          ErrorCode.TABLE_STATE_INVALID,
          "Cannot read the PostgreSQL position a snapshot summary records ("
              + OFFSET
              + "="
              + json
              + ", "
              + COMMIT_LSN
              + "="
              + summary.get(COMMIT_LSN)
              + "): "
              + e.getMessage()
              + "; was the summary written by another program?",
          e);
    }
  }

  /** The oldest of some checkpoints, by the LSN they are ordered by. */
  static SourcePosition oldest(List<SourcePosition> checkpoints) {
    return checkpoints.stream()
        .map(PostgresPosition.class::cast)
        .min(Comparator.comparingLong(position -> position.orderLsn))
        .orElseThrow(() -> new IllegalArgumentException("no checkpoints"));
  }

  @Override
  public Optional<RecordChangeEvent<SourceRecord>> event() {
    return event;
  }

  /** Debezium's offset in its JSON form, as the offset store hands it to the engine. */
  synchronized String offsetJson() {
    if (offsetJson == null) {
      try {
        offsetJson = JSON.writeValueAsString(offset);
      } catch (JsonProcessingException e) {
        throw new FloeException(
            ErrorCode.INTERNAL_ERROR, "Cannot serialize the source offset " + offset, e);
      }
    }
    return offsetJson;
  }

  @Override
  public Map<String, String> summary() {
    return Map.of(
        OFFSET,
        offsetJson(),
        COMMIT_LSN,
        Long.toString(commitLsn),
        ORDER_LSN,
        Long.toString(orderLsn));
  }

  @Override
  public boolean loadComplete() {
    return loadComplete;
  }

  @Override
  public boolean holds(SourcePosition commit) {
    if (!(commit instanceof PostgresPosition other)) {
      throw new IllegalArgumentException("Not a PostgreSQL position: " + commit);
    }
    return loadComplete && other.commitLsn != NO_TRANSACTION && other.commitLsn <= commitLsn;
  }

  @Override
  public String toString() {
    return commitLsn == NO_TRANSACTION ? "LSN " + orderLsn : "commit LSN " + commitLsn;
  }
}
