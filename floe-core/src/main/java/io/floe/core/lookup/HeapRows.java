package io.floe.core.lookup;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * The on-heap tier of a {@link ReferenceIndex}: encoded keys to encoded rows, within a budget of
 * bytes, in front of the RocksDB store. A lookup that finds its key here costs a hash probe and no
 * call into native code; what does not fit is evicted, least recently used first (approximately:
 * the CLOCK policy), and read from RocksDB again when it is looked up.
 *
 * <p>Compact, so that a reference of a million rows fits in a budget of about a hundred megabytes:
 * one array per row holds its key and its row (no entry objects, no boxed keys), in an
 * open-addressing table with linear probing. What it holds is always what RocksDB holds for the
 * same key: the index writes through it ({@link #put}, {@link #remove}).
 *
 * <p>Not thread-safe, like its index.
 */
final class HeapRows {
  /** The table is grown when more than this share of its slots are used. */
  private static final double LOAD = 0.6;

  /** The hash of an empty slot, which no key has ({@link #hash} never returns it). */
  private static final int EMPTY = 0;

  /** A slot's cost: a reference (counted as 8 bytes), a hash and a CLOCK bit. */
  private static final int SLOT_BYTES = 8 + 4 + 1;

  /** An array's header and the key's length. */
  private static final int ENTRY_OVERHEAD = 16 + 4;

  private final long budget;
  private byte[][] entries;
  private int[] hashes;
  private boolean[] referenced;
  private int size;
  private long entryBytes;
  private int hand;

  /**
   * A tier of at most {@code budget} bytes. A row larger than an eighth of it is not held (with a
   * budget of 0, none is).
   */
  HeapRows(long budget) {
    this.budget = budget;
    reset(16);
  }

  /** The row of {@code key} (a view of the bytes held, from its position on), or null. */
  ByteBuffer get(byte[] key) {
    int slot = find(key, hash(key));
    return slot < 0 ? null : use(slot);
  }

  /** The row at {@code slot} (a view of the bytes held), marked as used for the CLOCK policy. */
  private ByteBuffer use(int slot) {
    referenced[slot] = true;
    byte[] entry = entries[slot];
    int offset = 4 + keyLength(entry);
    return ByteBuffer.wrap(entry, offset, entry.length - offset);
  }

  /**
   * {@link #get} of many keys, null where a key is not held. Reads the table for all of them one
   * step at a time (each key's slot hash, then each key's entry, then each entry's key length), so
   * that the cache misses of different keys overlap instead of following one another: a table of a
   * million rows is far larger than the processor's caches, and each step of a single lookup would
   * otherwise wait for memory in turn.
   */
  ByteBuffer[] getAll(List<byte[]> keys) {
    int count = keys.size();
    int mask = entries.length - 1;
    int[] keyHashes = new int[count];
    int[] homeHashes = new int[count];
    for (int i = 0; i < count; i++) {
      keyHashes[i] = hash(keys.get(i));
      homeHashes[i] = hashes[keyHashes[i] & mask];
    }
    // The first slot from each key's home with its hash (-1: an empty slot came first). The
    // probe reads the hashes only, which the first step brought into the cache.
    int[] candidates = new int[count];
    for (int i = 0; i < count; i++) {
      int slot = keyHashes[i] & mask;
      int slotHash = homeHashes[i];
      while (slotHash != keyHashes[i] && slotHash != EMPTY) {
        slot = (slot + 1) & mask;
        slotHash = hashes[slot];
      }
      candidates[i] = slotHash == EMPTY ? -1 : slot;
    }
    byte[][] candidateEntries = new byte[count][];
    for (int i = 0; i < count; i++) {
      if (candidates[i] >= 0) {
        candidateEntries[i] = entries[candidates[i]];
      }
    }
    int[] candidateKeyLengths = new int[count];
    for (int i = 0; i < count; i++) {
      candidateKeyLengths[i] = candidateEntries[i] == null ? -1 : keyLength(candidateEntries[i]);
    }
    ByteBuffer[] found = new ByteBuffer[count];
    for (int i = 0; i < count; i++) {
      byte[] key = keys.get(i);
      int slot;
      if (candidates[i] < 0) {
        slot = -1;
      } else if (candidateKeyLengths[i] == key.length
          && Arrays.equals(candidateEntries[i], 4, 4 + key.length, key, 0, key.length)) {
        slot = candidates[i];
      } else {
        slot = find(key, keyHashes[i]); // Another key with the same hash: probe on past it.
      }
      if (slot >= 0) {
        found[i] = use(slot);
      }
    }
    return found;
  }

  /** Holds {@code row} for {@code key} in place of what it held, evicting others to make room. */
  void put(byte[] key, byte[] row) {
    int rowLength = row.length;
    long cost = cost(key.length, rowLength);
    if (cost * 8 > budget) {
      remove(key); // Too large for the tier (or no tier at all): RocksDB alone holds it.
      return;
    }
    byte[] entry = new byte[4 + key.length + rowLength];
    entry[0] = (byte) (key.length >>> 24);
    entry[1] = (byte) (key.length >>> 16);
    entry[2] = (byte) (key.length >>> 8);
    entry[3] = (byte) key.length;
    System.arraycopy(key, 0, entry, 4, key.length);
    System.arraycopy(row, 0, entry, 4 + key.length, rowLength);
    int hash = hash(key);
    int slot = find(key, hash);
    if (slot >= 0) {
      entryBytes += cost - cost(entries[slot]);
      entries[slot] = entry;
      referenced[slot] = true;
    } else {
      if (size + 1 > entries.length * LOAD) {
        grow();
        slot = find(key, hash);
      }
      slot = -slot - 1;
      entries[slot] = entry;
      hashes[slot] = hash;
      referenced[slot] = true;
      size++;
      entryBytes += cost;
    }
    while (bytes() > budget && size > 1) {
      evictOne(slot);
    }
  }

  /** Forgets {@code key}'s row. */
  void remove(byte[] key) {
    int slot = find(key, hash(key));
    if (slot >= 0) {
      removeAt(slot);
    }
  }

  void clear() {
    reset(16);
  }

  /** The rows held. */
  int size() {
    return size;
  }

  /**
   * How far the rows are from their hash's slot, on average: the slots a lookup of a held key
   * probes beyond the first.
   */
  double meanDisplacement() {
    int mask = entries.length - 1;
    long total = 0;
    for (int slot = 0; slot < entries.length; slot++) {
      if (entries[slot] != null) {
        total += (slot - (hashes[slot] & mask)) & mask;
      }
    }
    return size == 0 ? 0 : (double) total / size;
  }

  /** The bytes the tier takes: its rows and its table. */
  long bytes() {
    return entryBytes + (long) entries.length * SLOT_BYTES;
  }

  /** An empty table of {@code capacity} slots. */
  private void reset(int capacity) {
    entries = new byte[capacity][];
    hashes = new int[capacity];
    referenced = new boolean[capacity];
    size = 0;
    entryBytes = 0;
    hand = 0;
  }

  /** Twice the slots, the rows held moved to them. */
  private void grow() {
    byte[][] old = entries;
    int[] oldHashes = hashes;
    reset(old.length * 2);
    for (int i = 0; i < old.length; i++) {
      if (old[i] != null) {
        int slot = -findFree(oldHashes[i]) - 1;
        entries[slot] = old[i];
        hashes[slot] = oldHashes[i];
        size++;
        entryBytes += cost(old[i]);
      }
    }
  }

  /** The slot of {@code key}, or {@code -(free slot) - 1} where it would go. */
  private int find(byte[] key, int hash) {
    int mask = entries.length - 1;
    for (int slot = hash & mask; ; slot = (slot + 1) & mask) {
      int slotHash = hashes[slot];
      if (slotHash == EMPTY) {
        return -slot - 1;
      }
      if (slotHash == hash) {
        byte[] entry = entries[slot];
        if (keyLength(entry) == key.length
            && Arrays.equals(entry, 4, 4 + key.length, key, 0, key.length)) {
          return slot;
        }
      }
    }
  }

  private int findFree(int hash) {
    int mask = entries.length - 1;
    int slot = hash & mask;
    while (entries[slot] != null) {
      slot = (slot + 1) & mask;
    }
    return -slot - 1;
  }

  /** Evicts a row not used since the hand last passed it, other than the one at {@code keep}. */
  private void evictOne(int keep) {
    int mask = entries.length - 1;
    while (true) {
      hand = (hand + 1) & mask;
      if (entries[hand] == null || hand == keep) {
        continue;
      }
      if (referenced[hand]) {
        referenced[hand] = false;
        continue;
      }
      removeAt(hand);
      return;
    }
  }

  /**
   * Empties a slot and moves the rows after it in its probe sequence back (deletion in linear
   * probing without tombstones), so that every row stays reachable from its hash's slot.
   */
  private void removeAt(int slot) {
    entryBytes -= cost(entries[slot]);
    size--;
    int mask = entries.length - 1;
    int empty = slot;
    for (int next = (slot + 1) & mask; entries[next] != null; next = (next + 1) & mask) {
      int home = hashes[next] & mask;
      // The row at next may fill the empty slot if its home is not in (empty, next], cyclically.
      boolean stays = empty <= next ? empty < home && home <= next : empty < home || home <= next;
      if (!stays) {
        entries[empty] = entries[next];
        hashes[empty] = hashes[next];
        referenced[empty] = referenced[next];
        empty = next;
      }
    }
    entries[empty] = null;
    hashes[empty] = EMPTY;
    referenced[empty] = false;
  }

  private static int keyLength(byte[] entry) {
    return ((entry[0] & 0xff) << 24)
        | ((entry[1] & 0xff) << 16)
        | ((entry[2] & 0xff) << 8)
        | (entry[3] & 0xff);
  }

  private static long cost(byte[] entry) {
    return cost(keyLength(entry), entry.length - 4 - keyLength(entry));
  }

  /** An entry's bytes on the heap: header and contents, rounded up to 8 bytes. */
  private static long cost(int keyLength, int rowLength) {
    return (ENTRY_OVERHEAD + keyLength + rowLength + 7) & ~7L;
  }

  /**
   * The key's hash: 64-bit FNV-1a over its bytes, then MurmurHash3's finalizer. Not {@link
   * Arrays#hashCode(byte[])}: its polynomial over signed bytes gives the encoded keys 0 to 999,999
   * of an int column (four bytes of length, four of value) 21,615 distinct values, which no mixing
   * afterwards can separate again; the table's probes then ran 50 slots on average.
   */
  private static int hash(byte[] key) {
    long h = 0xcbf29ce484222325L;
    for (byte b : key) {
      h = (h ^ (b & 0xff)) * 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    int folded = (int) h;
    return folded == EMPTY ? 1 : folded;
  }
}
