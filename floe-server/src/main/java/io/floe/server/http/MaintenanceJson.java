package io.floe.server.http;

import com.fasterxml.jackson.core.JsonGenerator;
import io.floe.core.catalog.SchemaHistory;
import io.floe.core.config.EffectiveMaintenancePolicy;
import io.floe.core.config.MaintenancePolicy;
import io.floe.maintenance.ExpireResult;
import io.floe.maintenance.MaintenanceRun;
import io.floe.maintenance.OrphanResult;
import io.floe.maintenance.RewriteDataFilesResult;
import io.floe.maintenance.RewriteManifestsResult;
import io.floe.maintenance.TableFigures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Maintenance runs, policies and results as JSON, the same for the HTTP API and {@code floe
 * maintain --format json}. Members are camelCase; operations are written as users name them ({@code
 * expire-snapshots}) and policy keys as the configuration file does ({@code retain-last}).
 */
public final class MaintenanceJson {
  private MaintenanceJson() {}

  /**
   * Runs as a JSON array: {@code [{"table": "raw.orders", "operation": "expire-snapshots",
   * "startedAt": "2026-11-21T10:00:00.123Z", "durationMillis": 120, "failed": false, "before":
   * {"dataFiles": 12, "deleteFiles": 3, "totalBytes": 4096, "snapshots": 20}, "after": {...},
   * "details": "...", "error": null}]}; {@code before} and {@code after} are null when the table
   * could not be measured, and a total its snapshot summary lacks is -1.
   */
  public static String runs(List<MaintenanceRun> runs) {
    return text(Responses.json(json -> writeRuns(json, runs)));
  }

  /**
   * A table's policy: {@code {"table": "raw.orders", "policy": {"retain-last": {"value": 20,
   * "source": "table property", "origin": "floe.maintenance.retain-last"}, ...}}}. Numbers and
   * booleans are JSON numbers and booleans (sizes in bytes); durations, milestones and the sort
   * order are strings as the configuration writes them. {@code origin} is empty for a default.
   */
  public static String policy(EffectiveMaintenancePolicy policy) {
    return text(Responses.json(json -> writePolicy(json, policy)));
  }

  static void writeRuns(JsonGenerator json, List<MaintenanceRun> runs) throws IOException {
    json.writeStartArray();
    for (MaintenanceRun run : runs) {
      writeRun(json, run);
    }
    json.writeEndArray();
  }

  static void writeRun(JsonGenerator json, MaintenanceRun run) throws IOException {
    json.writeStartObject();
    json.writeStringField("table", run.table().toString());
    json.writeStringField("operation", run.operation().label());
    json.writeStringField("startedAt", run.startedAt().toString());
    json.writeNumberField("durationMillis", run.durationMillis());
    json.writeBooleanField("failed", run.failed());
    writeFigures(json, "before", run.before());
    writeFigures(json, "after", run.after());
    json.writeStringField("details", run.details());
    json.writeStringField("error", run.error());
    json.writeEndObject();
  }

  private static void writeFigures(JsonGenerator json, String name, TableFigures figures)
      throws IOException {
    if (figures == null) {
      json.writeNullField(name);
      return;
    }
    json.writeObjectFieldStart(name);
    json.writeNumberField("dataFiles", figures.dataFiles());
    json.writeNumberField("deleteFiles", figures.deleteFiles());
    json.writeNumberField("totalBytes", figures.totalBytes());
    json.writeNumberField("snapshots", figures.snapshots());
    json.writeEndObject();
  }

  /** The schemas of a table, oldest first: id, first snapshot and when, changes, current. */
  static void writeSchemaHistory(JsonGenerator json, List<SchemaHistory.Entry> history)
      throws IOException {
    json.writeStartArray();
    for (SchemaHistory.Entry entry : history) {
      json.writeStartObject();
      json.writeNumberField("schema-id", entry.schemaId());
      if (entry.firstSnapshotId().isPresent()) {
        json.writeNumberField("first-snapshot-id", entry.firstSnapshotId().get());
      } else {
        json.writeNullField("first-snapshot-id");
      }
      json.writeStringField(
          "first-written", entry.firstWritten().map(Object::toString).orElse(null));
      json.writeArrayFieldStart("changes");
      for (String change : entry.changes()) {
        json.writeString(change);
      }
      json.writeEndArray();
      json.writeBooleanField("current", entry.current());
      json.writeEndObject();
    }
    json.writeEndArray();
  }

