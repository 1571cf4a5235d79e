package io.floe.ingest;

import static java.util.Objects.requireNonNull;

import io.floe.core.writer.AppendTableWriter;
import io.floe.core.writer.CdcTableWriter;
import io.floe.core.writer.TableWriter;
import io.floe.ingest.quality.QualityGate;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/** One source table flowing into one Iceberg table: applies its changes, keeps its figures. */
final class TableSink {
  final SourceTable source;
  TableWriter writer;
  final String tableName;

  /** Whether the table is a change log ({@link ChangeLog}): every change appends a row. */
  final boolean changeLog;

  /**
   * The position of the last commit holding a complete full load (and changes after it); replays at
   * or before it are skipped. Null while the table holds no complete full load.
   */
  SourcePosition checkpoint;

  long loadedRows;
  long appliedChanges;
  long skippedChanges;
  long estimatedRows;
  long loadedAtLastReport;

  /** The summary of the last commit holding this table's checkpoint, repeated by rewrites. */
  Map<String, String> lastSummary;

  /** The quality rules of a database pipeline's table, or null for none. */
  QualityGate quality;

  /** Rows written since the last check of the quality rules, to check before the next commit. */
  final List<Record> unchecked = new ArrayList<>();

  /** The source schema of the last row image found to fit the writer's schema ({@link #drift}). */
  private Object fittingSourceSchema;

  private int fittingSchemaId = -1;

  /** When the table's checkpoint was last committed ({@link System#nanoTime}). */
  long lastCheckpointNanos = System.nanoTime();

  TableSink(SourceTable source, TableWriter writer) {
    this(source, writer, false);
  }

  TableSink(SourceTable source, TableWriter writer, boolean changeLog) {
    this.source = requireNonNull(source, "source is null");
    this.writer = requireNonNull(writer, "writer is null");
    this.changeLog = changeLog;
    Table table = writer.table();
    this.tableName = table.name();
    this.estimatedRows = source.estimatedRows();
  }

  /**
   * How a change's row differs from the table's schema, {@link SchemaDrift#NONE} when it fits; rows
   * of a source schema already found to fit are not compared again.
   */
  SchemaDrift drift(SourceEvent.Change change) {
    RowImage row = change.row();
    if (row == null || change.operation() == SourceEvent.Operation.DELETE) {
      return SchemaDrift.NONE;
    }
    Object sourceSchema = row.sourceSchema();
    int schemaId = writer.schema().schemaId();
    if (sourceSchema != null
        && sourceSchema == fittingSourceSchema
        && schemaId == fittingSchemaId) {
      return SchemaDrift.NONE;
    }
    SchemaDrift drift = row.drift(writer.schema());
    if (drift.isEmpty()) {
      fittingSourceSchema = sourceSchema;
      fittingSchemaId = schemaId;
    }
    return drift;
  }

  /**
   * Follows the drift in the table's schema, the changes the table does not have already: first
   * each retyped column is renamed to {@code <name>__<old type>} (the first free such name; made
   * optional, as the rows written from now on leave it null), one schema change; then the new
   * columns (a retyped column's new one among them) are added and the widened ones promoted, one
   * more. The old writer must have nothing pending; open a new one afterwards ({@link
   * #reopenWriter}).
   *
   * @return what changed ("added d int"), empty when the table had the changes already
   */
  List<String> evolve(SchemaDrift drift) {
    Table table = writer.table();
    table.refresh();
    List<String> changes = new ArrayList<>();
    Map<String, Type> added = new LinkedHashMap<>(drift.added());
    if (!drift.retyped().isEmpty()) {
      Schema before = table.schema();
      UpdateSchema rename = table.updateSchema();
      Set<String> taken = new HashSet<>();
      before.columns().forEach(column -> taken.add(column.name()));
      drift
          .retyped()
          .forEach(
              (name, type) -> {
                Types.NestedField column = before.findField(name);
                if (column == null || column.type().equals(type)) {
                  return; // Followed already (a replay after a crash).
                }
                String kept = keptName(column, taken);
                rename.renameColumn(name, kept);
                if (column.isRequired()) {
                  rename.makeColumnOptional(name);
                }
                changes.add(
                    "renamed "
                        + name
                        + " to "
                        + kept
                        + ", which keeps the "
                        + column.type()
                        + " values written before");
                added.put(name, type);
              });
      if (!changes.isEmpty()) {
        rename.commit();
        table.refresh();
      }
    }
    Schema current = table.schema();
    UpdateSchema update = table.updateSchema();
    int renames = changes.size();
    added.forEach(
        (name, type) -> {
          if (current.findField(name) == null) {
            update.addColumn(name, type);
            changes.add("added " + name + " " + type);
          }
        });
    drift
        .widened()
        .forEach(
            (name, type) -> {
              Types.NestedField column = current.findField(name);
              if (column != null && !column.type().equals(type)) {
                update.updateColumn(name, type.asPrimitiveType());
                changes.add("widened " + name + " from " + column.type() + " to " + type);
              }
            });
    if (changes.size() > renames) {
      update.commit();
    }
    return changes;
  }

