package io.floe.maintenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.iceberg.NullOrder;
import org.apache.iceberg.Schema;
import org.apache.iceberg.SortOrder;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sorting a file group's rows in bounded memory: the rows come back in sort order, each once with
 * the source and position it was added with, whether they stayed in memory or went through runs.
 */
class SortedRowsTest {
  private static final Schema SCHEMA =
      new Schema(
          Types.NestedField.required(1, "id", Types.LongType.get()),
          Types.NestedField.optional(2, "name", Types.StringType.get()),
          Types.NestedField.optional(
              3, "tags", Types.ListType.ofOptional(4, Types.StringType.get())));

  /** name descending, nulls last, then id. */
  private static final SortOrder ORDER =
      SortOrder.builderFor(SCHEMA).desc("name", NullOrder.NULLS_LAST).asc("id").build();

  private static final Comparator<Added> EXPECTED =
      Comparator.comparing(
              (Added added) -> (String) added.row.getField("name"),
              Comparator.nullsLast(Comparator.<String>reverseOrder()))
          .thenComparing(added -> (Long) added.row.getField("id"));

  @TempDir Path temporary;

  @Test
  void sortsRowsHeldInMemory() {
    List<Added> added = rows(500, 3);
    try (SortedRows sorted = new SortedRows(SCHEMA, ORDER, Long.MAX_VALUE, temporary)) {
      added.forEach(row -> sorted.add(row.row, row.source, row.position, 100));
      assertSortedOnce(sorted, added);
      assertThat(sorted.runs()).isZero();
    }
  }

  @Test
  void mergesRunsWrittenWhenTheMemoryBoundIsReached() {
    List<Added> added = rows(5_000, 4);
    try (SortedRows sorted = new SortedRows(SCHEMA, ORDER, 40_000, temporary)) {
      added.forEach(row -> sorted.add(row.row, row.source, row.position, 100));
      // 100 bytes a row, 40,000 bytes a run: 400 rows a run.
      assertThat(sorted.runs()).isEqualTo(12);
      assertSortedOnce(sorted, added);
    }
    assertThat(temporary).isEmptyDirectory();
  }

  @Test
  void isReadOnce() {
    try (SortedRows sorted = new SortedRows(SCHEMA, ORDER, Long.MAX_VALUE, temporary)) {
      sorted.forEachSorted((row, source, position) -> {});
      assertThatThrownBy(() -> sorted.forEachSorted((row, source, position) -> {}))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("read already");
    }
  }

  @Test
  void closeDeletesItsRunsEvenIfTheyWereNotRead() throws Exception {
    try (SortedRows sorted = new SortedRows(SCHEMA, ORDER, 1_000, temporary)) {
      rows(100, 1).forEach(row -> sorted.add(row.row, row.source, row.position, 100));
      assertThat(sorted.runs()).isEqualTo(10);
      try (var files = Files.list(temporary)) {
        assertThat(files.count()).isEqualTo(1);
      }
    }
    assertThat(temporary).isEmptyDirectory();
  }

  private static void assertSortedOnce(SortedRows sorted, List<Added> added) {
    List<Added> read = new ArrayList<>();
    sorted.forEachSorted((row, source, position) -> read.add(new Added(row, source, position)));
    assertThat(read).hasSameSizeAs(added).isSortedAccordingTo(EXPECTED);
    Map<String, Record> byOrigin = new HashMap<>();
    for (Added row : added) {
      byOrigin.put(row.source + "/" + row.position, row.row);
    }
    for (Added row : read) {
      assertThat(byOrigin.remove(row.source + "/" + row.position))
          .as("the row added from source %d position %d", row.source, row.position)
          .isEqualTo(row.row);
    }
    assertThat(byOrigin).isEmpty();
  }

  /** Rows from {@code sources} files, with repeated and null names and lists. */
  private static List<Added> rows(int count, int sources) {
    Random random = new Random(3);
    List<Added> rows = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      GenericRecord row = GenericRecord.create(SCHEMA);
      row.setField("id", (long) random.nextInt(count * 10));
      row.setField("name", random.nextInt(10) == 0 ? null : "n" + random.nextInt(count / 5 + 1));
      row.setField("tags", random.nextBoolean() ? null : List.of("t" + i, "u"));
      rows.add(new Added(row, i % sources, i / sources));
    }
    return rows;
  }

  private record Added(Record row, int source, long position) {}
}
