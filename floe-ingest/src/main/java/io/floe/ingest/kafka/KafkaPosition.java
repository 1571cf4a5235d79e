package io.floe.ingest.kafka;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.ingest.SourcePosition;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.TopicPartition;

/**
 * A position in a Kafka pipeline's topics: the next offset to consume of every assigned partition,
 * and the partition and offset of the record it was reported with (its own record; none for a
 * heartbeat or a checkpoint read back). A table whose checkpoint is this position holds every
 * record of a partition below the partition's next offset, so {@link #holds} compares the own
 * record's offset with that partition's next offset here; a partition absent here holds nothing.
 *
 * <p>Positions are cheap to make, one per record: they share one immutable map of the offsets
 * before a run of records of one partition ({@code base}), and hold the own record's offset, whose
 * next offset overrides the base's for its partition.
 *
 * <p>A checkpoint records it in one snapshot summary property, {@value #OFFSETS}: {@code
 * topic:partition:nextOffset} per partition, comma-separated and sorted (topic names cannot contain
 * {@code :} or {@code ,}).
 */
public final class KafkaPosition implements SourcePosition {
  /** The summary key of the next offsets. */
  public static final String OFFSETS = "floe.source.kafka.offsets";

  private static final Comparator<TopicPartition> ORDER =
      Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

  /** Next offsets before the own record; shared between positions, never modified. */
  private final Map<TopicPartition, Long> base;

  /** The own record's partition, or null. */
  private final TopicPartition own;

  /** The own record's offset, or -1. */
  private final long ownOffset;

  private KafkaPosition(Map<TopicPartition, Long> base, TopicPartition own, long ownOffset) {
    this.base = requireNonNull(base, "base is null");
    this.own = own;
    this.ownOffset = ownOffset;
  }

  /**
   * The position after the record at {@code offset} of {@code partition}, where {@code base} holds
   * the next offsets of the others.
   *
   * @param base next offsets per partition: must not be modified afterwards (it is shared, not
   *     copied)
   */
  static KafkaPosition afterRecord(
      Map<TopicPartition, Long> base, TopicPartition partition, long offset) {
    requireNonNull(partition, "partition is null");
    if (offset < 0) {
      throw new IllegalArgumentException("A record's offset must not be negative: " + offset);
    }
    return new KafkaPosition(base, partition, offset);
  }

  /**
   * A position without an own record (a heartbeat's, a checkpoint's, a resume position).
   *
   * @param offsets next offsets per partition: must not be modified afterwards (it is shared, not
   *     copied)
   */
  static KafkaPosition of(Map<TopicPartition, Long> offsets) {
    return new KafkaPosition(offsets, null, -1);
  }

  /** The next offsets of every partition, as a new map. */
  public Map<TopicPartition, Long> offsets() {
    Map<TopicPartition, Long> offsets = new HashMap<>(base);
    if (own != null) {
      offsets.put(own, ownOffset + 1);
    }
    return offsets;
  }

  /** The next offset of {@code partition}, or empty when this position has none for it. */
  public Optional<Long> nextOffset(TopicPartition partition) {
    requireNonNull(partition, "partition is null");
    if (partition.equals(own)) {
      return Optional.of(ownOffset + 1);
    }
    return Optional.ofNullable(base.get(partition));
  }

  /** The partition of the record this position was reported with, or empty. */
  public Optional<TopicPartition> ownPartition() {
    return Optional.ofNullable(own);
  }

  /** The offset of the record this position was reported with, or -1 when there is none. */
  public long ownOffset() {
    return ownOffset;
  }

  /** The summary value of {@code offsets}: sorted {@code topic:partition:next}, comma-separated. */
  static String format(Map<TopicPartition, Long> offsets) {
    List<TopicPartition> partitions = new ArrayList<>(offsets.keySet());
    partitions.sort(ORDER);
    StringBuilder text = new StringBuilder(partitions.size() * 24);
    for (TopicPartition partition : partitions) {
      if (text.length() > 0) {
        text.append(',');
      }
      text.append(partition.topic())
          .append(':')
          .append(partition.partition())
          .append(':')
          .append(offsets.get(partition));
    }
    return text.toString();
  }