  /**
   * {@code <name>__<type>} ({@code price__decimal_10_2}), with a number after it if it is taken.
   */
  private static String keptName(Types.NestedField column, Set<String> taken) {
    String base =
        column.name()
            + "__"
            + column.type().toString().replaceAll("[^A-Za-z0-9]+", "_").replaceAll("_$", "");
    String name = base;
    for (int suffix = 2; !taken.add(name); suffix++) {
      name = base + "_" + suffix;
    }
    return name;
  }

  /** Opens a new writer of the table's current schema in place of the old one and returns it. */
  TableWriter reopenWriter(boolean compactionEnabled) {
    TableWriter reopened =
        changeLog ? AppendTableWriter.open(writer.table()) : CdcTableWriter.open(writer.table());
    reopened.setCompactionEnabled(compactionEnabled);
    writer = reopened;
    return reopened;
  }

  /** Whether the table already holds what the source committed at {@code position}. */
  boolean holds(SourcePosition position) {
    return checkpoint != null && checkpoint.holds(position);
  }

  /** Applies a change to the table's writer, counting it in the table's and {@code stats}. */
  void apply(SourceEvent.Change change, PipelineStats stats) {
    if (change.operation() != SourceEvent.Operation.READ) {
      // A full load reads rows committed long ago: freshness is of changes.
      stats.sampleFreshness(change.sourceMillis());
    }
    if (changeLog) {
      Record logged = ChangeLog.record(change, writer.schema());
      writer.upsert(logged, null);
      if (quality != null) {
        unchecked.add(logged);
      }
      if (change.operation() == SourceEvent.Operation.READ) {
        loadedRows++;
        stats.loaded.increment();
      } else {
        appliedChanges++;
        stats.changes.increment();
      }
      return;
    }
    switch (change.operation()) {
      case READ:
        Record loaded = record(change.row(), null);
        writer.upsert(loaded, null);
        if (quality != null) {
          unchecked.add(loaded);
        }
        loadedRows++;
        stats.loaded.increment();
        return;
      case INSERT:
      case UPDATE:
        BitSet unchanged = new BitSet();
        Record row = record(change.row(), unchanged);
        Record oldKey = change.oldKey() == null ? null : record(change.oldKey(), null);
        writer.update(oldKey, row, unchanged);
        // A row whose source left out unchanged (TOASTed) values is not checked: its image lacks
        // them.
        if (quality != null && unchanged.isEmpty()) {
          unchecked.add(row);
        }
        break;
      case DELETE:
        writer.delete(record(change.row(), null));
        break;
      case TRUNCATE:
        writer.truncate();
        break;
    }
    appliedChanges++;
    stats.changes.increment();
  }

  /** A row image as a record of the table's schema ({@link RowImage#toRecord}). */
  private Record record(RowImage image, BitSet unchanged) {
    return image.toRecord(writer.schema(), unchanged);
  }
}
