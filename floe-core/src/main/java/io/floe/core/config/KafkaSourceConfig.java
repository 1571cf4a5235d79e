package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Kafka topics a stream pipeline consumes: named ({@code topics}) or matched by a regular
 * expression ({@code topicPattern}, empty when topics are named).
 *
 * @param group the consumer group, whose offsets Floe commits after its Iceberg commits for
 *     monitoring; the tables, not the group, say where to resume
 * @param startTimestamp where a first start begins: empty for {@code start}'s earliest or latest
 * @param avroSchema the Avro schema of binary-encoded values; empty when each value is an Avro
 *     object container file that embeds its schema (or the format is not Avro)
 * @param maxRecordBytes records larger than this go to the dead-letter table
 */
public record KafkaSourceConfig(
    String bootstrapServers,
    List<String> topics,
    String topicPattern,
    String group,
    StartPosition start,
    Optional<Instant> startTimestamp,
    RecordFormat format,
    String avroSchema,
    long maxRecordBytes)
    implements SourceConfig {
  /**
   * Where a pipeline's first start begins in each partition; later starts resume from its tables.
   */
  public enum StartPosition {
    EARLIEST,
    LATEST,
    TIMESTAMP
  }

  public KafkaSourceConfig {
    requireNonNull(bootstrapServers, "bootstrapServers is null");
    topics = List.copyOf(requireNonNull(topics, "topics is null"));
    requireNonNull(topicPattern, "topicPattern is null");
    requireNonNull(group, "group is null");
    requireNonNull(start, "start is null");
    requireNonNull(startTimestamp, "startTimestamp is null");
    requireNonNull(format, "format is null");
    requireNonNull(avroSchema, "avroSchema is null");
    if (topics.isEmpty() == topicPattern.isEmpty()) {
      throw new IllegalArgumentException("Exactly one of topics and topicPattern must be given");
    }
    if ((start == StartPosition.TIMESTAMP) != startTimestamp.isPresent()) {
      throw new IllegalArgumentException("A timestamp start needs its timestamp, and only it");
    }
  }

  @Override
  public SourceType type() {
    return SourceType.KAFKA;
  }
}
