/**
 * Retention in a restic repository: a backup is removed with `restic forget` of its snapshots (its
 * manifest's first, so a crash in between leaves an unfinished run, never a backup that looks
 * complete), and the data no snapshot uses any more is freed by one `restic prune` at the end of a
 * prune run. A chain point's engine checkpoint is recorded first (restic-checkpoints.ts). Both remove a dead process's stale lock first and never a live one's (a live lock is
 * a retryable error naming its holder); both are idempotent, so a retried attempt finishes the job.
 */
import { posix } from 'node:path';
import { backupFolder } from '../remove-backup';
import { MANIFEST_FILE } from '../backup-store';
import type { RepositoryPrune } from '../restore-types';
import { resticFailure, runRestic, runResticHeartbeating, unlockStale, type ResticSettings } from './restic-cli';
import { parseResticPath } from './restic-locator';
import { isResticChainDir, readResticBackup, resticSnapshots } from './restic-store';
import { recordRemovedCheckpoint } from '../chain-checkpoints';
import type { OvirtIncrementalManifest } from '../../../contracts/ovirt/incremental-results';
import { resticRecordStore } from './restic-checkpoints';

/** The snapshot ids a backup's manifest records: each disk's and the OVF's. */
function recordedSnapshotIds(manifest: { disks?: Array<{ resticSnapshotId?: string; path?: string }>; config?: { path?: string } }): string[] {
  const ids = (manifest.disks ?? []).map((d) => d.resticSnapshotId ?? parseResticPath(d.path)?.snapshotId);
  ids.push(parseResticPath(manifest.config?.path)?.snapshotId);
  return ids.filter((id): id is string => id !== undefined);
}

/**
 * Forgets every snapshot of the backup in `dir`: those its manifest records, and every snapshot
 * stored under its folder (its disks, its OVF, each stored copy of its manifest, one per recorded
 * verification). Snapshots already gone are no error: `removed` is false when none was left.
 */
export async function forgetResticBackup(restic: ResticSettings, input: { dir: string }): Promise<{ dir: string; removed: boolean; snapshots: string[]; pruneAfter: true }> {
  const dir = backupFolder(input.dir);
  await unlockStale(restic);
  const all = await resticSnapshots(restic, []);
  const manifest = (await readResticBackup(restic, dir))?.manifest;
  const recorded = new Set(recordedSnapshotIds(manifest ?? {}));
  const inFolder = (path: string | undefined) => path !== undefined && posix.dirname(path) === `/${dir}`;
  const ours = all.filter((s) => recorded.has(s.id) || s.paths.some(inFolder));
  // Nothing left: an earlier attempt forgot them, and may have died before the prune was asked for.
  if (!ours.length) return { dir, removed: false, snapshots: [], pruneAfter: true };
  // A chain point's engine checkpoint is remembered (durably) before its manifest goes: retention
  // removes it from the engine once it is the root, maybe prunes later (chain-checkpoints.ts).
  const point = manifest as unknown as OvirtIncrementalManifest | undefined;
  if (isResticChainDir(dir) && point?.kind === 'ovirt-incremental') await recordRemovedCheckpoint(resticRecordStore(restic), dir, point);
  const isManifest = (s: (typeof ours)[number]) => s.paths.some((p) => inFolder(p) && posix.basename(p) === MANIFEST_FILE);
  // The manifest first: once it is gone, no reader takes what is left for a complete backup.
  for (const batch of [ours.filter(isManifest), ours.filter((s) => !isManifest(s))]) {
    if (batch.length) await runRestic(restic, ['forget', ...batch.map((s) => s.id)]);
  }
  return { dir, removed: true, snapshots: ours.map((s) => s.id), pruneAfter: true };
}

/** "total prune:  18 blobs / 19.076 MiB" and "remaining: …": what `restic prune` says it freed and kept. */
function pruneSummary(out: string): string {
  const lines = out
    .split('\n')
    .map((l) => l.trim().replace(/\s{2,}/g, ' '))
    .filter((l) => /^(total prune|remaining|unused size after prune):/.test(l));
  return lines.length ? lines.join('; ') : out.trim().split('\n').slice(-1).join('');
}

/**
 * `restic prune`: deletes the packs no snapshot references and repacks the partly used ones beyond
 * restic's --max-unused (5 %). Heartbeats while restic runs; a cancel kills it. A prune killed
 * part-way leaves its stale lock and at most unreferenced packs, which the retry removes.
 */
export async function pruneResticRepository(restic: ResticSettings): Promise<RepositoryPrune> {
  await unlockStale(restic);
  const { stdout, exit } = await runResticHeartbeating(restic, ['prune']);
  if (exit.code !== 0) throw resticFailure(restic, 'prune', exit);
  return { kind: 'restic', command: 'restic prune', summary: pruneSummary(stdout) };
}
