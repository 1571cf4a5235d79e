package io.floe.sql.pgwire;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * PostgreSQL's binary numeric format: a count of base-10000 digits, the weight (power of 10000) of
 * the first digit, a sign word and the display scale, then the digits.
 */
final class PgNumeric {
  static final int POSITIVE = 0x0000;
  static final int NEGATIVE = 0x4000;
  static final int NAN = 0xC000;
  private static final BigInteger BASE = BigInteger.valueOf(10_000);

  private PgNumeric() {}

  static byte[] encode(BigDecimal value) {
    int displayScale = Math.max(0, value.scale());
    String plain = value.abs().setScale(displayScale).toPlainString();
    int point = plain.indexOf('.');
    String integer = point < 0 ? plain : plain.substring(0, point);
    String fraction = point < 0 ? "" : plain.substring(point + 1);
    integer = integer.replaceFirst("^0+", "");
    integer = "0".repeat((4 - integer.length() % 4) % 4) + integer;
    fraction = fraction + "0".repeat((4 - fraction.length() % 4) % 4);
    List<Short> digits = new ArrayList<>();
    String grouped = integer + fraction;
    for (int i = 0; i < grouped.length(); i += 4) {
      digits.add(Short.parseShort(grouped.substring(i, i + 4)));
    }
    int weight = integer.length() / 4 - 1;
    int first = 0;
    while (first < digits.size() && digits.get(first) == 0) {
      first++;
      weight--;
    }
    int last = digits.size();
    while (last > first && digits.get(last - 1) == 0) {
      last--;
    }
    if (first == last) {
      weight = 0;
    }
    ByteBuffer buffer = ByteBuffer.allocate(8 + 2 * (last - first));
    buffer.putShort((short) (last - first));
    buffer.putShort((short) weight);
    buffer.putShort((short) (value.signum() < 0 ? NEGATIVE : POSITIVE));
    buffer.putShort((short) displayScale);
    for (int i = first; i < last; i++) {
      buffer.putShort(digits.get(i));
    }
    return buffer.array();
  }

  /** The number, or null for NaN and the infinities, which DuckDB's DECIMAL cannot hold. */
  static BigDecimal decode(byte[] bytes) {
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    int count = buffer.getShort();
    int weight = buffer.getShort();
    int sign = buffer.getShort() & 0xFFFF;
    int displayScale = buffer.getShort();
    if (sign != POSITIVE && sign != NEGATIVE) {
      return null;
    }
    BigInteger unscaled = BigInteger.ZERO;
    for (int i = 0; i < count; i++) {
      unscaled = unscaled.multiply(BASE).add(BigInteger.valueOf(buffer.getShort()));
    }
    // The digits read form an integer whose last digit has weight (weight - count + 1).
    BigDecimal value = new BigDecimal(unscaled).scaleByPowerOfTen(4 * (weight - count + 1));
    value = value.setScale(displayScale, RoundingMode.UNNECESSARY);
    return sign == NEGATIVE ? value.negate() : value;
  }
}
