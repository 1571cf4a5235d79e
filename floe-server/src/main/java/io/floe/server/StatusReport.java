package io.floe.server;

import io.floe.ingest.Pipeline;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Logs one line of figures per pipeline. */
final class StatusReport {
  private static final Logger LOG = LoggerFactory.getLogger(StatusReport.class);

  private StatusReport() {}

  static void log(List<Pipeline> pipelines) {
    for (Pipeline pipeline : pipelines) {
      LOG.info(
          "Pipeline {} {}: {} rows loaded, {} changes applied, {} commits, freshness p50 {} ms p99 {} ms",
          pipeline.name(),
          pipeline.state(),
          pipeline.stats().loadedRows(),
          pipeline.stats().changes(),
          pipeline.stats().commits(),
          pipeline.stats().freshnessPercentile(50),
          pipeline.stats().freshnessPercentile(99));
    }
  }
}
