package io.floe.ingest.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HttpIngestLogTest {
  @TempDir Path directory;

  private static List<byte[]> records(String... texts) {
    return Arrays.stream(texts).map(text -> text.getBytes(StandardCharsets.UTF_8)).toList();
  }

  private static List<String> texts(List<HttpIngestLog.Batch> batches) {
    List<String> texts = new ArrayList<>();
    for (HttpIngestLog.Batch batch : batches) {
      batch.records().forEach(record -> texts.add(new String(record, StandardCharsets.UTF_8)));
    }
    return texts;
  }

  @Test
  void appendsReadsBackAndKeepsEverythingAcrossARestart() {
    try (HttpIngestLog log = HttpIngestLog.open(directory)) {
      HttpIngestLog.AppendResult first = log.append(null, records("{\"a\":1}", "{\"a\":2}"), 10);
      HttpIngestLog.AppendResult second = log.append("b-1", records("{\"a\":3}"), 20);
      assertThat(first.batch()).isEqualTo(new HttpIngestLog.Appended(1, 2, null));
      assertThat(first.duplicate()).isFalse();
      assertThat(second.batch()).isEqualTo(new HttpIngestLog.Appended(3, 3, "b-1"));
      assertThat(log.nextSequence()).isEqualTo(4);
      assertThat(texts(log.readAfter(0, 100)))
          .containsExactly("{\"a\":1}", "{\"a\":2}", "{\"a\":3}");
      // Whole batches: the one holding sequence 2 comes whole.
      List<HttpIngestLog.Batch> after1 = log.readAfter(1, 100);
      assertThat(after1).extracting(HttpIngestLog.Batch::firstSequence).containsExactly(1L, 3L);
      assertThat(log.readAfter(2, 100))
          .singleElement()
          .satisfies(
              batch -> {
                assertThat(batch.batchId()).isEqualTo("b-1");
                assertThat(batch.receivedMillis()).isEqualTo(20);
              });
      assertThat(log.readAfter(3, 100)).isEmpty();
      // At least one batch, then as many as fit.
      assertThat(log.readAfter(0, 1)).hasSize(1);
      assertThat(log.readAfter(0, 100, 1)).hasSize(1);
      assertThat(log.readAfter(0, 100, 10_000)).hasSize(2);
    }
    try (HttpIngestLog log = HttpIngestLog.open(directory)) {
      assertThat(log.nextSequence()).isEqualTo(4);
      assertThat(log.firstSequence()).isEqualTo(1);
      assertThat(texts(log.readAfter(0, 100)))
          .containsExactly("{\"a\":1}", "{\"a\":2}", "{\"a\":3}");
      assertThat(log.append(null, records("x"), 30).batch().firstSequence()).isEqualTo(4);
    }
  }

  @Test
  void truncatesWholeSegmentsUpToTheAcknowledgedSequence() {
    try (HttpIngestLog log = HttpIngestLog.open(directory, 64)) {
      for (int i = 1; i <= 5; i++) {
        // Each entry is larger than half a segment: one entry per segment.
        log.append("b" + i, records("record-" + i + "-" + "x".repeat(20)), i);
      }
      assertThat(log.segmentCount()).isEqualTo(5);
      log.truncate(2);
      assertThat(log.segmentCount()).isEqualTo(3);
      assertThat(log.firstSequence()).isEqualTo(3);
      assertThat(log.readAfter(0, 100))
          .extracting(HttpIngestLog.Batch::firstSequence)
          .containsExactly(3L, 4L, 5L);
      // The segment being appended to stays, even when all of it is acknowledged.
      log.truncate(5);
      assertThat(log.segmentCount()).isEqualTo(1);
      assertThat(log.nextSequence()).isEqualTo(6);
    }
    try (HttpIngestLog log = HttpIngestLog.open(directory, 64)) {
      assertThat(log.nextSequence()).isEqualTo(6);
      assertThat(log.firstSequence()).isEqualTo(5);
      // Batches of deleted segments are still known by id.
      assertThat(log.find("b1")).hasValue(new HttpIngestLog.Appended(1, 1, "b1"));
      HttpIngestLog.AppendResult again = log.append("b2", records("again"), 99);
      assertThat(again.duplicate()).isTrue();
      assertThat(again.batch()).isEqualTo(new HttpIngestLog.Appended(2, 2, "b2"));
      assertThat(log.nextSequence()).isEqualTo(6);
    }
  }

  @Test
  void dropsATornLastEntryAndKeepsTheRest() throws IOException {
    try (HttpIngestLog log = HttpIngestLog.open(directory)) {
      log.append("first", records("{\"n\":1}", "{\"n\":2}"), 1);
      log.append("second", records("{\"n\":3}"), 2);
      log.append("torn", records("{\"n\":4}", "{\"n\":5}"), 3);
    }
    Path segment = onlySegment();
    long size = Files.size(segment);
    try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.WRITE)) {
      channel.truncate(size - 3); // a crash in the middle of the last append
    }
    try (HttpIngestLog log = HttpIngestLog.open(directory)) {
      assertThat(texts(log.readAfter(0, 100)))
          .containsExactly("{\"n\":1}", "{\"n\":2}", "{\"n\":3}");
      assertThat(log.nextSequence()).isEqualTo(4);
      assertThat(log.find("torn")).isEmpty();
      // The retried batch is appended anew, where the torn one was.
      HttpIngestLog.AppendResult retried = log.append("torn", records("{\"n\":4}", "{\"n\":5}"), 4);
      assertThat(retried.duplicate()).isFalse();
      assertThat(retried.batch()).isEqualTo(new HttpIngestLog.Appended(4, 5, "torn"));
    }
    try (HttpIngestLog log = HttpIngestLog.open(directory)) {
      assertThat(texts(log.readAfter(0, 100)))
          .containsExactly("{\"n\":1}", "{\"n\":2}", "{\"n\":3}", "{\"n\":4}", "{\"n\":5}");
    }
  }

  @Test
  void dropsATornEntryWhoseBytesAreGarbled() throws IOException {
    try (HttpIngestLog log = HttpIngestLog.open(directory)) {
      log.append(null, records("kept"), 1);
      log.append(null, records("garbled"), 2);
    }
    Path segment = onlySegment();
    byte[] bytes = Files.readAllBytes(segment);
    bytes[bytes.length - 2] ^= 0x55; // a write that reached the disk only in part
    Files.write(segment, bytes);
    try (HttpIngestLog log = HttpIngestLog.open(directory)) {
      assertThat(texts(log.readAfter(0, 100))).containsExactly("kept");
      assertThat(log.nextSequence()).isEqualTo(2);
    }
  }

  @Test
  void refusesADamagedSegmentThatIsNotTheLast() throws IOException {
    try (HttpIngestLog log = HttpIngestLog.open(directory, 64)) {
      log.append(null, records("a".repeat(40)), 1);
      log.append(null, records("b".repeat(40)), 2);
    }
    Path first;
    try (Stream<Path> files = Files.list(directory)) {
      first = files.filter(f -> f.toString().endsWith(".log")).sorted().findFirst().orElseThrow();
    }
    try (FileChannel channel = FileChannel.open(first, StandardOpenOption.WRITE)) {
      channel.truncate(Files.size(first) - 1);
    }
    assertThatThrownBy(() -> HttpIngestLog.open(directory, 64))
        .isInstanceOfSatisfying(
            FloeException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.SOURCE_DATA_INVALID);
              assertThat(e.getMessage()).contains(first.toString()).contains("move the directory");
            });
  }

  @Test
  void answersARetriedBatchIdFromMemoryAcrossRestarts() {
    try (HttpIngestLog log = HttpIngestLog.open(directory)) {
      log.append("a", records("1", "2"), 1);
      log.append("b", records("3"), 1);
      HttpIngestLog.AppendResult retry = log.append("a", records("1", "2"), 2);
      assertThat(retry.duplicate()).isTrue();
      assertThat(retry.batch()).isEqualTo(new HttpIngestLog.Appended(1, 2, "a"));
      assertThat(log.nextSequence()).isEqualTo(4);
    }
    try (HttpIngestLog log = HttpIngestLog.open(directory)) {
      HttpIngestLog.AppendResult retry = log.append("b", records("3"), 3);
      assertThat(retry.duplicate()).isTrue();
      assertThat(retry.batch()).isEqualTo(new HttpIngestLog.Appended(3, 3, "b"));
      assertThat(log.append("c", records("4"), 3).duplicate()).isFalse();
      assertThat(texts(log.readAfter(0, 100))).containsExactly("1", "2", "3", "4");
    }
  }

  @Test
  void remembersTheLastBatchIdsBeyondTheLogAndAllOfThoseInIt() {
    int remembered = 20;
    int batches = 100;
    try (HttpIngestLog log = HttpIngestLog.open(directory, 256, remembered)) {
      for (int i = 0; i < batches; i++) {
        log.append("id-" + i, records("r"), i);
      }
      // Nothing is acknowledged: every batch is in the log, and every id is remembered.
      assertThat(log.find("id-0")).isPresent();
      log.truncate(batches);
      assertThat(log.find("id-0")).isEmpty();
      assertThat(log.find("id-" + (batches - remembered))).isPresent();
    }
    try (HttpIngestLog log = HttpIngestLog.open(directory, 256, remembered)) {
      assertThat(log.find("id-0")).isEmpty();
      assertThat(log.find("id-" + (batches - remembered))).isPresent();
      assertThat(log.find("id-" + (batches - 1))).isPresent();
      assertThat(log.append("id-" + (batches - remembered), records("r"), 0).duplicate()).isTrue();
      assertThat(log.nextSequence()).isEqualTo(batches + 1L);
    }
  }

  @Test
  void givesConcurrentAppendsUniqueGapFreeSequences() throws Exception {
    int threads = 8;
    int perThread = 50;
    List<HttpIngestLog.Appended> appended = Collections.synchronizedList(new ArrayList<>());
    try (HttpIngestLog log = HttpIngestLog.open(directory, 2048)) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int thread = t;
          futures.add(
              pool.submit(
                  () -> {
                    for (int i = 0; i < perThread; i++) {
                      int size = 1 + (i % 3);
                      List<byte[]> batch = new ArrayList<>();
                      for (int r = 0; r < size; r++) {
                        batch.add(
                            ("t" + thread + "-" + i + "-" + r).getBytes(StandardCharsets.UTF_8));
                      }
                      appended.add(log.append("t" + thread + "-" + i, batch, i).batch());
                    }
                  }));
        }
        for (Future<?> future : futures) {
          future.get();
        }
      } finally {
        pool.shutdown();
      }
      List<HttpIngestLog.Appended> sorted = new ArrayList<>(appended);
      sorted.sort((a, b) -> Long.compare(a.firstSequence(), b.firstSequence()));
      long next = 1;
      for (HttpIngestLog.Appended batch : sorted) {
        assertThat(batch.firstSequence()).isEqualTo(next);
        next = batch.lastSequence() + 1;
      }
      assertThat(log.nextSequence()).isEqualTo(next);
      assertThat(log.segmentCount()).isGreaterThan(1);
    }
    try (HttpIngestLog log = HttpIngestLog.open(directory, 2048)) {
      List<HttpIngestLog.Batch> read = log.readAfter(0, Integer.MAX_VALUE);
      assertThat(read).hasSize(threads * perThread);
      for (HttpIngestLog.Batch batch : read) {
        String id = batch.batchId();
        assertThat(new String(batch.records().get(0), StandardCharsets.UTF_8)).isEqualTo(id + "-0");
      }
    }
  }

  @Test
  void refusesADirectoryItCannotCreateSayingWhichAndWhatToDo() throws IOException {
    Files.writeString(directory.resolve("streams"), "a file, not a directory");
    Path logDirectory = directory.resolve("streams").resolve("clicks");
    assertThatThrownBy(() -> HttpIngestLog.open(logDirectory))
        .isInstanceOfSatisfying(
            FloeException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.CONFIG_INVALID);
              assertThat(e.getMessage())
                  .startsWith("Cannot open the ingest log in " + logDirectory)
                  .contains("Not a directory")
                  .contains("writable");
            });
  }

  @Test
  void refusesADirectoryItCannotWrite() throws IOException {
    Path readOnly = Files.createDirectory(directory.resolve("read-only"));
    Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-xr-xr-x"));
    try {
      assumeFalse(Files.isWritable(readOnly), "root may write every directory");
      Path logDirectory = readOnly.resolve("clicks");
      assertThatThrownBy(() -> HttpIngestLog.open(logDirectory))
          .isInstanceOfSatisfying(
              FloeException.class,
              e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.CONFIG_INVALID);
                assertThat(e.getMessage()).contains(logDirectory.toString()).contains("writable");
              });
    } finally {
      Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  @Test
  void measuresTheLatencyOfDurableAppends() {
    byte[] record = new byte[1024];
    Arrays.fill(record, (byte) 'x');
    List<byte[]> batch = Collections.nCopies(100, record);
    int rounds = 200;
    long[] nanos = new long[rounds];
    try (HttpIngestLog log = HttpIngestLog.open(directory)) {
      for (int i = 0; i < rounds; i++) {
        long start = System.nanoTime();
        log.append(null, batch, i);
        nanos[i] = System.nanoTime() - start;
      }
    }
    Arrays.sort(nanos);
    System.out.printf(
        "HttpIngestLog append (100 records of 1 KiB, fsync per batch), %d batches: p50 %.2f ms,"
            + " p99 %.2f ms, max %.2f ms%n",
        rounds, nanos[rounds / 2] / 1e6, nanos[rounds * 99 / 100] / 1e6, nanos[rounds - 1] / 1e6);
    assertThat(nanos[0]).isPositive();
  }

  private Path onlySegment() throws IOException {
    try (Stream<Path> files = Files.list(directory)) {
      List<Path> segments = files.filter(f -> f.toString().endsWith(".log")).toList();
      assertThat(segments).hasSize(1);
      return segments.get(0);
    }
  }
}
