package io.floe.sql.pgwire;

import java.util.List;
import java.util.Locale;

/**
 * The result format codes of a Bind message: none (all text), one for every column, or one per
 * column.
 */
final class ResultFormats {
  static final ResultFormats TEXT = new ResultFormats(new int[0]);

  private final int[] codes;

  ResultFormats(int[] codes) {
    for (int code : codes) {
      if (code != ParameterBinder.TEXT_FORMAT && code != ParameterBinder.BINARY_FORMAT) {
        throw PgErrors.protocol("Cannot bind: unknown result format code " + code);
      }
    }
    this.codes = codes.clone();
  }

  int format(int column) {
    if (codes.length == 0) {
      return ParameterBinder.TEXT_FORMAT;
    }
    return codes.length == 1 ? codes[0] : codes[column];
  }

  /**
   * Checks the codes fit the columns: their count, and a binary encoding for each binary column.
   */
  void check(List<PgColumn> columns) {
    if (codes.length > 1 && codes.length != columns.size()) {
      throw PgErrors.protocol(
          "Cannot bind: "
              + codes.length
              + " result format codes were given for "
              + columns.size()
              + " columns");
    }
    for (int i = 0; i < columns.size(); i++) {
      PgColumn column = columns.get(i);
      if (format(i) == ParameterBinder.BINARY_FORMAT && !column.type().hasBinaryFormat()) {
        throw PgErrors.unsupported(
            "Cannot send column \""
                + column.name()
                + "\" in binary format: its type "
                + column.type().name().toLowerCase(Locale.ROOT)
                + " is sent in text format only; request text format for it");
      }
    }
  }
}
