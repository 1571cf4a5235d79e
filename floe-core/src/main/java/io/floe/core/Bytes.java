package io.floe.core;

import java.util.Locale;

/** Byte counts for people, in binary units with one decimal: {@code 4.1 MiB}. */
public final class Bytes {
  private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};

  private Bytes() {}

  /** The count as text; {@link Long#MAX_VALUE} stands for no limit and reads "unlimited". */
  public static String format(long bytes) {
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
