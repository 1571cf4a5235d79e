package io.floe.testing;

import io.floe.demo.RandomText;
import java.util.Random;

/** Reproducible random JSON documents: nesting, every JSON type, escapes and unicode. */
final class RandomJson {
  private static final int MAX_DEPTH = 4;
  private static final String[] KEYS = {
    "id", "name", "tags", "nested", "Grüße", "東京", "with space", "quote\"key", "", "n"
  };
  private static final String[] NUMBERS = {
    "0", "-1", "42", "3.14159", "-0.5", "1e10", "2.5E-3", "12345678901234567890", "1.000"
  };

  private RandomJson() {}

  /** A JSON document; mostly objects and arrays, sometimes a scalar such as {@code null}. */
  static String document(Random random) {
    StringBuilder json = new StringBuilder();
    if (random.nextInt(10) == 0) {
      scalar(random, json);
    } else if (random.nextInt(4) == 0) {
      array(random, 1, json);
    } else {
      object(random, 1, json);
    }
    return json.toString();
  }

  private static void value(Random random, int depth, StringBuilder json) {
    int kind = random.nextInt(depth >= MAX_DEPTH ? 1 : 4);
    if (kind == 0 || kind == 1) {
      scalar(random, json);
    } else if (kind == 2) {
      object(random, depth + 1, json);
    } else {
      array(random, depth + 1, json);
    }
  }

  private static void object(Random random, int depth, StringBuilder json) {
    int members = random.nextInt(5);
    boolean spaced = random.nextBoolean();
    json.append('{');
    String previousKey = null;
    for (int i = 0; i < members; i++) {
      if (i > 0) {
        json.append(spaced ? ", " : ",");
      }
      // Occasionally repeat a key: json keeps both, jsonb keeps the last.
      String key =
          previousKey != null && random.nextInt(20) == 0
              ? previousKey
              : KEYS[random.nextInt(KEYS.length)] + (random.nextInt(3) == 0 ? "" : i);
      json.append(RandomText.jsonString(key)).append(spaced ? ": " : ":");
      value(random, depth, json);
      previousKey = key;
    }
    json.append('}');
  }

  private static void array(Random random, int depth, StringBuilder json) {
    int elements = random.nextInt(5);
    json.append('[');
    for (int i = 0; i < elements; i++) {
      if (i > 0) {
        json.append(", ");
      }
      value(random, depth, json);
    }
    json.append(']');
  }

  private static void scalar(Random random, StringBuilder json) {
    int kind = random.nextInt(6);
    if (kind == 0) {
      json.append(NUMBERS[random.nextInt(NUMBERS.length)]);
    } else if (kind == 1) {
      json.append(random.nextInt(2_000_001) - 1_000_000);
    } else if (kind == 2) {
      json.append(random.nextBoolean());
    } else if (kind == 3) {
      json.append("null");
    } else if (kind == 4) {
      json.append(RandomText.jsonString(RandomText.codePoints(random, 30)));
    } else {
      json.append(RandomText.jsonString(RandomText.awkward(random)));
    }
  }
}
