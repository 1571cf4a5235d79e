package io.floe.ingest;

import static java.util.Objects.requireNonNull;

import java.util.Map;
import java.util.Optional;

/**
 * What a source reports about itself for the pipeline's status: how far behind it is, and a problem
 * it is waiting out (an unreachable broker) while the pipeline keeps running.
 *
 * @param lag records the source has not delivered yet, by part: per Kafka partition ({@code
 *     topic/partition}) the offsets behind the end; empty when the source cannot tell
 * @param bufferedRecords records accepted but not yet committed to the tables (HTTP ingest)
 * @param problem what the source is waiting out, such as "broker 127.0.0.1:9092 unreachable since
 *     ...", or empty when all is well
 */
public record SourceFigures(Map<String, Long> lag, long bufferedRecords, Optional<String> problem) {
  public static final SourceFigures NONE = new SourceFigures(Map.of(), 0, Optional.empty());

  public SourceFigures {
    lag = Map.copyOf(requireNonNull(lag, "lag is null"));
    requireNonNull(problem, "problem is null");
  }
}
