package io.floe.ingest;

import static java.util.Objects.requireNonNull;

import io.floe.ingest.http.HttpStreams;
import java.nio.file.Path;

/**
 * What the sources of a process share: where they keep local state, and the registry of HTTP
 * streams that the HTTP API looks streams up in.
 *
 * @param stateDirectory the warehouse's local state directory ({@code
 *     io.floe.core.config.WarehouseConfig#stateDirectory}); HTTP streams keep their ingest logs
 *     under {@code streams/<pipeline>/} in it
 * @param httpStreams the process's HTTP streams
 */
public record SourceContext(Path stateDirectory, HttpStreams httpStreams) {
  public SourceContext {
    requireNonNull(stateDirectory, "stateDirectory is null");
    requireNonNull(httpStreams, "httpStreams is null");
  }
}
