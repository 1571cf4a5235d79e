package io.floe.ingest.transform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.ingest.stream.RecordFields;
import io.floe.ingest.transform.RecordTransform.Failed;
import io.floe.ingest.transform.RecordTransform.Filtered;
import io.floe.ingest.transform.RecordTransform.Outcome;
import io.floe.ingest.transform.RecordTransform.Row;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;

class RecordTransformTest {
  @Test
  void selectsRenamesComputesAndFilters() {
    try (RecordTransform transform =
        RecordTransform.open(
            List.of("* EXCLUDE (debug)", "lower(email) AS email_lower", "price * qty AS total"),
            Optional.of("status <> 'test'"))) {
      List<Outcome> outcomes =
          transform.apply(
              List.of(
                  record(
                      "email",
                      "A@X.ORG",
                      "price",
                      new BigDecimal("2.50"),
                      "qty",
                      3L,
                      "status",
                      "ok",
                      "debug",
                      true),
                  record(
                      "email",
                      "b@x.org",
                      "price",
                      new BigDecimal("1.00"),
                      "qty",
                      1L,
                      "status",
                      "test",
                      "debug",
                      false)));
      assertThat(outcomes.get(1)).isEqualTo(Filtered.INSTANCE);
      Map<String, Object> fields = ((Row) outcomes.get(0)).fields();
      assertThat(fields)
          .containsEntry("email", "A@X.ORG")
          .containsEntry("email_lower", "a@x.org")
          .containsEntry("status", "ok")
          .doesNotContainKey("debug")
          .doesNotContainKey(DuckBatch.ROW);
      assertThat(fields.get("total")).isEqualTo(new BigDecimal("7.50"));
    }
  }

