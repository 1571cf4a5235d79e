package io.floe.ingest;

import io.floe.core.config.PipelineConfig;
import io.floe.ingest.kafka.KafkaSource;
import io.floe.ingest.postgres.PostgresSource;

/** The {@link ChangeSource} of a pipeline's {@code source.type}. */
public final class ChangeSources {
  private ChangeSources() {}

  /** A new, unstarted source for {@code config}. */
  public static ChangeSource of(PipelineConfig config) {
    switch (config.source().type()) {
      case POSTGRES:
        return new PostgresSource(config);
      case KAFKA:
        return new KafkaSource(config);
      default:
        throw new IllegalArgumentException("No source of type " + config.source().type());
    }
  }
}
