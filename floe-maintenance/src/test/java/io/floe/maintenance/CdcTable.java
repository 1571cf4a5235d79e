package io.floe.maintenance;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.CdcTableWriter;
import io.floe.core.writer.TableWriterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.ManifestContent;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;

/**
 * A Floe warehouse with one CDC table written by {@link CdcTableWriter} over many commits, and a
 * model of the table's rows as of each snapshot.
 */
final class CdcTable implements AutoCloseable {
  static final Schema SCHEMA =
      new Schema(
          List.of(
              Types.NestedField.required(1, "id", Types.LongType.get()),
              Types.NestedField.optional(2, "name", Types.StringType.get()),
              Types.NestedField.optional(3, "big", Types.StringType.get())),
          Set.of(1));

  static final TableIdentifier ID = TableIdentifier.of("raw", "orders");

  final JdbcCatalog catalog;
  final TableMaintenance maintenance;

  /** The writers of this test's process: register {@link #writer()} to make it a pipeline's. */
  final TableWriterRegistry writers = new TableWriterRegistry();

  private final Table table;
  private final CdcTableWriter writer;
  private final Random random = new Random(7);
  private final Map<Long, List<String>> model = new TreeMap<>();

  /** The model's rows as of each committed snapshot, in commit order. */
  final Map<Long, Map<Long, List<String>>> rowsBySnapshot = new LinkedHashMap<>();

  private CdcTable(WarehouseConfig warehouse, CatalogConfig catalogConfig, String location) {
    catalog = FloeCatalog.open(warehouse, catalogConfig);
    catalog.createNamespace(Namespace.of("raw"));
    catalog.createTable(
        TableIdentifier.of("raw", "customers"), SCHEMA, PartitionSpec.unpartitioned());
    table =
        catalog
            .buildTable(ID, SCHEMA)
            .withLocation(location)
            .withProperty("format-version", "2")
            .create();
    writer = CdcTableWriter.open(table);
    writer.setCompactionEnabled(true);
    maintenance = new TableMaintenance(catalog, writers);
  }

