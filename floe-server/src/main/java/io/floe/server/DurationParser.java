package io.floe.server;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses durations such as {@code 500ms}, {@code 10s}, {@code 2m}, {@code 1h}. */
public final class DurationParser {
  private static final Pattern FORM = Pattern.compile("(\\d{1,12})(ms|s|m|h)");

  private DurationParser() {}

  static Duration parse(String option, String text) {
    return tryParse(text)
        .orElseThrow(
            () ->
                new FloeException(
                    ErrorCode.CONFIG_INVALID,
                    "Cannot use "
                        + option
                        + " "
                        + text
                        + ": write a duration like 500ms, 10s, 2m or 1h"));
  }

  /** The duration written as a number followed by ms, s, m or h; empty when malformed. */
  public static Optional<Duration> tryParse(String text) {
    Matcher matcher = FORM.matcher(text.trim());
    if (!matcher.matches()) {
      return Optional.empty();
    }
    long amount = Long.parseLong(matcher.group(1));
    switch (matcher.group(2)) {
      case "ms":
        return Optional.of(Duration.ofMillis(amount));
      case "s":
        return Optional.of(Duration.ofSeconds(amount));
      case "m":
        return Optional.of(Duration.ofMinutes(amount));
      default:
        return Optional.of(Duration.ofHours(amount));
    }
  }

  /** The duration in the largest unit that writes it exactly: {@code 5m}, {@code 90s}. */
  public static String format(Duration duration) {
    long millis = duration.toMillis();
    if (millis != 0 && millis % 3_600_000 == 0) {
      return millis / 3_600_000 + "h";
    }
    if (millis != 0 && millis % 60_000 == 0) {
      return millis / 60_000 + "m";
    }
    if (millis % 1_000 == 0) {
      return millis / 1_000 + "s";
    }
    return millis + "ms";
  }
}
