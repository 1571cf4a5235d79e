package io.floe.ingest.stream;

import io.floe.core.config.RecordFormat;
import java.util.List;

/** The {@link RecordDecoder} of a stream's value format. */
public final class RecordDecoders {
  private RecordDecoders() {}

  /**
   * A decoder of {@code format}.
   *
   * @param avroSchema the Avro schema of binary datums, or empty for container files
   * @param keyColumns the table's key columns, for tombstones; empty for append tables
   * @throws IllegalArgumentException when {@code avroSchema} is not a valid Avro record schema (a
   *     configuration error)
   */
  public static RecordDecoder of(RecordFormat format, String avroSchema, List<String> keyColumns) {
    switch (format) {
      case JSON:
        return new JsonDecoder(keyColumns);
      case AVRO:
        return new AvroDecoder(avroSchema, keyColumns);
      case DEBEZIUM:
        return new DebeziumDecoder(keyColumns);
    }
    throw new IllegalArgumentException("No decoder for format " + format);
  }
}
