package io.floe.maintenance;

import java.util.Locale;
import org.apache.iceberg.NullOrder;
import org.apache.iceberg.Schema;
import org.apache.iceberg.SortOrder;

/** Parses sort orders written as in Spark's {@code sort_order} argument. */
final class SortOrders {
  private SortOrders() {}

  /**
   * Parses {@code "id DESC NULLS LAST, name"}: comma-separated columns, each optionally followed by
   * {@code ASC} or {@code DESC} and {@code NULLS FIRST} or {@code NULLS LAST}. As in SQL, ascending
   * sorts nulls first and descending sorts them last unless told otherwise.
   */
  static SortOrder parse(Schema schema, String text) {
    SortOrder.Builder builder = SortOrder.builderFor(schema);
    for (String term : text.split(",", -1)) {
      String[] words = term.trim().split("\\s+", -1);
      if (words.length == 0 || words[0].isEmpty()) {
        throw invalid(text, "a column is missing between commas");
      }
      String column = words[0];
      if (column.contains("(")) {
        throw invalid(text, "transforms such as " + column + " are not supported; name columns");
      }
      if (schema.caseInsensitiveFindField(column) == null) {
        throw invalid(text, "no column " + column + " in the table");
      }
      column = schema.caseInsensitiveFindField(column).name();
      boolean descending = false;
      NullOrder nulls = null;
      int next = 1;
      if (next < words.length && words[next].equalsIgnoreCase("ASC")) {
        next++;
      } else if (next < words.length && words[next].equalsIgnoreCase("DESC")) {
        descending = true;
        next++;
      }
      if (next + 1 < words.length && words[next].equalsIgnoreCase("NULLS")) {
        String which = words[next + 1].toUpperCase(Locale.ROOT);
        if (which.equals("FIRST")) {
          nulls = NullOrder.NULLS_FIRST;
        } else if (which.equals("LAST")) {
          nulls = NullOrder.NULLS_LAST;
        } else {
          throw invalid(text, "expected NULLS FIRST or NULLS LAST after " + column);
        }
        next += 2;
      }
      if (next != words.length) {
        throw invalid(
            text,
            "unexpected '"
                + words[next]
                + "' after column "
                + column
                + "; write column [ASC|DESC] [NULLS FIRST|NULLS LAST]");
      }
      if (nulls == null) {
        nulls = descending ? NullOrder.NULLS_LAST : NullOrder.NULLS_FIRST;
      }
      if (descending) {
        builder.desc(column, nulls);
      } else {
        builder.asc(column, nulls);
      }
    }
    return builder.build();
  }

  private static IllegalArgumentException invalid(String text, String reason) {
    return new IllegalArgumentException("Invalid sort order '" + text + "': " + reason);
  }
}
