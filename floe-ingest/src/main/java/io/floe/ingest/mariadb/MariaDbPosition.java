package io.floe.ingest.mariadb;

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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * A position in a MariaDB pipeline's change stream: Debezium's source offset of one event (binlog
 * file and position, GTID set, events and rows to skip), with the place in the binlog of the last
 * transaction delivered up to it. Transactions arrive in binlog order, so a table whose checkpoint
 * holds transaction {@code t} holds exactly the transactions at or before {@code t}.
 *
 * <p>A checkpoint records it in two snapshot summary properties: the offset (JSON), and the place
 * of the last transaction (empty before the first). Checkpoints are ordered by the place their
 * offset points at.
 */
final class MariaDbPosition implements DebeziumPosition {
  static final String OFFSET = "floe.source.offset";
  static final String COMMIT = "floe.source.binlog-commit";

  // Keys of Debezium's binlog source offset.
  private static final String OFFSET_FILE = "file";
  private static final String OFFSET_POSITION = "pos";
  private static final String OFFSET_EVENT = "event";
  private static final String OFFSET_ROW = "row";
  private static final String OFFSET_SNAPSHOT = "snapshot";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Map<String, ?> offset;
  private final boolean loadComplete;

  /** The place of the last transaction delivered, null before the first. */
  private final Place commit;

  /** The place the offset points at: this event's own, for a transaction's END marker its place. */
  private final Place at;

  private final Optional<RecordChangeEvent<SourceRecord>> event;
  private String offsetJson;

  /**
   * A place in the binlog: file (by its number), position in it, then events and rows of the event
   * group there already delivered; compared in that order.
   */
  record Place(long file, long position, long events, long rows) implements Comparable<Place> {
    private static final Comparator<Place> ORDER =
        Comparator.comparingLong(Place::file)
            .thenComparingLong(Place::position)
            .thenComparingLong(Place::events)
            .thenComparingLong(Place::rows);

    /** The place a Debezium offset points at. */
    static Place of(Map<String, ?> offset) {
      Object file = offset.get(OFFSET_FILE);
      if (file == null) {
        throw new IllegalArgumentException("Not a binlog offset: " + offset);
      }
      String name = file.toString();
      return new Place(
          Long.parseLong(name.substring(name.lastIndexOf('.') + 1)),
          number(offset.get(OFFSET_POSITION)),
          number(offset.get(OFFSET_EVENT)),
          number(offset.get(OFFSET_ROW)));
    }

    static Place parse(String text) {
      String[] parts = text.split(":", -1);
      return new Place(
          Long.parseLong(parts[0]),
          Long.parseLong(parts[1]),
          Long.parseLong(parts[2]),
          Long.parseLong(parts[3]));
    }

    private static long number(Object value) {
      return value == null ? 0 : ((Number) value).longValue();
    }

    @Override
    public int compareTo(Place other) {
      return ORDER.compare(this, other);
    }

    @Override
    public String toString() {
      return file + ":" + position + ":" + events + ":" + rows;
    }
  }

  private MariaDbPosition(
      Map<String, ?> offset,
      String offsetJson,
      boolean loadComplete,
      Place commit,
      Optional<RecordChangeEvent<SourceRecord>> event) {
    this.offset = requireNonNull(offset, "offset is null");
    this.offsetJson = offsetJson;
    this.loadComplete = loadComplete;
    this.commit = commit;
    this.at = Place.of(offset);
    this.event = requireNonNull(event, "event is null");
  }

  /**
   * The position of a delivered event, after the transaction at {@code commit} (null before the
   * first). The full load is complete at its last row (Debezium marks it {@code last}) and at any
   * event after it.
   */
  static MariaDbPosition of(RecordChangeEvent<SourceRecord> event, Place commit) {
    SourceRecord record = event.record();
    Map<String, ?> offset = record.sourceOffset();
    boolean complete = !offset.containsKey(OFFSET_SNAPSHOT);
    if (!complete && record.value() instanceof Struct value) {
      Struct source = value.schema().field("source") == null ? null : value.getStruct("source");
      complete = source != null && "last".equals(source.getString("snapshot"));
    }
    return new MariaDbPosition(offset, null, complete, commit, Optional.of(event));
  }

  /** The place of a transaction, given its END marker. */
  static Place transaction(RecordChangeEvent<SourceRecord> marker) {
    return Place.of(marker.record().sourceOffset());
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
      String commit = summary.getOrDefault(COMMIT, "");
      return Optional.of(
          new MariaDbPosition(
              offset,
              json,
              !offset.containsKey(OFFSET_SNAPSHOT),
              commit.isEmpty() ? null : Place.parse(commit),
              Optional.empty()));
    } catch (JsonProcessingException | RuntimeException e) {
      throw new FloeException(
          ErrorCode.TABLE_STATE_INVALID,
          "Cannot read the MariaDB position a snapshot summary records ("
              + OFFSET
              + "="
              + json
              + ", "
              + COMMIT
              + "="
              + summary.get(COMMIT)
              + "): "
              + e.getMessage()
              + "; was the summary written by another program?",
          e);
    }
  }

  /** The oldest of some checkpoints. */
  static MariaDbPosition oldest(List<SourcePosition> checkpoints) {
    return checkpoints.stream()
        .map(MariaDbPosition.class::cast)
        .min(Comparator.comparing(position -> position.at))
        .orElseThrow(() -> new IllegalArgumentException("no checkpoints"));
  }

  /** The binlog file this position resumes in. */
  String binlogFile() {
    return offset.get(OFFSET_FILE).toString();
  }

  @Override
  public Optional<RecordChangeEvent<SourceRecord>> event() {
    return event;
  }

  /**
   * Debezium's offset in its JSON form, to resume from. A complete full load resumes streaming from
   * the binlog position its snapshot was taken at, so the offset drops the snapshot's mark (with
   * it, Debezium would take the snapshot again).
   */
  synchronized String offsetJson() {
    if (offsetJson == null) {
      Map<String, Object> written = new HashMap<>(offset);
      if (loadComplete) {
        written.remove(OFFSET_SNAPSHOT);
      }
      try {
        offsetJson = JSON.writeValueAsString(written);
      } catch (JsonProcessingException e) {
        throw new FloeException(
            ErrorCode.INTERNAL_ERROR, "Cannot serialize the source offset " + offset, e);
      }
    }
    return offsetJson;
  }

  @Override
  public Map<String, String> summary() {
    return Map.of(OFFSET, offsetJson(), COMMIT, commit == null ? "" : commit.toString());
  }

  @Override
  public boolean loadComplete() {
    return loadComplete;
  }

  /**
   * Whether this checkpoint holds the transaction whose END marker is at {@code other}'s place (or
   * the change outside a transaction there): it does when that place is not after the last
   * transaction this checkpoint holds.
   */
  @Override
  public boolean holds(SourcePosition other) {
    if (!(other instanceof MariaDbPosition position)) {
      throw new IllegalArgumentException("Not a MariaDB position: " + other);
    }
    return loadComplete && commit != null && position.at.compareTo(commit) <= 0;
  }

  @Override
  public String toString() {
    return "binlog " + at + (commit == null ? "" : " after transaction " + commit);
  }
}
