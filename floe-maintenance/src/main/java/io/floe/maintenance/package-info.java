/**
 * Table maintenance that runs in-process with Iceberg's Java library, without Spark: snapshot
 * expiry, orphan file removal, manifest rewrite, rollback. {@link
 * io.floe.maintenance.TableMaintenance} is the entry point; the CLI and the SQL {@code CALL
 * system.*} procedures call it. {@link io.floe.maintenance.MaintenanceScheduler} runs the policies
 * of the configuration's {@code maintenance} section on every table, in the background of {@code
 * floe run}.
 *
 * <h2>What each operation may delete</h2>
 *
 * <ul>
 *   <li><b>Snapshot expiry</b> removes the snapshots an {@link io.floe.maintenance.ExpirePolicy}
 *       selects in one commit, then deletes the files that only they referenced: their manifest
 *       lists, manifests no remaining snapshot lists, data and delete files live in no remaining
 *       snapshot, and their statistics files. Iceberg computes that set from the metadata after its
 *       commit; Floe deletes the files itself, and first checks each one against every snapshot of
 *       the table as it stands then, so a file a remaining snapshot references is never deleted.
 *       Snapshots of branches and tags, the most recent snapshots of the main branch (at least the
 *       current one), milestones, and the main branch's history down to its newest snapshot that is
 *       not a manifest rewrite (the CDC writer's base, see below) are never expired.
 *   <li><b>Orphan file removal</b> deletes files under the table's own location that the table's
 *       metadata does not reference (metadata files of the log, manifest lists and manifests of
 *       every snapshot, data and delete files live in any snapshot, statistics files, the version
 *       hint) and that were last modified before an age window (at least one minute; callers use
 *       three days).
 *   <li><b>Manifest rewrite</b> and <b>rollback</b> delete nothing. A rewrite commits new manifests
 *       in a replace snapshot; the old ones stay referenced by earlier snapshots until those
 *       expire.
 * </ul>
 *
 * <h2>Why concurrent CDC commits stay safe</h2>
 *
 * Floe's CDC writer ({@code io.floe.core.writer.CdcTableWriter}) may commit to a table while
 * maintenance runs. Every commit is a compare-and-swap of the table's metadata pointer in the
 * catalog; expiry and manifest rewrite are metadata commits that Iceberg recomputes on the latest
 * metadata and retries when the pointer moved, so neither undoes a CDC commit. The writer
 * references only two kinds of files:
 *
 * <ul>
 *   <li>files of its base snapshot: the snapshot of its own last commit, which its key index
 *       describes. That snapshot stays current until the writer commits again, or until a manifest
 *       rewrite commits on top of it (operation "replace", same files). Iceberg refuses a commit
 *       whose base it cannot reach walking back from the current snapshot (the writer would have to
 *       be reopened), so expiry keeps the main branch's history down to its newest snapshot that is
 *       not a "replace". Files a kept snapshot references are never deleted by expiry nor by orphan
 *       removal.
 *   <li>files it is writing right now, not yet committed. No snapshot references them, so expiry
 *       never lists them; orphan removal would, but only files older than its age window are
 *       orphans, and a commit takes seconds. Orphan removal lists files first and reads the
 *       metadata after, so a file whose commit lands during the listing is found referenced.
 * </ul>
 *
 * None of these operations changes which data files are live, so the writer's key index stays
 * valid. A rewrite whose manifests the writer merged away in the meantime fails with a conflict and
 * can simply be run again. A commit that lost a race leaves its metadata file behind; orphan
 * removal deletes it once it is older than the window. Rollback is the exception: it moves the
 * current snapshot under the writer, whose next commit is refused (its base is no longer in the
 * table's history); roll back a table while its pipeline is stopped, and the pipeline reloads the
 * index when it starts.
 *
 * <h2>Left for later</h2>
 *
 * <ul>
 *   <li>Compaction (rewrite_data_files) and delete folding. They change which data files are live,
 *       so they must run in the writer's loop and update its key index; a bolt-on compactor
 *       conflicts with ingestion.
 *   <li>Bulk deletes and parallel listing for large tables on object storage, scheme equivalence
 *       (s3 and s3a) in orphan removal, removal of unused partition specs and schemas.
 *   <li>A guard against a table whose location contains other tables' files: orphan removal assumes
 *       that a table's location holds only its own files, as Floe's catalog lays them out.
 * </ul>
 */
package io.floe.maintenance;
