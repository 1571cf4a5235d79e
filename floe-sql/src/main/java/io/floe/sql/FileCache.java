package io.floe.sql;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.storage.LocalFileIO;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.iceberg.io.FileIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded local cache of remote data files (Parquet data and delete files), fetched through
 * Iceberg's {@link FileIO} so that DuckDB can read them from local paths, and of files written
 * locally from a table's files ({@link #acquireWritten}: the deletion vectors of format-version 3
 * tables, which DuckDB cannot read, as Parquet position-delete files).
 *
 * <p>Files are cached by location: Iceberg never rewrites a data or delete file in place, so a
 * location names the same bytes for as long as it exists. A query {@link #acquire acquires} the
 * files it plans and gets a {@link Lease}; the files stay on disk while any lease holds them. The
 * cached bytes never exceed the bound: files no lease holds are evicted, least recently used first,
 * to make room; a query whose files do not fit is refused.
 *
 * <p>Each cache works in a subdirectory of its own under the given directory, locked for the
 * cache's lifetime, so several processes (a server and a CLI on the same warehouse) may share the
 * directory. When a cache starts it removes the subdirectories of caches that are gone (their lock
 * is free): partial and complete downloads alike are discarded, never adopted. {@link #close}
 * removes the cache's own files.
 *
 * <p>Thread-safe. Bookkeeping is synchronized; downloads run outside the lock, and concurrent
 * acquirers of one file download it once (the others wait for it).
 */
public final class FileCache implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FileCache.class);

  /** The configuration key that sets {@link #maxBytes()}, named in messages. */
  static final String CACHE_SIZE_KEY = "sql.cache-size";

  private static final String SUBDIRECTORY_PREFIX = "cache-";
  private static final String LOCK_FILE = ".lock";
  private static final String PARTIAL_SUFFIX = ".part";
  private static final Pattern EXTENSION = Pattern.compile("\\.([A-Za-z0-9]{1,16})$");
  private static final int BUFFER_BYTES = 64 * 1024;

  /**
   * Subdirectories owned by caches of this JVM. Their lock files must never be opened by another
   * cache here: closing any channel to a file releases the process's lock on it (POSIX).
   */
  private static final Set<Path> OWNED = new HashSet<>();

  private final Path root;
  private final Path directory;
  private final long maxBytes;
  private final FileChannel lockChannel;

  /** Cached files and downloads in progress by location, least recently used first. */
  private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);

  private long bytes;
  private long hits;
  private long misses;
  private boolean closed;

  /**
   * Opens a cache under {@code directory} (created if missing) holding at most {@code maxBytes}
   * bytes of files, and removes what caches of earlier processes left there.
   *
   * @throws FloeException if the directory cannot be created or prepared
   */
  public FileCache(Path directory, long maxBytes) {
    requireNonNull(directory, "directory is null");
    if (maxBytes <= 0) {
      throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
    }
    this.root = directory.toAbsolutePath().normalize();
    this.maxBytes = maxBytes;
    this.directory = root.resolve(SUBDIRECTORY_PREFIX + UUID.randomUUID());
    this.lockChannel = start();
  }

  /** Creates this cache's locked subdirectory after removing those of caches that are gone. */
  private FileChannel start() {
    // The startup lock keeps a starting cache from taking a subdirectory created, but not yet
    // locked, by another starting cache for one left behind. OWNED guards the same within a JVM.
    synchronized (OWNED) {
      try {
        Files.createDirectories(root);
        try (FileChannel startup =
                FileChannel.open(
                    root.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock startupLock = startup.lock()) {
          removeLeftovers();
          Files.createDirectory(directory);
          FileChannel channel =
              FileChannel.open(
                  directory.resolve(LOCK_FILE),
                  StandardOpenOption.CREATE_NEW,
                  StandardOpenOption.WRITE);
          try {
            if (channel.tryLock() == null) {
              throw new IOException("the new directory " + directory + " is locked by another");
            }
          } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
          }
          OWNED.add(directory);
          return channel;
        }
      } catch (IOException e) {
        throw new FloeException(
            ErrorCode.SQL_FAILED,
            "Cannot open file cache in "
                + root
                + ": "
                + e
                + "; check that the directory is writable",
            e);
      }
    }
  }

  /** Removes the subdirectories of caches whose process is gone. Holds the startup lock. */
  private void removeLeftovers() throws IOException {
    int removedFiles = 0;
    long removedBytes = 0;
    try (DirectoryStream<Path> children =
        Files.newDirectoryStream(root, SUBDIRECTORY_PREFIX + "*")) {
      for (Path child : children) {
        if (!Files.isDirectory(child) || OWNED.contains(child)) {
          continue;
        }
        try (FileChannel channel =
            FileChannel.open(
                child.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
          FileLock lock;
          try {
            lock = channel.tryLock();
          } catch (OverlappingFileLockException e) {
            continue; // held in this JVM: not a leftover
          }
          if (lock == null) {
            continue; // held by a running process
          }
          try (lock) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(child)) {
              for (Path file : files) {
                if (!file.getFileName().toString().equals(LOCK_FILE)) {
                  removedBytes += Files.size(file);
                  removedFiles++;
                  Files.delete(file);
                }
              }
            }
            Files.delete(child.resolve(LOCK_FILE));
          }
        }
        Files.delete(child);
      }
    }
    if (removedFiles > 0) {
      LOG.info(
          "File cache {}: removed {} files ({} bytes) left by earlier processes",
          root,
          removedFiles,
          removedBytes);
    }
  }

  /**
   * Makes local copies of remote files and holds them until the returned lease is closed.
   *
   * <p>Locations that are local files ({@code file:} URIs and absolute paths) are returned as they
   * are, never copied or counted. Others are downloaded through {@code io} unless cached, each into
   * a temporary file that is moved into place once its length matches the expected one.
   *
   * @param io the table's file IO
   * @param files location → expected length in bytes (the file size Iceberg's metadata records)
   * @throws FloeException {@link ErrorCode#SQL_LIMIT_EXCEEDED} if the remote files do not fit in
   *     the cache beside the files other leases hold; {@link ErrorCode#SQL_FAILED} if a download
   *     fails or a file's length differs from the expected one; {@link ErrorCode#SQL_CANCELLED} if
   *     the thread is interrupted while waiting for another acquirer's download
   */
  public Lease acquire(FileIO io, Map<String, Long> files) {
    requireNonNull(io, "io is null");
    requireNonNull(files, "files is null");
    return acquire(io, files, Map.of());
  }

  /**
   * A file the cache writes itself, from a table's files, instead of downloading it.
   *
   * @param maxBytes the most bytes the file may take, reserved in the cache until it is written;
   *     then its length counts
   * @param writer writes the file's bytes at the path it is given, which does not exist yet
   */
  public record Written(long maxBytes, Writer writer) {
    public Written {
      requireNonNull(writer, "writer is null");
      if (maxBytes < 0) {
        throw new IllegalArgumentException("maxBytes is negative: " + maxBytes);
      }
    }
  }

  /** Writes a {@link Written} file. */
  @FunctionalInterface
  public interface Writer {
    void write(Path path) throws IOException;
  }

  /**
   * As {@link #acquire}, for files the cache writes itself: each key names a file whose bytes never
   * change (a deletion vector by its Puffin file and offset), written by its writer when it is not
   * cached and then held, counted and evicted as a downloaded file is. Keys share the namespace of
   * locations: use ones no location has.
   *
   * @throws FloeException {@link ErrorCode#SQL_LIMIT_EXCEEDED} if the files do not fit in the cache
   *     beside the files other leases hold; {@link ErrorCode#SQL_FAILED} if writing one fails or it
   *     takes more than its {@link Written#maxBytes()}
   */
  public Lease acquireWritten(Map<String, Written> files) {
    requireNonNull(files, "files is null");
    Map<String, Long> lengths = new LinkedHashMap<>();
    files.forEach((key, file) -> lengths.put(requireNonNull(key, "key is null"), file.maxBytes()));
    return acquire(null, lengths, files);
  }

  private Lease acquire(FileIO io, Map<String, Long> files, Map<String, Written> written) {
    Map<String, Path> local = new LinkedHashMap<>();
    Map<String, Long> remote = new LinkedHashMap<>();
    for (Map.Entry<String, Long> file : files.entrySet()) {
      String location = requireNonNull(file.getKey(), "location is null");
      long length = requireNonNull(file.getValue(), "length is null");
      if (length < 0) {
        throw new IllegalArgumentException("length of " + location + " is negative: " + length);
      }
      if (written.isEmpty() && isLocal(location)) {
        local.put(location, LocalFileIO.toPath(location));
      } else {
        remote.put(location, length);
      }
    }

    List<Entry> toDownload = new ArrayList<>();
    Lease lease = reserve(local, remote, written, toDownload);
    try {
      FloeException failure = null;
      // Download every file this lease reserved, even after a failure: other acquirers may be
      // waiting for them.
      for (Entry entry : toDownload) {
        try {
          if (entry.writer != null) {
            write(entry);
          } else {
            download(io, entry);
          }
          entry.download.complete(null);
        } catch (FloeException e) {
          forget(entry);
          entry.download.completeExceptionally(e);
          if (failure == null) {
            failure = e;
          } else {
            failure.addSuppressed(e);
          }
        }
      }
      if (failure != null) {
        throw failure;
      }
      for (Entry entry : lease.pinned.values()) {
        awaitDownload(entry);
      }
      return lease;
    } catch (RuntimeException | Error e) {
      // Never leave a reserved download unfinished: its waiters would wait forever.
      for (Entry entry : toDownload) {
        if (!entry.download.isDone()) {
          forget(entry);
          entry.download.completeExceptionally(e);
        }
      }
      lease.close();
      throw e;
    }
  }

  /**
   * Pins the remote files for a new lease, evicting unpinned files to make room, and reserves
   * entries for the files not cached yet (added to {@code toDownload}, to be downloaded by the
   * caller).
   */
  private synchronized Lease reserve(
      Map<String, Path> local,
      Map<String, Long> remote,
      Map<String, Written> written,
      List<Entry> toDownload) {
    if (closed) {
      throw new IllegalStateException("file cache " + directory + " is closed");
    }
    long needed = 0;
    long missing = 0;
    for (Map.Entry<String, Long> file : remote.entrySet()) {
      Entry cached = entries.get(file.getKey());
      if (cached != null && (cached.writer != null) != written.containsKey(file.getKey())) {
        throw new IllegalArgumentException(
            "key both written and downloaded into the file cache: " + file.getKey());
      }
      if (cached != null && cached.writer == null && cached.length != file.getValue()) {
        throw new FloeException(
            ErrorCode.SQL_FAILED,
            "Cannot cache "
                + file.getKey()
                + ": the query expects "
                + file.getValue()
                + " bytes but the cache holds a copy of "
                + cached.length
                + " bytes; the table metadata is inconsistent with the file");
      }
      // A written file counts its length once written, and its most until then.
      needed += cached == null ? file.getValue() : cached.length;
      if (cached == null) {
        missing += file.getValue();
      }
    }
    long heldByOthers = 0;
    for (Entry entry : entries.values()) {
      if (entry.pins > 0 && !remote.containsKey(entry.location)) {
        heldByOthers += entry.length;
      }
    }
    if (needed > maxBytes) {
      throw new FloeException(
          ErrorCode.SQL_LIMIT_EXCEEDED,
          "Cannot cache the files of the query: they need "
              + needed
              + " bytes, more than the file cache size of "
              + maxBytes
              + " bytes; raise "
              + CACHE_SIZE_KEY);
    }
    if (needed + heldByOthers > maxBytes) {
      throw new FloeException(
          ErrorCode.SQL_LIMIT_EXCEEDED,
          "Cannot cache the files of the query: they need "
              + needed
              + " bytes, but running queries hold "
              + heldByOthers
              + " bytes of the file cache size of "
              + maxBytes
              + " bytes; retry when they finish, or raise "
              + CACHE_SIZE_KEY);
    }
    evict(bytes + missing - maxBytes, remote.keySet());

    Map<String, Entry> pinned = new LinkedHashMap<>();
    for (Map.Entry<String, Long> file : remote.entrySet()) {
      String location = file.getKey();
      Entry entry = entries.get(location);
      if (entry == null) {
        Written writing = written.get(location);
        entry =
            new Entry(
                location,
                directory.resolve(fileName(location)),
                file.getValue(),
                writing == null ? null : writing.writer());
        entries.put(location, entry);
        bytes += entry.length;
        misses++;
        toDownload.add(entry);
      } else {
        hits++;
      }
      entry.pins++;
      pinned.put(location, entry);
    }
    return new Lease(local, pinned);
  }

  /**
   * Evicts unpinned files, least recently used first, until at least {@code toFree} bytes are
   * freed. Files in {@code keep} stay. The caller has checked that enough bytes are evictable.
   */
  private void evict(long toFree, Set<String> keep) {
    long freed = 0;
    Iterator<Entry> iterator = entries.values().iterator();
    while (freed < toFree && iterator.hasNext()) {
      Entry entry = iterator.next();
      if (entry.pins > 0 || keep.contains(entry.location)) {
        continue;
      }
      // Deleted under the lock: a new download of the same location must not race this delete.
      try {
        Files.deleteIfExists(entry.path);
      } catch (IOException e) {
        throw new FloeException(
            ErrorCode.SQL_FAILED, "Cannot evict " + entry.path + " from the file cache: " + e, e);
      }
      iterator.remove();
      bytes -= entry.length;
      freed += entry.length;
      LOG.debug("File cache {}: evicted {} ({} bytes)", root, entry.location, entry.length);
    }
  }

  /** Removes the entry of a failed download; its waiters see the failure. */
  private synchronized void forget(Entry entry) {
    if (entries.get(entry.location) == entry) {
      entries.remove(entry.location);
      bytes -= entry.length;
    }
  }

  private synchronized void release(Iterable<Entry> pinned) {
    for (Entry entry : pinned) {
      entry.pins--;
      // Touch: a file counts as used until its last query is done with it.
      entries.get(entry.location);
    }
  }

  private void download(FileIO io, Entry entry) {
    Path partial = null;
    try {
      partial = Files.createTempFile(directory, "download-", PARTIAL_SUFFIX);
      long copied;
      try (InputStream in = io.newInputFile(entry.location, entry.length).newStream();
          OutputStream out = Files.newOutputStream(partial)) {
        copied = copy(in, out, entry.length);
      }
      if (copied != entry.length) {
        throw new FloeException(
            ErrorCode.SQL_FAILED,
            "Cannot cache "
                + entry.location
                + ": the table metadata says "
                + entry.length
                + " bytes but "
                + (copied > entry.length ? "more than " + entry.length : copied)
                + " bytes were read; the file changed or is damaged");
      }
      Files.move(partial, entry.path, StandardCopyOption.ATOMIC_MOVE);
      partial = null;
    } catch (IOException | RuntimeException e) {
      FloeException failure =
          e instanceof FloeException
              ? (FloeException) e
              : new FloeException(
                  ErrorCode.SQL_FAILED,
                  "Cannot download " + entry.location + " into the file cache: " + e,
                  e);
      if (partial != null) {
        try {
          Files.deleteIfExists(partial);
        } catch (IOException deleteFailure) {
          failure.addSuppressed(deleteFailure);
        }
      }
      throw failure;
    }
  }

  /**
   * Writes a {@link Written} file into a temporary file, moved into place when it is no longer than
   * reserved; the cache then counts its actual length.
   */
  private void write(Entry entry) {
    Path partial = directory.resolve("write-" + UUID.randomUUID() + PARTIAL_SUFFIX);
    try {
      entry.writer.write(partial);
      long length = Files.size(partial);
      if (length > entry.length) {
        throw new FloeException(
            ErrorCode.SQL_FAILED,
            "Cannot cache "
                + entry.location
                + ": writing it took "
                + length
                + " bytes, more than the "
                + entry.length
                + " reserved for it");
      }
      Files.move(partial, entry.path, StandardCopyOption.ATOMIC_MOVE);
      synchronized (this) {
        if (entries.get(entry.location) == entry) {
          bytes -= entry.length - length;
        }
        entry.length = length;
      }
    } catch (IOException | RuntimeException e) {
      FloeException failure =
          e instanceof FloeException
              ? (FloeException) e
              : new FloeException(
                  ErrorCode.SQL_FAILED,
                  "Cannot write " + entry.location + " into the file cache: " + e,
                  e);
      try {
        Files.deleteIfExists(partial);
      } catch (IOException deleteFailure) {
        failure.addSuppressed(deleteFailure);
      }
      throw failure;
    }
  }

  /** Copies at most {@code length + 1} bytes, enough to tell that a file is too long. */
  private static long copy(InputStream in, OutputStream out, long length) throws IOException {
    byte[] buffer = new byte[BUFFER_BYTES];
    long copied = 0;
    while (copied <= length) {
      int read = in.read(buffer, 0, (int) Math.min(buffer.length, length + 1 - copied));
      if (read < 0) {
        break;
      }
      out.write(buffer, 0, read);
      copied += read;
    }
    return copied;
  }

  /** Waits for a download another acquirer runs (or returns at once when it is done). */
  private static void awaitDownload(Entry entry) {
    try {
      entry.download.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FloeException(
          ErrorCode.SQL_CANCELLED,
          "Cannot cache " + entry.location + ": interrupted while waiting for its download",
          e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw new FloeException(
          ErrorCode.SQL_FAILED,
          cause instanceof FloeException
              ? cause.getMessage()
              : "Cannot download " + entry.location + " into the file cache: " + cause,
          cause);
    }
  }

  static boolean isLocal(String location) {
    return location.startsWith("file:") || location.startsWith("/");
  }

  /** A hash of the location, plus the extension of its file name (".parquet"). */
  static String fileName(String location) {
    byte[] digest;
    try {
      digest =
          MessageDigest.getInstance("SHA-256").digest(location.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from the JDK", e);
    }
    String name = location.substring(location.lastIndexOf('/') + 1);
    Matcher extension = EXTENSION.matcher(name);
    return HexFormat.of().formatHex(digest)
        + (extension.find() ? "." + extension.group(1).toLowerCase(Locale.ROOT) : "");
  }

  /** The directory holding this cache's files (a subdirectory of the one given). */
  public Path directory() {
    return directory;
  }

  public long maxBytes() {
    return maxBytes;
  }

  /** Bytes of cached files, including those being downloaded (their expected length). */
  public synchronized long bytes() {
    return bytes;
  }

  /** Cached files, including those being downloaded. */
  public synchronized int files() {
    return entries.size();
  }

  /** Remote files acquired that were cached or being downloaded by another acquirer. */
  public synchronized long hits() {
    return hits;
  }

  /** Remote files acquired that had to be downloaded. */
  public synchronized long misses() {
    return misses;
  }

  /**
   * Removes the cached files and releases the cache's directory. Close it after the queries using
   * it are done: their leases' files are removed too. Further acquires fail.
   *
   * @throws UncheckedIOException if the files cannot be removed
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      entries.clear();
      bytes = 0;
    }
    // Under the startup lock, so that a cache starting meanwhile never sees a half-removed one.
    synchronized (OWNED) {
      try (FileChannel startup =
              FileChannel.open(
                  root.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock startupLock = startup.lock()) {
        try (lockChannel;
            DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
          for (Path file : files) {
            if (!file.getFileName().toString().equals(LOCK_FILE)) {
              Files.deleteIfExists(file);
            }
          }
        }
        Files.deleteIfExists(directory.resolve(LOCK_FILE));
        Files.deleteIfExists(directory);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot remove file cache " + directory, e);
      } finally {
        OWNED.remove(directory);
      }
    }
  }

  /**
   * Local paths of the files of one {@link #acquire}; the cached ones stay on disk until the lease
   * is closed. Close it once the query is done with the files.
   */
  public final class Lease implements AutoCloseable {
    private final Map<String, Path> local;
    private final Map<String, Entry> pinned;
    private boolean released;

    private Lease(Map<String, Path> local, Map<String, Entry> pinned) {
      this.local = Map.copyOf(local);
      this.pinned = Map.copyOf(pinned);
    }

    /**
     * A readable local path of an acquired file.
     *
     * @throws IllegalArgumentException if the location was not acquired with this lease
     */
    public Path path(String location) {
      requireNonNull(location, "location is null");
      Path path = local.get(location);
      if (path != null) {
        return path;
      }
      Entry entry = pinned.get(location);
      if (entry == null) {
        throw new IllegalArgumentException(
            "location was not acquired with this lease: " + location);
      }
      return entry.path;
    }

    /** Releases the lease's files: they may be evicted from now on. Idempotent. */
    @Override
    public void close() {
      synchronized (FileCache.this) {
        if (released) {
          return;
        }
        released = true;
        release(pinned.values());
      }
    }
  }

  /**
   * A cached file, or one being downloaded or written. Fields other than {@code pins} and {@code
   * length} are immutable.
   */
  private static final class Entry {
    final String location;
    final Path path;
    // Bytes of the file; of a written file, the most it may take until it is written (guarded by
    // the cache).
    long length;
    // Writes the file; null for a downloaded one.
    final Writer writer;
    final CompletableFuture<Void> download = new CompletableFuture<>();

    /** Leases holding the file (guarded by the cache). */
    int pins;

    Entry(String location, Path path, long length, Writer writer) {
      this.location = location;
      this.path = path;
      this.length = length;
      this.writer = writer;
    }
  }
}
