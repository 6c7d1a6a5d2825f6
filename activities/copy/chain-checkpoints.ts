/**
 * The engine checkpoints of removed chain points, kept in the repository until retention has
 * removed them from the engine. The engine removes only a VM's root checkpoint: a point removed
 * while an older point is kept leaves a checkpoint that is not the root yet, and once its folder
 * (and manifest) is gone nothing else would remember that our backup made it. So removeBackup adds
 * the point's checkpoint here, durably, before the point's manifest goes; every later prune reads
 * the record, removes those that have become the root, and forgets what the engine no longer lists.
 *
 * One small JSON file per VM folder: ovirt-incremental/<vm>-<id8>/removed-checkpoints.json (beside
 * the points' folders, which every chain reader walks as folders only). Only checkpoints our
 * manifests named are ever written here: retention never touches a checkpoint another tool made.
 */
import { readdir, readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { INCREMENTAL_PROVIDER_DIR, type OvirtIncrementalManifest } from '../../contracts/ovirt/incremental-results';
import { repositoryPath, writeRepositoryFile } from './repository';

export const REMOVED_CHECKPOINTS_FILE = 'removed-checkpoints.json';

export interface RemovedCheckpoint {
  checkpointId: string;
  /** The endpoint profile that made it (the point's manifest's). */
  endpoint: string;
  /** The point whose removal left it, and when. */
  dir: string;
  removedAt: string;
}

interface RecordFile {
  vmId: string;
  checkpoints: RemovedCheckpoint[];
}

/** A VM's removed chain points' checkpoints still to remove from the engine. */
export interface PendingCheckpoints {
  vmId: string;
  checkpoints: RemovedCheckpoint[];
}

async function readRecord(root: string, vmFolder: string): Promise<RecordFile | undefined> {
  try {
    const record = JSON.parse(await readFile(repositoryPath(root, vmFolder, REMOVED_CHECKPOINTS_FILE), 'utf8')) as RecordFile;
    return typeof record.vmId === 'string' && Array.isArray(record.checkpoints) ? record : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // A torn file cannot be: it is written atomically. Anything unreadable is reported, not guessed at.
    throw err;
  }
}

async function writeRecord(root: string, vmFolder: string, record: RecordFile): Promise<void> {
  await writeRepositoryFile(root, vmFolder, REMOVED_CHECKPOINTS_FILE, `${JSON.stringify(record, null, 2)}\n`);
}

/** Before a chain point's folder goes: its checkpoint is added to its VM's record (once), made durable. */
export async function recordRemovedCheckpoint(root: string, dir: string, manifest: OvirtIncrementalManifest): Promise<void> {
  const checkpointId = manifest.backup.toCheckpointId;
  if (!checkpointId || !manifest.endpoint) return;
  const vmFolder = posix.dirname(dir);
  const record = (await readRecord(root, vmFolder)) ?? { vmId: manifest.vm.id, checkpoints: [] };
  if (record.checkpoints.some((c) => c.checkpointId === checkpointId)) return;
  record.checkpoints.push({ checkpointId, endpoint: manifest.endpoint, dir, removedAt: new Date().toISOString() });
  await writeRecord(root, vmFolder, record);
}

async function vmFolders(root: string, vmId?: string): Promise<string[]> {
  const entries = await readdir(repositoryPath(root, INCREMENTAL_PROVIDER_DIR, '.'), { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && (vmId === undefined || e.name.endsWith(`-${vmId.slice(0, 8)}`))).map((e) => posix.join(INCREMENTAL_PROVIDER_DIR, e.name));
}

/** Every VM's (or one VM's) recorded checkpoints, VMs with none left out. */
export async function pendingCheckpoints(root: string, input: { vmId?: string }): Promise<PendingCheckpoints[]> {
  const found: PendingCheckpoints[] = [];
  for (const folder of await vmFolders(root, input.vmId)) {
    const record = await readRecord(root, folder);
    if (!record || !record.checkpoints.length || (input.vmId !== undefined && record.vmId !== input.vmId)) continue;
    found.push({ vmId: record.vmId, checkpoints: record.checkpoints });
  }
  return found;
}

/** Drops these checkpoints from the VM's record: removed from the engine, no longer listed there, or needed by a point that stayed. */
export async function forgetCheckpoints(root: string, input: { vmId: string; checkpointIds: string[] }): Promise<{ forgotten: string[]; left: number }> {
  const drop = new Set(input.checkpointIds);
  const forgotten: string[] = [];
  let left = 0;
  for (const folder of await vmFolders(root, input.vmId)) {
    const record = await readRecord(root, folder);
    if (!record || record.vmId !== input.vmId) continue;
    const keep = record.checkpoints.filter((c) => !drop.has(c.checkpointId));
    forgotten.push(...record.checkpoints.filter((c) => drop.has(c.checkpointId)).map((c) => c.checkpointId));
    left += keep.length;
    if (keep.length !== record.checkpoints.length) await writeRecord(root, folder, { ...record, checkpoints: keep });
  }
  return { forgotten, left };
}
