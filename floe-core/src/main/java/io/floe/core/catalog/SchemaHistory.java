package io.floe.core.catalog;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.types.Types;

/**
 * The schema changes of a table, from its own metadata: each schema it has had, what changed from
 * the one before (columns added, dropped, renamed, retyped; by field id, as Iceberg tracks them),
 * and the first snapshot written with it. A pipeline's schema changes are there, in commit order,
 * whoever made them (Floe following the source, or an engine's {@code ALTER TABLE}).
 */
public final class SchemaHistory {
  private SchemaHistory() {}

  /**
   * One schema of the table.
   *
   * @param schemaId Iceberg's schema id
   * @param firstSnapshotId the first snapshot written with it, empty when none is yet
   * @param firstWritten when that snapshot was committed
   * @param changes what changed from the schema before ("added d int"), or for the first schema its
   *     columns
   * @param current whether it is the table's current schema
   */
  public record Entry(
      int schemaId,
      Optional<Long> firstSnapshotId,
      Optional<Instant> firstWritten,
      List<String> changes,
      boolean current) {
    public Entry {
      changes = List.copyOf(changes);
    }
  }

  /** The table's schemas, oldest first. */
  public static List<Entry> of(Table table) {
    Map<Integer, Snapshot> firstSnapshots = new TreeMap<>();
    List<Snapshot> snapshots = new ArrayList<>();
    table.snapshots().forEach(snapshots::add);
    snapshots.sort(Comparator.comparingLong(Snapshot::sequenceNumber));
    for (Snapshot snapshot : snapshots) {
      if (snapshot.schemaId() != null) {
        firstSnapshots.putIfAbsent(snapshot.schemaId(), snapshot);
      }
    }
    List<Entry> entries = new ArrayList<>();
    Schema previous = null;
    for (Schema schema : new TreeMap<>(table.schemas()).values()) {
      Snapshot first = firstSnapshots.get(schema.schemaId());
      entries.add(
          new Entry(
              schema.schemaId(),
              Optional.ofNullable(first).map(Snapshot::snapshotId),
              Optional.ofNullable(first)
                  .map(snapshot -> Instant.ofEpochMilli(snapshot.timestampMillis())),
              previous == null ? columns(schema) : changes(previous, schema),
              schema.schemaId() == table.schema().schemaId()));
      previous = schema;
    }
    return entries;
  }

  private static List<String> columns(Schema schema) {
    List<String> columns = new ArrayList<>();
    for (Types.NestedField field : schema.columns()) {
      columns.add(
          field.name()
              + " "
              + field.type()
              + (schema.identifierFieldIds().contains(field.fieldId()) ? " (key)" : ""));
    }
    return List.of("created with " + String.join(", ", columns));
  }

  /** What changed between two schemas, by the top-level columns' field ids. */
  static List<String> changes(Schema before, Schema after) {
    List<String> changes = new ArrayList<>();
    for (Types.NestedField field : after.columns()) {
      Types.NestedField old = before.findField(field.fieldId());
      if (old == null) {
        changes.add("added " + field.name() + " " + field.type());
        continue;
      }
      if (!old.name().equals(field.name())) {
        changes.add("renamed " + old.name() + " to " + field.name());
      }
      if (!old.type().equals(field.type())) {
        changes.add("changed " + field.name() + " from " + old.type() + " to " + field.type());
      }
      if (old.isOptional() != field.isOptional()) {
        changes.add(field.name() + (field.isOptional() ? " made optional" : " made required"));
      }
    }
    for (Types.NestedField old : before.columns()) {
      if (after.findField(old.fieldId()) == null) {
        changes.add("dropped " + old.name());
      }
    }
    if (!before.identifierFieldIds().equals(after.identifierFieldIds())) {
      changes.add("key changed to " + after.identifierFieldNames());
    }
    return changes.isEmpty() ? List.of("no column changed") : changes;
  }
}
