package io.floe.ingest.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonDecoderTest {
  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void valuesAreObjectsOfExactNumbers() {
    DecodedRecord record =
        new JsonDecoder(List.of()).decode(null, utf8("{\"a\": 1, \"b\": 1.10, \"c\": \"x\"}"));

    assertThat(record)
        .isEqualTo(DecodedRecord.upsert(Map.of("a", 1L, "b", new BigDecimal("1.10"), "c", "x")));
  }

  @Test
  void rejectsValuesThatAreNotObjects() {
    JsonDecoder decoder = new JsonDecoder(List.of());
    for (String value : List.of("[1]", "5", "{\"a\":1} {}", "{\"a\":1,\"a\":2}", "{")) {
      assertThatThrownBy(() -> decoder.decode(null, utf8(value)))
          .as(value)
          .isInstanceOfSatisfying(
              RecordRejectedException.class,
              e -> assertThat(e.reason()).isEqualTo(RejectReason.BAD_JSON));
    }
  }

  @Test
  void tombstonesDeleteTheirKey() {
    JsonDecoder decoder = new JsonDecoder(List.of("id"));
    assertThat(decoder.decode(utf8("{\"id\": 3}"), null))
        .isEqualTo(DecodedRecord.delete(Map.of("id", 3L)));
    assertThat(decoder.decode(utf8("3"), null)).isEqualTo(DecodedRecord.delete(Map.of("id", 3L)));
    assertThat(decoder.decode(utf8("\"a\""), null))
        .isEqualTo(DecodedRecord.delete(Map.of("id", "a")));
    assertThat(decoder.decode(utf8("plain text"), null))
        .isEqualTo(DecodedRecord.delete(Map.of("id", "plain text")));
  }

  @Test
  void aNullKeyIsNoKey() {
    // A JSON null key used to become a delete of the key null.
    assertThatThrownBy(() -> new JsonDecoder(List.of("id")).decode(utf8("null"), null))
        .isInstanceOfSatisfying(
            RecordRejectedException.class,
            e -> assertThat(e.reason()).isEqualTo(RejectReason.MISSING_KEY));
  }
}
