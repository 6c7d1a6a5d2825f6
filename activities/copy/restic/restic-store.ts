/**
 * The backups in a restic repository as the copy worker reads them back. A backup is complete when
 * its manifest is stored (a snapshot tagged kind:manifest); a recorded verification stores the
 * manifest again, and the newest snapshot of a backup's manifest is the one that counts.
 */
import { posix } from 'node:path';
import type { OvirtBackupManifest } from '../../../contracts/ovirt/results';
import { INCREMENTAL_PROVIDER_DIR, type OvirtIncrementalManifest } from '../../../contracts/ovirt/incremental-results';
import { ErrorTypes, nonRetryable } from '../../../lib/errors';
import { MANIFEST_FILE, type StoredBackup } from '../backup-store';
import { SequentialSource } from '../copy-loop';
import { runRestic, startRestic, resticFailure, type ResticSettings } from './restic-cli';
import { fileInSnapshot, parseResticPath, type ResticLocation } from './restic-locator';

interface ResticSnapshot {
  id: string;
  short_id?: string;
  time: string;
  paths: string[];
  tags?: string[];
}

export interface ResticStoredBackup extends StoredBackup {
  /** The snapshot of the manifest read. */
  manifestSnapshotId: string;
}

export async function resticSnapshots(restic: ResticSettings, tags: string[]): Promise<ResticSnapshot[]> {
  const out = await runRestic(restic, ['snapshots', '--json', ...(tags.length ? ['--tag', tags.join(',')] : [])]);
  return (JSON.parse(out || '[]') as ResticSnapshot[] | null) ?? [];
}

/** A file of a snapshot, whole (small files: manifests, OVFs). */
export async function dumpText(restic: ResticSettings, location: ResticLocation): Promise<string> {
  return runRestic(restic, ['dump', location.snapshotId, location.file]);
}

/** Starts `restic dump`; the caller reads its stdout and awaits `exited`. */
export function startDump(restic: ResticSettings, location: ResticLocation) {
  return startRestic(restic, ['dump', location.snapshotId, location.file]);
}

/**
 * A stored file read in order from `restic dump` as the copy loop's source (SequentialSource): a
 * dump that fails fails the read at its end (restic's message), not a short copy. `close` ends a
 * dump not read to its end (killed, its output dropped: unread, it would never exit) and waits for it.
 */
export function openDumpSource(restic: ResticSettings, location: ResticLocation): SequentialSource & { close(): Promise<void> } {
  const { child, exited } = startDump(restic, location);
  const source = new SequentialSource(child.stdout, async () => {
    const exit = await exited;
    if (exit.code !== 0) throw resticFailure(restic, 'dump', exit);
  });
  return Object.assign(source, {
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      child.stdout.destroy();
      await exited;
    },
  });
}

export { resticFailure };

/** The size of a file in a snapshot, or undefined when the snapshot or the file is not there. */
export async function sizeInSnapshot(restic: ResticSettings, location: ResticLocation): Promise<number | undefined> {
  let out: string;
  try {
    out = await runRestic(restic, ['ls', '--json', location.snapshotId, location.file]);
  } catch (err) {
    if (/no matching ID|not found|does not exist/i.test(String((err as Error).message))) return undefined;
    throw err;
  }
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    const node = JSON.parse(line) as { struct_type?: string; path?: string; size?: number; type?: string };
    if (node.path === location.file && node.type === 'file') return node.size ?? 0;
  }
  return undefined;
}

function backupDirOf(snapshot: ResticSnapshot): string | undefined {
  const path = snapshot.paths[0];
  if (!path || posix.basename(path) !== MANIFEST_FILE) return undefined;
  return posix.dirname(path).replace(/^\/+/, '');
}

/** A backup folder of an incremental chain (ovirt-incremental/…), not of the snapshot procedure. */
export function isResticChainDir(dir: string): boolean {
  return dir.replace(/^\/+/, '').startsWith(`${INCREMENTAL_PROVIDER_DIR}/`);
}

