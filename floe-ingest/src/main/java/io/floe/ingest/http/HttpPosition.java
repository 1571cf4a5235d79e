package io.floe.ingest.http;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.ingest.SourcePosition;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A position in an HTTP stream: the sequence number its {@link HttpIngestLog} gave the last record
 * delivered, with the client's batch id of that record's batch, if it had one (for people reading
 * the checkpoint). Sequence numbers increase without gaps, so a table whose checkpoint is sequence
 * {@code s} holds exactly the records numbered {@code s} and below. Sequence 0 is the position
 * before the first record.
 */
public final class HttpPosition implements SourcePosition {
  static final String SEQUENCE = "floe.source.http.sequence";
  static final String BATCH = "floe.source.http.batch";

  private final long sequence;
  private final String batchId;

  /**
   * @param sequence the sequence number of the last record delivered, 0 before the first
   * @param batchId the client's id of that record's batch, or null
   */
  public HttpPosition(long sequence, String batchId) {
    if (sequence < 0) {
      throw new IllegalArgumentException("sequence is negative: " + sequence);
    }
    this.sequence = sequence;
    this.batchId = batchId;
  }

  /** The sequence number of the last record delivered, 0 before the first. */
  public long sequence() {
    return sequence;
  }

  /** The client's batch id of the last record's batch, if it had one. */
  public Optional<String> batchId() {
    return Optional.ofNullable(batchId);
  }

  /** The position a checkpoint's summary records, if it records one. */
  static Optional<SourcePosition> read(Map<String, String> summary) {
    String text = summary.get(SEQUENCE);
    if (text == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(new HttpPosition(Long.parseLong(text), summary.get(BATCH)));
    } catch (IllegalArgumentException e) {
      throw new FloeException(
          ErrorCode.TABLE_STATE_INVALID,
          "Cannot read the HTTP stream position a snapshot summary records ("
              + SEQUENCE
              + "="
              + text
              + "): it is not a sequence number; was the summary written by another program?",
          e);
    }
  }

  /** The oldest of some checkpoints: the smallest sequence number. */
  static HttpPosition oldest(List<SourcePosition> checkpoints) {
    return checkpoints.stream()
        .map(HttpPosition::cast)
        .min((a, b) -> Long.compare(a.sequence, b.sequence))
        .orElseThrow(() -> new IllegalArgumentException("no checkpoints"));
  }

  static HttpPosition cast(SourcePosition position) {
    if (!(position instanceof HttpPosition http)) {
      throw new IllegalArgumentException("Not an HTTP stream position: " + position);
    }
    return http;
  }

  @Override
  public Map<String, String> summary() {
    Map<String, String> summary = new HashMap<>();
    summary.put(SEQUENCE, Long.toString(sequence));
    if (batchId != null) {
      summary.put(BATCH, batchId);
    }
    return Map.copyOf(summary);
  }

  @Override
  public boolean loadComplete() {
    return true;
  }

  @Override
  public boolean holds(SourcePosition commit) {
    return sequence >= cast(commit).sequence;
  }

  /**
   * The later of this position and {@code checkpoint}: a table ahead of the others (which a resume
   * starts from the oldest of) must not record an earlier position when it commits, as an idle
   * table's periodic checkpoint may while the records it holds are delivered again.
   */
  @Override
  public SourcePosition including(SourcePosition checkpoint) {
    return cast(checkpoint).sequence > sequence ? checkpoint : this;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof HttpPosition position
        && position.sequence == sequence
        && Objects.equals(position.batchId, batchId);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(sequence) * 31 + Objects.hashCode(batchId);
  }

  @Override
  public String toString() {
    return batchId == null
        ? "sequence " + sequence
        : "sequence " + sequence + " (batch " + batchId + ")";
  }
}
