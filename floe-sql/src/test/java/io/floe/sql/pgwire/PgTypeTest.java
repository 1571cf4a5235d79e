package io.floe.sql.pgwire;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class PgTypeTest {
  @Test
  void mapsDuckDbTypesToPostgresTypes() {
    assertThat(PgType.of("BOOLEAN")).isEqualTo(PgType.BOOL);
    assertThat(PgType.of("UTINYINT")).isEqualTo(PgType.INT2);
    assertThat(PgType.of("USMALLINT")).isEqualTo(PgType.INT4);
    assertThat(PgType.of("UINTEGER")).isEqualTo(PgType.INT8);
    assertThat(PgType.of("UBIGINT")).isEqualTo(PgType.NUMERIC);
    assertThat(PgType.of("DECIMAL(10,2)")).isEqualTo(PgType.NUMERIC);
    assertThat(PgType.of("TIMESTAMP WITH TIME ZONE")).isEqualTo(PgType.TIMESTAMPTZ);
    assertThat(PgType.of("BLOB")).isEqualTo(PgType.BYTEA);
    assertThat(PgType.of("INTEGER[]")).isEqualTo(PgType.TEXT);
    assertThat(PgType.of("STRUCT(a INTEGER)")).isEqualTo(PgType.TEXT);
    assertThat(PgType.of("MAP(VARCHAR, INTEGER)")).isEqualTo(PgType.TEXT);
    assertThat(PgType.typeModifier("DECIMAL(10,2)")).isEqualTo((10 << 16 | 2) + 4);
    assertThat(PgType.typeModifier("INTEGER")).isEqualTo(-1);
  }

  @Test
  void printsFloatsAsPostgresDoes() {
    assertThat(PgType.floatText(0.1, false)).isEqualTo("0.1");
    assertThat(PgType.floatText(1e15, false)).isEqualTo("1e+15");
    assertThat(PgType.floatText(123456789012345.0, false)).isEqualTo("123456789012345");
    assertThat(PgType.floatText(-2.5e-7, false)).isEqualTo("-2.5e-07");
    assertThat(PgType.floatText(0.0001, false)).isEqualTo("0.0001");
    assertThat(PgType.floatText(1234567, true)).isEqualTo("1.234567e+06");
    assertThat(PgType.floatText(123456, true)).isEqualTo("123456");
    assertThat(PgType.floatText(0.1f, true)).isEqualTo("0.1");
    assertThat(PgType.floatText(Double.NaN, false)).isEqualTo("NaN");
    assertThat(PgType.floatText(Double.NEGATIVE_INFINITY, false)).isEqualTo("-Infinity");
    assertThat(PgType.floatText(-0.0, false)).isEqualTo("-0");
  }

  @Test
  void encodesNumericsInBase10000() {
    ByteBuffer encoded = ByteBuffer.wrap(PgNumeric.encode(new BigDecimal("12345.678")));
    assertThat(encoded.getShort()).isEqualTo((short) 3); // digits
    assertThat(encoded.getShort()).isEqualTo((short) 1); // weight: 1 * 10000^1
    assertThat(encoded.getShort()).isEqualTo((short) PgNumeric.POSITIVE);
    assertThat(encoded.getShort()).isEqualTo((short) 3); // display scale
    assertThat(new short[] {encoded.getShort(), encoded.getShort(), encoded.getShort()})
        .containsExactly((short) 1, (short) 2345, (short) 6780);
    for (String value :
        new String[] {
          "0",
          "0.00",
          "1",
          "-1",
          "10000",
          "0.0001",
          "0.00000001",
          "-12345678901234567890.123456789",
          "170141183460469231731687303715884105727",
          "123.4500",
          "99999999.99990000"
        }) {
      assertThat(PgNumeric.decode(PgNumeric.encode(new BigDecimal(value))))
          .as(value)
          .isEqualTo(new BigDecimal(value));
    }
    assertThat(PgType.NUMERIC.text(new BigInteger("18446744073709551615")))
        .isEqualTo("18446744073709551615");
  }

  @Test
  void writesDatesAndTimesFromPostgresEpoch() {
    assertThat(PgType.DATE.binary(LocalDate.of(2000, 1, 2))).containsExactly(0, 0, 0, 1);
    assertThat(
            ByteBuffer.wrap(PgType.TIMESTAMP.binary(LocalDateTime.of(1999, 12, 31, 23, 59, 59)))
                .getLong())
        .isEqualTo(-1_000_000L);
    assertThat(
            ByteBuffer.wrap(
                    PgType.TIMESTAMPTZ.binary(
                        OffsetDateTime.of(2000, 1, 1, 2, 0, 0, 0, ZoneOffset.ofHours(2))))
                .getLong())
        .isZero();
    assertThat(PgType.DATE.text(LocalDate.of(-43, 3, 15))).isEqualTo("0044-03-15 BC");
    assertThat(PgType.BYTEA.text(new byte[] {0, (byte) 0xAB})).isEqualTo("\\x00ab");
    assertThat(PgType.BOOL.text(false)).isEqualTo("f");
  }
}
