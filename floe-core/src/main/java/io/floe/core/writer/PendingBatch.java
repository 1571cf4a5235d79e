package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.types.Types;

/**
 * The changes a {@link CdcTableWriter} applied since its last commit, collapsed to each row's last
 * state: the rows to write, in arrival order, and the committed rows they delete or replace, by
 * their location in the writer's {@link KeyIndex}. A row whose unchanged (not sent) columns must
 * come from an earlier version notes where that version is, until {@link #fillUnchangedValues}
 * reads it at commit.
 *
 * <p>Locations are those of the {@link TableState}'s index as it is when a change arrives; when
 * catching up moves the index onto other commits' files, {@link #resolve} looks them up again.
 */
final class PendingBatch {
  private final Table table;
  private final Schema schema;
  private final RowKeys keys;
  private final TableState state;

  private final LinkedHashMap<Object, Pending> inserts = new LinkedHashMap<>();
  private final Map<Object, Long> deleted = new HashMap<>();

  /**
   * Keys this batch deleted that the index did not hold: a rebase looks them up again, in case the
   * table holds them now.
   */
  private final Set<Object> removedAbsent = new HashSet<>();

  /**
   * Earlier versions of rows deleted in this batch, for a key change reported as delete + insert.
   */
  private final Map<Object, Prior> removedPriors = new HashMap<>();

  private boolean truncate;
  private long changes;
  private long unchangedValuesFilled;

  PendingBatch(Table table, Schema schema, RowKeys keys, TableState state) {
    this.table = requireNonNull(table, "table is null");
    this.schema = requireNonNull(schema, "schema is null");
    this.keys = requireNonNull(keys, "keys is null");
    this.state = requireNonNull(state, "state is null");
  }

  /** See {@link CdcTableWriter#upsert}. */
  void upsert(Record row, BitSet unchanged) {
    Object key = keys.keyOf(row);
    Prior prior = lookup(key);
    put(key, row, unchanged, prior);
  }

  /** See {@link CdcTableWriter#update}. */
  void update(Record oldKeyRow, Record row, BitSet unchanged) {
    Object newKey = keys.keyOf(row);
    Object oldKey = oldKeyRow == null ? newKey : keys.keyOf(oldKeyRow);
    Prior prior = lookup(oldKey);
    if (prior == Prior.NONE && oldKeyRow != null) {
      prior = removedPriors.getOrDefault(oldKey, Prior.NONE);
    }
    if (!oldKey.equals(newKey)) {
      removeKey(oldKey);
    }
    put(newKey, row, unchanged, prior);
  }

  /** See {@link CdcTableWriter#delete}. */
  void delete(Record keyRow) {
    removeKey(keys.keyOf(keyRow));
    changes++;
  }

  /** See {@link CdcTableWriter#holds}. */
  boolean holds(Record keyRow) {
    return lookup(keys.keyOf(keyRow)) != Prior.NONE;
  }

  /** See {@link CdcTableWriter#truncate}. */
  void truncate() {
    inserts.clear();
    deleted.clear();
    removedAbsent.clear();
    removedPriors.clear();
    truncate = true;
    changes++;
  }

  /** Whether committing the batch would change nothing. */
  boolean isEmpty() {
    return !truncate && inserts.isEmpty() && deleted.isEmpty();
  }

  /** Whether the batch removes every committed row first. */
  boolean truncates() {
    return truncate;
  }

  /** Changes applied since the last commit. */
  long changes() {
    return changes;
  }

  /** Values the source left out of updates that were taken from earlier row versions, in all. */
  long unchangedValuesFilled() {
    return unchangedValuesFilled;
  }

  /** Rows in the table once the batch is committed. */
  long liveRows() {
    long removed = deleted.keySet().stream().filter(key -> !inserts.containsKey(key)).count();
    long added = inserts.keySet().stream().filter(key -> !isCommitted(key)).count();
    return (truncate ? 0 : state.index().size()) - removed + added;
  }

  /** Keys of the rows to write, in arrival order. */
  Set<Object> insertedKeys() {
    return Collections.unmodifiableSet(inserts.keySet());
  }

