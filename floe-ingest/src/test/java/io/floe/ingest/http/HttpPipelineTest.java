package io.floe.ingest.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.HttpSourceConfig;
import io.floe.core.config.PipelineConfig;
import io.floe.core.config.StreamTableConfig;
import io.floe.core.config.TargetConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.ingest.ChangeSources;
import io.floe.ingest.Pipeline;
import io.floe.ingest.SourceContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An HTTP stream through a real {@link Pipeline} into an upsert table: a request waiting for its
 * commit is answered once the table holds its records, the checkpoint records the sequence, and a
 * restart delivers nothing twice.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HttpPipelineTest {
  @TempDir Path warehouse;

  private static PipelineConfig config() {
    return new PipelineConfig(
        "clicks",
        new HttpSourceConfig("clicks", 1024 * 1024, 16 * 1024 * 1024, 1000),
        new TargetConfig(
            "raw",
            Optional.of(
                new StreamTableConfig(
                    "events",
                    StreamTableConfig.WriteMode.UPSERT,
                    List.of("id"),
                    List.of(
                        new StreamTableConfig.Column("id", Types.LongType.get(), false),
                        new StreamTableConfig.Column("n", Types.LongType.get(), false)),
                    List.of(),
                    StreamTableConfig.UnknownFields.IGNORE,
                    "events_dead_letter"))),
        Duration.ofMillis(200));
  }

  private static List<byte[]> records(String... texts) {
    List<byte[]> records = new ArrayList<>();
    for (String text : texts) {
      records.add(text.getBytes(StandardCharsets.UTF_8));
    }
    return records;
  }

  private static List<String> rows(Table table) throws Exception {
    table.refresh();
    List<String> rows = new ArrayList<>();
    try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
      for (Record record : records) {
        rows.add(record.getField("id") + "=" + record.getField("n"));
      }
    }
    rows.sort(null);
    return rows;
  }

  @Test
  void commitsPostedRecordsAndResumesAfterThem() throws Exception {
    HttpStreams streams = new HttpStreams();
    SourceContext context = new SourceContext(warehouse, streams);
    try (JdbcCatalog catalog =
        FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults())) {
      TableIdentifier events = TableIdentifier.of("raw", "events");
      try (Pipeline pipeline =
          new Pipeline(
              config(), catalog, ChangeSources.of(config(), context), new TableWriterRegistry())) {
        pipeline.start();
        HttpSource source = streams.find("clicks").orElseThrow();
        HttpSource.Result result =
            source
                .submit("b-1", records("{\"id\":1,\"n\":10}", "{\"id\":2,\"n\":20}"), true)
                .get(60, TimeUnit.SECONDS);
        assertThat(result.lastSequence()).isEqualTo(2);
        assertThat(rows(catalog.loadTable(events))).containsExactly("1=10", "2=20");
        assertThat(catalog.loadTable(events).currentSnapshot().summary())
            .containsEntry(HttpPosition.SEQUENCE, "2")
            .containsEntry(HttpPosition.BATCH, "b-1");
        source.submit(null, records("{\"id\":1,\"n\":11}"), true).get(60, TimeUnit.SECONDS);
        assertThat(rows(catalog.loadTable(events))).containsExactly("1=11", "2=20");
        assertThat(source.bufferedRecords()).isZero();
      }
      try (Pipeline pipeline =
          new Pipeline(
              config(), catalog, ChangeSources.of(config(), context), new TableWriterRegistry())) {
        pipeline.start();
        HttpSource source = streams.find("clicks").orElseThrow();
        assertThat(source.submit("b-1", records("ignored"), false).get().duplicate()).isTrue();
        source.submit(null, records("{\"id\":3,\"n\":30}"), true).get(60, TimeUnit.SECONDS);
        assertThat(rows(catalog.loadTable(events))).containsExactly("1=11", "2=20", "3=30");
        // It resumes from the oldest checkpoint, the dead-letter table's (which records the
        // position when it changes, or once a minute): records after it that the log still holds
        // are skipped, as the table holds them, and only the new record is applied.
        assertThat(pipeline.stats().changes()).isEqualTo(1);
      }
    }
  }
}
