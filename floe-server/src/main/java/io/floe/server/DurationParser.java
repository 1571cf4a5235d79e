package io.floe.server;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses command-line durations such as {@code 500ms}, {@code 10s}, {@code 2m}, {@code 1h}. */
final class DurationParser {
  private static final Pattern FORM = Pattern.compile("(\\d+)(ms|s|m|h)");

  private DurationParser() {}

  static Duration parse(String option, String text) {
    Matcher matcher = FORM.matcher(text.trim());
    if (!matcher.matches()) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Cannot use " + option + " " + text + ": write a duration like 500ms, 10s, 2m or 1h");
    }
    long amount = Long.parseLong(matcher.group(1));
    switch (matcher.group(2)) {
      case "ms":
        return Duration.ofMillis(amount);
      case "s":
        return Duration.ofSeconds(amount);
      case "m":
        return Duration.ofMinutes(amount);
      default:
        return Duration.ofHours(amount);
    }
  }
}