  /** Calls {@code action} with each row to write and its key, in arrival order. */
  void forEachRow(BiConsumer<Object, Record> action) {
    inserts.forEach((key, pending) -> action.accept(key, pending.row));
  }

  /** Committed rows the batch deletes or replaces: their key and indexed location. */
  Map<Object, Long> deleted() {
    return Collections.unmodifiableMap(deleted);
  }

  /** Forgets the batch, once committed. */
  void clear() {
    inserts.clear();
    deleted.clear();
    removedAbsent.clear();
    removedPriors.clear();
    truncate = false;
    changes = 0;
  }

  /** Restarts the count of changes, when they left nothing to commit. */
  void resetChanges() {
    changes = 0;
  }

  /**
   * Resolves the batch against the index after catching up moved it onto other commits' files: rows
   * the batch deletes or replaces are looked up again, and so are the rows whose values fill the
   * columns an update left unchanged.
   *
   * @throws FloeException if a row that holds such values is no longer in the table (another commit
   *     removed it): the source's change cannot be applied
   */
  void resolve(KeyIndex fresh) {
    Map<Object, Long> toDelete = new HashMap<>();
    if (!truncate) {
      for (Object key : deleted.keySet()) {
        Long location = fresh.get(key);
        if (location != null) {
          toDelete.put(key, location);
        }
      }
      for (Object key : inserts.keySet()) {
        Long location = fresh.get(key);
        if (location != null) {
          toDelete.put(key, location);
        }
      }
      for (Object key : removedAbsent) {
        Long location = fresh.get(key);
        if (location != null && !inserts.containsKey(key)) {
          toDelete.put(key, location);
        }
      }
    }
    for (Pending pending : inserts.values()) {
      if (pending.unresolved != null) {
        Long location = fresh.get(pending.fillKey);
        if (location == null) {
          throw new FloeException(
              ErrorCode.SOURCE_DATA_INVALID,
              "Cannot apply update to table "
                  + table.name()
                  + ": the source left some columns unchanged (not sent), and the row with key "
                  + pending.fillKey
                  + " that holds their values is no longer in the table, which another commit"
                  + " changed (a rollback?); reload the table (drop it and restart the pipeline)");
        }
        pending.fillFrom = location;
      }
    }
    removedPriors.replaceAll(
        (key, prior) -> {
          if (prior.pending != null) {
            return prior;
          }
          Long location = fresh.get(key);
          return location == null ? Prior.NONE : new Prior(null, location, key);
        });
    removedPriors.values().removeIf(prior -> prior == Prior.NONE);
    deleted.clear();
    deleted.putAll(toDelete);
  }

