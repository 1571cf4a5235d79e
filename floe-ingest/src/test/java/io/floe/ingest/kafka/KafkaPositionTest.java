package io.floe.ingest.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.ingest.SourcePosition;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** Kafka positions: their summary, what a checkpoint holds, and where to resume. */
class KafkaPositionTest {
  private static final TopicPartition A0 = new TopicPartition("a", 0);
  private static final TopicPartition A1 = new TopicPartition("a", 1);
  private static final TopicPartition B10 = new TopicPartition("b.x-y_z", 10);

  @Test
  void summaryRoundTrips() {
    KafkaPosition position = KafkaPosition.afterRecord(Map.of(A0, 5L, B10, 0L, A1, 12L), A0, 7);
    Map<String, String> summary = position.summary();
    assertThat(summary)
        .containsExactly(Map.entry(KafkaPosition.OFFSETS, "a:0:8,a:1:12,b.x-y_z:10:0"));
    KafkaPosition read = (KafkaPosition) KafkaPosition.read(summary).orElseThrow();
    assertThat(read.offsets()).isEqualTo(Map.of(A0, 8L, A1, 12L, B10, 0L));
    assertThat(read.ownPartition()).isEmpty();
    assertThat(read.loadComplete()).isTrue();
    assertThat(read.summary()).isEqualTo(summary);
  }

  @Test
  void anEmptyPositionRoundTrips() {
    KafkaPosition empty = KafkaPosition.of(Map.of());
    assertThat(empty.summary()).containsExactly(Map.entry(KafkaPosition.OFFSETS, ""));
    assertThat(((KafkaPosition) KafkaPosition.read(empty.summary()).orElseThrow()).offsets())
        .isEmpty();
    assertThat(KafkaPosition.read(Map.of("floe.source.offset", "{}"))).isEmpty();
  }

  @Test
  void malformedSummariesSayWhatIsWrong() {
    for (String value : List.of("a:0", "a:x:1", "a:0:-1", "a:0:1,a:0:2", ":0:1", "a:0:1,")) {
      assertThatThrownBy(() -> KafkaPosition.read(Map.of(KafkaPosition.OFFSETS, value)))
          .isInstanceOfSatisfying(
              FloeException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_STATE_INVALID))
          .hasMessageContaining(KafkaPosition.OFFSETS + "=" + value);
    }
  }

  @Test
  void aTableAheadOnSomePartitionsKeepsWhatItHeld() {
    // Resumed from the oldest checkpoint (a0 at 4, a1 at 3), a table at a0:10, a1:3 commits after
    // records of a1 only: a0 stays at 10, not the resume's 4 (a later resume would repeat 4..9).
    SourcePosition checkpoint = KafkaPosition.of(Map.of(A0, 10L, A1, 3L));
    SourcePosition after = KafkaPosition.afterRecord(Map.of(A0, 4L, A1, 3L), A1, 7);
    assertThat(((KafkaPosition) after.including(checkpoint)).offsets())
        .isEqualTo(Map.of(A0, 10L, A1, 8L));
    // A partition the position has not reached yet (absent: from its earliest offset) is kept.
    SourcePosition partial = KafkaPosition.afterRecord(Map.of(), A1, 7);
    assertThat(((KafkaPosition) partial.including(checkpoint)).offsets())
        .isEqualTo(Map.of(A0, 10L, A1, 8L));
    // Nothing held beyond the position: the position itself.
    assertThat(after.including(KafkaPosition.of(Map.of(A0, 2L)))).isSameAs(after);
  }

  @Test
  void aCheckpointHoldsTheRecordsBelowItsNextOffsets() {
    SourcePosition checkpoint = KafkaPosition.of(Map.of(A0, 10L, A1, 3L));
    assertThat(checkpoint.holds(KafkaPosition.afterRecord(Map.of(), A0, 9))).isTrue();
    assertThat(checkpoint.holds(KafkaPosition.afterRecord(Map.of(), A0, 10))).isFalse();
    assertThat(checkpoint.holds(KafkaPosition.afterRecord(Map.of(A0, 100L), A1, 2))).isTrue();
    assertThat(checkpoint.holds(KafkaPosition.afterRecord(Map.of(A0, 0L), A1, 3))).isFalse();
    // A partition the checkpoint does not have: it holds none of its records.
    assertThat(checkpoint.holds(KafkaPosition.afterRecord(Map.of(), B10, 0))).isFalse();
    // A heartbeat's position has no record of its own.
    assertThat(checkpoint.holds(KafkaPosition.of(Map.of(A0, 1L)))).isFalse();
    // A checkpoint that is a change's position: its own record counts.
    SourcePosition change = KafkaPosition.afterRecord(Map.of(A0, 4L), A1, 6);
    assertThat(change.holds(KafkaPosition.afterRecord(Map.of(), A1, 6))).isTrue();
    assertThat(change.holds(KafkaPosition.afterRecord(Map.of(), A1, 7))).isFalse();
    assertThat(change.holds(KafkaPosition.afterRecord(Map.of(), A0, 3))).isTrue();
  }

  @Test
  void resumeTakesTheSmallestOffsetPerPartitionAndLeavesOutPartialPartitions() {
    KafkaPosition resume =
        KafkaPosition.oldest(
            List.of(
                KafkaPosition.of(Map.of(A0, 10L, A1, 3L, B10, 1L)),
                KafkaPosition.afterRecord(Map.of(A0, 7L, A1, 9L), A1, 9)));
    assertThat(resume.offsets()).isEqualTo(Map.of(A0, 7L, A1, 3L));
    assertThat(KafkaPosition.oldest(List.of(KafkaPosition.of(Map.of(A0, 2L)))).offsets())
        .isEqualTo(Map.of(A0, 2L));
    assertThatThrownBy(() -> KafkaPosition.oldest(List.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void toStringIsShort() {
    assertThat(KafkaPosition.afterRecord(Map.of(A0, 1L, A1, 2L), A1, 5).toString())
        .isEqualTo("a/1@5 of 2 partitions");
    assertThat(KafkaPosition.of(Map.of(A0, 1L, A1, 2L)).toString())
        .isEqualTo("2 partitions at a:0:1,a:1:2");
  }
}
