package io.floe.ingest.stream;

import io.floe.core.config.HttpSourceConfig;
import io.floe.core.config.KafkaSourceConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.RecordFormat;
import io.floe.core.config.StreamTableConfig;
import io.floe.ingest.SourceTable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Types;

/** The table a stream pipeline writes, as its source describes it to the pipeline. */
public final class StreamTables {
  private StreamTables() {}

  /** The stream pipeline's table configuration; fails for a database pipeline. */
  public static StreamTableConfig config(PipelineConfig pipeline) {
    return pipeline.target().stream()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "Pipeline " + pipeline.name() + " is not a stream pipeline"));
  }

  /**
   * The source table of a stream pipeline: named {@code name} (the stream, as changes name their
   * table), with the declared columns (key columns required and the schema's identifier fields); an
   * existing table's columns (and those added since) take precedence when the pipeline opens it.
   */
  public static SourceTable sourceTable(PipelineConfig pipeline, String name) {
    StreamTableConfig table = config(pipeline);
    return new SourceTable(name, table.table(), declaredSchema(table), 0);
  }

  /** The decoder of the stream's records: its format's, with the table's key columns. */
  public static RecordDecoder decoder(PipelineConfig pipeline) {
    List<String> key = config(pipeline).key();
    if (pipeline.source() instanceof KafkaSourceConfig kafka) {
      return RecordDecoders.of(kafka.format(), kafka.avroSchema(), key);
    }
    return RecordDecoders.of(RecordFormat.JSON, "", key);
  }

  /** The largest record the stream's source accepts; larger ones are dead letters. */
  public static long maxRecordBytes(PipelineConfig pipeline) {
    if (pipeline.source() instanceof KafkaSourceConfig kafka) {
      return kafka.maxRecordBytes();
    }
    if (pipeline.source() instanceof HttpSourceConfig http) {
      return http.maxRecordBytes();
    }
    throw new IllegalArgumentException("Pipeline " + pipeline.name() + " is not a stream pipeline");
  }

  /** The declared columns as a schema whose identifier fields are the key columns. */
  public static Schema declaredSchema(StreamTableConfig table) {
    Set<String> key = new HashSet<>(table.key());
    List<Types.NestedField> fields = new ArrayList<>();
    Set<Integer> identifiers = new HashSet<>();
    int id = 1;
    for (StreamTableConfig.Column column : table.columns()) {
      Types.NestedField field =
          key.contains(column.name())
              ? Types.NestedField.required(id, column.name(), column.type())
              : Types.NestedField.optional(
                  id, column.name(), column.type(), column.json() ? RecordFields.JSON_DOC : null);
      if (key.contains(column.name())) {
        identifiers.add(id);
      }
      fields.add(field);
      id++;
    }
    return new Schema(fields, identifiers);
  }
}
