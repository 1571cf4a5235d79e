/**
 * Table maintenance that runs in-process with Iceberg's Java library, without Spark: compaction of
 * data files, snapshot expiry, orphan file removal, manifest rewrite, rollback. {@link
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
 *   <li><b>Compaction</b> deletes nothing itself: the files it replaces stay referenced by earlier
 *       snapshots until those expire. A rewrite that is not committed deletes the files it wrote.
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
 * removal deletes it once it is older than the window.
 *
 * <h2>Compaction beside a CDC writer</h2>
 *
 * Compaction changes which data files are live, and the writer's key index maps every live row's
 * key to the file and position that hold it; updates and deletes become position deletes found
 * there. A compactor that committed beside the writer would either fail (Iceberg refuses a rewrite
 * of files that received deletes since it started) or make the writer fail (its next deletes point
 * at files that are gone), and on a table changing every second it would rarely win. So the work is
 * split ({@link io.floe.maintenance.DataCompaction}):
 *
 * <ol>
 *   <li><b>Plan</b> on the maintenance thread, at snapshot B: per partition, the files smaller than
 *       75% of the target size (when there are at least {@code min-input-files}), every file whose
 *       deleted rows reach {@code delete-ratio} of its rows or that equality deletes apply to, and
 *       every file above 1.8 target sizes (split); with a {@code where} condition, only files that
 *       may hold matching rows. Groups of at most two target sizes of input, each committed on its
 *       own.
 *   <li><b>Reserve</b> the group's files with the table's writer ({@code
 *       CdcTableWriter.beginRewrite}, found in the process's {@code TableWriterRegistry}, where a
 *       pipeline of this process registers its writers): the writer's own tidying of small files
 *       leaves them alone. If the writer compacted one of them between planning and reservation,
 *       the group is planned again.
 *   <li><b>Write</b> on the maintenance thread: each file is read as of B with its position and
 *       equality deletes applied (Iceberg's {@code GenericDeleteFilter}), its live rows are written
 *       to new files rolled at the target size (sorted first, if there is a sort order, in runs
 *       that {@link io.floe.maintenance.SortedRows} spills to local disk and merges), and for every
 *       source row the new location is noted (or -1 for a row deleted in B). Files are immutable,
 *       so this needs no coordination, and it is the whole cost of the compaction. The writer keeps
 *       committing meanwhile.
 *   <li><b>Hand over</b> the written files to the writer, which commits them in its next commit (at
 *       most one commit interval later; an idle pipeline commits them on its next heartbeat, with
 *       the table's last checkpoint). In that commit, for each carried row, the writer checks
 *       whether its index still maps the row's key to the row's old location and its batch does not
 *       touch it. If so the row is live: its index entry moves to the new location. If not, the
 *       writer updated or deleted it after B (or is doing so in this batch): it gets a position
 *       delete on the new file. The commit removes the source files still live, adds the new files
 *       with those position deletes, and drops the delete files that applied only to the sources.
 * </ol>
 *
 * <p>Why this is exact: a row position, once deleted, is never live again, and the writer is the
 * only one to change rows, so "the index maps the key to the old location" holds precisely for the
 * rows live both in B and now, and those are the carried rows that must stay. Every other carried
 * row was live in B (it was carried) and is not now, so it is deleted; the writer's changes since B
 * already put its current version, if any, in a file of its own. The commit is one Iceberg commit
 * made by the writer on its own base, so nothing conflicts with ingestion and ingestion never waits
 * for the rewrite: the extra work in the writer's commit is one pass over the index and one more
 * position-delete file. {@code RewriteDataFilesTest} checks it with rewrites running while the
 * writer commits random changes, and {@code MaintenanceIT} through {@code floe run}.
 *
 * <p>Without a writer in this process ({@code floe maintain} or the HTTP API beside a pipeline of
 * another process), the rewrite is committed with Iceberg's {@code RewriteFiles} ({@link
 * io.floe.maintenance.DirectRewriteCommit}). The position deletes other commits made on its source
 * files since B are read from those commits and carried over to the new files through the same map
 * of where each row went; the commit is validated from the snapshot they end at, and one that loses
 * a race with another such commit carries that one over too and tries again (at most 10 times). The
 * new files keep B's data sequence number, so equality deletes committed meanwhile still apply to
 * them. A writer in another process notices at its next commit that the table's data changed, and
 * moves its index onto the new files: it forgets the rows of the files the rewrite removed and
 * reads the keys of the files it added (and of any file whose deletes changed), not the whole
 * table. A rewrite that lands while the writer writes a batch that does not conflict with it is
 * taken in by Iceberg under that batch's commit; the writer sees that its commit's parent is not
 * the snapshot it planned on, and catches up from that snapshot before its next commit.
 *
 * <h2>Rollback beside a CDC writer</h2>
 *
 * A rollback (or set-current-snapshot) moves the current snapshot under the writer. Before each
 * commit the writer compares the table's current snapshot with the one its index describes; when a
 * snapshot in between added or removed files it updates the index from those snapshots' changes;
 * when its own snapshot is no longer an ancestor it reloads the whole index from the table. Either
 * way it resolves its pending batch against the index (rows to replace or delete are looked up
 * again), then commits on top. So the pipeline continues on the rolled-back table: changes after
 * the rollback apply to what the table holds now, and the changes that were rolled back stay undone
 * (the source position moves on). An update whose unchanged (TOASTed) columns PostgreSQL did not
 * send takes their values from the row as the table holds it after the rollback; if the rollback
 * removed that row, the pipeline stops with an error saying so.
 *
 * <h2>Left for later</h2>
 *
 * <ul>
 *   <li>Bulk deletes and parallel listing for large tables on object storage, scheme equivalence
 *       (s3 and s3a) in orphan removal, removal of unused partition specs and schemas.
 *   <li>A guard against a table whose location contains other tables' files: orphan removal assumes
 *       that a table's location holds only its own files, as Floe's catalog lays them out.
 * </ul>
 */
package io.floe.maintenance;