/** A point of an incremental chain in the repository (restic-incremental.ts). */
export interface ResticChainPoint {
  dir: string;
  manifest: OvirtIncrementalManifest;
  manifestSnapshotId: string;
}

/** Every complete backup of the snapshot procedure (of one VM, if given), newest first. Manifests that do not read are left out. */
export async function listResticBackups(restic: ResticSettings, vmId?: string): Promise<ResticStoredBackup[]> {
  return listManifests<OvirtBackupManifest>(restic, vmId, (dir) => !isResticChainDir(dir));
}

/** Every point of the incremental chains (of one VM, if given), newest first. */
export async function listResticChainPoints(restic: ResticSettings, vmId?: string): Promise<ResticChainPoint[]> {
  const points = await listManifests<OvirtIncrementalManifest>(restic, vmId, isResticChainDir);
  return points.filter((p) => p.manifest.kind === 'ovirt-incremental');
}

async function listManifests<M extends { vm?: { id: string }; completedAt: string }>(
  restic: ResticSettings,
  vmId: string | undefined,
  wanted: (dir: string) => boolean,
): Promise<Array<{ dir: string; manifest: M; manifestSnapshotId: string }>> {
  const newest = await manifestSnapshots(restic, vmId);
  const found: Array<{ dir: string; manifest: M; manifestSnapshotId: string }> = [];
  for (const [dir, snapshot] of newest) {
    if (!wanted(dir)) continue;
    const manifest = (await readResticManifest(restic, dir, snapshot).catch(() => undefined)) as M | undefined;
    if (manifest && (vmId === undefined || manifest.vm?.id === vmId)) found.push({ dir, manifest, manifestSnapshotId: snapshot.id });
  }
  return found.sort((a, b) => b.manifest.completedAt.localeCompare(a.manifest.completedAt) || b.dir.localeCompare(a.dir));
}

/** The newest manifest snapshot of each backup folder. */
async function manifestSnapshots(restic: ResticSettings, vmId?: string): Promise<Map<string, ResticSnapshot>> {
  const newest = new Map<string, ResticSnapshot>();
  for (const snapshot of await resticSnapshots(restic, ['kind:manifest', ...(vmId ? [`vm:${vmId}`] : [])])) {
    const dir = backupDirOf(snapshot);
    if (!dir) continue;
    const seen = newest.get(dir);
    if (!seen || seen.time < snapshot.time) newest.set(dir, snapshot);
  }
  return newest;
}

async function readResticManifest(restic: ResticSettings, dir: string, snapshot: ResticSnapshot): Promise<OvirtBackupManifest> {
  const text = await dumpText(restic, { snapshotId: snapshot.id, file: fileInSnapshot(dir, MANIFEST_FILE) });
  try {
    return JSON.parse(text) as OvirtBackupManifest;
  } catch (err) {
    throw nonRetryable(`the manifest of backup ${dir} is not valid JSON: ${(err as Error).message}`, ErrorTypes.invalidInput);
  }
}

/** The backup in `dir`, or undefined when no manifest of it is stored (a chain point's manifest is an OvirtIncrementalManifest: isResticChainDir). */
export async function readResticBackup(restic: ResticSettings, dir: string): Promise<ResticStoredBackup | undefined> {
  const snapshot = (await manifestSnapshots(restic)).get(dir);
  return snapshot ? { dir, manifest: await readResticManifest(restic, dir, snapshot), manifestSnapshotId: snapshot.id } : undefined;
}

/** Where a file the manifest names is: its recorded restic path, else (an older manifest's plain path) nowhere. */
export function recordedLocation(dir: string, path: string | undefined, fileName: string): ResticLocation {
  const location = parseResticPath(path);
  if (!location) throw nonRetryable(`backup ${dir}: ${fileName} has no restic snapshot in its manifest (path ${path ?? 'none'})`, ErrorTypes.invalidInput);
  return location;
}
