package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The {@link CdcTableWriter}s of this process that are streaming into tables, by table UUID, so
 * that table maintenance hands its rewrites to the table's writer instead of committing beside it.
 * A pipeline registers its writers while it streams and unregisters them when it stops.
 */
public final class TableWriters {
  private static final ConcurrentMap<String, CdcTableWriter> WRITERS = new ConcurrentHashMap<>();

  private TableWriters() {}

  /** Registers the writer of its table, replacing any earlier one. */
  public static void register(CdcTableWriter writer) {
    requireNonNull(writer, "writer is null");
    CdcTableWriter previous = WRITERS.put(writer.table().uuid().toString(), writer);
    if (previous != null && previous != writer) {
      previous.abandonRewrite("its writer was replaced");
    }
  }

  /** Unregisters the writer, failing the rewrite handed to it, if it is still registered. */
  public static void unregister(CdcTableWriter writer) {
    requireNonNull(writer, "writer is null");
    WRITERS.remove(writer.table().uuid().toString(), writer);
    writer.abandonRewrite("the pipeline writing the table stopped");
  }

  /** The writer streaming into the table with this UUID in this process, if any. */
  public static Optional<CdcTableWriter> forTable(String tableUuid) {
    return Optional.ofNullable(WRITERS.get(tableUuid));
  }
}
