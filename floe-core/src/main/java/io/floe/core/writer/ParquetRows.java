package io.floe.core.writer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.MetadataColumns;
import org.apache.iceberg.MetricsConfig;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.deletes.PositionDelete;
import org.apache.iceberg.deletes.PositionDeleteWriter;
import org.apache.iceberg.encryption.EncryptedOutputFile;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.DeleteSchemaUtil;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;

/**
 * Reads Parquet files written by Iceberg as generic records, optionally with row positions, reads
 * and writes position-delete files, and writes data files of a table: shared by the CDC writer and
 * table maintenance's compaction.
 */
public final class ParquetRows {
  private ParquetRows() {}

  /** Reads the file at {@code location} with the given projection. */
  public static CloseableIterable<Record> read(FileIO io, String location, Schema projection) {
    return read(io.newInputFile(location), projection);
  }

  /** As {@link #read(FileIO, String, Schema)}, of a file opened already. */
  public static CloseableIterable<Record> read(InputFile file, Schema projection) {
    return Parquet.read(file)
        .project(projection)
        .createReaderFunc(fileSchema -> GenericParquetReaders.buildReader(projection, fileSchema))
        .build();
  }

  /**
   * The positions a Parquet position-delete file deletes, by the data file they are in (unordered:
   * callers look them up, count them, or sort them when they write them).
   */
  public static Map<String, Set<Long>> readPositionDeletes(FileIO io, String location) {
    Map<String, Set<Long>> positions = new HashMap<>();
    try (CloseableIterable<Record> rows = read(io, location, DeleteSchemaUtil.pathPosSchema())) {
      for (Record row : rows) {
        positions
            .computeIfAbsent(row.get(0).toString(), path -> new HashSet<>())
            .add((Long) row.get(1));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return positions;
  }

  /** Names a writer's new Parquet files in the table's data location, uniquely per writer. */
  static OutputFileFactory outputFiles(Table table) {
    return OutputFileFactory.builderFor(table, 1, System.currentTimeMillis())
        .format(FileFormat.PARQUET)
        .operationId(UUID.randomUUID().toString())
        .build();
  }

  /**
   * Writes a position-delete file of the given partition that deletes {@code positions} (by data
   * file location). It holds them in the order Iceberg requires, by location and then position,
   * each position once.
   *
   * @param partition the partition of the data files, or null for an unpartitioned spec
   */
  public static DeleteFile writePositionDeletes(
      Table table,
      EncryptedOutputFile file,
      PartitionSpec spec,
      StructLike partition,
      SortedMap<String, ? extends Collection<Long>> positions) {
    PositionDeleteWriter<Record> writer =
        withoutHadoopDefaults(
            () ->
                Parquet.writeDeletes(file)
                    .withSpec(spec)
                    .withPartition(partition)
                    .setAll(table.properties())
                    // Full bounds of file_path: a file of one data file's deletes names that file.
                    .metricsConfig(MetricsConfig.forPositionDelete())
                    .createWriterFunc(GenericParquetWriter::create)
                    .overwrite()
                    .buildPositionWriter());
    PositionDelete<Record> delete = PositionDelete.create();
    try (writer) {
      for (Map.Entry<String, ? extends Collection<Long>> entry : positions.entrySet()) {
        for (long position : new TreeSet<>(entry.getValue())) {
          writer.write(delete.set(entry.getKey(), position));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return writer.toDeleteFile();
  }

  /**
   * A new file of the partition. Iceberg's location of a partition's file joins the data directory,
   * the partition path and the name with slashes, so a file of an unpartitioned spec would be
   * {@code data//name}: a key object storage keeps as written and a listing may not give back
   * (orphan removal would take the file for an orphan). Such a file takes the factory's plain name.
   */
  public static EncryptedOutputFile newOutputFile(
      OutputFileFactory files, PartitionSpec spec, StructLike partition) {
    return spec.isUnpartitioned() ? files.newOutputFile() : files.newOutputFile(spec, partition);
  }

  /** The projection plus Iceberg's {@code _pos} metadata column, last. */
  public static Schema withPosition(Schema projection) {
    List<Types.NestedField> fields = new ArrayList<>(projection.columns());
    fields.add(MetadataColumns.ROW_POSITION);
    return new Schema(fields);
  }

  /** The row position of a record read with {@link #withPosition}. */
  public static long position(Record row) {
    return (Long) row.get(row.size() - 1);
  }

  /**
   * A writer of one data file of the table, in the table's schema and with its properties and
   * metrics configuration.
   *
   * @param partition the file's partition, or null for an unpartitioned spec
   */
  public static DataWriter<Record> dataWriter(
      Table table, EncryptedOutputFile file, PartitionSpec spec, StructLike partition) {
    return withoutHadoopDefaults(
        () ->
            Parquet.writeData(file)
                .schema(table.schema())
                .withSpec(spec)
                .withPartition(partition)
                .setAll(table.properties())
                .metricsConfig(MetricsConfig.forTable(table))
                .createWriterFunc(GenericParquetWriter::create)
                .overwrite()
                .build());
  }

  /** Builds a Parquet writer: {@link #withoutHadoopDefaults}. */
  @FunctionalInterface
  interface WriterBuild<T> {
    T build() throws IOException;
  }

  /**
   * Builds a Parquet writer without parsing Hadoop's XML defaults. Iceberg's Parquet writer creates
   * a new Hadoop {@code Configuration} for every file that is not a {@code HadoopOutputFile} and
   * takes none from its caller (apache/iceberg#10180); its first use parses core-default.xml from
   * the class path, 3 to 5 ms, which was a quarter of the CPU time of a CDC writer committing ten
   * times a second. A {@code HadoopOutputFile} would reuse a configuration, but it writes through
   * Hadoop's file system layer instead of the table's FileIO (checksum side files on the local file
   * system, no S3FileIO on S3).
   *
   * <p>The configuration finds its XML resources through the thread's context class loader, which
   * is one that hides Hadoop's XML files ({@code core-default.xml}, ...) while the writer is built
   * (it finds every other class and resource as before). The writer reads none of their settings:
   * Parquet's come from the table's properties, with Parquet's defaults in code, and the files are
   * byte for byte those written with Hadoop's defaults parsed ({@code ParquetRowsTest}).
   */
  static <T> T withoutHadoopDefaults(WriterBuild<T> build) {
    Thread thread = Thread.currentThread();
    ClassLoader before = thread.getContextClassLoader();
    thread.setContextClassLoader(WITHOUT_HADOOP_DEFAULTS);
    try {
      return build.build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      thread.setContextClassLoader(before);
    }
  }

  private static final ClassLoader WITHOUT_HADOOP_DEFAULTS =
      new WithoutHadoopDefaults(ParquetRows.class.getClassLoader());

  /**
   * Finds what its parent finds, except Hadoop's XML configuration files: {@code core-default.xml}
   * and {@code core-site.xml}, and those other Hadoop classes add to every configuration once they
   * are loaded ({@code hdfs-default.xml}, {@code mapred-site.xml}, ...).
   */
  private static final class WithoutHadoopDefaults extends ClassLoader {
    static {
      registerAsParallelCapable();
    }

    WithoutHadoopDefaults(ClassLoader parent) {
      super(parent);
    }

    private static boolean hidden(String name) {
      return name.indexOf('/') < 0 && (name.endsWith("-default.xml") || name.endsWith("-site.xml"));
    }

    @Override
    public URL getResource(String name) {
      return hidden(name) ? null : super.getResource(name);
    }

    @Override
    public Enumeration<URL> getResources(String name) throws IOException {
      return hidden(name) ? Collections.emptyEnumeration() : super.getResources(name);
    }

    @Override
    public InputStream getResourceAsStream(String name) {
      return hidden(name) ? null : super.getResourceAsStream(name);
    }
  }
}
