package io.floe.ingest.postgres;

import io.debezium.engine.RecordChangeEvent;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.PostgresSourceConfig;
import io.floe.ingest.SourcePosition;
import io.floe.ingest.SourceTable;
import io.floe.ingest.debezium.DebeziumPosition;
import io.floe.ingest.debezium.DebeziumSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * The PostgreSQL source: Debezium's embedded engine reading a logical replication slot through the
 * {@code pgoutput} plugin. Debezium takes the consistent full load (its snapshot, exported from the
 * slot it creates), then streams every committed transaction in commit order, with transaction
 * markers and heartbeats. Positions are {@link PostgresPosition}s; acknowledging one marks its
 * event processed, after which Debezium flushes its offset and moves the slot.
 */
public final class PostgresSource extends DebeziumSource {
  private final PostgresSourceInspector inspector;

  /** The commit LSN of the last transaction delivered; touched by the engine's thread only. */
  private long lastCommitLsn = PostgresPosition.NO_TRANSACTION;

  public PostgresSource(PipelineConfig config) {
    super(config, "PostgreSQL");
    this.inspector =
        new PostgresSourceInspector(config.name(), (PostgresSourceConfig) config.source());
  }

  @Override
  protected List<SourceTable> inspectTables() {
    return inspector.inspect();
  }

  @Override
  public Optional<SourcePosition> position(Map<String, String> summary) {
    return PostgresPosition.read(summary);
  }

  @Override
  public SourcePosition resumePosition(List<SourcePosition> checkpoints) {
    // Floe resumes from the oldest position its tables hold; when the slot has moved past it,
    // Debezium starts at the slot instead ("offset.mismatch.strategy": trust_slot).
    return PostgresPosition.oldest(checkpoints);
  }

  /**
   * Drops the pipeline's replication slot if it exists, so that the full load gets a new slot whose
   * start matches its snapshot exactly (an old slot would replay changes the snapshot already
   * holds), and counts the rows of tables PostgreSQL has no estimate for.
   */
  @Override
  public List<SourceTable> prepareFullLoad(List<SourceTable> loaded) {
    List<SourceTable> counted = inspector.countUnestimatedRows(loaded);
    inspector.dropSlotIfExists();
    return counted;
  }

  @Override
  protected Properties engineProperties(List<SourceTable> tables, String resumeOffset) {
    return PostgresEngineProperties.build(config, tables, resumeOffset);
  }

  @Override
  protected String offsetJson(SourcePosition resume) {
    return ((PostgresPosition) resume).offsetJson();
  }

  @Override
  protected void transactionCommitted(RecordChangeEvent<SourceRecord> marker) {
    lastCommitLsn =
        ((Number) marker.record().sourceOffset().get(PostgresPosition.OFFSET_COMMIT_LSN))
            .longValue();
  }

  @Override
  protected DebeziumPosition positionOf(RecordChangeEvent<SourceRecord> event) {
    return PostgresPosition.of(event, lastCommitLsn);
  }

  @Override
  protected String location() {
    return ((PostgresSourceConfig) config.source()).url();
  }
}
