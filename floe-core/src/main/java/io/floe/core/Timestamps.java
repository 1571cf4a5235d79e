package io.floe.core;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Optional;

/** Points in time as users write them in arguments and options. */
public final class Timestamps {
  private Timestamps() {}

  /**
   * An ISO date-time, with {@code T} or a space before the time, in UTC unless it ends with {@code
   * Z} or an offset such as {@code +02:00}; empty when the text is not one.
   */
  public static Optional<Instant> parse(String text) {
    String iso = text.trim().replace(' ', 'T');
    try {
      return Optional.of(
          iso.endsWith("Z") || iso.matches(".*[+-]\\d\\d:\\d\\d$")
              ? OffsetDateTime.parse(iso).toInstant()
              : LocalDateTime.parse(iso).toInstant(ZoneOffset.UTC));
    } catch (DateTimeException e) {
      return Optional.empty();
    }
  }
}