  @Test
  void aRecordThatFailsFailsAloneWithDuckDbsMessage() {
    try (RecordTransform transform =
        RecordTransform.open(List.of("CAST(code AS INTEGER) AS code"), Optional.empty())) {
      List<Map<String, Object>> records = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        records.add(record("code", i == 500 ? "abc" : Integer.toString(i)));
      }
      List<Outcome> outcomes = transform.apply(records);
      assertThat(outcomes.get(500)).isInstanceOf(Failed.class);
      assertThat(((Failed) outcomes.get(500)).message()).contains("abc");
      for (int i = 0; i < 1000; i++) {
        if (i != 500) {
          assertThat(((Row) outcomes.get(i)).fields()).containsEntry("code", i);
        }
      }
    }
  }

  @Test
  void aRecordsOutcomeDoesNotDependOnItsNeighbours() {
    try (RecordTransform transform =
        RecordTransform.open(List.of("amount + 1 AS next"), Optional.empty())) {
      Map<String, Object> number = record("amount", 41L);
      Outcome alone = transform.apply(List.of(number)).get(0);
      Outcome mixed =
          transform.apply(List.of(record("amount", "text"), number, record("amount", 1.5))).get(1);
      assertThat(mixed).isEqualTo(alone);
      assertThat(((Row) alone).fields()).containsEntry("next", 42L);
    }
  }

  @Test
  void missingAndNullFieldsAreNullAndNestedValuesComeBackAsMapsAndLists() {
    try (RecordTransform transform =
        RecordTransform.open(
            List.of(
                "coalesce(name, 'none') AS name",
                "{'a': 1, 'b': [2, 3]} AS nested",
                "DATE '2026-12-07' AS day",
                "TIMESTAMPTZ '2026-12-07 10:00:00+00' AS at"),
            Optional.empty())) {
      Map<String, Object> withNull = new LinkedHashMap<>();
      withNull.put("name", null);
      List<Outcome> outcomes =
          transform.apply(List.of(record("name", "x"), withNull, record("other", 1L)));
      assertThat(((Row) outcomes.get(0)).fields()).containsEntry("name", "x");
      assertThat(((Row) outcomes.get(1)).fields()).containsEntry("name", "none");
      Map<String, Object> fields = ((Row) outcomes.get(2)).fields();
      assertThat(fields).containsEntry("name", "none");
      assertThat(fields.get("nested")).isEqualTo(Map.of("a", 1, "b", List.of(2, 3)));
      assertThat(fields.get("day")).isEqualTo(LocalDate.of(2026, 12, 7));
      assertThat(fields.get("at"))
          .isEqualTo(OffsetDateTime.of(2026, 12, 7, 10, 0, 0, 0, ZoneOffset.UTC));
      // Each output value has the column type a stream table infers for it.
      assertThat(RecordFields.inferType("day", fields.get("day"))).contains(Types.DateType.get());
      assertThat(RecordFields.inferType("at", fields.get("at")))
          .contains(Types.TimestampType.withZone());
      assertThat(RecordFields.inferJson(fields.get("nested"))).isTrue();
    }
  }

  @Test
  void invalidSqlIsRefusedAtOnce() {
    FloeException syntax =
        catchThrowableOfType(
            FloeException.class,
            () -> RecordTransform.open(List.of("lower(email AS e"), Optional.empty()));
    assertThat(syntax.code()).isEqualTo(ErrorCode.CONFIG_INVALID);
    assertThat(syntax.getMessage())
        .contains("transform.select item 'lower(email AS e'", "is not valid SQL");
    FloeException where =
        catchThrowableOfType(
            FloeException.class,
            () -> RecordTransform.open(List.of("*"), Optional.of("status <> 'a'; DROP TABLE x")));
    assertThat(where.getMessage()).contains("transform.where");
  }

  @Test
  void expressionsCannotReadFiles() {
    try (RecordTransform transform =
        RecordTransform.open(
            List.of("(SELECT count(*) FROM read_csv('/etc/passwd')) AS lines"), Optional.empty())) {
      Outcome outcome = transform.apply(List.of(record("a", 1L))).get(0);
      assertThat(outcome).isInstanceOf(Failed.class);
      assertThat(((Failed) outcome).message()).containsIgnoringCase("disabled");
    }
  }

  @Test
  void predicatesOverTypedRowsFailFalseNullAndErrors() {
    org.apache.iceberg.Schema schema =
        new org.apache.iceberg.Schema(
            Types.NestedField.optional(1, "qty", Types.LongType.get()),
            Types.NestedField.optional(2, "code", Types.StringType.get()));
    try (RowPredicates predicates =
        RowPredicates.open(List.of("qty < 10", "CAST(code AS INTEGER) > 0"))) {
      List<org.apache.iceberg.data.Record> rows =
          List.of(row(schema, 5L, "1"), row(schema, 50L, "2"), row(schema, null, "x"));
      assertThat(predicates.failures(0, schema, rows))
          .containsExactly(null, "'qty < 10' is not true", "'qty < 10' is not true");
      List<String> casts = predicates.failures(1, schema, rows);
      assertThat(casts.get(0)).isNull();
      assertThat(casts.get(1)).isNull();
      assertThat(casts.get(2)).contains("evaluating 'CAST(code AS INTEGER) > 0' failed", "x");
    }
  }

  @Test
  void printsItsThroughput() {
    try (RecordTransform transform =
        RecordTransform.open(
            List.of("*", "lower(name) AS lower_name", "price * qty AS total"),
            Optional.of("qty > 0"))) {
      List<Map<String, Object>> records = new ArrayList<>();
      for (int i = 0; i < 10_000; i++) {
        records.add(
            record(
                "id",
                (long) i,
                "name",
                "Name " + i,
                "price",
                1.5 * i,
                "qty",
                (long) (i % 7),
                "country",
                "FR",
                "active",
                i % 2 == 0));
      }
      transform.apply(records); // warm up
      long started = System.nanoTime();
      int rounds = 5;
      for (int round = 0; round < rounds; round++) {
        transform.apply(records);
      }
      double perSecond = rounds * records.size() / ((System.nanoTime() - started) / 1e9);
      System.out.printf(
          "RecordTransform: %,.0f records/s (6 fields, 3 items, a filter)%n", perSecond);
      assertThat(perSecond).isPositive();
    }
  }

  private static org.apache.iceberg.data.Record row(
      org.apache.iceberg.Schema schema, Long qty, String code) {
    org.apache.iceberg.data.GenericRecord row =
        org.apache.iceberg.data.GenericRecord.create(schema);
    row.setField("qty", qty);
    row.setField("code", code);
    return row;
  }

  private static Map<String, Object> record(Object... namesAndValues) {
    Map<String, Object> record = new LinkedHashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      record.put((String) namesAndValues[i], namesAndValues[i + 1]);
    }
    return record;
  }
}
