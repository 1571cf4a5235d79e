package io.floe.ingest.enrich;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.lookup.ReferenceIndex;
import io.floe.ingest.quality.QualityGate;
import io.floe.ingest.stream.RecordFields;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * A {@link ReferenceIndex} of a table of the catalog, looked up with a record's values: each key
 * value is converted to its key column's type first (strictly, as a record's fields are to
 * columns), so that a record's long finds an int key.
 */
public final class ReferenceLookup implements QualityGate.Lookup {
  private final String table;
  private final ReferenceIndex index;
  private final Path directory;

  private ReferenceLookup(String table, ReferenceIndex index, Path directory) {
    this.table = table;
    this.index = index;
    this.directory = directory;
  }

  /**
   * Opens the lookup of {@code table} ({@code namespace.table}) by {@code keyColumns}, giving
   * {@code valueColumns}, with its index in a new directory under {@code parent}.
   *
   * @throws FloeException with {@link ErrorCode#REFERENCE_NOT_READY} when the table does not exist
   *     (yet)
   */
  public static ReferenceLookup open(
      Catalog catalog,
      String table,
      List<String> keyColumns,
      List<String> valueColumns,
      Path parent,
      long memoryBytes) {
    requireNonNull(catalog, "catalog is null");
    requireNonNull(table, "table is null");
    int dot = table.indexOf('.');
    Table iceberg;
    try {
      iceberg =
          catalog.loadTable(TableIdentifier.of(table.substring(0, dot), table.substring(dot + 1)));
    } catch (NoSuchTableException e) {
      throw new FloeException(
          ErrorCode.REFERENCE_NOT_READY,
          "Reference table "
              + table
              + " does not exist (yet): start the pipeline that writes it, or create it; this"
              + " pipeline starts again until it exists",
          e);
    }
    Path directory;
    try {
      Files.createDirectories(parent);
      directory = Files.createTempDirectory(parent, "lookup-");
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot create the directory of the lookup index of " + table + " in " + parent, e);
    }
    ReferenceIndex index =
        ReferenceIndex.open(
            iceberg, keyColumns, valueColumns, directory, memoryBytes, OptionalLong.empty());
    return new ReferenceLookup(table, index, directory);
  }

  public String table() {
    return table;
  }

  /** The snapshot of the reference the lookup answers from; empty while the table has none. */
  public OptionalLong snapshotId() {
    return index.snapshotId();
  }

  /** The Iceberg types of the value columns, in order. */
  public List<Type> valueTypes() {
    return index.valueSchema().columns().stream().map(Types.NestedField::type).toList();
  }

  public ReferenceIndex.Stats stats() {
    return index.stats();
  }

  @Override
  public void refresh() {
    index.refresh();
  }

  /**
   * @throws io.floe.ingest.stream.RecordRejectedException when a value cannot be converted to its
   *     key column's type
   */
  @Override
  public Optional<Object[]> lookup(List<Object> key) {
    return index.lookup(convert(key));
  }

  /**
   * Looks up several keys at once (one batched read of the index). A key with a null value, or a
   * value its column's type cannot take, finds nothing; {@code unmatched} gets why, at its index.
   */
  public List<Optional<Object[]>> lookupAll(List<List<Object>> keys, String[] unmatched) {
    List<List<Object>> converted = new java.util.ArrayList<>(keys.size());
    List<Integer> indexes = new java.util.ArrayList<>(keys.size());
    for (int i = 0; i < keys.size(); i++) {
      List<Object> key = keys.get(i);
      if (key.contains(null)) {
        unmatched[i] = "the record has no value for the key";
        continue;
      }
      try {
        converted.add(convert(key));
        indexes.add(i);
      } catch (io.floe.ingest.stream.RecordRejectedException e) {
        unmatched[i] = e.getMessage();
      }
    }
    List<Optional<Object[]>> found =
        new java.util.ArrayList<>(java.util.Collections.nCopies(keys.size(), Optional.empty()));
    List<Optional<Object[]>> rows = index.lookupAll(converted);
    for (int j = 0; j < rows.size(); j++) {
      found.set(indexes.get(j), rows.get(j));
    }
    return found;
  }

  private List<Object> convert(List<Object> key) {
    List<Types.NestedField> columns = index.keyFields();
    Object[] values = new Object[columns.size()];
    for (int i = 0; i < values.length; i++) {
      Object value = key.get(i);
      values[i] = value == null ? null : RecordFields.convert(value, columns.get(i));
    }
    return java.util.Arrays.asList(values);
  }

  @Override
  public void close() {
    try {
      index.close();
    } finally {
      deleteDirectory(directory);
    }
  }

  /**
   * Deletes the lookup indexes a previous run of the pipeline left in {@code parent} (a process
   * killed before it closed them): a pipeline builds its indexes anew at each start.
   */
  public static void deleteStale(Path parent) {
    if (Files.isDirectory(parent)) {
      deleteDirectory(parent);
    }
  }

  private static void deleteDirectory(Path directory) {
    try (var paths = Files.walk(directory)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(ReferenceLookup::delete);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete the lookup index in " + directory, e);
    }
  }

  private static void delete(Path path) {
    try {
      Files.delete(path);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete " + path, e);
    }
  }
}
