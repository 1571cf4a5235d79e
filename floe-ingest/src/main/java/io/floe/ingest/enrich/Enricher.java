package io.floe.ingest.enrich;

import static java.util.Objects.requireNonNull;

import io.floe.core.config.EnrichConfig;
import io.floe.ingest.stream.RecordRejectedException;
import io.floe.ingest.stream.RejectReason;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.apache.iceberg.types.Type;

/**
 * One enrichment of a stream pipeline: adds the columns of the reference row whose key equals the
 * record's fields. The reference's lookup index moves to the reference table's newest snapshot only
 * when asked ({@link #refresh}), which the pipeline does between commits, so that every record of a
 * commit is enriched with the same snapshot of the reference.
 */
public final class Enricher implements AutoCloseable {
  private final EnrichConfig config;
  private final ReferenceLookup lookup;

  public Enricher(EnrichConfig config, ReferenceLookup lookup) {
    this.config = requireNonNull(config, "config is null");
    this.lookup = requireNonNull(lookup, "lookup is null");
  }

  public EnrichConfig config() {
    return config;
  }

  /** The reference snapshot records are enriched with now; empty while the reference is empty. */
  public OptionalLong snapshotId() {
    return lookup.snapshotId();
  }

  /** Moves to the reference table's newest snapshot; returns whether the snapshot changed. */
  public boolean refresh() {
    OptionalLong before = lookup.snapshotId();
    lookup.refresh();
    return !before.equals(lookup.snapshotId());
  }

  /**
   * The Iceberg types of the columns this enrichment adds, by their names in the record: the
   * reference columns' types, and long for the snapshot column.
   */
  public Map<String, Type> addedTypes() {
    Map<String, Type> types = new LinkedHashMap<>();
    List<Type> valueTypes = lookup.valueTypes();
    for (int i = 0; i < config.columns().size(); i++) {
      types.put(config.columns().get(i).alias(), valueTypes.get(i));
    }
    config
        .snapshotColumn()
        .ifPresent(column -> types.put(column, org.apache.iceberg.types.Types.LongType.get()));
    return types;
  }

  /**
   * Adds the reference columns to each record's fields, looking all their keys up at once.
   *
   * @param records each record's fields, or null for a record to leave alone
   * @param firstSeen for each record, when it first failed to find its reference row
   * @return for each record, why it is rejected (no reference row, and {@code missing} is not
   *     {@code nulls}), or null
   */
  public RecordRejectedException[] enrichAll(
      List<Map<String, Object>> records, List<Instant> firstSeen, Instant now) {
    List<List<Object>> keys = new ArrayList<>();
    List<Integer> indexes = new ArrayList<>();
    for (int r = 0; r < records.size(); r++) {
      Map<String, Object> fields = records.get(r);
      if (fields == null) {
        continue;
      }
      List<Object> key = new ArrayList<>(config.on().size());
      for (String field : config.on()) {
        key.add(fields.get(field));
      }
      keys.add(key);
      indexes.add(r);
    }
    String[] unmatched = new String[keys.size()];
    List<Optional<Object[]>> found = lookup.lookupAll(keys, unmatched);
    RecordRejectedException[] rejected = new RecordRejectedException[records.size()];
    OptionalLong snapshot = lookup.snapshotId();
    for (int j = 0; j < keys.size(); j++) {
      int r = indexes.get(j);
      Map<String, Object> fields = records.get(r);
      Object[] values = found.get(j).orElse(null);
      if (values == null) {
        try {
          missing(keys.get(j), unmatched[j], firstSeen.get(r), now);
        } catch (RecordRejectedException e) {
          rejected[r] = e;
          continue;
        }
      }
      for (int i = 0; i < config.columns().size(); i++) {
        fields.put(config.columns().get(i).alias(), values == null ? null : values[i]);
      }
      config
          .snapshotColumn()
          .ifPresent(
              column -> fields.put(column, snapshot.isPresent() ? snapshot.getAsLong() : null));
    }
    return rejected;
  }

  private void missing(List<Object> key, String why, Instant firstSeen, Instant now) {
    String message =
        "No row of reference table "
            + config.table()
            + " has "
            + String.join(", ", config.key())
            + " = "
            + key
            + (why == null ? "" : " (" + why + ")")
            + " at its snapshot "
            + (lookup.snapshotId().isPresent() ? lookup.snapshotId().getAsLong() : "(none yet)");
    switch (config.missing()) {
      case NULLS:
        return;
      case DEAD_LETTER:
        throw new RecordRejectedException(
            RejectReason.REFERENCE_MISSING,
            message + "; add the row to the reference and replay the record (floe dlq replay)");
      case HOLD:
        Instant until = firstSeen.plus(config.holdFor());
        if (now.isBefore(until)) {
          throw new RecordRejectedException(
              RejectReason.REFERENCE_PENDING,
              message
                  + "; the record waits for it and is replayed when the reference changes,"
                  + " until "
                  + until);
        }
        throw new RecordRejectedException(
            RejectReason.REFERENCE_MISSING,
            message
                + "; the record waited "
                + humanDuration(config.holdFor())
                + " (hold-for) for it: add the row to the reference and replay the record (floe"
                + " dlq replay)");
    }
  }

  private static String humanDuration(Duration duration) {
    return duration.toString().substring(2).toLowerCase(java.util.Locale.ROOT);
  }

  @Override
  public void close() {
    lookup.close();
  }
}
