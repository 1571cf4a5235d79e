package io.floe.ingest;

import java.util.BitSet;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.Record;

/**
 * A row as a source sent it, in the source's own representation, converted into the Iceberg records
 * the table writer applies. Conversion happens only for changes that are applied (a replayed change
 * that is skipped is never converted).
 */
public interface RowImage {
  /**
   * The row as a record of {@code schema}, the target table's schema.
   *
   * @param unchanged where to flag the positions of top-level fields whose values the source left
   *     out because they did not change (PostgreSQL's unchanged TOAST values), which the writer
   *     takes from the row's previous version; null for an image that has no such values (a full
   *     load's row) or that holds only the key fields (a delete's key), whose other fields stay
   *     null
   * @throws io.floe.core.FloeException when the image does not fit the schema or a value cannot be
   *     represented
   */
  Record toRecord(Schema schema, BitSet unchanged);

  /**
   * How this image's columns differ from {@code schema} after a schema change at the source, for
   * the pipeline to evolve the table before the row is converted. Sources whose rows carry no
   * schema of their own answer {@link SchemaDrift#NONE}.
   */
  default SchemaDrift drift(Schema schema) {
    return SchemaDrift.NONE;
  }

  /**
   * What identifies the source schema this image was written with, the same object for every image
   * of one version of a table (Debezium's Connect schema), so that {@link #drift} is asked once per
   * version; null when the image carries no schema.
   */
  default Object sourceSchema() {
    return null;
  }
}
