package io.floe.core.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.io.BulkDeletionFailureException;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.io.SupportsBulkOperations;
import org.apache.iceberg.io.SupportsPrefixOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Iceberg {@link org.apache.iceberg.io.FileIO} for a warehouse on the local file system, without
 * Hadoop's file system layer (no checksum side files). Locations are plain absolute paths or {@code
 * file:} URIs.
 *
 * <p>Deletes many files in the calling thread ({@link SupportsBulkOperations}): Iceberg deletes the
 * metadata files a commit retires this way, and otherwise hands them to its worker pool, which it
 * waits for in 10 ms sleeps — on every commit of a table that keeps its latest metadata files.
 */
public class LocalFileIO implements SupportsPrefixOperations, SupportsBulkOperations {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(LocalFileIO.class);

  private Map<String, String> properties = Map.of();

  /** Keeps the catalog's properties; Iceberg reads its manifest cache settings from them. */
  @Override
  public void initialize(Map<String, String> newProperties) {
    this.properties = Map.copyOf(newProperties);
  }

  @Override
  public Map<String, String> properties() {
    return properties;
  }

  @Override
  public InputFile newInputFile(String location) {
    return org.apache.iceberg.Files.localInput(toPath(location).toFile());
  }

  @Override
  public OutputFile newOutputFile(String location) {
    Path path = toPath(location);
    try {
      Files.createDirectories(path.getParent());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create directory " + path.getParent(), e);
    }
    return org.apache.iceberg.Files.localOutput(path.toFile());
  }

  @Override
  public void deleteFile(String location) {
    try {
      Files.delete(toPath(location));
    } catch (NoSuchFileException e) {
      // Deleting a file that is already gone is what the caller wanted.
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete " + location, e);
    }
  }

  /**
   * Deletes each file, going on past failures; each failure is logged with its cause, and their
   * number is thrown at the end.
   */
  @Override
  public void deleteFiles(Iterable<String> locations) throws BulkDeletionFailureException {
    int failed = 0;
    for (String location : locations) {
      try {
        deleteFile(location);
      } catch (UncheckedIOException e) {
        failed++;
        LOG.warn("Cannot delete {}", location, e);
      }
    }
    if (failed > 0) {
      throw new BulkDeletionFailureException(failed);
    }
  }

  @Override
  public Iterable<FileInfo> listPrefix(String prefix) {
    Path root = toPath(prefix);
    if (!Files.exists(root)) {
      return List.of();
    }
    List<FileInfo> files = new ArrayList<>();
    try {
      Files.walkFileTree(
          root,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path path, BasicFileAttributes attributes) {
              if (attributes.isRegularFile()) {
                files.add(
                    new FileInfo(
                        path.toString(),
                        attributes.size(),
                        attributes.lastModifiedTime().toMillis()));
              }
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path path, IOException e) throws IOException {
              if (e instanceof NoSuchFileException) {
                return FileVisitResult.CONTINUE; // deleted while listing, e.g. by a lost commit
              }
              throw e;
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list " + prefix, e);
    }
    return files;
  }

  @Override
  public void deletePrefix(String prefix) {
    for (FileInfo file : listPrefix(prefix)) {
      deleteFile(file.location());
    }
  }

  /** Converts a location written by Iceberg into a local path. */
  public static Path toPath(String location) {
    if (location.startsWith("file:")) {
      return Paths.get(URI.create(location));
    }
    return Paths.get(location);
  }
}