  /**
   * The position a checkpoint's summary records, or empty when it records none.
   *
   * @throws FloeException ({@link ErrorCode#TABLE_STATE_INVALID}) when {@value #OFFSETS} is not the
   *     list this class writes
   */
  static Optional<SourcePosition> read(Map<String, String> summary) {
    String value = summary.get(OFFSETS);
    if (value == null) {
      return Optional.empty();
    }
    Map<TopicPartition, Long> offsets = new HashMap<>();
    if (!value.isEmpty()) {
      for (String entry : value.split(",", -1)) {
        String[] parts = entry.split(":", -1);
        if (parts.length != 3 || parts[0].isEmpty()) {
          throw malformed(value, "'" + entry + "' is not topic:partition:offset", null);
        }
        try {
          int partition = Integer.parseInt(parts[1]);
          long offset = Long.parseLong(parts[2]);
          if (partition < 0 || offset < 0) {
            throw malformed(value, "'" + entry + "' has a negative partition or offset", null);
          }
          if (offsets.put(new TopicPartition(parts[0], partition), offset) != null) {
            throw malformed(value, "partition " + parts[0] + "/" + partition + " repeats", null);
          }
        } catch (NumberFormatException e) {
          throw malformed(value, "'" + entry + "' has a partition or offset that is no number", e);
        }
      }
    }
    return Optional.of(of(Map.copyOf(offsets)));
  }

  private static FloeException malformed(String value, String problem, Throwable cause) {
    return new FloeException(
        ErrorCode.TABLE_STATE_INVALID,
        "Cannot read the Kafka position a snapshot summary records ("
            + OFFSETS
            + "="
            + value
            + "): "
            + problem
            + "; was the summary written by another program?",
        cause);
  }

  /**
   * Where to resume so that no table misses a record: per partition the smallest next offset of
   * {@code checkpoints}; a partition absent from one of them is left out, so that it starts from
   * its earliest offset (that table has seen none of its records).
   */
  static KafkaPosition oldest(List<SourcePosition> checkpoints) {
    if (checkpoints.isEmpty()) {
      throw new IllegalArgumentException("no checkpoints");
    }
    Map<TopicPartition, Long> smallest = null;
    for (SourcePosition checkpoint : checkpoints) {
      Map<TopicPartition, Long> offsets = cast(checkpoint).offsets();
      if (smallest == null) {
        smallest = offsets;
      } else {
        smallest.keySet().retainAll(offsets.keySet());
        smallest.replaceAll((partition, offset) -> Math.min(offset, offsets.get(partition)));
      }
    }
    return of(Map.copyOf(smallest));
  }

  static KafkaPosition cast(SourcePosition position) {
    if (!(position instanceof KafkaPosition kafka)) {
      throw new IllegalArgumentException("Not a Kafka position: " + position);
    }
    return kafka;
  }

  @Override
  public Map<String, String> summary() {
    return Map.of(OFFSETS, format(offsets()));
  }

  @Override
  public boolean loadComplete() {
    return true;
  }

  @Override
  public boolean holds(SourcePosition commit) {
    KafkaPosition other = cast(commit);
    if (other.own == null) {
      return false;
    }
    Optional<Long> next = nextOffset(other.own);
    return next.isPresent() && next.get() > other.ownOffset;
  }

  /**
   * Per partition the further of this position's next offset and {@code checkpoint}'s: after a
   * resume from the oldest checkpoint of a pipeline's tables, a table ahead on some partitions
   * skips their records it holds, and must not record the resume offsets of those partitions, below
   * what it holds (a later resume would write their records again).
   */
  @Override
  public SourcePosition including(SourcePosition checkpoint) {
    Map<TopicPartition, Long> offsets = null;
    for (Map.Entry<TopicPartition, Long> held : cast(checkpoint).offsets().entrySet()) {
      Optional<Long> next = nextOffset(held.getKey());
      if (next.isEmpty() || next.get() < held.getValue()) {
        if (offsets == null) {
          offsets = offsets();
        }
        offsets.put(held.getKey(), held.getValue());
      }
    }
    return offsets == null ? this : of(Map.copyOf(offsets));
  }

  /** Like {@code clicks/2@1041 of 3 partitions}, or {@code 3 partitions at clicks/0:17, ...}. */
  @Override
  public String toString() {
    int partitions = base.size() + (own != null && !base.containsKey(own) ? 1 : 0);
    if (own != null) {
      return own.topic()
          + "/"
          + own.partition()
          + "@"
          + ownOffset
          + " of "
          + partitions
          + " partitions";
    }
    String offsets = format(base);
    if (offsets.length() > 120) {
      offsets = offsets.substring(0, 117) + "...";
    }
    return partitions + " partitions at " + offsets;
  }
}
