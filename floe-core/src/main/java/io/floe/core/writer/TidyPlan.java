package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import io.floe.core.catalog.TableFiles;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.PartitionSpec;

/**
 * What one commit of a {@link CdcTableWriter} tidies. CDC commits are small, so a table gathers
 * many small data files and one position-delete file per commit, and every read pays for opening
 * them. The writer folds them as part of its own commits: it knows every live row's location, and
 * it is the table's only writer, so tidying never conflicts with ingestion.
 *
 * @param compacted small data files whose live rows the commit rewrites into its own data file
 * @param mergedDeletes small position-delete files the commit merges with its own deletes
 */
record TidyPlan(List<DataFile> compacted, List<DeleteFile> mergedDeletes) {
  /** Tidies nothing. */
  static final TidyPlan NONE = new TidyPlan(List.of(), List.of());

  TidyPlan {
    compacted = List.copyOf(requireNonNull(compacted, "compacted is null"));
    mergedDeletes = List.copyOf(requireNonNull(mergedDeletes, "mergedDeletes is null"));
  }

  /** A small file joins a compaction when it has at most this many times the smaller ones' rows. */
  private static final int TIER_RATIO = 2;

  /**
   * Plans the tidying of the table's files, partition by partition (an unpartitioned table is one
   * partition):
   *
   * <ul>
   *   <li>When more than {@link CdcTableWriter#SMALL_FILES_TO_COMPACT} data files of a partition
   *       are smaller than {@link CdcTableWriter#SMALL_FILE_BYTES}, the live rows of the smallest
   *       of them are rewritten into this commit's data files: the two with fewest rows, and then
   *       each next one with at most twice the rows of those taken together; up to {@link
   *       CdcTableWriter#COMPACTION_BYTES} over all partitions. Tiered so: a file that grew from
   *       merges is rewritten again only once the smaller ones add up to half its rows, so a row is
   *       rewritten a few times while its file grows to the small-file limit, not every few commits
   *       (which made the writer's cost grow with the table's small rows).
   *   <li>When more than {@link CdcTableWriter#DELETE_FILES_TO_MERGE} position-delete files of a
   *       partition, counting this commit's, are smaller than {@link
   *       CdcTableWriter#SMALL_DELETE_FILE_BYTES}, they are merged with this commit's deletes,
   *       leaving out positions of data files that are gone.
   * </ul>
   *
   * @param reserved locations of data files a rewrite in progress reserved: left to it
   */
  static TidyPlan plan(TableState state, Map<Integer, PartitionSpec> specs, Set<String> reserved) {
    Map<String, List<DataFile>> small = new LinkedHashMap<>();
    for (DataFile file : state.dataFiles().values()) {
      if (file.fileSizeInBytes() < CdcTableWriter.SMALL_FILE_BYTES
          && !reserved.contains(file.location())) {
        small
            .computeIfAbsent(TableFiles.partitionKey(specs, file), p -> new ArrayList<>())
            .add(file);
      }
    }
    List<DataFile> compacted = new ArrayList<>();
    long bytes = 0;
    for (List<DataFile> files : small.values()) {
      if (files.size() <= CdcTableWriter.SMALL_FILES_TO_COMPACT) {
        continue;
      }
      files.sort(Comparator.comparingLong(DataFile::recordCount));
      int taken = 0;
      long takenRows = 0;
      for (DataFile file : files) {
        if (taken > 1
            && (bytes + file.fileSizeInBytes() > CdcTableWriter.COMPACTION_BYTES
                || file.recordCount() > TIER_RATIO * takenRows)) {
          break;
        }
        bytes += file.fileSizeInBytes();
        takenRows += file.recordCount();
        compacted.add(file);
        taken++;
      }
      if (bytes >= CdcTableWriter.COMPACTION_BYTES) {
        break;
      }
    }
    Map<String, List<DeleteFile>> smallDeletes = new LinkedHashMap<>();
    for (DeleteFile file : state.deleteFiles().values()) {
      if (file.fileSizeInBytes() < CdcTableWriter.SMALL_DELETE_FILE_BYTES) {
        smallDeletes
            .computeIfAbsent(TableFiles.partitionKey(specs, file), p -> new ArrayList<>())
            .add(file);
      }
    }
    List<DeleteFile> mergedDeletes = new ArrayList<>();
    for (List<DeleteFile> files : smallDeletes.values()) {
      if (files.size() + 1 > CdcTableWriter.DELETE_FILES_TO_MERGE) {
        mergedDeletes.addAll(files);
      }
    }
    return new TidyPlan(compacted, mergedDeletes);
  }
}
