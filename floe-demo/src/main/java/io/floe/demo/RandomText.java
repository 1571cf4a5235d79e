package io.floe.demo;

import java.util.Random;

/** Reproducible random strings that cover the awkward cases of text columns. */
public final class RandomText {
  public static final String UNICODE_SAMPLE = "Grüße 東京 🚀";

  private static final String[] AWKWARD = {
    UNICODE_SAMPLE,
    "",
    " ",
    "naïve café",
    "Ελληνικά και עברית and العربية",
    "😀👍🏽 emoji with modifier",
    "e\u0301 combining accent",
    "non\u00a0breaking space",
    "tab\tand\nnew line\r\nand carriage return",
    "quote ' double \" backslash \\ percent % underscore _",
    "{braces},commas,\"quoted\"",
    "NULL",
    "null",
    "  leading and trailing  ",
    "<tag attribute='1'>&amp;</tag>",
    "\u0001 control \u001f characters",
  };

  // 64 symbols: random text over it does not compress with pglz (which needs 25% savings).
  private static final String ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  private static final int[] RARE_CODE_POINTS = {'é', 'ü', 'ß', '東', '京', 0x1F680, 0x1F600};
  private static final int[] OTHER_CODE_POINTS = {
    'ä', 'ö', 'ñ', 'ç', 'ø', 'Ω', 'Ж', 'ש', 'ع', '中', '文', '한', 'ア', 0x1F30D, 0x1F389, 0xA0
  };

  private RandomText() {}

  /** One of a fixed set of awkward strings: empty, unicode, quotes, control characters. */
  public static String awkward(Random random) {
    return AWKWARD[random.nextInt(AWKWARD.length)];
  }

  /**
   * {@code length} code points of random, incompressible text (mostly ASCII, a few multi-byte
   * characters), so that PostgreSQL stores it out of line in TOAST when it is large.
   */
  public static String incompressible(Random random, int length) {
    StringBuilder text = new StringBuilder(length + 16);
    for (int i = 0; i < length; i++) {
      if (random.nextInt(400) == 0) {
        text.appendCodePoint(RARE_CODE_POINTS[random.nextInt(RARE_CODE_POINTS.length)]);
      } else {
        text.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
      }
    }
    return text.toString();
  }

  /** Up to {@code maxCodePoints} code points (as PostgreSQL counts characters), any script. */
  public static String codePoints(Random random, int maxCodePoints) {
    int length = random.nextInt(maxCodePoints + 1);
    StringBuilder text = new StringBuilder(length * 2);
    for (int i = 0; i < length; i++) {
      int kind = random.nextInt(10);
      if (kind < 7) {
        text.append((char) (0x20 + random.nextInt(0x7f - 0x20)));
      } else {
        text.appendCodePoint(OTHER_CODE_POINTS[random.nextInt(OTHER_CODE_POINTS.length)]);
      }
    }
    return text.toString();
  }

  /** Text of every kind: awkward, short random, and sometimes several KB of repetitive text. */
  public static String anyText(Random random) {
    int kind = random.nextInt(20);
    if (kind < 6) {
      return awkward(random);
    }
    if (kind == 19) {
      // Compressible: stored compressed inline rather than out of line.
      String phrase = awkward(random) + " lorem ipsum " + random.nextInt(100) + "; ";
      return phrase.repeat(Math.max(1, (4_000 + random.nextInt(4_000)) / (phrase.length() + 1)));
    }
    return codePoints(random, 120);
  }

  /** A short non-empty token of letters and digits. */
  public static String token(Random random, int length) {
    StringBuilder text = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      text.append(ALPHABET.charAt(random.nextInt(62)));
    }
    return text.toString();
  }

  /** Escapes a string as a JSON string literal, quotes included. */
  public static String jsonString(String value) {
    StringBuilder json = new StringBuilder(value.length() + 2).append('"');
    for (int i = 0; i < value.length(); i++) {
      char character = value.charAt(i);
      switch (character) {
        case '"':
          json.append("\\\"");
          break;
        case '\\':
          json.append("\\\\");
          break;
        case '\n':
          json.append("\\n");
          break;
        case '\r':
          json.append("\\r");
          break;
        case '\t':
          json.append("\\t");
          break;
        default:
          if (character < 0x20) {
            json.append(String.format("\\u%04x", (int) character));
          } else {
            json.append(character);
          }
      }
    }
    return json.append('"').toString();
  }
}
