package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;

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

  /**
   * Plans the tidying of the table's files:
   *
   * <ul>
   *   <li>When more than {@link CdcTableWriter#SMALL_FILES_TO_COMPACT} data files are smaller than
   *       {@link CdcTableWriter#SMALL_FILE_BYTES}, the live rows of the smallest of them (up to
   *       {@link CdcTableWriter#COMPACTION_BYTES}) are rewritten into this commit's data file.
   *   <li>When more than {@link CdcTableWriter#DELETE_FILES_TO_MERGE} position-delete files are
   *       smaller than {@link CdcTableWriter#SMALL_DELETE_FILE_BYTES}, they are merged with this
   *       commit's deletes into one file, leaving out positions of data files that are gone.
   * </ul>
   *
   * @param reserved locations of data files a rewrite in progress reserved: left to it
   */
  static TidyPlan plan(TableState state, Set<String> reserved) {
    List<DataFile> small = new ArrayList<>();
    for (DataFile file : state.dataFiles().values()) {
      if (file.fileSizeInBytes() < CdcTableWriter.SMALL_FILE_BYTES
          && !reserved.contains(file.location())) {
        small.add(file);
      }
    }
    List<DataFile> compacted = new ArrayList<>();
    if (small.size() > CdcTableWriter.SMALL_FILES_TO_COMPACT) {
      small.sort((left, right) -> Long.compare(left.fileSizeInBytes(), right.fileSizeInBytes()));
      long bytes = 0;
      for (DataFile file : small) {
        if (bytes + file.fileSizeInBytes() > CdcTableWriter.COMPACTION_BYTES
            && compacted.size() > 1) {
          break;
        }
        bytes += file.fileSizeInBytes();
        compacted.add(file);
      }
    }
    List<DeleteFile> smallDeletes = new ArrayList<>();
    for (DeleteFile file : state.deleteFiles().values()) {
      if (file.fileSizeInBytes() < CdcTableWriter.SMALL_DELETE_FILE_BYTES) {
        smallDeletes.add(file);
      }
    }
    List<DeleteFile> mergedDeletes =
        smallDeletes.size() + 1 > CdcTableWriter.DELETE_FILES_TO_MERGE ? smallDeletes : List.of();
    return new TidyPlan(compacted, mergedDeletes);
  }
}
