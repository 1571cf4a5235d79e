package io.floe.maintenance;

import io.floe.core.writer.ParquetRows;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import org.apache.iceberg.Schema;
import org.apache.iceberg.SortOrder;
import org.apache.iceberg.SortOrderComparators;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.io.CloseableGroup;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.CloseableIterator;
import org.apache.iceberg.io.FileAppender;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.types.Types;

/**
 * Rows of a file group sorted by a sort order, each with the source file and position it came from,
 * in bounded memory: once the rows held reach {@code runBytes} (estimated from the size their files
 * have on storage), they are sorted and written to a temporary Parquet file (a run), and the runs
 * are merged when the rows are read back. The temporary files live in a directory of the local file
 * system that {@link #close} deletes.
 */
final class SortedRows implements Closeable {
  private final Schema schema;
  private final Schema runSchema;
  private final Comparator<StructLike> order;
  private final long runBytes;
  private final Path directory;
  private final List<Path> runs = new ArrayList<>();
  private final List<Held> held = new ArrayList<>();
  private long heldBytes;
  private boolean read;

  /**
   * @param directory where runs are written: a new directory is made in it, and deleted on close
   */
  SortedRows(Schema schema, SortOrder sortOrder, long runBytes, Path directory) {
    this.schema = schema;
    this.order = SortOrderComparators.forSchema(schema, sortOrder);
    this.runBytes = runBytes;
    int next =
        TypeUtil.indexById(schema.asStruct()).keySet().stream().max(Integer::compare).orElse(0);
    List<Types.NestedField> fields = new ArrayList<>(schema.columns());
    fields.add(Types.NestedField.required(next + 1, "_floe_source", Types.IntegerType.get()));
    fields.add(Types.NestedField.required(next + 2, "_floe_position", Types.LongType.get()));
    this.runSchema = new Schema(fields);
    try {
      Files.createDirectories(directory);
      this.directory = Files.createTempDirectory(directory, "floe-sort-");
    } catch (IOException e) {
      throw new UncheckedIOException(
          new IOException(
              "Cannot create a directory for sorting rows in "
                  + directory
                  + " ("
                  + e.getMessage()
                  + "); check that java.io.tmpdir is writable and has room",
              e));
    }
  }

  /**
   * Adds a row of the table's schema.
   *
   * @param source the index of the file it comes from
   * @param position its position in that file
   * @param bytes its estimated size, for the memory bound
   */
  void add(Record row, int source, long position, long bytes) {
    held.add(new Held(row, source, position));
    heldBytes += bytes;
    if (heldBytes >= runBytes) {
      spill();
    }
  }

  /** The runs written so far. */
  int runs() {
    return runs.size();
  }

  /** Passes every row in sort order to {@code consumer}; may be called once. */
  void forEachSorted(SortedRowConsumer consumer) {
    if (read) {
      throw new IllegalStateException("The sorted rows were read already");
    }
    read = true;
    held.sort((left, right) -> order.compare(left.row, right.row));
    if (runs.isEmpty()) {
      for (Held row : held) {
        consumer.accept(row.row, row.source, row.position);
      }
      held.clear();
      return;
    }
    if (!held.isEmpty()) {
      spill();
    }
    try (CloseableGroup readers = new CloseableGroup()) {
      PriorityQueue<Head> heads =
          new PriorityQueue<>((left, right) -> order.compare(left.row, right.row));
      for (Path run : runs) {
        CloseableIterable<Record> reader =
            ParquetRows.read(org.apache.iceberg.Files.localInput(run.toFile()), runSchema);
        readers.addCloseable(reader);
        Head head = new Head(reader.iterator());
        if (head.advance()) {
          heads.add(head);
        }
      }
      int columns = schema.columns().size();
      while (!heads.isEmpty()) {
        Head head = heads.poll();
        Record row = GenericRecord.create(schema);
        for (int column = 0; column < columns; column++) {
          row.set(column, head.row.get(column));
        }
        consumer.accept(row, (Integer) head.row.get(columns), (Long) head.row.get(columns + 1));
        if (head.advance()) {
          heads.add(head);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sorts the rows held and writes them into a new run. */
  private void spill() {
    held.sort((left, right) -> order.compare(left.row, right.row));
    Path run = directory.resolve("run-" + runs.size() + ".parquet");
    int columns = schema.columns().size();
    try (FileAppender<Record> writer =
        Parquet.write(org.apache.iceberg.Files.localOutput(run.toFile()))
            .schema(runSchema)
            .createWriterFunc(GenericParquetWriter::create)
            .overwrite()
            .build()) {
      Record out = GenericRecord.create(runSchema);
      for (Held row : held) {
        for (int column = 0; column < columns; column++) {
          out.set(column, row.row.get(column));
        }
        out.set(columns, row.source);
        out.set(columns + 1, row.position);
        writer.add(out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    runs.add(run);
    held.clear();
    heldBytes = 0;
  }

  @Override
  public void close() {
    held.clear();
    try (var files = Files.list(directory)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        Files.deleteIfExists(file);
      }
      Files.deleteIfExists(directory);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Receives the sorted rows. */
  @FunctionalInterface
  interface SortedRowConsumer {
    void accept(Record row, int source, long position);
  }

  private record Held(Record row, int source, long position) {}

  /** The next row of a run. */
  private static final class Head {
    private final CloseableIterator<Record> rows;
    private Record row;

    Head(CloseableIterator<Record> rows) {
      this.rows = rows;
    }

    boolean advance() {
      if (!rows.hasNext()) {
        row = null;
        return false;
      }
      row = rows.next();
      return true;
    }
  }
}
