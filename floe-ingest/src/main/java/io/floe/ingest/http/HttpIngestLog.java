package io.floe.ingest.http;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local write-ahead log of an HTTP stream: every accepted batch of records is appended and
 * forced to disk before its request is answered, and stays until the pipeline acknowledges that its
 * tables committed it; after a crash, the pipeline reads back what its tables do not hold yet.
 *
 * <p>Each record gets a sequence number: global, increasing, without gaps; a batch's records get
 * consecutive ones. The log is a directory of segment files named by the sequence number of their
 * first record ({@code 00000000000000000001.log}); a segment is closed when it reaches its size
 * limit and deleted once everything in it is acknowledged ({@link #truncate}). A segment is a run
 * of entries, one per batch: {@code length (int) | CRC32 of the payload (int) | payload}, the
 * payload being {@code first sequence (long) | received millis (long) | batch id length (short, -1
 * for none) | batch id (US-ASCII) | record count (int) | (record length (int) | record)*}. A crash
 * during an append leaves a torn last entry, which opening detects by its length or CRC and drops
 * (its request was never answered, so its client sends it again).
 *
 * <p>The log remembers the ids of the last {@value #REMEMBERED_BATCHES} batches, and of every batch
 * still in the log, with their sequence numbers, so that a batch sent again is answered from memory
 * instead of being appended twice. The ids are in the entries, and in the side file {@value
 * #BATCH_IDS_FILE}, written before segments are deleted.
 *
 * <p>Thread-safe; one process may open a directory at a time.
 */
public final class HttpIngestLog implements AutoCloseable {
  /** How many batch ids are remembered beyond those still in the log. */
  public static final int REMEMBERED_BATCHES = 100_000;

  /** The default size at which a segment is closed and a new one begun. */
  public static final long DEFAULT_SEGMENT_BYTES = 64L * 1024 * 1024;

  static final String BATCH_IDS_FILE = "batch-ids";
  private static final String SEGMENT_SUFFIX = ".log";
  private static final int HEADER_BYTES = 8;
  private static final int BATCH_IDS_MAGIC = 0x464c4231; // "FLB1"
  private static final int MAX_ENTRY_BYTES = Integer.MAX_VALUE - 64;
  private static final Logger LOG = LoggerFactory.getLogger(HttpIngestLog.class);

  /** Where a batch's records are: their sequence numbers and, when it has one, its batch id. */
  public record Appended(long firstSequence, long lastSequence, String batchId) {
    /** How many records the batch has. */
    public int count() {
      return (int) (lastSequence - firstSequence + 1);
    }
  }

  /** The outcome of {@link #append}: where the batch is, and whether it was there already. */
  public record AppendResult(Appended batch, boolean duplicate) {
    public AppendResult {
      requireNonNull(batch, "batch is null");
    }
  }

  /**
   * A batch read back from the log.
   *
   * @param firstSequence the sequence number of {@code records.get(0)}
   * @param batchId the client's batch id, or null
   * @param receivedMillis when it was appended (epoch milliseconds)
   */
  public record Batch(
      long firstSequence, String batchId, long receivedMillis, List<byte[]> records) {
    public Batch {
      records = List.copyOf(records);
    }

    public long lastSequence() {
      return firstSequence + records.size() - 1;
    }
  }

  /** Where an entry is in its segment. */
  private record EntryLocation(Segment segment, long offset, int length, Appended batch) {}

  /** One segment file; the last one is open for appending. */
  private static final class Segment {
    final long firstSequence;
    final Path file;
    final FileChannel channel;
    long size;

    Segment(long firstSequence, Path file, FileChannel channel, long size) {
      this.firstSequence = firstSequence;
      this.file = file;
      this.channel = channel;
      this.size = size;
    }
  }

  private final Path directory;
  private final long segmentBytes;
  private final ReentrantLock lock = new ReentrantLock();
  private final List<Segment> segments = new ArrayList<>();

  /** Every entry in the log by its first sequence number. */
  private final NavigableMap<Long, EntryLocation> entries = new TreeMap<>();

  /** Remembered batches by id, oldest first. */
  private final LinkedHashMap<String, Appended> batchIds = new LinkedHashMap<>();

  private long nextSequence;
  private boolean closed;

  private final int rememberedBatches;

  private HttpIngestLog(Path directory, long segmentBytes, int rememberedBatches) {
    this.directory = directory;
    this.segmentBytes = segmentBytes;
    this.rememberedBatches = rememberedBatches;
  }

  /** Opens the log in {@code directory}, creating it when missing, with 64 MiB segments. */
  public static HttpIngestLog open(Path directory) {
    return open(directory, DEFAULT_SEGMENT_BYTES);
  }

  /**
   * Opens the log in {@code directory}, creating it when missing; drops a torn last entry.
   *
   * @param segmentBytes the size at which a segment is closed and a new one begun
   * @throws FloeException when the directory cannot be created or written, or a segment other than
   *     the last is damaged
   */
  public static HttpIngestLog open(Path directory, long segmentBytes) {
    return open(directory, segmentBytes, REMEMBERED_BATCHES);
  }

  /** Opens the log remembering {@code rememberedBatches} batch ids beyond those in the log. */
  static HttpIngestLog open(Path directory, long segmentBytes, int rememberedBatches) {
    requireNonNull(directory, "directory is null");
    if (segmentBytes < 1) {
      throw new IllegalArgumentException("segmentBytes is not positive: " + segmentBytes);
    }
    if (rememberedBatches < 0) {
      throw new IllegalArgumentException("rememberedBatches is negative: " + rememberedBatches);
    }
    HttpIngestLog log = new HttpIngestLog(directory, segmentBytes, rememberedBatches);
    try {
      log.load();
      return log;
    } catch (IOException e) {
      log.closeChannels();
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Cannot open the ingest log in "
              + directory
              + ": "
              + describe(e)
              + "; make the directory (under warehouse.state-directory) writable by the user Floe"
              + " runs as, or give Floe another state directory",
          e);
    } catch (RuntimeException e) {
      log.closeChannels();
      throw e;
    }
  }

  private static String describe(IOException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied on " + e.getMessage();
    }
    if (e instanceof FileAlreadyExistsException) {
      return "a file is in the way of a directory: " + e.getMessage();
    }
    if (e instanceof NoSuchFileException) {
      return "no such file or directory " + e.getMessage();
    }
    if (e instanceof FileSystemException failure && failure.getReason() != null) {
      return failure.getFile() + ": " + failure.getReason();
    }
    return e.toString();
  }

  private void load() throws IOException {
    Files.createDirectories(directory);
    if (!Files.isWritable(directory)) {
      throw new AccessDeniedException(directory.toString());
    }
    readBatchIds();
    List<Path> files;
    try (Stream<Path> listing = Files.list(directory)) {
      files =
          listing
              .filter(file -> file.getFileName().toString().endsWith(SEGMENT_SUFFIX))
              .sorted()
              .toList();
    }
    nextSequence = 1;
    for (int i = 0; i < files.size(); i++) {
      Path file = files.get(i);
      long first = segmentSequence(file);
      boolean last = i == files.size() - 1;
      FileChannel channel =
          FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
      Segment segment = new Segment(first, file, channel, 0);
      segments.add(segment);
      if (first < nextSequence && !entries.isEmpty()) {
        throw damaged(file, 0, "it starts at sequence " + first + " within the previous segment");
      }
      nextSequence = Math.max(nextSequence, first);
      scan(segment, last);
    }
    if (segments.isEmpty()) {
      long first = batchIds.values().stream().mapToLong(Appended::lastSequence).max().orElse(0);
      newSegment(first + 1);
    }
    // The side file may remember more than the limit (it keeps them when written); trim.
    trimBatchIds();
    LOG.debug(
        "Opened the ingest log in {}: {} segments, {} batches, next sequence {}",
        directory,
        segments.size(),
        entries.size(),
        nextSequence);
  }

  private static long segmentSequence(Path file) throws IOException {
    String name = file.getFileName().toString();
    try {
      return Long.parseLong(name.substring(0, name.length() - SEGMENT_SUFFIX.length()));
    } catch (NumberFormatException e) {
      throw new IOException(
          "the file " + file + " is not a segment of the ingest log; move it elsewhere", e);
    }
  }

  /** Reads the entries of a segment into the index; truncates a torn tail of the last segment. */
  private void scan(Segment segment, boolean last) throws IOException {
    long size = segment.channel.size();
    long offset = 0;
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
    while (offset < size) {
      String problem = null;
      int length = 0;
      byte[] payload = null;
      if (size - offset < HEADER_BYTES) {
        problem = "an entry header is incomplete";
      } else {
        header.clear();
        readFully(segment.channel, header, offset);
        header.flip();
        length = header.getInt();
        int crc = header.getInt();
        if (length < 0 || length > size - offset - HEADER_BYTES) {
          problem = "an entry of " + length + " bytes goes past the end of the file";
        } else {
          ByteBuffer body = ByteBuffer.allocate(length);
          readFully(segment.channel, body, offset + HEADER_BYTES);
          payload = body.array();
          if (crc32(payload) != crc) {
            problem = "an entry's checksum does not match";
          }
        }
      }
      if (problem == null) {
        Batch batch;
        try {
          batch = decode(payload, true);
        } catch (IOException | RuntimeException e) {
          throw damaged(
              segment.file, offset, "an entry that matches its checksum is invalid: " + e);
        }
        if (batch.firstSequence() != nextSequence) {
          throw damaged(
              segment.file,
              offset,
              "the entry of sequence "
                  + batch.firstSequence()
                  + " follows sequence "
                  + (nextSequence - 1));
        }
        index(segment, offset, HEADER_BYTES + length, batch);
        offset += HEADER_BYTES + length;
        continue;
      }
      if (!last) {
        throw damaged(segment.file, offset, problem);
      }
      LOG.warn(
          "The ingest log {} ends with an incomplete entry at byte {} ({}), left by a crash while"
              + " a request was appended; dropping its {} bytes (its request was not answered, so"
              + " its client sends it again)",
          segment.file,
          offset,
          problem,
          size - offset);
      segment.channel.truncate(offset);
      segment.channel.force(true);
      break;
    }
    segment.size = offset;
  }

  private static FloeException damaged(Path file, long offset, String problem) {
    return new FloeException(
        ErrorCode.SOURCE_DATA_INVALID,
        "Cannot read the ingest log "
            + file
            + " at byte "
            + offset
            + ": "
            + problem
            + ", which no crash leaves (is the disk failing?); move the directory aside to start"
            + " with an empty log, losing the records it held that the table does not");
  }

  private void index(Segment segment, long offset, int length, Batch batch) {
    Appended appended = new Appended(batch.firstSequence(), batch.lastSequence(), batch.batchId());
    entries.put(batch.firstSequence(), new EntryLocation(segment, offset, length, appended));
    nextSequence = appended.lastSequence() + 1;
    if (batch.batchId() != null) {
      batchIds.remove(batch.batchId());
      batchIds.put(batch.batchId(), appended);
    }
  }

  /**
   * Appends a batch and forces it to disk, unless a batch with the same id is remembered: then
   * answers where that one is. Returns once the records are durable.
   *
   * @param batchId the client's id of the batch, or null
   * @param records at least one record
   * @param receivedMillis when the batch arrived (epoch milliseconds)
   * @throws FloeException when writing to disk fails; nothing was then appended
   */
  public AppendResult append(String batchId, List<byte[]> records, long receivedMillis) {
    requireNonNull(records, "records is null");
    if (records.isEmpty()) {
      throw new IllegalArgumentException("A batch needs at least one record");
    }
    if (batchId != null && batchId.length() > Short.MAX_VALUE) {
      throw new IllegalArgumentException("batch id is too long: " + batchId.length());
    }
    lock.lock();
    try {
      checkOpen();
      if (batchId != null) {
        Appended seen = batchIds.get(batchId);
        if (seen != null) {
          return new AppendResult(seen, true);
        }
      }
      byte[] payload = encode(nextSequence, batchId, receivedMillis, records);
      ByteBuffer entry = ByteBuffer.allocate(HEADER_BYTES + payload.length);
      entry.putInt(payload.length).putInt(crc32(payload)).put(payload).flip();
      Segment segment = active();
      if (segment.size > 0 && segment.size + entry.remaining() > segmentBytes) {
        try {
          segment = newSegment(nextSequence);
        } catch (IOException e) {
          throw new FloeException(
              ErrorCode.SOURCE_FAILED,
              "Cannot start a new segment of the ingest log in "
                  + directory
                  + ": "
                  + e
                  + "; check the disk (space, permissions) of the state directory",
              e);
        }
      }
      long offset = segment.size;
      try {
        while (entry.hasRemaining()) {
          segment.channel.write(entry, offset + entry.position());
        }
        segment.channel.force(false);
      } catch (IOException e) {
        // Whatever part of the entry reached the file is cut off, so that the next append
        // starts at a clean end; a failure of that too leaves a torn tail that opening drops.
        try {
          segment.channel.truncate(offset);
        } catch (IOException truncation) {
          e.addSuppressed(truncation);
        }
        throw new FloeException(
            ErrorCode.SOURCE_FAILED,
            "Cannot append "
                + records.size()
                + " records to the ingest log "
                + segment.file
                + ": "
                + e
                + "; check the disk (space, permissions) of the state directory",
            e);
      }
      segment.size = offset + entry.limit();
      Appended appended = new Appended(nextSequence, nextSequence + records.size() - 1, batchId);
      entries.put(
          appended.firstSequence(), new EntryLocation(segment, offset, entry.limit(), appended));
      nextSequence = appended.lastSequence() + 1;
      if (batchId != null) {
        batchIds.put(batchId, appended);
        trimBatchIds();
      }
      LOG.trace("Appended {} to {}", appended, segment.file);
      return new AppendResult(appended, false);
    } finally {
      lock.unlock();
    }
  }

  /** Where the batch with {@code batchId} is, if the log remembers it. */
  public Optional<Appended> find(String batchId) {
    requireNonNull(batchId, "batchId is null");
    lock.lock();
    try {
      return Optional.ofNullable(batchIds.get(batchId));
    } finally {
      lock.unlock();
    }
  }

  /**
   * The batches in the log with records after {@code sequence}, in order, whole (the first may hold
   * records at or before it), as many as make up about {@code maxRecords} records: at least one
   * batch when there is one.
   */
  public List<Batch> readAfter(long sequence, int maxRecords) {
    return readAfter(sequence, maxRecords, Long.MAX_VALUE);
  }

  /**
   * The batches in the log with records after {@code sequence}, as {@link #readAfter(long, int)},
   * and only as many as fit in {@code maxBytes} (but at least one).
   */
  public List<Batch> readAfter(long sequence, int maxRecords, long maxBytes) {
    lock.lock();
    try {
      checkOpen();
      List<Batch> batches = new ArrayList<>();
      Long start = entries.floorKey(sequence + 1);
      NavigableMap<Long, EntryLocation> from =
          start == null ? entries : entries.tailMap(start, true);
      int records = 0;
      long bytes = 0;
      for (EntryLocation location : from.values()) {
        if (location.batch().lastSequence() <= sequence) {
          continue;
        }
        if (!batches.isEmpty()
            && (records + location.batch().count() > maxRecords
                || bytes + location.length() > maxBytes)) {
          break;
        }
        batches.add(read(location));
        records += location.batch().count();
        bytes += location.length();
      }
      return batches;
    } catch (IOException e) {
      throw new FloeException(
          ErrorCode.SOURCE_FAILED,
          "Cannot read the ingest log in "
              + directory
              + " after sequence "
              + sequence
              + ": "
              + e
              + "; check the disk of the state directory",
          e);
    } finally {
      lock.unlock();
    }
  }

  private Batch read(EntryLocation location) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(location.length());
    readFully(location.segment().channel, buffer, location.offset());
    byte[] entry = buffer.array();
    byte[] payload = new byte[entry.length - HEADER_BYTES];
    System.arraycopy(entry, HEADER_BYTES, payload, 0, payload.length);
    return decode(payload, false);
  }

  /**
   * Deletes the segments whose records are all at or before {@code sequence} (acknowledged: the
   * tables hold them), except the one being appended to; first saves the remembered batch ids.
   */
  public void truncate(long sequence) {
    lock.lock();
    try {
      checkOpen();
      List<Segment> deletable = new ArrayList<>();
      for (int i = 0; i + 1 < segments.size(); i++) {
        // A segment ends where the next begins.
        if (segments.get(i + 1).firstSequence - 1 <= sequence) {
          deletable.add(segments.get(i));
        } else {
          break;
        }
      }
      if (deletable.isEmpty()) {
        return;
      }
      writeBatchIds();
      for (Segment segment : deletable) {
        segment.channel.close();
        Files.delete(segment.file);
        segments.remove(segment);
        entries.values().removeIf(location -> location.segment() == segment);
      }
      syncDirectory();
      trimBatchIds();
      LOG.debug(
          "Deleted {} segments of the ingest log in {} up to sequence {}",
          deletable.size(),
          directory,
          sequence);
    } catch (IOException e) {
      throw new FloeException(
          ErrorCode.SOURCE_FAILED,
          "Cannot delete acknowledged segments of the ingest log in "
              + directory
              + ": "
              + e
              + "; check the disk of the state directory",
          e);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Makes the next sequence number at least {@code sequence + 1}: when a table holds records past
   * the end of the log (the log was moved aside), new records must not reuse their numbers.
   */
  public void advancePast(long sequence) {
    lock.lock();
    try {
      checkOpen();
      if (sequence < nextSequence) {
        return;
      }
      Segment active = active();
      if (active.size == 0) {
        active.channel.close();
        Files.delete(active.file);
        segments.remove(active);
      }
      newSegment(sequence + 1);
    } catch (IOException e) {
      throw new FloeException(
          ErrorCode.SOURCE_FAILED,
          "Cannot start a segment of the ingest log in " + directory + ": " + e,
          e);
    } finally {
      lock.unlock();
    }
  }

  /** The sequence number the next record gets. */
  public long nextSequence() {
    lock.lock();
    try {
      return nextSequence;
    } finally {
      lock.unlock();
    }
  }

  /** The sequence number of the oldest record in the log, or {@link #nextSequence} when empty. */
  public long firstSequence() {
    lock.lock();
    try {
      return entries.isEmpty() ? nextSequence : entries.firstKey();
    } finally {
      lock.unlock();
    }
  }

  /** The directory of the log. */
  public Path directory() {
    return directory;
  }

  /** How many segment files the log has. */
  int segmentCount() {
    lock.lock();
    try {
      return segments.size();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    lock.lock();
    try {
      if (!closed) {
        closed = true;
        closeChannels();
      }
    } finally {
      lock.unlock();
    }
  }

  private void closeChannels() {
    IOException failure = null;
    for (Segment segment : segments) {
      try {
        segment.channel.close();
      } catch (IOException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw new UncheckedIOException("Cannot close the ingest log in " + directory, failure);
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("The ingest log in " + directory + " is closed");
    }
  }

  private Segment active() {
    return segments.get(segments.size() - 1);
  }

  private Segment newSegment(long firstSequence) throws IOException {
    Path file =
        directory.resolve(String.format(Locale.ROOT, "%020d", firstSequence) + SEGMENT_SUFFIX);
    FileChannel channel =
        FileChannel.open(
            file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
    Segment segment = new Segment(firstSequence, file, channel, 0);
    segments.add(segment);
    nextSequence = Math.max(nextSequence, firstSequence);
    syncDirectory();
    return segment;
  }

  /** Forgets the oldest batch ids beyond the limit, keeping those of batches still in the log. */
  private void trimBatchIds() {
    long firstInLog = entries.isEmpty() ? nextSequence : entries.firstKey();
    var oldest = batchIds.entrySet().iterator();
    while (batchIds.size() > rememberedBatches && oldest.hasNext()) {
      Map.Entry<String, Appended> entry = oldest.next();
      if (entry.getValue().lastSequence() >= firstInLog) {
        break;
      }
      oldest.remove();
    }
  }

  private void readBatchIds() throws IOException {
    Path file = directory.resolve(BATCH_IDS_FILE);
    if (!Files.exists(file)) {
      return;
    }
    byte[] bytes = Files.readAllBytes(file);
    if (bytes.length < 4) {
      throw damaged(file, 0, "the file is too short to hold its checksum");
    }
    CRC32 crc = new CRC32();
    crc.update(bytes, 0, bytes.length - 4);
    int stored = ByteBuffer.wrap(bytes, bytes.length - 4, 4).getInt();
    if ((int) crc.getValue() != stored) {
      throw damaged(file, 0, "its checksum does not match");
    }
    try (DataInputStream in =
        new DataInputStream(new java.io.ByteArrayInputStream(bytes, 0, bytes.length - 4))) {
      if (in.readInt() != BATCH_IDS_MAGIC) {
        throw damaged(file, 0, "it is not a batch id file of Floe's");
      }
      int count = in.readInt();
      for (int i = 0; i < count; i++) {
        String id = in.readUTF();
        long first = in.readLong();
        long last = in.readLong();
        batchIds.put(id, new Appended(first, last, id));
      }
    } catch (EOFException e) {
      throw damaged(file, 0, "it ends early");
    }
  }

  /** Writes the remembered batch ids to the side file, atomically. */
  private void writeBatchIds() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(BATCH_IDS_MAGIC);
      out.writeInt(batchIds.size());
      for (Appended batch : batchIds.values()) {
        out.writeUTF(batch.batchId());
        out.writeLong(batch.firstSequence());
        out.writeLong(batch.lastSequence());
      }
    }
    CRC32 crc = new CRC32();
    byte[] body = bytes.toByteArray();
    crc.update(body);
    ByteBuffer content = ByteBuffer.allocate(body.length + 4);
    content.put(body).putInt((int) crc.getValue()).flip();
    Path file = directory.resolve(BATCH_IDS_FILE);
    Path temporary = directory.resolve(BATCH_IDS_FILE + ".tmp");
    try (FileChannel channel =
        FileChannel.open(
            temporary,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      while (content.hasRemaining()) {
        channel.write(content);
      }
      channel.force(true);
    }
    Files.move(
        temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    syncDirectory();
  }

  /** Makes the creation, renaming and deletion of files in the directory durable. */
  private void syncDirectory() throws IOException {
    if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows")) {
      return; // Windows cannot open a directory as a file; its file system orders this itself.
    }
    try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  private static byte[] encode(
      long firstSequence, String batchId, long receivedMillis, List<byte[]> records) {
    long size = 8 + 8 + 2 + 4;
    byte[] id = batchId == null ? null : batchId.getBytes(StandardCharsets.UTF_8);
    size += id == null ? 0 : id.length;
    for (byte[] record : records) {
      size += 4 + record.length;
    }
    if (size > MAX_ENTRY_BYTES) {
      throw new IllegalArgumentException("A batch of " + size + " bytes is too large for the log");
    }
    ByteBuffer payload = ByteBuffer.allocate((int) size);
    payload.putLong(firstSequence).putLong(receivedMillis);
    if (id == null) {
      payload.putShort((short) -1);
    } else {
      payload.putShort((short) id.length).put(id);
    }
    payload.putInt(records.size());
    for (byte[] record : records) {
      payload.putInt(record.length).put(record);
    }
    return payload.array();
  }

  /** A payload's batch; with {@code headerOnly}, without its records. */
  private static Batch decode(byte[] bytes, boolean headerOnly) throws IOException {
    ByteBuffer payload = ByteBuffer.wrap(bytes);
    long first = payload.getLong();
    long received = payload.getLong();
    short idLength = payload.getShort();
    String id = null;
    if (idLength >= 0) {
      byte[] idBytes = new byte[idLength];
      payload.get(idBytes);
      id = new String(idBytes, StandardCharsets.UTF_8);
    }
    int count = payload.getInt();
    if (count < 1) {
      throw new IOException("an entry of " + count + " records");
    }
    List<byte[]> records = new ArrayList<>(headerOnly ? 0 : count);
    for (int i = 0; i < count; i++) {
      int length = payload.getInt();
      if (length < 0 || length > payload.remaining()) {
        throw new IOException("record " + i + " of " + length + " bytes");
      }
      if (headerOnly) {
        payload.position(payload.position() + length);
      } else {
        byte[] record = new byte[length];
        payload.get(record);
        records.add(record);
      }
    }
    if (payload.hasRemaining()) {
      throw new IOException(payload.remaining() + " bytes after the last record");
    }
    if (headerOnly) {
      // The index needs the count, not the bytes.
      return new Batch(first, id, received, Collections.nCopies(count, new byte[0]));
    }
    return new Batch(first, id, received, records);
  }

  private static void readFully(FileChannel channel, ByteBuffer buffer, long offset)
      throws IOException {
    while (buffer.hasRemaining()) {
      int read = channel.read(buffer, offset + buffer.position());
      if (read < 0) {
        throw new EOFException("the file ends at " + (offset + buffer.position()));
      }
    }
  }

  private static int crc32(byte[] bytes) {
    CRC32 crc = new CRC32();
    crc.update(bytes);
    return (int) crc.getValue();
  }
}
