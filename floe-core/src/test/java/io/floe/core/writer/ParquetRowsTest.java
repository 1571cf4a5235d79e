package io.floe.core.writer;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.LocalCatalog;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.MetricsConfig;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.deletes.PositionDelete;
import org.apache.iceberg.deletes.PositionDeleteWriter;
import org.apache.iceberg.encryption.EncryptedFiles;
import org.apache.iceberg.encryption.EncryptedOutputFile;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ParquetRowsTest {
  private static final Schema SCHEMA =
      new Schema(
          Types.NestedField.required(1, "id", Types.LongType.get()),
          Types.NestedField.optional(2, "name", Types.StringType.get()),
          Types.NestedField.optional(3, "price", Types.DecimalType.of(10, 2)),
          Types.NestedField.optional(4, "at", Types.TimestampType.withZone()));

  @RegisterExtension final LocalCatalog local = new LocalCatalog("raw");
  private Table table;

  @BeforeEach
  void setUp() {
    table =
        local.create(
            "t",
            SCHEMA,
            PartitionSpec.unpartitioned(),
            Map.of("format-version", "2", "write.parquet.compression-codec", "zstd"));
  }

  @Test
  void writesTheSameDataFileAsAWriterThatParsedHadoopsDefaults() throws IOException {
    ClassLoader before = Thread.currentThread().getContextClassLoader();
    DataWriter<Record> floe =
        ParquetRows.dataWriter(table, output("floe.parquet"), table.spec(), null);
    assertThat(Thread.currentThread().getContextClassLoader()).isSameAs(before);
    DataWriter<Record> iceberg =
        Parquet.writeData(output("iceberg.parquet"))
            .schema(table.schema())
            .withSpec(table.spec())
            .setAll(table.properties())
            .metricsConfig(MetricsConfig.forTable(table))
            .createWriterFunc(GenericParquetWriter::create)
            .overwrite()
            .build();
    for (long id = 0; id < 5_000; id++) {
      Record row = GenericRecord.create(SCHEMA);
      row.setField("id", id);
      row.setField("name", id % 7 == 0 ? null : "name " + id);
      row.setField("price", java.math.BigDecimal.valueOf(id * 31 % 100_000, 2));
      row.setField("at", java.time.OffsetDateTime.parse("2026-12-07T10:00:00Z").plusSeconds(id));
      floe.write(row);
      iceberg.write(row);
    }
    floe.close();
    iceberg.close();
    DataFile floeFile = floe.toDataFile();
    DataFile icebergFile = iceberg.toDataFile();

    assertThat(floeFile.recordCount()).isEqualTo(5_000);
    assertThat(bytes("floe.parquet")).isEqualTo(bytes("iceberg.parquet"));
    assertThat(floeFile.lowerBounds()).isEqualTo(icebergFile.lowerBounds());
    assertThat(floeFile.upperBounds()).isEqualTo(icebergFile.upperBounds());
  }

  @Test
  void writesTheSamePositionDeletesAsAWriterThatParsedHadoopsDefaults() throws IOException {
    TreeMap<String, List<Long>> positions = new TreeMap<>();
    positions.put("s3://bucket/data/a.parquet", List.of(3L, 1L, 2L));
    positions.put("s3://bucket/data/b.parquet", List.of(0L));
    DeleteFile floe =
        ParquetRows.writePositionDeletes(
            table, output("floe-deletes.parquet"), table.spec(), null, positions);
    PositionDeleteWriter<Record> iceberg =
        Parquet.writeDeletes(output("iceberg-deletes.parquet"))
            .withSpec(table.spec())
            .setAll(table.properties())
            .metricsConfig(MetricsConfig.forPositionDelete())
            .createWriterFunc(GenericParquetWriter::create)
            .overwrite()
            .buildPositionWriter();
    PositionDelete<Record> delete = PositionDelete.create();
    try (iceberg) {
      for (Map.Entry<String, List<Long>> entry : positions.entrySet()) {
        for (long position : entry.getValue().stream().sorted().toList()) {
          iceberg.write(delete.set(entry.getKey(), position));
        }
      }
    }

    assertThat(floe.recordCount()).isEqualTo(4);
    assertThat(bytes("floe-deletes.parquet")).isEqualTo(bytes("iceberg-deletes.parquet"));
  }

  @Test
  void aConfigurationCreatedForAWriterParsesNoHadoopXml() {
    org.apache.hadoop.conf.Configuration.addDefaultResource("hdfs-default.xml");
    org.apache.hadoop.conf.Configuration parsed = new org.apache.hadoop.conf.Configuration();
    assertThat(parsed.get("fs.defaultFS")).isEqualTo("file:///");

    org.apache.hadoop.conf.Configuration unparsed =
        ParquetRows.withoutHadoopDefaults(org.apache.hadoop.conf.Configuration::new);
    assertThat(unparsed.get("fs.defaultFS")).isNull();
    assertThat(unparsed.size()).isZero();
    // Classes and other resources are found as before.
    assertThat(unparsed.getClassByNameOrNull("org.apache.parquet.hadoop.ParquetWriter"))
        .isNotNull();
  }

  private EncryptedOutputFile output(String name) {
    return EncryptedFiles.plainAsEncryptedOutput(
        table.io().newOutputFile(local.warehouse().resolve(name).toString()));
  }

  private byte[] bytes(String name) throws IOException {
    return Files.readAllBytes(local.warehouse().resolve(name));
  }
}
