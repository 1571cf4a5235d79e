package io.floe.server;

import io.floe.ingest.Pipeline;
import io.floe.ingest.PipelineSupervisor;
import io.floe.ingest.SourceFigures;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Logs one line of figures per pipeline. */
final class StatusReport {
  private static final Logger LOG = LoggerFactory.getLogger(StatusReport.class);

  private StatusReport() {}

  static void log(List<PipelineSupervisor> pipelines) {
    for (PipelineSupervisor supervisor : pipelines) {
      Pipeline pipeline = supervisor.pipeline();
      StringBuilder extra = new StringBuilder();
      Map<String, Long> deadLetters = pipeline.deadLetterCounts();
      if (!deadLetters.isEmpty()) {
        extra.append(", dead letters ").append(deadLetters);
      }
      SourceFigures source = pipeline.sourceFigures();
      if (!source.lag().isEmpty()) {
        extra
            .append(", lag ")
            .append(source.lag().values().stream().mapToLong(Long::longValue).sum())
            .append(" records");
      }
      if (source.bufferedRecords() > 0) {
        extra.append(", ").append(source.bufferedRecords()).append(" records buffered");
      }
      source.problem().ifPresent(problem -> extra.append(", waiting: ").append(problem));
      if (supervisor.restarts() > 0) {
        extra.append(", restarted ").append(supervisor.restarts()).append(" times");
      }
      LOG.info(
          "Pipeline {} {}: {} rows loaded, {} changes applied, {} commits, freshness p50 {} ms p99"
              + " {} ms{}",
          pipeline.name(),
          pipeline.state(),
          pipeline.stats().loadedRows(),
          pipeline.stats().changes(),
          pipeline.stats().commits(),
          pipeline.stats().freshnessPercentile(50),
          pipeline.stats().freshnessPercentile(99),
          extra);
    }
  }
}