  static void writePolicy(JsonGenerator json, EffectiveMaintenancePolicy policy)
      throws IOException {
    json.writeStartObject();
    json.writeStringField("table", policy.table());
    json.writeObjectFieldStart("policy");
    for (MaintenancePolicy.Key key : MaintenancePolicy.Key.values()) {
      json.writeObjectFieldStart(key.configName());
      Object value = policy.policy().value(key);
      if (value instanceof Boolean bool) {
        json.writeBooleanField("value", bool);
      } else if (value instanceof Integer || value instanceof Long) {
        json.writeNumberField("value", ((Number) value).longValue());
      } else if (value instanceof Double number) {
        json.writeNumberField("value", number);
      } else {
        json.writeStringField("value", policy.policy().text(key));
      }
      EffectiveMaintenancePolicy.Source source = policy.source(key);
      json.writeStringField("source", source.kind().label());
      json.writeStringField("origin", source.origin());
      json.writeEndObject();
    }
    json.writeEndObject();
    json.writeEndObject();
  }

  /** The result of an operation, with the table and operation it ran. */
  static void writeResult(
      JsonGenerator json, String table, MaintenanceRun.Operation operation, Object result)
      throws IOException {
    json.writeStartObject();
    json.writeStringField("table", table);
    json.writeStringField("operation", operation.label());
    if (result instanceof ExpireResult expired) {
      json.writeBooleanField("dryRun", expired.dryRun());
      json.writeArrayFieldStart("expiredSnapshotIds");
      for (long snapshotId : expired.expiredSnapshotIds()) {
        json.writeNumber(snapshotId);
      }
      json.writeEndArray();
      json.writeNumberField("deletedDataFiles", expired.deletedDataFiles());
      json.writeNumberField("deletedDeleteFiles", expired.deletedDeleteFiles());
      json.writeNumberField("deletedManifests", expired.deletedManifests());
      json.writeNumberField("deletedManifestLists", expired.deletedManifestLists());
      json.writeNumberField("deletedBytes", expired.deletedBytes());
      json.writeNumberField("durationMillis", expired.durationMillis());
    } else if (result instanceof OrphanResult orphans) {
      json.writeBooleanField("dryRun", orphans.dryRun());
      json.writeArrayFieldStart("orphanFiles");
      for (String file : orphans.orphanFiles()) {
        json.writeString(file);
      }
      json.writeEndArray();
      json.writeNumberField("orphanBytes", orphans.orphanBytes());
      json.writeNumberField("durationMillis", orphans.durationMillis());
    } else if (result instanceof RewriteManifestsResult manifests) {
      json.writeNumberField("manifestsBefore", manifests.manifestsBefore());
      json.writeNumberField("manifestsAfter", manifests.manifestsAfter());
      json.writeNumberField("durationMillis", manifests.durationMillis());
    } else if (result instanceof RewriteDataFilesResult rewritten) {
      json.writeNumberField("rewrittenDataFiles", rewritten.rewrittenDataFiles());
      json.writeNumberField("addedDataFiles", rewritten.addedDataFiles());
      json.writeNumberField("rewrittenBytes", rewritten.rewrittenBytes());
      json.writeNumberField("addedBytes", rewritten.addedBytes());
      json.writeNumberField("removedDeleteFiles", rewritten.removedDeleteFiles());
      json.writeNumberField("foldedDeletes", rewritten.foldedDeletes());
      json.writeNumberField("rowsChangedMeanwhile", rewritten.rowsChangedMeanwhile());
      json.writeNumberField("snapshotId", rewritten.snapshotId());
      json.writeNumberField("durationMillis", rewritten.durationMillis());
    } else {
      throw new IllegalArgumentException("no JSON form for " + result);
    }
    json.writeEndObject();
  }

  private static String text(byte[] json) {
    return new String(json, StandardCharsets.UTF_8);
  }
}
