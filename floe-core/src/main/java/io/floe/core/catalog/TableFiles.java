package io.floe.core.catalog;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.MetadataColumns;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotChanges;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableScan;
import org.apache.iceberg.expressions.Evaluator;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.InclusiveMetricsEvaluator;
import org.apache.iceberg.expressions.Projections;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Comparators;
import org.apache.iceberg.types.Conversions;
import org.apache.iceberg.types.Types;
import org.apache.iceberg.util.ContentFileUtil;
import org.apache.iceberg.util.StructLikeWrapper;

/**
 * The live data files of a table's current snapshot and the position deletes that apply to them, as
 * Iceberg plans them: position-delete files and, in format-version 3 tables, deletion vectors (a
 * Puffin blob per data file). Floe writes no equality deletes; a table that has some is refused.
 *
 * <p>Delete files are named by {@link #deleteKey}: a deletion vector is one blob of a Puffin file
 * that may hold the deletion vectors of many data files, so its file location alone does not name
 * it.
 */
public final class TableFiles {
  private final Map<String, DataFile> dataFiles;
  private final Map<String, DeleteFile> deleteFiles;
  private final Map<String, Set<DeleteFile>> deletesByDataFile;

  private TableFiles(
      Map<String, DataFile> dataFiles,
      Map<String, DeleteFile> deleteFiles,
      Map<String, Set<DeleteFile>> deletesByDataFile) {
    this.dataFiles = Collections.unmodifiableMap(dataFiles);
    this.deleteFiles = Collections.unmodifiableMap(deleteFiles);
    this.deletesByDataFile = Collections.unmodifiableMap(deletesByDataFile);
  }

  /** Plans the table's current snapshot. */
  public static TableFiles load(Table table) {
    return table.currentSnapshot() == null ? plan(table, null) : plan(table, Scans.scan(table));
  }

