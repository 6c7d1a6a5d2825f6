/**
 * The engine checkpoints of removed chain points, kept in the repository until retention has
 * removed them from the engine. The engine removes only a VM's root checkpoint: a point removed
 * while an older point is kept leaves a checkpoint that is not the root yet, and once its folder
 * (and manifest) is gone nothing else would remember that our backup made it. So removeBackup adds
 * the point's checkpoint here, durably, before the point's manifest goes; every later prune reads
 * the record, removes those that have become the root, and forgets what the engine no longer lists.
 *
 * One small JSON file per VM folder: ovirt-incremental/<vm>-<id8>/removed-checkpoints.json (beside
 * the points' folders, which every chain reader walks as folders only); in a restic repository the
 * newest snapshot of that path, tagged kind:checkpoints (restic/restic-checkpoints.ts). Only
 * checkpoints our manifests named are ever written here: retention never touches a checkpoint
 * another tool made.
 */
import { readdir, readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { INCREMENTAL_PROVIDER_DIR, type OvirtIncrementalManifest } from '../../contracts/ovirt/incremental-results';
import { repositoryPath, writeRepositoryFile } from './repository';
import { serialised } from './serialised';

export const REMOVED_CHECKPOINTS_FILE = 'removed-checkpoints.json';

export interface RemovedCheckpoint {
  checkpointId: string;
  /** The endpoint profile that made it (the point's manifest's). */
  endpoint: string;
  /** The point whose removal left it, and when. */
  dir: string;
  removedAt: string;
}

export interface CheckpointRecord {
  vmId: string;
  checkpoints: RemovedCheckpoint[];
}

/** A VM's removed chain points' checkpoints still to remove from the engine. */
export interface PendingCheckpoints {
  vmId: string;
  checkpoints: RemovedCheckpoint[];
}

/**
 * Where the records are kept: a directory repository's VM folders (below), or a restic
 * repository's snapshots of the same path (restic/restic-checkpoints.ts). `vmFolder` is
 * ovirt-incremental/<vm>-<id8>.
 */
export interface CheckpointRecordStore {
  /** The repository the records are in (a directory, a restic repository), as a key for one change at a time. */
  repository: string;
  /** The VM folders that may hold a record (of one VM's id8, if given). */
  folders(vmId?: string): Promise<string[]>;
  read(vmFolder: string): Promise<CheckpointRecord | undefined>;
  /** Made durable before it returns; a record with no checkpoints left may be dropped instead. */
  write(vmFolder: string, record: CheckpointRecord): Promise<void>;
}

/** A record as read: undefined unless it has the shape written. */
export function parseRecord(text: string): CheckpointRecord | undefined {
  const record = JSON.parse(text) as CheckpointRecord;
  return typeof record.vmId === 'string' && Array.isArray(record.checkpoints) ? record : undefined;
}

export function recordText(record: CheckpointRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

/** Whether a VM folder's name (…/<vm>-<id8>) is of this VM. */
export function folderOfVm(name: string, vmId?: string): boolean {
  return vmId === undefined || name.endsWith(`-${vmId.slice(0, 8)}`);
}

/** A directory repository's records: one file per VM folder, written atomically. */
export function directoryRecordStore(root: string): CheckpointRecordStore {
  return {
    repository: root,
    async folders(vmId) {
      const entries = await readdir(repositoryPath(root, INCREMENTAL_PROVIDER_DIR, '.'), { withFileTypes: true }).catch(() => []);
      return entries.filter((e) => e.isDirectory() && folderOfVm(e.name, vmId)).map((e) => posix.join(INCREMENTAL_PROVIDER_DIR, e.name));
    },
    async read(vmFolder) {
      try {
        return parseRecord(await readFile(repositoryPath(root, vmFolder, REMOVED_CHECKPOINTS_FILE), 'utf8'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        // A torn file cannot be: it is written atomically. Anything unreadable is reported, not guessed at.
        throw err;
      }
    },
    async write(vmFolder, record) {
      await writeRepositoryFile(root, vmFolder, REMOVED_CHECKPOINTS_FILE, recordText(record));
    },
  };
}

/**
 * A record is read, changed and written back; two changes of one VM's record at once (two prunes of
 * one repository, one's removal beside another's forget) would each write what it read, and one
 * change would be lost. They run on the repository's files queue of its one copy worker, so one
 * change at a time per VM folder in this process is enough.
 */
function changeRecord<T>(store: CheckpointRecordStore, vmFolder: string, change: () => Promise<T>): Promise<T> {
  return serialised(`${store.repository}\0${vmFolder}\0${REMOVED_CHECKPOINTS_FILE}`, change);
}

/** Before a chain point's folder (or its snapshots) goes: its checkpoint is added to its VM's record (once), made durable. */
export async function recordRemovedCheckpoint(store: CheckpointRecordStore, dir: string, manifest: OvirtIncrementalManifest): Promise<void> {
  const checkpointId = manifest.backup.toCheckpointId;
  if (!checkpointId || !manifest.endpoint) return;
  const endpoint = manifest.endpoint;
  const vmFolder = posix.dirname(dir);
  await changeRecord(store, vmFolder, async () => {
    const record = (await store.read(vmFolder)) ?? { vmId: manifest.vm.id, checkpoints: [] };
    if (record.checkpoints.some((c) => c.checkpointId === checkpointId)) return;
    record.checkpoints.push({ checkpointId, endpoint, dir, removedAt: new Date().toISOString() });
    await store.write(vmFolder, record);
  });
}

/** Every VM's (or one VM's) recorded checkpoints, VMs with none left out. */
export async function pendingCheckpoints(store: CheckpointRecordStore, input: { vmId?: string }): Promise<PendingCheckpoints[]> {
  const found: PendingCheckpoints[] = [];
  for (const folder of await store.folders(input.vmId)) {
    const record = await store.read(folder);
    if (!record || !record.checkpoints.length || (input.vmId !== undefined && record.vmId !== input.vmId)) continue;
    found.push({ vmId: record.vmId, checkpoints: record.checkpoints });
  }
  return found;
}

/** Drops these checkpoints from the VM's record: removed from the engine, no longer listed there, or needed by a point that stayed. */
export async function forgetCheckpoints(store: CheckpointRecordStore, input: { vmId: string; checkpointIds: string[] }): Promise<{ forgotten: string[]; left: number }> {
  const drop = new Set(input.checkpointIds);
  const forgotten: string[] = [];
  let left = 0;
  for (const folder of await store.folders(input.vmId)) {
    await changeRecord(store, folder, async () => {
      const record = await store.read(folder);
      if (!record || record.vmId !== input.vmId) return;
      const keep = record.checkpoints.filter((c) => !drop.has(c.checkpointId));
      forgotten.push(...record.checkpoints.filter((c) => drop.has(c.checkpointId)).map((c) => c.checkpointId));
      left += keep.length;
      if (keep.length !== record.checkpoints.length) await store.write(folder, { ...record, checkpoints: keep });
    });
  }
  return { forgotten, left };
}
