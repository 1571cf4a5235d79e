package io.floe.maintenance;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.ManifestContent;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.PartitionStatisticsFile;
import org.apache.iceberg.ReachableFileUtil;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.StatisticsFile;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.FileIO;

/**
 * The files that table metadata references, by normalized location (see {@link Locations}), each
 * with its kind and size.
 *
 * <p>For a set of snapshots: their manifest lists, their manifests, the live (added or existing)
 * data and delete files of those manifests, and their statistics files. A file that a snapshot
 * deletes is live in the snapshot's parent, so reading every snapshot's manifests finds every file
 * any snapshot can read. For a whole table, also its metadata files (current and the metadata log)
 * and its version hint.
 *
 * <p>A manifest that cannot be read fails the whole computation: treating it as empty would make
 * its files look unreferenced.
 */
final class ReachableFiles {
  /** What a referenced file is. */
  enum Kind {
    DATA,
    DELETE,
    MANIFEST,
    MANIFEST_LIST,
    STATISTICS,
    METADATA
  }

  /** A referenced file: its location as written in metadata, kind, and size (-1 if unknown). */
  record Reference(String location, Kind kind, long bytes) {
    Reference {
      requireNonNull(location, "location is null");
      requireNonNull(kind, "kind is null");
    }
  }

  private final Map<String, Reference> files;

  private ReachableFiles(Map<String, Reference> files) {
    this.files = files;
  }

  /** Files referenced by the given snapshots of the table. */
  static ReachableFiles ofSnapshots(Table table, Collection<Snapshot> snapshots) {
    Map<String, Reference> files = new LinkedHashMap<>();
    FileIO io = table.io();
    Map<Integer, PartitionSpec> specs = table.specs();
    Set<String> manifestsRead = new HashSet<>();
    Set<Long> snapshotIds = new HashSet<>();
    for (Snapshot snapshot : snapshots) {
      snapshotIds.add(snapshot.snapshotId());
      if (snapshot.manifestListLocation() != null) {
        add(files, snapshot.manifestListLocation(), Kind.MANIFEST_LIST, -1);
      }
      for (ManifestFile manifest : snapshot.allManifests(io)) {
        add(files, manifest.path(), Kind.MANIFEST, manifest.length());
        if (manifestsRead.add(manifest.path())) {
          addLiveFiles(files, manifest, io, specs);
        }
      }
    }
    for (StatisticsFile statistics : table.statisticsFiles()) {
      if (snapshotIds.contains(statistics.snapshotId())) {
        add(files, statistics.path(), Kind.STATISTICS, statistics.fileSizeInBytes());
      }
    }
    for (PartitionStatisticsFile statistics : table.partitionStatisticsFiles()) {
      if (snapshotIds.contains(statistics.snapshotId())) {
        add(files, statistics.path(), Kind.STATISTICS, statistics.fileSizeInBytes());
      }
    }
    return new ReachableFiles(files);
  }

  /** Every file the table's current metadata references, of all its snapshots. */
  static ReachableFiles ofTable(Table table) {
    Map<String, Reference> files = new LinkedHashMap<>();
    for (String metadata : ReachableFileUtil.metadataFileLocations(table, false)) {
      add(files, metadata, Kind.METADATA, -1);
    }
    String versionHint = ReachableFileUtil.versionHintLocation(table);
    if (versionHint != null) {
      add(files, versionHint, Kind.METADATA, -1);
    }
    Map<String, Reference> ofSnapshots = ofSnapshots(table, snapshots(table)).files;
    ofSnapshots.forEach(files::putIfAbsent);
    return new ReachableFiles(files);
  }

  static List<Snapshot> snapshots(Table table) {
    List<Snapshot> snapshots = new ArrayList<>();
    table.snapshots().forEach(snapshots::add);
    return snapshots;
  }

  boolean contains(String location) {
    return files.containsKey(Locations.normalize(location));
  }

  /** The reference for a location, or null if the metadata does not reference it. */
  Reference get(String location) {
    return files.get(Locations.normalize(location));
  }

  /** Files referenced here and not by {@code other}. */
  Map<String, Reference> without(ReachableFiles other) {
    Map<String, Reference> difference = new LinkedHashMap<>();
    files.forEach(
        (location, reference) -> {
          if (!other.files.containsKey(location)) {
            difference.put(location, reference);
          }
        });
    return difference;
  }

  private static void addLiveFiles(
      Map<String, Reference> files,
      ManifestFile manifest,
      FileIO io,
      Map<Integer, PartitionSpec> specs) {
    boolean deletes = manifest.content() == ManifestContent.DELETES;
    try (ManifestReader<? extends ContentFile<?>> reader =
        deletes
            ? ManifestFiles.readDeleteManifest(manifest, io, specs)
            : ManifestFiles.read(manifest, io, specs)) {
      for (ContentFile<?> file : reader) {
        add(files, file.location(), deletes ? Kind.DELETE : Kind.DATA, file.fileSizeInBytes());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read manifest " + manifest.path(), e);
    }
  }

  private static void add(Map<String, Reference> files, String location, Kind kind, long bytes) {
    files.putIfAbsent(Locations.normalize(location), new Reference(location, kind, bytes));
  }

  /**
   * The kind of a file found nowhere in the metadata read, from its name as Iceberg writes it: data
   * and delete files cannot be told apart this way, and count as data.
   */
  static Kind guessKind(String location) {
    String name = location.substring(location.lastIndexOf('/') + 1);
    if (name.startsWith("snap-") && name.endsWith(".avro")) {
      return Kind.MANIFEST_LIST;
    }
    if (name.endsWith(".avro")) {
      return Kind.MANIFEST;
    }
    if (name.endsWith(".stats") || name.endsWith(".puffin")) {
      return Kind.STATISTICS;
    }
    if (name.endsWith(".metadata.json")) {
      return Kind.METADATA;
    }
    return Kind.DATA;
  }
}
