package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The {@link CdcTableWriter}s streaming into tables in one process, by table UUID, so that table
 * maintenance hands its rewrites to a table's writer instead of committing beside it (see {@code
 * io.floe.maintenance}). One instance per process: {@code floe-server} creates it and hands it to
 * the pipelines, which register their writers while they stream, and to table maintenance, which
 * looks them up. A registry nobody registers into serves a process without pipelines ({@code floe
 * maintain}): every compaction then commits directly. Thread-safe.
 */
public final class TableWriterRegistry {
  private final ConcurrentMap<UUID, CdcTableWriter> writers = new ConcurrentHashMap<>();

  /** Registers the writer of its table, replacing any earlier one (whose rewrite is abandoned). */
  public void register(CdcTableWriter writer) {
    requireNonNull(writer, "writer is null");
    CdcTableWriter previous = writers.put(writer.table().uuid(), writer);
    if (previous != null && previous != writer) {
      previous.abandonRewrite("its writer was replaced");
    }
  }

  /** Unregisters the writer, if it is still registered, and fails the rewrite handed to it. */
  public void unregister(CdcTableWriter writer) {
    requireNonNull(writer, "writer is null");
    writers.remove(writer.table().uuid(), writer);
    writer.abandonRewrite("the pipeline writing the table stopped");
  }

  /** The writer streaming into the table with this UUID, if any. */
  public Optional<CdcTableWriter> forTable(UUID tableUuid) {
    requireNonNull(tableUuid, "tableUuid is null");
    return Optional.ofNullable(writers.get(tableUuid));
  }
}