  /**
   * Plans a scan of the table, which may select another snapshot or filter files; a null scan plans
   * nothing (a table without snapshots).
   */
  public static TableFiles plan(Table table, TableScan scan) {
    Map<String, DataFile> dataFiles = new LinkedHashMap<>();
    Map<String, DeleteFile> deleteFiles = new LinkedHashMap<>();
    Map<String, Set<DeleteFile>> deletesByDataFile = new LinkedHashMap<>();
    if (scan != null) {
      try (CloseableIterable<FileScanTask> tasks = scan.planFiles()) {
        for (FileScanTask task : tasks) {
          dataFiles.put(task.file().location(), task.file());
          Set<DeleteFile> deletes =
              deletesByDataFile.computeIfAbsent(
                  task.file().location(), path -> new LinkedHashSet<>());
          for (DeleteFile delete : task.deletes()) {
            if (delete.content() == FileContent.EQUALITY_DELETES) {
              throw new FloeException(
                  ErrorCode.TABLE_UNSUPPORTED,
                  "Cannot read table "
                      + table.name()
                      + ": it has equality delete file "
                      + delete.location()
                      + ", which Floe does not write or apply; compact the table"
                      + " (rewrite_data_files) first");
            }
            deletes.add(delete);
            deleteFiles.put(deleteKey(delete), delete);
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return new TableFiles(dataFiles, deleteFiles, deletesByDataFile);
  }

  /**
   * The files of snapshot {@code snapshotId}, found from this plan of its ancestor {@code
   * baseSnapshotId} (an unfiltered plan) by applying the files that the snapshots in between added
   * and removed. Only the manifest lists and the manifests those snapshots wrote are read, where
   * planning reads every manifest of the table: a table that commits every second is planned again
   * for each new snapshot. Empty when the snapshot does not descend from the base within {@code
   * maxSnapshots} snapshots (a rollback, an expired base), or when a snapshot added equality
   * deletes; plan the snapshot in full then.
   *
   * <p>Which delete files apply to which data file follows Iceberg's rules for position deletes:
   * the same partition, a data sequence number no newer than the delete file's, and the data file's
   * location within the delete file's bounds of {@code file_path}.
   */
  public Optional<TableFiles> advance(
      Table table, long baseSnapshotId, long snapshotId, int maxSnapshots) {
    Deque<Snapshot> between = new ArrayDeque<>();
    Snapshot snapshot = table.snapshot(snapshotId);
    while (snapshot != null && snapshot.snapshotId() != baseSnapshotId) {
      if (between.size() == maxSnapshots) {
        return Optional.empty();
      }
      between.addFirst(snapshot);
      snapshot = snapshot.parentId() == null ? null : table.snapshot(snapshot.parentId());
    }
    if (snapshot == null) {
      return Optional.empty();
    }
    Map<String, DataFile> data = new LinkedHashMap<>(dataFiles);
    Map<String, DeleteFile> deletes = new LinkedHashMap<>(deleteFiles);
    for (Snapshot step : between) {
      SnapshotChanges changes = SnapshotChanges.builderFor(table).snapshot(step).build();
      changes.removedDataFiles().forEach(file -> data.remove(file.location()));
      changes.addedDataFiles().forEach(file -> data.put(file.location(), file));
      changes.removedDeleteFiles().forEach(file -> deletes.remove(deleteKey(file)));
      for (DeleteFile file : changes.addedDeleteFiles()) {
        if (file.content() == FileContent.EQUALITY_DELETES) {
          return Optional.empty();
        }
        deletes.put(deleteKey(file), file);
      }
    }
    return Optional.of(assign(table, data, deletes));
  }

  /**
   * The data files of this plan that may hold rows matching {@code filter}, judged from partition
   * values and column bounds as Iceberg's planning judges them, with the delete files that apply to
   * them. A file planned without column bounds is kept: plan with {@code includeColumnStats()} a
   * plan that will be filtered.
   */
  public TableFiles filter(Table table, Schema schema, Expression filter) {
    if (filter.op() == Expression.Operation.TRUE) {
      return this;
    }
    Predicate<DataFile> mayMatch = mayMatch(table, schema, filter);
    Map<String, DataFile> data = new LinkedHashMap<>();
    Map<String, Set<DeleteFile>> byDataFile = new LinkedHashMap<>();
    Map<String, DeleteFile> deletes = new LinkedHashMap<>();
    for (DataFile file : dataFiles.values()) {
      if (mayMatch.test(file)) {
        data.put(file.location(), file);
        Set<DeleteFile> applying = deletesByDataFile.getOrDefault(file.location(), Set.of());
        byDataFile.put(file.location(), applying);
        applying.forEach(delete -> deletes.put(deleteKey(delete), delete));
      }
    }
    return new TableFiles(data, deletes, byDataFile);
  }

  /**
   * A key naming a file's spec and partition, the same for every file of one partition of one spec:
   * for grouping files by partition (a string, so that it outlives the file objects manifest
   * readers reuse).
   */
  public static String partitionKey(Map<Integer, PartitionSpec> specs, ContentFile<?> file) {
    return file.specId() + "/" + specs.get(file.specId()).partitionToPath(file.partition());
  }

  /**
   * Whether a data file may hold rows matching {@code filter} (case-insensitive column names), by
   * its partition values and column bounds, as Iceberg's planning judges it. A file without column
   * bounds (planned without {@code includeColumnStats()}) may match.
   */
  public static Predicate<DataFile> mayMatch(Table table, Schema schema, Expression filter) {
    InclusiveMetricsEvaluator metrics = new InclusiveMetricsEvaluator(schema, filter, false);
    Map<Integer, Evaluator> partitions = new HashMap<>();
    return file -> {
      Evaluator partition =
          partitions.computeIfAbsent(
              file.specId(),
              id -> {
                PartitionSpec spec = table.specs().get(id);
                return new Evaluator(
                    spec.partitionType(),
                    Projections.inclusive(spec, false).project(filter),
                    false);
              });
      return partition.eval(file.partition()) && metrics.eval(file);
    };
  }

  /**
   * Finds the delete files that apply to each data file, as Iceberg does for position deletes: a
   * data file's deletion vector, when it has one, holds all its deleted positions, and position
   * delete files (of the table's format-version 2 past) no longer apply to it.
   */
  private static TableFiles assign(
      Table table, Map<String, DataFile> data, Map<String, DeleteFile> allDeletes) {
    Map<String, Set<DeleteFile>> byDataFile = new LinkedHashMap<>();
    Map<String, DeleteFile> applying = new LinkedHashMap<>();
    Map<String, DeleteFile> vectors = new HashMap<>();
    for (DeleteFile delete : allDeletes.values()) {
      if (ContentFileUtil.isDV(delete)) {
        vectors.put(delete.referencedDataFile(), delete);
      }
    }
    for (DataFile file : data.values()) {
      Set<DeleteFile> deletes = new LinkedHashSet<>();
      DeleteFile vector = vectors.get(file.location());
      if (vector != null && applies(table, vector, file)) {
        deletes.add(vector);
        applying.put(deleteKey(vector), vector);
      } else {
        for (DeleteFile delete : allDeletes.values()) {
          if (!ContentFileUtil.isDV(delete) && applies(table, delete, file)) {
            deletes.add(delete);
            applying.put(deleteKey(delete), delete);
          }
        }
      }
      byDataFile.put(file.location(), deletes);
    }
    return new TableFiles(data, applying, byDataFile);
  }

  /**
   * Whether a position-delete file may delete rows of a data file, by Iceberg's rules: a sequence
   * number not below the data file's, the same spec and partition, and the data file named as the
   * delete file's referenced file or within its bounds of {@code file_path}.
   */
  public static boolean applies(Table table, DeleteFile delete, DataFile file) {
    if (delete.dataSequenceNumber() < file.dataSequenceNumber()
        || delete.specId() != file.specId()) {
      return false;
    }
    PartitionSpec spec = table.specs().get(file.specId());
    if (!spec.isUnpartitioned()) {
      Types.StructType type = spec.partitionType();
      if (!StructLikeWrapper.forType(type)
          .set(file.partition())
          .equals(StructLikeWrapper.forType(type).set(delete.partition()))) {
        return false;
      }
    }
    String referenced = ContentFileUtil.referencedDataFileLocation(delete);
    if (referenced != null) {
      return referenced.equals(file.location());
    }
    Map<Integer, ByteBuffer> lower = delete.lowerBounds();
    Map<Integer, ByteBuffer> upper = delete.upperBounds();
    int pathField = MetadataColumns.DELETE_FILE_PATH.fieldId();
    if (lower == null || upper == null || !lower.containsKey(pathField)) {
      return true;
    }
    Comparator<CharSequence> order = Comparators.charSequences();
    CharSequence location = file.location();
    CharSequence min = Conversions.fromByteBuffer(Types.StringType.get(), lower.get(pathField));
    CharSequence max = Conversions.fromByteBuffer(Types.StringType.get(), upper.get(pathField));
    return order.compare(min, location) <= 0 && order.compare(location, max) <= 0;
  }

  /** Live data files by location. */
  public Map<String, DataFile> dataFiles() {
    return dataFiles;
  }

  /**
   * The key that names a delete file in this plan: its location for a position-delete file; for a
   * deletion vector, its Puffin file's location with the blob's offset and length ({@code
   * <location>#<offset>+<length>}), as one Puffin file holds the vectors of many data files. Both
   * name bytes that never change.
   */
  public static String deleteKey(DeleteFile delete) {
    if (ContentFileUtil.isDV(delete)) {
      return delete.location() + "#" + delete.contentOffset() + "+" + delete.contentSizeInBytes();
    }
    return delete.location();
  }

  /** Live position-delete files and deletion vectors by {@link #deleteKey}. */
  public Map<String, DeleteFile> deleteFiles() {
    return deleteFiles;
  }

  /** For each live data file's location, the delete files that apply to it. */
  public Map<String, Set<DeleteFile>> deletesByDataFile() {
    return deletesByDataFile;
  }

  /**
   * Keys ({@link #deleteKey}) of the delete files that apply to a data file, in planning order;
   * none if none. For a position-delete file, its location.
   */
  public Set<String> deleteLocations(String dataFile) {
    Set<String> locations = new LinkedHashSet<>();
    Set<DeleteFile> deletes = deletesByDataFile.get(dataFile);
    if (deletes != null) {
      deletes.forEach(delete -> locations.add(deleteKey(delete)));
    }
    return locations;
  }

  /** Deletion vectors among {@link #deleteFiles()}. */
  public int deletionVectors() {
    return (int) deleteFiles.values().stream().filter(ContentFileUtil::isDV).count();
  }

  /**
   * Bytes of all live data and delete files; of a deletion vector, its blob's, which is all that is
   * read of its Puffin file.
   */
  public long bytes() {
    long bytes = 0;
    for (DataFile file : dataFiles.values()) {
      bytes += file.fileSizeInBytes();
    }
    for (DeleteFile file : deleteFiles.values()) {
      bytes += ContentFileUtil.isDV(file) ? file.contentSizeInBytes() : file.fileSizeInBytes();
    }
    return bytes;
  }
}
