package io.floe.server;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.sql.ResultFormat;
import java.util.Locale;

/** Parses {@code --format}. */
final class ResultFormats {
  private ResultFormats() {}

  static ResultFormat parse(String text) {
    try {
      return ResultFormat.valueOf(text.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID, "Cannot use --format " + text + ": choose table, csv or json");
    }
  }
}
