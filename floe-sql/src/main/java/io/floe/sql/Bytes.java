package io.floe.sql;

import java.util.Locale;

/** Byte counts for people: {@code 1.5 GiB}. */
final class Bytes {
  private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};

  private Bytes() {}

  static String format(long bytes) {
    if (bytes == Long.MAX_VALUE) {
      return "unlimited";
    }
    double value = bytes;
    int unit = 0;
    while (value >= 1024 && unit < UNITS.length - 1) {
      value /= 1024;
      unit++;
    }
    return unit == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", value, UNITS[unit]);
  }
}
