package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;

/**
 * A compaction prepared away from the writer: data files that replace {@code sources} as they were
 * in snapshot {@code baseSnapshotId}, holding their rows that were live then. The writer commits it
 * (see {@link CdcTableWriter#beginRewrite}), and translates the changes it committed to those rows
 * since into position deletes on the new files.
 *
 * @param baseSnapshotId the snapshot whose view of {@code sources} was rewritten
 * @param sources the data files rewritten
 * @param obsoleteDeletes delete files that, in the base snapshot, applied only to {@code sources}:
 *     every row they delete is left out of the outputs
 * @param outputs the new data files
 * @param newLocations for each source's location, indexed by row position: where that row went
 *     ({@link #location}), or -1 for a row that was deleted in the base snapshot
 */
public record DataFileRewrite(
    long baseSnapshotId,
    List<DataFile> sources,
    List<DeleteFile> obsoleteDeletes,
    List<DataFile> outputs,
    Map<String, long[]> newLocations) {

  public DataFileRewrite {
    sources = List.copyOf(requireNonNull(sources, "sources is null"));
    obsoleteDeletes = List.copyOf(requireNonNull(obsoleteDeletes, "obsoleteDeletes is null"));
    outputs = List.copyOf(requireNonNull(outputs, "outputs is null"));
    newLocations = Map.copyOf(requireNonNull(newLocations, "newLocations is null"));
    for (DataFile source : sources) {
      long[] locations = newLocations.get(source.location());
      if (locations == null || locations.length != source.recordCount()) {
        throw new IllegalArgumentException(
            "Rewrite of "
                + source.location()
                + " must map each of its "
                + source.recordCount()
                + " rows, mapped "
                + (locations == null ? "none" : locations.length));
      }
    }
  }

  /** Packs the position of a row in one of the outputs, by the output's index in the list. */
  public static long location(int output, long position) {
    return KeyIndex.location(output, position);
  }

  /** The index in {@link #outputs} of a location made by {@link #location}. */
  public static int output(long location) {
    return KeyIndex.fileNumber(location);
  }

  /** The row position of a location made by {@link #location}. */
  public static long position(long location) {
    return KeyIndex.position(location);
  }

  /** The bytes of all source files. */
  public long sourceBytes() {
    return sources.stream().mapToLong(DataFile::fileSizeInBytes).sum();
  }
}
