package io.floe.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.storage.LocalFileIO;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.OutputFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileCacheTest {
  @TempDir Path temp;

  private RemoteFileIO io;
  private Path cacheRoot;
  private final List<FileCache> caches = new ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    io = new RemoteFileIO(Files.createDirectories(temp.resolve("remote")));
    cacheRoot = temp.resolve("cache");
  }

  @AfterEach
  void tearDown() {
    caches.forEach(FileCache::close);
  }

  private FileCache cache(long maxBytes) {
    FileCache cache = new FileCache(cacheRoot, maxBytes);
    caches.add(cache);
    return cache;
  }

  @Test
  void localFilesAreReturnedAsThemselves() throws IOException {
    Path file = Files.write(temp.resolve("local.parquet"), bytes(10, 1));
    FileCache cache = cache(1000);

    try (FileCache.Lease lease =
        cache.acquire(io, Map.of(file.toUri().toString(), 10L, file.toString(), 10L))) {
      assertThat(lease.path(file.toUri().toString())).isEqualTo(file);
      assertThat(lease.path(file.toString())).isEqualTo(file);
    }
    assertThat(cache.files()).isZero();
    assertThat(cache.bytes()).isZero();
    assertThat(cache.hits()).isZero();
    assertThat(cache.misses()).isZero();
    assertThat(io.opens()).isZero();
  }

  @Test
  void remoteFileIsDownloadedOnceThenHit() throws IOException {
    String location = io.write("data/00000-a.parquet", bytes(100, 1));
    FileCache cache = cache(1000);

    Path first;
    try (FileCache.Lease lease = cache.acquire(io, Map.of(location, 100L))) {
      first = lease.path(location);
      assertThat(first).hasBinaryContent(bytes(100, 1));
      assertThat(first.getParent()).isEqualTo(cache.directory());
      assertThat(first.getFileName().toString()).matches("[0-9a-f]{64}\\.parquet");
    }
    assertThat(cache.misses()).isEqualTo(1);
    assertThat(cache.hits()).isZero();

    try (FileCache.Lease lease = cache.acquire(io, Map.of(location, 100L))) {
      assertThat(lease.path(location)).isEqualTo(first).hasBinaryContent(bytes(100, 1));
    }
    assertThat(cache.misses()).isEqualTo(1);
    assertThat(cache.hits()).isEqualTo(1);
    assertThat(cache.files()).isEqualTo(1);
    assertThat(cache.bytes()).isEqualTo(100);
    assertThat(io.opens(location)).isEqualTo(1);
    assertThat(partialFiles(cache)).isEmpty();
  }

  @Test
  void leastRecentlyUsedFileIsEvicted() throws IOException {
    String a = io.write("a.parquet", bytes(100, 1));
    String b = io.write("b.parquet", bytes(100, 2));
    String c = io.write("c.parquet", bytes(100, 3));
    String d = io.write("d.parquet", bytes(100, 4));
    FileCache cache = cache(300);
    Map<String, Path> paths = new LinkedHashMap<>();
    for (String location : List.of(a, b, c, a)) {
      try (FileCache.Lease lease = cache.acquire(io, Map.of(location, 100L))) {
        paths.put(location, lease.path(location));
      }
    }

    try (FileCache.Lease lease = cache.acquire(io, Map.of(d, 100L))) {
      assertThat(lease.path(d)).hasBinaryContent(bytes(100, 4));
    }

    assertThat(paths.get(b)).doesNotExist();
    assertThat(paths.get(a)).exists();
    assertThat(paths.get(c)).exists();
    assertThat(cache.files()).isEqualTo(3);
    assertThat(cache.bytes()).isEqualTo(300);
    try (FileCache.Lease lease = cache.acquire(io, Map.of(b, 100L))) {
      assertThat(lease.path(b)).hasBinaryContent(bytes(100, 2));
    }
    assertThat(io.opens(b)).isEqualTo(2);
    assertThat(paths.get(c)).doesNotExist(); // c is now the least recently used
    assertThat(cache.misses()).isEqualTo(5);
    assertThat(cache.hits()).isEqualTo(1);
  }

  @Test
  void pinnedFilesAreNotEvicted() throws IOException {
    String a = io.write("a.parquet", bytes(100, 1));
    String b = io.write("b.parquet", bytes(100, 2));
    String c = io.write("c.parquet", bytes(100, 3));
    FileCache cache = cache(200);

    try (FileCache.Lease leaseA = cache.acquire(io, Map.of(a, 100L))) {
      Path pathB;
      try (FileCache.Lease leaseB = cache.acquire(io, Map.of(b, 100L))) {
        pathB = leaseB.path(b);
        assertThatThrownBy(() -> cache.acquire(io, Map.of(c, 100L)))
            .isInstanceOfSatisfying(
                FloeException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.SQL_LIMIT_EXCEEDED))
            .hasMessage(
                "Cannot cache the files of the query: they need 100 bytes, but running queries"
                    + " hold 200 bytes of the file cache size of 200 bytes; retry when they"
                    + " finish, or raise sql.cache-size");
        assertThat(leaseA.path(a)).hasBinaryContent(bytes(100, 1));
        assertThat(pathB).hasBinaryContent(bytes(100, 2));
      }

      try (FileCache.Lease leaseC = cache.acquire(io, Map.of(c, 100L))) {
        assertThat(leaseC.path(c)).hasBinaryContent(bytes(100, 3));
      }
      assertThat(pathB).doesNotExist();
      assertThat(leaseA.path(a)).hasBinaryContent(bytes(100, 1));
    }
    assertThat(cache.bytes()).isEqualTo(200);
  }

  @Test
  void queryLargerThanTheCacheIsRefused() throws IOException {
    String a = io.write("a.parquet", bytes(100, 1));
    String b = io.write("b.parquet", bytes(100, 2));
    String cached = io.write("cached.parquet", bytes(50, 3));
    FileCache cache = cache(150);
    cache.acquire(io, Map.of(cached, 50L)).close();

    assertThatThrownBy(() -> cache.acquire(io, Map.of(a, 100L, b, 100L)))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SQL_LIMIT_EXCEEDED))
        .hasMessage(
            "Cannot cache the files of the query: they need 200 bytes, more than the file cache"
                + " size of 150 bytes; raise sql.cache-size");

    // Nothing was evicted or downloaded for the refused query.
    assertThat(cache.files()).isEqualTo(1);
    assertThat(cache.bytes()).isEqualTo(50);
    assertThat(io.opens(a)).isZero();
    try (FileCache.Lease lease = cache.acquire(io, Map.of(a, 100L, cached, 50L))) {
      assertThat(lease.path(a)).hasBinaryContent(bytes(100, 1));
    }
    assertThat(cache.hits()).isEqualTo(1);
  }

  @Test
  void concurrentAcquirersDownloadOnce() throws Exception {
    String location = io.write("shared.parquet", bytes(100_000, 7));
    FileCache cache = cache(1_000_000);
    int acquirers = 8;
    io.holdOpens();
    ExecutorService executor = Executors.newFixedThreadPool(acquirers);
    try {
      List<Future<byte[]>> results = new ArrayList<>();
      for (int i = 0; i < acquirers; i++) {
        results.add(
            executor.submit(
                () -> {
                  try (FileCache.Lease lease = cache.acquire(io, Map.of(location, 100_000L))) {
                    return Files.readAllBytes(lease.path(location));
                  }
                }));
      }
      // One acquirer is inside the download; every other one has found it and waits for it.
      assertThat(io.opening.await(10, TimeUnit.SECONDS)).isTrue();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (cache.hits() < acquirers - 1 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(cache.hits()).isEqualTo(acquirers - 1);
      assertThat(results).noneMatch(Future::isDone);
      io.releaseOpens();

      for (Future<byte[]> result : results) {
        assertThat(result.get(10, TimeUnit.SECONDS)).isEqualTo(bytes(100_000, 7));
      }
    } finally {
      io.releaseOpens();
      executor.shutdownNow();
    }
    assertThat(io.opens(location)).isEqualTo(1);
    assertThat(cache.misses()).isEqualTo(1);
    assertThat(cache.files()).isEqualTo(1);
  }

  @Test
  void lengthMismatchFailsAndLeavesNothing() throws IOException {
    String location = io.write("a.parquet", bytes(100, 1));
    FileCache cache = cache(1000);

    assertThatThrownBy(() -> cache.acquire(io, Map.of(location, 99L)))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SQL_FAILED))
        .hasMessage(
            "Cannot cache "
                + location
                + ": the table metadata says 99 bytes but more than 99 bytes were read; the file"
                + " changed or is damaged");
    assertThatThrownBy(() -> cache.acquire(io, Map.of(location, 101L)))
        .isInstanceOf(FloeException.class)
        .hasMessageContaining("says 101 bytes but 100 bytes were read");

    assertThat(cache.files()).isZero();
    assertThat(cache.bytes()).isZero();
    assertThat(partialFiles(cache)).isEmpty();
    try (FileCache.Lease lease = cache.acquire(io, Map.of(location, 100L))) {
      assertThat(lease.path(location)).hasBinaryContent(bytes(100, 1));
    }
  }

  @Test
  void downloadFailureNamesTheLocationAndKeepsTheCause() throws IOException {
    String present = io.write("present.parquet", bytes(100, 1));
    String missing = io.location("missing.parquet");
    FileCache cache = cache(1000);

    assertThatThrownBy(() -> cache.acquire(io, Map.of(present, 100L, missing, 100L)))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SQL_FAILED))
        .hasMessageStartingWith("Cannot download " + missing + " into the file cache: ")
        .hasCauseInstanceOf(org.apache.iceberg.exceptions.NotFoundException.class);

    // The file that did download stays cached, released.
    assertThat(cache.files()).isEqualTo(1);
    assertThat(cache.bytes()).isEqualTo(100);
    assertThat(partialFiles(cache)).isEmpty();
  }

  @Test
  void leaseKnowsOnlyItsLocations() throws IOException {
    String location = io.write("a.parquet", bytes(10, 1));
    FileCache cache = cache(1000);
    try (FileCache.Lease lease = cache.acquire(io, Map.of(location, 10L))) {
      assertThatThrownBy(() -> lease.path(io.location("b.parquet")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("b.parquet");
    }
  }

  @Test
  void leftoversOfEarlierProcessesAreRemoved() throws IOException {
    Path leftover = Files.createDirectories(cacheRoot.resolve("cache-earlier"));
    Files.write(leftover.resolve("download-1.part"), bytes(10, 1));
    Files.write(leftover.resolve(FileCache.fileName("mem://bucket/x.parquet")), bytes(10, 2));
    Path unrelated = Files.write(cacheRoot.resolve("notes.txt"), bytes(3, 3));
    FileCache running = cache(1000);
    String location = io.write("a.parquet", bytes(10, 1));
    Path cached;
    try (FileCache.Lease lease = running.acquire(io, Map.of(location, 10L))) {
      cached = lease.path(location);
    }

    FileCache second = cache(1000);

    assertThat(leftover).doesNotExist();
    assertThat(unrelated).exists();
    assertThat(cached).exists(); // a running cache keeps its files
    assertThat(second.directory()).isNotEqualTo(running.directory()).isDirectory();
  }

  @Test
  void closeRemovesTheFiles() throws IOException {
    String location = io.write("a.parquet", bytes(10, 1));
    FileCache cache = cache(1000);
    cache.acquire(io, Map.of(location, 10L)).close();

    cache.close();

    assertThat(cache.directory()).doesNotExist();
    assertThatThrownBy(() -> cache.acquire(io, Map.of(location, 10L)))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void fileNameIsAHashOfTheLocationWithItsExtension() {
    assertThat(FileCache.fileName("s3://bucket/t/data/00000-0-a.parquet"))
        .matches("[0-9a-f]{64}\\.parquet")
        .isNotEqualTo(FileCache.fileName("s3://bucket/u/data/00000-0-a.parquet"));
    assertThat(FileCache.fileName("s3://bucket/t/data/file")).matches("[0-9a-f]{64}");
    assertThat(FileCache.fileName("s3://bucket/t.d/file")).matches("[0-9a-f]{64}");
  }

  private static List<Path> partialFiles(FileCache cache) throws IOException {
    try (Stream<Path> files = Files.list(cache.directory())) {
      return files.filter(file -> file.getFileName().toString().endsWith(".part")).toList();
    }
  }

  /** Deterministic file contents. */
  private static byte[] bytes(int length, int seed) {
    byte[] bytes = new byte[length];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  /**
   * An Iceberg FileIO that stands in for object storage: locations {@code mem://bucket/<name>} are
   * backed by local files. It counts opened files and can hold them open until released.
   */
  private static final class RemoteFileIO implements FileIO {
    private static final long serialVersionUID = 1L;
    private static final String PREFIX = "mem://bucket/";

    private final Path root;
    private final LocalFileIO local = new LocalFileIO();
    private final Map<String, AtomicInteger> opens = new ConcurrentHashMap<>();
    final CountDownLatch opening = new CountDownLatch(1);
    private volatile CountDownLatch gate = new CountDownLatch(0);

    RemoteFileIO(Path root) {
      this.root = root;
    }

    String location(String name) {
      return PREFIX + name;
    }

    String write(String name, byte[] contents) throws IOException {
      Path file = root.resolve(name);
      Files.createDirectories(file.getParent());
      Files.write(file, contents);
      return location(name);
    }

    int opens(String location) {
      AtomicInteger count = opens.get(location);
      return count == null ? 0 : count.get();
    }

    int opens() {
      return opens.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    void holdOpens() {
      gate = new CountDownLatch(1);
    }

    void releaseOpens() {
      gate.countDown();
    }

    private Path path(String location) {
      if (!location.startsWith(PREFIX)) {
        throw new IllegalArgumentException("not a mem:// location: " + location);
      }
      return root.resolve(location.substring(PREFIX.length()));
    }

    @Override
    public InputFile newInputFile(String location) {
      opens.computeIfAbsent(location, key -> new AtomicInteger()).incrementAndGet();
      opening.countDown();
      try {
        if (!gate.await(30, TimeUnit.SECONDS)) {
          throw new IllegalStateException("the test did not release the download");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      return local.newInputFile(path(location).toString());
    }

    @Override
    public OutputFile newOutputFile(String location) {
      return local.newOutputFile(path(location).toString());
    }

    @Override
    public void deleteFile(String location) {
      local.deleteFile(path(location).toString());
    }
  }
}
