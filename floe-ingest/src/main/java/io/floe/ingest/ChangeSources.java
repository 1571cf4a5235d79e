package io.floe.ingest;

import io.floe.core.config.PipelineConfig;
import io.floe.ingest.http.HttpSource;
import io.floe.ingest.kafka.KafkaSource;
import io.floe.ingest.mariadb.MariaDbSource;
import io.floe.ingest.postgres.PostgresSource;

/** The {@link ChangeSource} of a pipeline's {@code source.type}. */
public final class ChangeSources {
  private ChangeSources() {}

  /** A new, unstarted source for {@code config}, with what it needs of the process. */
  public static ChangeSource of(PipelineConfig config, SourceContext context) {
    switch (config.source().type()) {
      case POSTGRES:
        return new PostgresSource(config);
      case MARIADB:
        return new MariaDbSource(config, context.stateDirectory());
      case KAFKA:
        return new KafkaSource(config);
      case HTTP:
        return new HttpSource(config, context);
      default:
        throw new IllegalArgumentException("No source of type " + config.source().type());
    }
  }
}
