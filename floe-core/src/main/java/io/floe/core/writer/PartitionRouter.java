package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.data.InternalRecordWrapper;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.util.StructLikeMap;

/**
 * Sends each row to the writer of its partition under one spec, opening a writer the first time a
 * partition is seen: the fan-out of a commit's rows, or of a rewrite's, across a partitioned
 * table's partitions. An unpartitioned spec has one writer, opened with a null partition.
 *
 * <p>The partition of a row is Iceberg's: the spec's transforms applied to the row's values in
 * their internal representation (a date as days, a timestamp as microseconds), so that the files
 * land where Iceberg's own writers and readers expect them.
 *
 * @param <W> the writer of one partition
 */
public final class PartitionRouter<W> {
  private final PartitionSpec spec;
  private final Function<StructLike, W> open;
  private final PartitionKey key;
  private final InternalRecordWrapper wrapper;
  private final StructLikeMap<W> writers;
  private final List<W> opened = new ArrayList<>();
  private W unpartitioned;

  /**
   * @param schema the schema of the rows
   * @param open opens the writer of a partition, given a copy of the partition (null for an
   *     unpartitioned spec) that it may keep
   */
  public PartitionRouter(PartitionSpec spec, Schema schema, Function<StructLike, W> open) {
    this.spec = requireNonNull(spec, "spec is null");
    this.open = requireNonNull(open, "open is null");
    this.key = new PartitionKey(spec, schema);
    this.wrapper = new InternalRecordWrapper(schema.asStruct());
    this.writers = StructLikeMap.create(spec.partitionType());
  }

  public PartitionSpec spec() {
    return spec;
  }

  /** The writer of the row's partition. */
  public W writerFor(Record row) {
    if (spec.isUnpartitioned()) {
      if (unpartitioned == null) {
        unpartitioned = open.apply(null);
        opened.add(unpartitioned);
      }
      return unpartitioned;
    }
    key.partition(wrapper.wrap(row));
    W writer = writers.get(key);
    if (writer == null) {
      PartitionKey partition = key.copy();
      writer = open.apply(partition);
      writers.put(partition, writer);
      opened.add(writer);
    }
    return writer;
  }

  /** The writers opened so far, in the order their partitions were first seen. */
  public List<W> writers() {
    return List.copyOf(opened);
  }
}