  /** Reads values of unchanged columns from earlier data files, one read per file. */
  void fillUnchangedValues() {
    KeyIndex index = state.index();
    Map<String, Map<Long, List<Pending>>> byFile = new HashMap<>();
    BitSet fields = new BitSet();
    for (Pending pending : inserts.values()) {
      if (pending.unresolved != null) {
        byFile
            .computeIfAbsent(index.path(pending.fillFrom), path -> new HashMap<>())
            .computeIfAbsent(KeyIndex.position(pending.fillFrom), position -> new ArrayList<>())
            .add(pending);
        fields.or(pending.unresolved);
      }
    }
    if (byFile.isEmpty()) {
      return;
    }
    Set<Integer> fieldIds = new HashSet<>();
    List<Integer> positions = new ArrayList<>();
    for (int field = fields.nextSetBit(0); field >= 0; field = fields.nextSetBit(field + 1)) {
      fieldIds.add(schema.columns().get(field).fieldId());
    }
    Schema projection = TypeUtil.select(schema, fieldIds);
    for (Types.NestedField column : projection.columns()) {
      positions.add(schema.columns().indexOf(schema.findField(column.fieldId())));
    }
    Schema projectionWithPosition = ParquetRows.withPosition(projection);
    for (Map.Entry<String, Map<Long, List<Pending>>> file : byFile.entrySet()) {
      Map<Long, List<Pending>> wanted = file.getValue();
      int found = 0;
      try (CloseableIterable<Record> rows =
          ParquetRows.read(table.io(), file.getKey(), projectionWithPosition)) {
        for (Record row : rows) {
          List<Pending> targets = wanted.get(ParquetRows.position(row));
          if (targets == null) {
            continue;
          }
          found++;
          for (Pending pending : targets) {
            for (int i = 0; i < positions.size(); i++) {
              int field = positions.get(i);
              if (pending.unresolved.get(field)) {
                pending.row.set(field, row.get(i));
                unchangedValuesFilled++;
              }
            }
            pending.unresolved = null;
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      if (found != wanted.size()) {
        throw new FloeException(
            ErrorCode.TABLE_STATE_INVALID,
            "Cannot fill unchanged values for table "
                + table.name()
                + ": "
                + (wanted.size() - found)
                + " indexed rows are missing from "
                + file.getKey()
                + ", which the writer's index says hold them; report it with the log, and run it"
                + " again with a new writer (which reloads the table)");
      }
    }
  }

  private boolean isCommitted(Object key) {
    return !truncate && state.index().get(key) != null;
  }

  private Prior lookup(Object key) {
    Pending pending = inserts.get(key);
    if (pending != null) {
      return new Prior(pending, -1, key);
    }
    if (truncate || deleted.containsKey(key)) {
      return Prior.NONE;
    }
    Long location = state.index().get(key);
    return location == null ? Prior.NONE : new Prior(null, location, key);
  }

  private void removeKey(Object key) {
    Prior prior = lookup(key);
    if (prior != Prior.NONE) {
      removedPriors.put(key, prior);
    }
    inserts.remove(key);
    if (truncate || deleted.containsKey(key)) {
      return;
    }
    Long location = state.index().get(key);
    if (location != null) {
      deleted.put(key, location);
    } else {
      removedAbsent.add(key);
    }
  }

  private void put(Object key, Record row, BitSet unchanged, Prior prior) {
    if (!inserts.containsKey(key) && !truncate && !deleted.containsKey(key)) {
      Long location = state.index().get(key);
      if (location != null) {
        deleted.put(key, location);
      }
    }
    Pending pending = new Pending(row);
    if (unchanged != null && !unchanged.isEmpty()) {
      if (prior.pending != null) {
        for (int field = unchanged.nextSetBit(0);
            field >= 0;
            field = unchanged.nextSetBit(field + 1)) {
          if (prior.pending.unresolved != null && prior.pending.unresolved.get(field)) {
            pending.markUnresolved(field, prior.pending.fillFrom, prior.pending.fillKey);
          } else {
            pending.row.set(field, prior.pending.row.get(field));
            unchangedValuesFilled++;
          }
        }
      } else if (prior.location >= 0) {
        for (int field = unchanged.nextSetBit(0);
            field >= 0;
            field = unchanged.nextSetBit(field + 1)) {
          pending.markUnresolved(field, prior.location, prior.key);
        }
      } else {
        throw new FloeException(
            ErrorCode.SOURCE_DATA_INVALID,
            "Cannot apply update to table "
                + table.name()
                + ": the source left column "
                + schema.columns().get(unchanged.nextSetBit(0)).name()
                + " unchanged (not sent), but no earlier version of the row with key "
                + key
                + " exists in the table; reload the table (drop it and restart the pipeline)");
      }
    }
    inserts.remove(key);
    inserts.put(key, pending);
    changes++;
  }

  /** A row to write, and where to read the values of its unchanged columns from. */
  private static final class Pending {
    private final Record row;
    private BitSet unresolved;
    private long fillFrom = -1;

    /** Key of the committed row at {@link #fillFrom}. */
    private Object fillKey;

    Pending(Record row) {
      this.row = row;
    }

    void markUnresolved(int field, long location, Object key) {
      if (unresolved == null) {
        unresolved = new BitSet();
      }
      unresolved.set(field);
      fillFrom = location;
      fillKey = key;
    }
  }

  /** The version of a row before a change: pending in this batch, or committed at a location. */
  private static final class Prior {
    static final Prior NONE = new Prior(null, -1, null);

    private final Pending pending;
    private final long location;
    private final Object key;

    Prior(Pending pending, long location, Object key) {
      this.pending = pending;
      this.location = location;
      this.key = key;
    }
  }
}
