package io.floe.core.writer;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.storage.UncommittedFiles;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Table;

/**
 * How a rewrite that table maintenance handed over ({@link RewriteHandoff}) enters one commit of a
 * {@link CdcTableWriter}: which of its sources the commit removes, which outputs it adds with which
 * position deletes, and where the index's entries move. See {@code io.floe.maintenance} for the
 * design and why it is exact.
 */
final class AppliedRewrite {
  private final RewriteHandoff handoff;
  private final DataFileRewrite rewrite;

  /** Sources still live: removed by the commit. */
  private final List<DataFile> sources = new ArrayList<>();

  /** Outputs that hold at least one live row: added by the commit. */
  private final List<DataFile> outputs = new ArrayList<>();

  /** Outputs without a live row: not committed, deleted after the commit. */
  private final List<String> unused = new ArrayList<>();

  private final List<DeleteFile> obsoleteDeletes = new ArrayList<>();
  private final Map<String, List<Long>> outputDeletes = new HashMap<>();
  private final List<Object> movedKeys = new ArrayList<>();
  private long[] movedTo = new long[1024];
  private long rowsDeletedSince;

  /** Why the rewrite cannot be committed, or null. */
  private String rejection;

  private AppliedRewrite(RewriteHandoff handoff, DataFileRewrite rewrite) {
    this.handoff = handoff;
    this.rewrite = rewrite;
  }

  /**
   * Decides how a submitted rewrite enters this commit. Each row the rewrite carried is still live
   * exactly when the index still has its key at the row's old location and this batch does not
   * delete or replace it; those rows move to their new location, and every other carried row gets a
   * position delete on the new file. So whatever the writer committed since the rewrite's base
   * snapshot (updates, deletes, its own tidying of the same files) is kept.
   *
   * @return empty if the rewrite does not enter the commit: rejected (its handoff failed, saying
   *     why), or stale because none of its sources is live any more (the writer compacted them
   *     meanwhile; its handoff completed as {@link RewriteHandoff.Outcome#STALE}); its outputs are
   *     deleted then
   */
  static Optional<AppliedRewrite> apply(
      Table table,
      RewriteHandoff handoff,
      DataFileRewrite rewrite,
      TableState state,
      PendingBatch batch,
      TidyPlan tidy) {
    AppliedRewrite applied = new AppliedRewrite(handoff, rewrite);
    if (batch.truncates()) {
      applied.rejection = "the table is truncated in the same commit";
    } else {
      applied.plan(state, batch, tidy);
    }
    if (applied.rejection == null && !applied.sources.isEmpty()) {
      return Optional.of(applied);
    }
    // The batch commits without it; the rewrite's files are not referenced anywhere.
    UncommittedFiles.delete(table, applied.outputLocations());
    if (applied.rejection != null) {
      handoff.fail(rejected(table, applied.rejection));
    } else {
      handoff.complete(RewriteHandoff.Outcome.STALE);
    }
    return Optional.empty();
  }

