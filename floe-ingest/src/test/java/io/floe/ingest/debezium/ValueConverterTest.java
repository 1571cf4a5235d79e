package io.floe.ingest.debezium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.FloeException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.apache.iceberg.types.Types;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.junit.jupiter.api.Test;

class ValueConverterTest {
  @Test
  void parsesZonedTimestampsExactly() {
    for (String text :
        List.of(
            "2024-02-29T23:59:59.999999Z",
            "1900-01-01T00:00:00Z",
            "2100-12-31T12:34:56.1Z",
            "2024-01-01T10:00:00.123Z",
            "2024-01-01T10:00:00+02:00",
            "+12024-01-01T10:00:00Z")) {
      assertThat(ValueConverter.zonedTimestamp(text))
          .as(text)
          .isEqualTo(OffsetDateTime.parse(text).withOffsetSameInstant(ZoneOffset.UTC));
    }
  }

  @Test
  void convertsDebeziumRepresentations() {
    assertThat(ValueConverter.convert("c", Types.IntegerType.get(), null, (short) -7))
        .isEqualTo(-7);
    assertThat(
            ValueConverter.convert(
                "c",
                Types.TimeType.get(),
                SchemaBuilder.int64().name("io.debezium.time.MicroTime").build(),
                3_723_000_004L))
        .isEqualTo(LocalTime.of(1, 2, 3, 4_000));
    assertThat(
            ValueConverter.convert(
                "c",
                Types.TimestampType.withoutZone(),
                SchemaBuilder.int64().name("io.debezium.time.Timestamp").build(),
                -1L))
        .isEqualTo(LocalDateTime.of(1969, 12, 31, 23, 59, 59, 999_000_000));
    assertThat(ValueConverter.convert("c", Types.BinaryType.get(), null, new byte[] {0, 1}))
        .isEqualTo(ByteBuffer.wrap(new byte[] {0, 1}));
  }

  @Test
  void keepsUnboundedNumericsExactOrRefusesThem() {
    Schema variable =
        SchemaBuilder.struct()
            .name("io.debezium.data.VariableScaleDecimal")
            .field("scale", Schema.INT32_SCHEMA)
            .field("value", Schema.BYTES_SCHEMA)
            .build();
    Struct value =
        new Struct(variable).put("scale", 3).put("value", BigInteger.valueOf(-12345).toByteArray());
    assertThat(ValueConverter.convert("c", Types.DecimalType.of(38, 10), variable, value))
        .isEqualTo(new BigDecimal("-12.3450000000"));
    assertThat(ValueConverter.convert("c", Types.StringType.get(), variable, value))
        .isEqualTo("-12.345");
    Struct tooFine =
        new Struct(variable).put("scale", 12).put("value", BigInteger.ONE.toByteArray());
    assertThatThrownBy(
            () -> ValueConverter.convert("t.c", Types.DecimalType.of(38, 10), variable, tooFine))
        .isInstanceOf(FloeException.class)
        .hasMessageContaining(
            "Cannot store value 0.000000000001 of column t.c exactly as decimal(38, 10)")
        .hasMessageContaining("source.unbounded-numeric: string");
  }

  @Test
  void recognisesUnchangedToastPlaceholders() {
    String placeholder = ValueConverter.UNCHANGED_PLACEHOLDER;
    assertThat(ValueConverter.isUnchanged(placeholder)).isTrue();
    assertThat(ValueConverter.isUnchanged(placeholder.getBytes(StandardCharsets.UTF_8))).isTrue();
    assertThat(ValueConverter.isUnchanged(List.of(placeholder))).isTrue();
    assertThat(ValueConverter.isUnchanged("a real value")).isFalse();
    assertThat(ValueConverter.isUnchanged(List.of(1, 2))).isFalse();
    assertThat(ValueConverter.isUnchanged(null)).isFalse();
  }
}
