package io.floe.core.lookup;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HeapRowsTest {
  /**
   * Random puts, replacements and removes against a map: with room for every row, each is found
   * with its latest value; with room for a few, a row found has its latest value (never an older
   * one, never a removed one), and the tier stays within its budget.
   */
  @Test
  void answersAsAMapWouldWithinItsBudget() {
    for (long budget : new long[] {64L << 20, 16L << 10}) {
      HeapRows heap = new HeapRows(budget);
      Map<String, byte[]> model = new HashMap<>();
      Random random = new Random(budget);
      int found = 0;
      for (int step = 0; step < 200_000; step++) {
        byte[] key = key(random.nextInt(5_000));
        int action = random.nextInt(10);
        if (action < 5) {
          byte[] row = new byte[1 + random.nextInt(40)];
          random.nextBytes(row);
          heap.put(key, row);
          model.put(new String(key, StandardCharsets.ISO_8859_1), row);
        } else if (action < 7) {
          heap.remove(key);
          model.remove(new String(key, StandardCharsets.ISO_8859_1));
        } else {
          // One key through get, or a batch through getAll (which must answer as get would).
          List<byte[]> keys = new ArrayList<>(List.of(key));
          while (action == 9 && keys.size() < 1 + random.nextInt(30)) {
            keys.add(key(random.nextInt(5_000)));
          }
          ByteBuffer[] answers = action == 9 ? heap.getAll(keys) : new ByteBuffer[] {heap.get(key)};
          for (int i = 0; i < keys.size(); i++) {
            byte[] expected = model.get(new String(keys.get(i), StandardCharsets.ISO_8859_1));
            ByteBuffer held = answers[i];
            if (held != null) {
              found++;
              assertThat(expected).as("a row the map does not have").isNotNull();
              byte[] row = new byte[held.remaining()];
              held.get(row);
              assertThat(row).isEqualTo(expected);
            } else if (budget > 1L << 20) {
              assertThat(expected).as("a row missing with room for all").isNull();
            }
          }
        }
        assertThat(heap.bytes()).isLessThanOrEqualTo(budget);
      }
      if (budget > 1L << 20) {
        assertThat(heap.size()).isEqualTo(model.size());
      } else {
        assertThat(heap.size()).isPositive().isLessThan(model.size());
        assertThat(found).as("rows found in a small tier").isPositive();
      }
      heap.clear();
      assertThat(heap.size()).isZero();
      assertThat(heap.get(key(1))).isNull();
    }
  }

  @Test
  void holdsNothingWithoutABudget() {
    HeapRows heap = new HeapRows(0);
    heap.put(key(1), new byte[] {1, 2, 3});
    assertThat(heap.get(key(1))).isNull();
    assertThat(heap.size()).isZero();
  }

  /**
   * A million consecutive int keys, as a reference's ids are, sit at or next to their hash's slot
   * (with Arrays.hashCode as the hash they had been 52 slots away on average, and each lookup
   * probed that far).
   */
  @Test
  void consecutiveKeysSitNextToTheirSlots() {
    HeapRows heap = new HeapRows(512L << 20);
    for (int id = 0; id < 1_000_000; id++) {
      heap.put(key(id), new byte[] {(byte) id});
    }
    assertThat(heap.size()).isEqualTo(1_000_000);
    assertThat(heap.meanDisplacement()).isLessThan(1.0);
    for (int id = 0; id < 1_000_000; id += 997) {
      assertThat(heap.get(key(id)).get()).isEqualTo((byte) id);
    }
  }

  /** Keys as the index encodes an int: a length, then four bytes, differing in few bits. */
  private static byte[] key(int id) {
    return new byte[] {
      0, 0, 0, 4, (byte) (id >>> 24), (byte) (id >>> 16), (byte) (id >>> 8), (byte) id
    };
  }
}
