package io.floe.ingest.debezium;

import io.debezium.engine.RecordChangeEvent;
import io.floe.ingest.SourcePosition;
import java.util.Optional;
import org.apache.kafka.connect.source.SourceRecord;

/** A position of a {@link DebeziumSource}: acknowledging it marks its event processed. */
public interface DebeziumPosition extends SourcePosition {
  /** The event to mark processed when this position is acknowledged; empty for a checkpoint's. */
  Optional<RecordChangeEvent<SourceRecord>> event();
}
