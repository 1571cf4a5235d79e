package io.floe.ingest.mariadb;

import io.debezium.engine.RecordChangeEvent;
import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.MariaDbSourceConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.ingest.SourcePosition;
import io.floe.ingest.SourceTable;
import io.floe.ingest.debezium.DebeziumPosition;
import io.floe.ingest.debezium.DebeziumSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MariaDB source: Debezium's embedded engine reading the server's binary log as a replica.
 * Debezium takes the consistent full load (a snapshot at a binlog position, read in one
 * consistent-snapshot transaction after a brief global read lock), then streams every committed
 * transaction in binlog order, with transaction markers and heartbeats. Positions are {@link
 * MariaDbPosition}s. Debezium keeps the DDL it has seen (its schema history, which decoding the
 * binlog's rows needs) in {@code mariadb/<pipeline>/schema-history.dat} of the state directory.
 */
public final class MariaDbSource extends DebeziumSource {
  private static final Logger LOG = LoggerFactory.getLogger(MariaDbSource.class);

  private final MariaDbInspector inspector;
  private final Path schemaHistory;

  /** The place of the last transaction delivered; touched by the engine's thread only. */
  private MariaDbPosition.Place lastCommit;

  /**
   * @param stateDirectory the warehouse's local state directory
   */
  public MariaDbSource(PipelineConfig config, Path stateDirectory) {
    super(config, "MariaDB");
    this.inspector = new MariaDbInspector(config.name(), (MariaDbSourceConfig) config.source());
    this.schemaHistory =
        stateDirectory.resolve("mariadb").resolve(config.name()).resolve("schema-history.dat");
  }

  @Override
  protected List<SourceTable> inspectTables() {
    return inspector.inspect();
  }

  @Override
  public Optional<SourcePosition> position(Map<String, String> summary) {
    return MariaDbPosition.read(summary);
  }

  /** The oldest checkpoint, once the server is known to still have its binlog file. */
  @Override
  public SourcePosition resumePosition(List<SourcePosition> checkpoints) {
    MariaDbPosition oldest = MariaDbPosition.oldest(checkpoints);
    inspector.checkBinlogAvailable(oldest.binlogFile());
    return oldest;
  }

  /** A new full load starts a new schema history: Debezium records the tables' DDL again. */
  @Override
  public List<SourceTable> prepareFullLoad(List<SourceTable> tables) {
    try {
      Files.deleteIfExists(schemaHistory);
    } catch (IOException e) {
      throw new FloeException(
          ErrorCode.SOURCE_FAILED,
          "Cannot remove the old schema history " + schemaHistory + ": " + e.getMessage(),
          e);
    }
    return tables;
  }

  @Override
  protected Properties engineProperties(List<SourceTable> tables, String resumeOffset) {
    try {
      Files.createDirectories(schemaHistory.getParent());
    } catch (IOException e) {
      throw new FloeException(
          ErrorCode.SOURCE_FAILED,
          "Cannot create " + schemaHistory.getParent() + ": " + e.getMessage(),
          e);
    }
    boolean recover = resumeOffset != null && !Files.exists(schemaHistory);
    if (recover) {
      LOG.warn(
          "Pipeline {}: the schema history {} is missing (a new state directory?); it is rebuilt"
              + " from the tables' current definitions, which is right unless their DDL changed"
              + " since the tables' checkpoints",
          config.name(),
          schemaHistory);
    }
    return MariaDbEngineProperties.build(config, tables, resumeOffset, schemaHistory, recover);
  }

  @Override
  protected String offsetJson(SourcePosition resume) {
    return ((MariaDbPosition) resume).offsetJson();
  }

  @Override
  protected void transactionCommitted(RecordChangeEvent<SourceRecord> marker) {
    lastCommit = MariaDbPosition.transaction(marker);
  }

  @Override
  protected DebeziumPosition positionOf(RecordChangeEvent<SourceRecord> event) {
    return MariaDbPosition.of(event, lastCommit);
  }

  @Override
  protected String location() {
    return ((MariaDbSourceConfig) config.source()).url();
  }
}
