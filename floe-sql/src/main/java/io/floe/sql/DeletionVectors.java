package io.floe.sql;

import io.floe.core.catalog.TableFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.Files;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.BaseDeleteLoader;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.deletes.PositionDelete;
import org.apache.iceberg.deletes.PositionDeleteIndex;
import org.apache.iceberg.deletes.PositionDeleteWriter;
import org.apache.iceberg.parquet.Parquet;

/**
 * The deletion vectors of format-version 3 tables as DuckDB reads deletes: a deletion vector is a
 * roaring bitmap in a Puffin file, which DuckDB cannot read, so each is written once into a Parquet
 * position-delete file ({@code file_path}, {@code pos}) of its data file in the {@link FileCache},
 * and queries anti-join that file as they do a position-delete file of a format-version 2 table.
 *
 * <p>The vector is read with Iceberg's own reader ({@link BaseDeleteLoader}, which checks its
 * length, checksum and cardinality), through the table's FileIO, which reads only the vector's blob
 * of the Puffin file. A vector is named by its Puffin file and offset ({@link
 * TableFiles#deleteKey}), bytes that never change, so its Parquet copy is written once and shared
 * by every query until the cache evicts it. DuckDB is never given the Puffin file.
 */
final class DeletionVectors {
  private static final String KEY_PREFIX = "deletion-vector:";

  /** Reserved per vector beyond its positions: Parquet's footer, statistics and page headers. */
  private static final long OVERHEAD_BYTES = 64 * 1024;

  /**
   * Reserved per deleted position: 8 bytes of a plain INT64, plus its dictionary index while the
   * writer tries dictionary encoding, plus what compression may add to bytes it cannot shrink.
   */
  private static final long BYTES_PER_POSITION = 16;

  private DeletionVectors() {}

  /** The file cache's key of a vector's Parquet copy; no location has it. */
  static String cacheKey(DeleteFile vector) {
    return KEY_PREFIX + TableFiles.deleteKey(vector) + ".parquet";
  }

  /** The vector's Parquet copy, as the file cache writes it. */
  static FileCache.Written written(Table table, DeleteFile vector) {
    long maxBytes =
        OVERHEAD_BYTES
            + 8L * vector.referencedDataFile().length()
            + BYTES_PER_POSITION * vector.recordCount();
    return new FileCache.Written(maxBytes, path -> write(table, vector, path));
  }

  /**
   * Writes the positions the vector deletes into a Parquet position-delete file at {@code path}.
   */
  static void write(Table table, DeleteFile vector, Path path) throws IOException {
    String dataFile = vector.referencedDataFile();
    PositionDeleteIndex positions;
    try {
      positions =
          new BaseDeleteLoader(file -> table.io().newInputFile(file))
              .loadPositionDeletes(List.of(vector), dataFile);
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    PositionDeleteWriter<Record> writer =
        Parquet.writeDeletes(Files.localOutput(path.toFile()))
            .withSpec(PartitionSpec.unpartitioned())
            .createWriterFunc(GenericParquetWriter::create)
            .buildPositionWriter();
    PositionDelete<Record> delete = PositionDelete.create();
    try (writer) {
      // In ascending order, as a position-delete file holds them.
      positions.forEach(position -> writer.write(delete.set(dataFile, position)));
    }
  }
}