  static CdcTable create(Path warehouse) {
    return create(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
  }

  /** In a warehouse anywhere (object storage), with its catalog anywhere (PostgreSQL). */
  static CdcTable create(WarehouseConfig warehouse, CatalogConfig catalog) {
    return new CdcTable(warehouse, catalog, null);
  }

  /** A table whose location (and so every file location in its metadata) is a file: URI. */
  static CdcTable createWithUriLocation(Path warehouse) {
    return new CdcTable(
        WarehouseConfig.local(warehouse),
        CatalogConfig.defaults(),
        warehouse.resolve("uri-table").toUri().toString());
  }

  /**
   * Commits {@code count} batches of random inserts, updates and deletes over 80 keys, pausing
   * {@code pauseMillis} after each so that commit times differ.
   */
  void commit(int count, int changesPerCommit, long pauseMillis) {
    for (int commit = 0; commit < count; commit++) {
      for (int change = 0; change < changesPerCommit; change++) {
        long id = random.nextInt(80);
        int operation = random.nextInt(10);
        if (operation < 6 || !model.containsKey(id)) {
          String name = "n" + random.nextInt(10_000);
          writer.upsert(row(id, name, "big-" + id), null);
          model.put(id, List.of(name, "big-" + id));
        } else if (operation < 8) {
          String name = "u" + random.nextInt(10_000);
          writer.update(row(id, null, null), row(id, name, "big-" + id), null);
          model.put(id, List.of(name, "big-" + id));
        } else {
          writer.delete(row(id, null, null));
          model.remove(id);
        }
      }
      CdcTableWriter.CommitResult result = writer.commit(Map.of()).orElseThrow();
      rowsBySnapshot.put(result.snapshotId().orElseThrow(), new TreeMap<>(model));
      pause(pauseMillis);
    }
  }

  /**
   * Commits {@code count} batches of 4 rows each with new keys (at most 20 batches, the 80 keys),
   * so that the table's files receive no deletes.
   */
  void commitInserts(int count) {
    for (int commit = 0; commit < count; commit++) {
      for (int row = 0; row < 4; row++) {
        long id = commit * 4L + row;
        String name = "i" + id;
        writer.upsert(row(id, name, "big-" + id), null);
        model.put(id, List.of(name, "big-" + id));
      }
      CdcTableWriter.CommitResult result = writer.commit(Map.of()).orElseThrow();
      rowsBySnapshot.put(result.snapshotId().orElseThrow(), new TreeMap<>(model));
    }
  }

  /** Commits one batch that upserts these keys with new names. */
  void commitUpserts(long... ids) {
    for (long id : ids) {
      String name = "n" + random.nextInt(10_000);
      writer.upsert(row(id, name, "big-" + id), null);
      model.put(id, List.of(name, "big-" + id));
    }
    CdcTableWriter.CommitResult result = writer.commit(Map.of()).orElseThrow();
    rowsBySnapshot.put(result.snapshotId().orElseThrow(), new TreeMap<>(model));
  }

  /** Commits what the writer has pending (a rewrite handed to it), recording the snapshot. */
  void commitPending() {
    writer
        .commit(Map.of())
        .ifPresent(
            result -> rowsBySnapshot.put(result.snapshotId().orElseThrow(), new TreeMap<>(model)));
  }

  /** The writer, for tests that hand it rewrites or register it as a pipeline would. */
  CdcTableWriter writer() {
    return writer;
  }

  /** Makes the model what it was at a snapshot, as a rollback to it does to the table. */
  void resetModelTo(long snapshotId) {
    model.clear();
    model.putAll(rowsBySnapshot.get(snapshotId));
  }

  Map<Long, List<String>> currentModel() {
    return new TreeMap<>(model);
  }

  /** The table as the catalog has it now. */
  Table load() {
    return catalog.loadTable(ID);
  }

  /** Commit ids in commit order. */
  List<Long> commits() {
    return new ArrayList<>(rowsBySnapshot.keySet());
  }

  static Map<Long, List<String>> read(Table table, long snapshotId) {
    Map<Long, List<String>> rows = new TreeMap<>();
    try (CloseableIterable<Record> records =
        IcebergGenerics.read(table).useSnapshot(snapshotId).build()) {
      for (Record record : records) {
        List<String> values = List.of((String) record.get(1), (String) record.get(2));
        assertThat(rows.put((Long) record.get(0), values)).as("duplicate key").isNull();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }

  /** Every snapshot still in the table reads the rows it had when it was committed. */
  void assertEverySnapshotReadsItsRows() {
    Table current = load();
    int checked = 0;
    for (Snapshot snapshot : current.snapshots()) {
      Map<Long, List<String>> expected = rowsBySnapshot.get(snapshot.snapshotId());
      if (expected != null) {
        assertThat(read(current, snapshot.snapshotId()))
            .as("rows of snapshot %s", snapshot.snapshotId())
            .isEqualTo(expected);
        checked++;
      }
    }
    assertThat(checked).isPositive();
  }

  /**
   * The files the given snapshots reference, by location, with what they are: computed here with
   * Iceberg's own readers, independently of {@link ReachableFiles}.
   */
  static Map<String, String> referencedFiles(Table table, Iterable<Snapshot> snapshots) {
    Map<String, String> files = new HashMap<>();
    for (Snapshot snapshot : snapshots) {
      files.put(snapshot.manifestListLocation(), "manifest list");
      for (ManifestFile manifest : snapshot.allManifests(table.io())) {
        files.put(manifest.path(), "manifest");
        boolean deletes = manifest.content() == ManifestContent.DELETES;
        try (ManifestReader<? extends ContentFile<?>> reader =
            deletes
                ? ManifestFiles.readDeleteManifest(manifest, table.io(), table.specs())
                : ManifestFiles.read(manifest, table.io(), table.specs())) {
          for (ContentFile<?> file : reader) {
            files.put(file.location(), deletes ? "delete" : "data");
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    return files;
  }

  static Record row(long id, String name, String big) {
    GenericRecord record = GenericRecord.create(SCHEMA);
    record.set(0, id);
    record.set(1, name);
    record.set(2, big);
    return record;
  }

  static void pause(long millis) {
    if (millis <= 0) {
      return;
    }
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() throws IOException {
    catalog.close();
  }
}