  private void plan(TableState state, PendingBatch batch, TidyPlan tidy) {
    KeyIndex index = state.index();
    Map<Integer, long[]> newLocations = new HashMap<>();
    for (DataFile source : rewrite.sources()) {
      if (state.dataFiles().containsKey(source.location())) {
        sources.add(source);
        newLocations.put(
            index.fileNumber(source.location()), rewrite.newLocations().get(source.location()));
      }
    }
    if (sources.isEmpty()) {
      return;
    }
    int outputCount = rewrite.outputs().size();
    BitSet[] live = new BitSet[outputCount];
    for (int output = 0; output < outputCount; output++) {
      live[output] = new BitSet();
    }
    Map<Object, Long> deleted = batch.deleted();
    index.forEach(
        (key, location) -> {
          long[] targets = newLocations.get(KeyIndex.fileNumber(location));
          if (targets == null || deleted.containsKey(key)) {
            return;
          }
          long position = KeyIndex.position(location);
          long target = position < targets.length ? targets[(int) position] : -1;
          if (target < 0) {
            rejection =
                "row "
                    + position
                    + " of "
                    + index.path(location)
                    + " is live but was deleted in the rewrite's base snapshot";
            return;
          }
          live[KeyIndex.fileNumber(target)].set((int) KeyIndex.position(target));
          movedKeys.add(key);
          int moved = movedKeys.size() - 1;
          if (moved == movedTo.length) {
            movedTo = Arrays.copyOf(movedTo, moved * 2);
          }
          movedTo[moved] = target;
        });
    if (rejection != null) {
      return;
    }
    for (int output = 0; output < outputCount; output++) {
      DataFile file = rewrite.outputs().get(output);
      int rows = (int) file.recordCount();
      if (live[output].cardinality() == 0) {
        unused.add(file.location());
        continue;
      }
      outputs.add(file);
      List<Long> positions = new ArrayList<>();
      for (int position = live[output].nextClearBit(0);
          position < rows;
          position = live[output].nextClearBit(position + 1)) {
        positions.add((long) position);
      }
      if (!positions.isEmpty()) {
        outputDeletes.put(file.location(), positions);
        rowsDeletedSince += positions.size();
      }
    }
    for (DeleteFile obsolete : rewrite.obsoleteDeletes()) {
      if (state.deleteFiles().containsKey(obsolete.location())
          && !tidy.mergedDeletes().contains(obsolete)) {
        obsoleteDeletes.add(obsolete);
      }
    }
  }

  /** Locations of all the files the rewrite wrote. */
  List<String> outputLocations() {
    List<String> locations = new ArrayList<>();
    rewrite.outputs().forEach(file -> locations.add(file.location()));
    return locations;
  }

  /** Sources the commit removes. */
  List<DataFile> sources() {
    return sources;
  }

  /** Outputs the commit adds: those holding at least one live row. */
  List<DataFile> outputs() {
    return outputs;
  }

  /** Position deletes the commit adds to the outputs, by output location. */
  Map<String, List<Long>> outputDeletes() {
    return outputDeletes;
  }

  /** Adds the rewrite's files to the commit, and removes the files it replaces. */
  void addTo(RowDelta delta) {
    sources.forEach(delta::removeRows);
    outputs.forEach(delta::addRows);
    obsoleteDeletes.forEach(delta::removeDeletes);
  }

  /** Moves the index's entries of the rewritten rows to the outputs, once the commit landed. */
  void moveIndex(TableState state) {
    KeyIndex index = state.index();
    int[] fileNumbers = new int[rewrite.outputs().size()];
    for (int output = 0; output < fileNumbers.length; output++) {
      fileNumbers[output] = index.fileNumber(rewrite.outputs().get(output).location());
    }
    for (int i = 0; i < movedKeys.size(); i++) {
      long target = movedTo[i];
      index.put(
          movedKeys.get(i),
          KeyIndex.location(fileNumbers[KeyIndex.fileNumber(target)], KeyIndex.position(target)));
    }
    sources.forEach(file -> state.dataFiles().remove(file.location()));
    outputs.forEach(file -> state.dataFiles().put(file.location(), file));
    obsoleteDeletes.forEach(file -> state.deleteFiles().remove(file.location()));
  }

  /**
   * Completes the handoff once the commit landed, and deletes the outputs it did not use.
   *
   * @param snapshotId the commit's snapshot, if the writer found it
   */
  void committed(Table table, OptionalLong snapshotId) {
    UncommittedFiles.delete(table, unused);
    handoff.complete(new RewriteHandoff.Outcome(snapshotId, sources.size(), rowsDeletedSince));
  }

  private static FloeException rejected(Table table, String reason) {
    return new FloeException(
        ErrorCode.TABLE_COMMIT_CONFLICT,
        "Cannot commit the rewrite of data files of table "
            + table.name()
            + ": "
            + reason
            + "; run it again");
  }
}
