package io.floe.ingest.http;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The HTTP streams of a process by name: each running {@link HttpSource} registers while it runs,
 * and the HTTP API looks the stream of a request up here. One registry serves a process's pipelines
 * and its HTTP API; thread-safe.
 */
public final class HttpStreams {
  private final Map<String, HttpSource> streams = new ConcurrentHashMap<>();
  private final Set<String> expected = ConcurrentHashMap.newKeySet();

  /**
   * Declares a stream a pipeline of this process will run: until its source registers (while the
   * pipeline starts, or starts again after a failure), requests for it are answered "not yet"
   * rather than "no such stream".
   */
  public void expect(String name) {
    expected.add(requireNonNull(name, "name is null"));
  }

  /** Whether {@code name} is a stream of this process, running or not. */
  public boolean expected(String name) {
    return expected.contains(name) || streams.containsKey(name);
  }

  /**
   * Registers {@code source} under its stream name.
   *
   * @throws FloeException when another source has that name
   */
  void register(HttpSource source) {
    requireNonNull(source, "source is null");
    HttpSource other = streams.putIfAbsent(source.stream(), source);
    if (other != null && other != source) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Cannot start pipeline "
              + source.pipeline()
              + ": pipeline "
              + other.pipeline()
              + " takes its stream "
              + source.stream()
              + " already; give one of them another source.stream");
    }
  }

  /** Removes {@code source}, if it is the one registered under its name. */
  void unregister(HttpSource source) {
    streams.remove(source.stream(), source);
  }

  /** The stream named {@code name}, if it runs in this process. */
  public Optional<HttpSource> find(String name) {
    return Optional.ofNullable(streams.get(requireNonNull(name, "name is null")));
  }

  /** Every registered stream, by name. */
  public List<HttpSource> all() {
    return streams.values().stream().sorted((a, b) -> a.stream().compareTo(b.stream())).toList();
  }

  /** The names of the registered streams, sorted. */
  public List<String> names() {
    return all().stream().map(HttpSource::stream).toList();
  }
}
