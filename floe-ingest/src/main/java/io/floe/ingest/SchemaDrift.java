package io.floe.ingest;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.types.Type;

/**
 * How a source row's columns differ from its Iceberg table's schema after a schema change at the
 * source: columns the row has that the table lacks, columns whose type the source widened, columns
 * whose new type the table's cannot hold (followed by a new column), and changes the table cannot
 * follow at all.
 *
 * @param added new columns, by name in source order, with their Iceberg types
 * @param widened existing columns whose source type is now wider, with the type to promote to
 * @param defaults the added columns that have a default value at the source, with it as text
 * @param retyped existing columns whose values are now of a type Iceberg cannot promote theirs to
 *     (text to int, narrowing, a decimal's scale), with the Iceberg type of the new values: the old
 *     column is kept under another name, with the values written before, and a new column of the
 *     new type takes the name
 * @param incompatible changes the table cannot follow (a key column's type, a type Floe cannot
 *     map), each described for a message
 */
public record SchemaDrift(
    Map<String, Type> added,
    Map<String, Type> widened,
    Map<String, String> defaults,
    Map<String, Type> retyped,
    List<String> incompatible) {
  /** No difference. */
  public static final SchemaDrift NONE =
      new SchemaDrift(Map.of(), Map.of(), Map.of(), Map.of(), List.of());

  public SchemaDrift {
    added =
        Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(added, "added is null")));
    widened = Map.copyOf(requireNonNull(widened, "widened is null"));
    defaults = Map.copyOf(requireNonNull(defaults, "defaults is null"));
    retyped =
        Collections.unmodifiableMap(
            new LinkedHashMap<>(requireNonNull(retyped, "retyped is null")));
    incompatible = List.copyOf(requireNonNull(incompatible, "incompatible is null"));
  }

  /** Whether the row fits the schema as it is. */
  public boolean isEmpty() {
    return added.isEmpty() && widened.isEmpty() && retyped.isEmpty() && incompatible.isEmpty();
  }
}
