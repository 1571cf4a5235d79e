package io.floe.maintenance;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.util.PropertyUtil;

/** Iceberg's switch for operations that delete a table's files: gc.enabled. */
final class GarbageCollection {
  private GarbageCollection() {}

  /**
   * Refuses to go on when the table's gc.enabled property is false: its files may be shared with
   * other tables (a table registered over another's files), so none may be deleted.
   */
  static void check(Table table, String action) {
    if (!PropertyUtil.propertyAsBoolean(
        table.properties(), TableProperties.GC_ENABLED, TableProperties.GC_ENABLED_DEFAULT)) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Cannot "
              + action
              + " table "
              + table.name()
              + ": its property "
              + TableProperties.GC_ENABLED
              + " is false, so its files may be shared with other tables; set it to true only if"
              + " no other table references them");
    }
  }
}
