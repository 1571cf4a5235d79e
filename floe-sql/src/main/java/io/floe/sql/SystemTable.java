package io.floe.sql;

import java.util.List;
import org.apache.iceberg.Schema;

/**
 * A table of Floe's own that queries read as {@code system.<name>}, such as the metrics reports
 * engines send to the REST catalog: rows read afresh for every query that names it.
 */
public interface SystemTable {
  /** The name after {@code system.}, lowercase. */
  String name();

  /** The columns, with Iceberg types. */
  Schema schema();

  /**
   * The rows, each with one value per column in the Java form Iceberg's generic data uses (a {@code
   * CharSequence} for strings, microseconds since the epoch for timestamps).
   */
  List<Object[]> rows();
}
