package io.floe.sql;

import static java.util.Objects.requireNonNull;

import io.floe.core.catalog.TableFiles;
import io.floe.sql.ScanPlan.DataScan;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.Table;
import org.apache.iceberg.util.ContentFileUtil;

/**
 * Gives the files Iceberg planned readable local paths ({@link LocalFiles}): local files as they
 * are, files in object storage fetched through the table's FileIO into the engine's bounded {@link
 * FileCache}, which this owns and opens when the first remote file or deletion vector is read, and
 * deletion vectors as Parquet position-delete files written into that cache ({@link
 * DeletionVectors}), named by their {@link TableFiles#deleteKey}.
 */
final class LocalPaths implements AutoCloseable {
  private final Path cacheDirectory;
  private final long cacheSize;
  private FileCache cache;

  /**
   * @param cacheDirectory where the file cache keeps its copies
   * @param cacheSize bound of the file cache, in bytes
   */
  LocalPaths(Path cacheDirectory, long cacheSize) {
    this.cacheDirectory = requireNonNull(cacheDirectory, "cacheDirectory is null");
    this.cacheSize = cacheSize;
  }

  /** The files of a query's data scans, remote ones pinned in the cache until it is closed. */
  LocalFiles of(List<ScanPlan> scans) {
    Map<String, String> paths = new HashMap<>();
    List<FileCache.Lease> leases = new ArrayList<>();
    try {
      for (ScanPlan scan : scans) {
        if (scan instanceof DataScan data) {
          add(
              data.table(),
              Stream.concat(
                      data.files().dataFiles().values().stream(),
                      data.files().deleteFiles().values().stream())
                  .toList(),
              paths,
              leases);
        }
      }
    } catch (RuntimeException e) {
      leases.forEach(FileCache.Lease::close);
      throw e;
    }
    return new LocalFiles(paths, leases);
  }

  /** Some files of one table, as {@link #of(List)}. */
  LocalFiles of(Table table, List<ContentFile<?>> files) {
    Map<String, String> paths = new HashMap<>();
    List<FileCache.Lease> leases = new ArrayList<>();
    add(table, files, paths, leases);
    return new LocalFiles(paths, leases);
  }

  private void add(
      Table table,
      List<? extends ContentFile<?>> files,
      Map<String, String> paths,
      List<FileCache.Lease> leases) {
    Map<String, Long> remote = new LinkedHashMap<>();
    Map<String, FileCache.Written> vectors = new LinkedHashMap<>();
    Map<String, String> vectorKeys = new LinkedHashMap<>();
    for (ContentFile<?> file : files) {
      if (file instanceof DeleteFile delete && ContentFileUtil.isDV(delete)) {
        String cacheKey = DeletionVectors.cacheKey(delete);
        vectors.put(cacheKey, DeletionVectors.written(table, delete));
        vectorKeys.put(TableFiles.deleteKey(delete), cacheKey);
        continue;
      }
      String location = file.location();
      if (location.startsWith("file:")) {
        paths.put(location, Path.of(URI.create(location)).toString());
      } else if (location.startsWith("/")) {
        paths.put(location, location);
      } else {
        remote.put(location, file.fileSizeInBytes());
      }
    }
    if (!remote.isEmpty()) {
      FileCache.Lease lease = cache().acquire(table.io(), remote);
      leases.add(lease);
      remote.keySet().forEach(location -> paths.put(location, lease.path(location).toString()));
    }
    if (!vectors.isEmpty()) {
      FileCache.Lease lease = cache().acquireWritten(vectors);
      leases.add(lease);
      vectorKeys.forEach((key, cacheKey) -> paths.put(key, lease.path(cacheKey).toString()));
    }
  }

  private synchronized FileCache cache() {
    if (cache == null) {
      cache = new FileCache(cacheDirectory, cacheSize);
    }
    return cache;
  }

  /** Closes the file cache, if remote files were read. Queries should be closed first. */
  @Override
  public synchronized void close() {
    if (cache != null) {
      cache.close();
      cache = null;
    }
  }
}
