package io.floe.sql;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;

/**
 * Where DuckDB reads each of a query's files: the local path of every planned data and delete file,
 * and the file cache leases that keep the copies of remote ones in place until this is closed.
 *
 * @param paths the readable local path of each file location
 * @param leases released on {@link #close()}
 */
record LocalFiles(Map<String, String> paths, List<FileCache.Lease> leases)
    implements AutoCloseable {
  LocalFiles {
    paths = Map.copyOf(requireNonNull(paths, "paths is null"));
    leases = List.copyOf(requireNonNull(leases, "leases is null"));
  }

  /** The local path of a planned file. */
  String path(String location) {
    String path = paths.get(location);
    if (path == null) {
      throw new IllegalStateException("file was not planned: " + location);
    }
    return path;
  }

  @Override
  public void close() {
    leases.forEach(FileCache.Lease::close);
  }
}
