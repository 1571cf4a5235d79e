package io.floe.core.writer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.LocalCatalog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class AppendTableWriterTest {
  private static final Schema SCHEMA =
      new Schema(
          Types.NestedField.required(1, "id", Types.LongType.get()),
          Types.NestedField.optional(2, "kind", Types.StringType.get()));

  /** More rows than the background writer takes ahead of the caller, in several chunks. */
  private static final int ROWS =
      BackgroundDataFiles.CHUNK_ROWS * (BackgroundDataFiles.MAX_CHUNKS_AHEAD + 3) + 17;

  @RegisterExtension final LocalCatalog local = new LocalCatalog("raw");
  private Table table;

  @BeforeEach
  void setUp() {
    table =
        local.create(
            "events",
            SCHEMA,
            PartitionSpec.builderFor(SCHEMA).identity("kind").build(),
            Map.of("format-version", "2"));
  }

  @Test
  void writesEachBatchAsOneFilePerPartitionInArrivalOrder() throws IOException {
    AppendTableWriter writer = AppendTableWriter.open(table);
    for (long id = 0; id < ROWS; id++) {
      writer.upsert(row(id), null);
    }
    assertThat(writer.pendingChanges()).isEqualTo(ROWS);
    CdcTableWriter.CommitResult result = writer.commit(Map.of("floe.test", "1")).orElseThrow();
    assertThat(result.rowsWritten()).isEqualTo(ROWS);
    assertThat(writer.pendingChanges()).isZero();
    table.refresh();
    assertThat(dataFiles()).hasSize(2);
    // One file per partition: a partition's rows are read in the order they came.
    assertThat(readIds("even")).isEqualTo(idsOf(0, ROWS));
    assertThat(readIds("odd")).isEqualTo(idsOf(1, ROWS));

    writer.upsert(row(ROWS), null);
    writer.commit(Map.of());
    table.refresh();
    assertThat(dataFiles()).hasSize(3);
    assertThat(readIds("even")).containsExactlyInAnyOrderElementsOf(idsOf(0, ROWS + 1));
    assertThat(readIds("odd")).containsExactlyInAnyOrderElementsOf(idsOf(1, ROWS + 1));
    assertThat(writer.commit(Map.of())).isEmpty();
  }

  @Test
  void truncateDropsTheFilesWrittenForTheBatch() throws IOException {
    AppendTableWriter writer = AppendTableWriter.open(table);
    for (long id = 0; id < ROWS; id++) {
      writer.upsert(row(id), null);
    }
    writer.commit(Map.of());
    for (long id = 0; id < ROWS; id++) {
      writer.upsert(row(id), null);
    }
    writer.truncate();
    writer.upsert(row(1_000_000), null);
    writer.commit(Map.of());
    table.refresh();

    assertThat(readIds("even")).containsExactly(1_000_000L);
    assertThat(readIds("odd")).isEmpty();
    assertThat(dataFiles()).hasSize(1);
    // The first commit's two files (out of the table now, until snapshot expiry) and the last
    // one's: the two written for the truncated rows are gone.
    assertThat(parquetFilesOnDisk()).hasSize(3);
  }

  @Test
  void aDiscardedBatchLeavesNoFilesAndTheWriterRefusesFurtherUse() throws IOException {
    AppendTableWriter writer = AppendTableWriter.open(table);
    for (long id = 0; id < ROWS; id++) {
      writer.upsert(row(id), null);
    }
    writer.discard();

    assertThat(parquetFilesOnDisk()).isEmpty();
    assertThatThrownBy(() -> writer.upsert(row(1), null))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_STATE_INVALID))
        .hasMessageContaining("discarded; open a new writer");
    table.refresh();
    assertThat(table.currentSnapshot()).isNull();
  }

  @Test
  void aFailedBackgroundWriteFailsTheCommitAndDeletesTheBatchesFiles() throws IOException {
    AtomicInteger created = new AtomicInteger();
    FileIO failing =
        new ForwardingFileIO(table.io()) {
          @Override
          public OutputFile newOutputFile(String path) {
            if (created.incrementAndGet() == 2) {
              throw new UncheckedIOException(new IOException("No space left on device"));
            }
            return super.newOutputFile(path);
          }
        };
    Table withFailingIo =
        new BaseTable(((HasTableOperations) table).operations(), table.name()) {
          @Override
          public FileIO io() {
            return failing;
          }
        };
    AppendTableWriter writer = AppendTableWriter.open(withFailingIo);
    // The first partition's file is created, the second one's fails; the caller goes on.
    for (long id = 0; id < ROWS; id++) {
      writer.upsert(row(id), null);
    }

    assertThatThrownBy(() -> writer.commit(Map.of()))
        .isInstanceOf(FloeException.class)
        .hasMessageContaining("No space left on device");
    assertThat(parquetFilesOnDisk()).isEmpty();
    table.refresh();
    assertThat(table.currentSnapshot()).isNull();
    assertThatThrownBy(() -> writer.upsert(row(1), null))
        .hasMessageContaining("after a failed commit");
  }

  private static Record row(long id) {
    GenericRecord row = GenericRecord.create(SCHEMA);
    row.setField("id", id);
    row.setField("kind", id % 2 == 0 ? "even" : "odd");
    return row;
  }

  private static List<Long> idsOf(long first, long end) {
    List<Long> ids = new ArrayList<>();
    for (long id = first; id < end; id += 2) {
      ids.add(id);
    }
    return ids;
  }

  /** The ids of a partition's rows, in the order of their files' rows. */
  private List<Long> readIds(String kind) throws IOException {
    List<Long> ids = new ArrayList<>();
    try (CloseableIterable<Record> rows =
        IcebergGenerics.read(table)
            .where(org.apache.iceberg.expressions.Expressions.equal("kind", kind))
            .build()) {
      rows.forEach(row -> ids.add((Long) row.getField("id")));
    }
    return ids;
  }

  private List<DataFile> dataFiles() {
    List<DataFile> files = new ArrayList<>();
    try (var tasks = table.newScan().planFiles()) {
      tasks.forEach(task -> files.add(task.file()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return files;
  }

  private List<Path> parquetFilesOnDisk() throws IOException {
    try (Stream<Path> paths = Files.walk(local.warehouse())) {
      return paths.filter(path -> path.toString().endsWith(".parquet")).toList();
    }
  }
}
