/**
 * The record of removed chain points' engine checkpoints (chain-checkpoints.ts) in a restic
 * repository: a small file saved with `restic backup --stdin` under the same path as in a directory
 * repository, ovirt-incremental/<vm>-<id8>/removed-checkpoints.json, tagged kind:checkpoints and
 * vm:<id>. The newest snapshot of that path is the record; once a newer one is saved the older ones
 * are forgotten, and a record with nothing left in it is forgotten whole. Listing, verification and
 * retention of backups read only kind:manifest snapshots and a backup's own folder, so they never
 * take the record for a backup (it sits beside the points' folders, in none of them).
 */
import { posix } from 'node:path';
import { ErrorTypes, nonRetryable } from '../../../lib/errors';
import { folderOfVm, parseRecord, recordText, REMOVED_CHECKPOINTS_FILE, type CheckpointRecordStore } from '../chain-checkpoints';
import { runRestic, type ResticSettings } from './restic-cli';
import { writeResticFile } from './restic-backup';
import { fileInSnapshot } from './restic-locator';
import { dumpText, resticSnapshots } from './restic-store';

export const CHECKPOINTS_TAG = 'kind:checkpoints';

/** The snapshots of a VM folder's record (all VM folders', without one), oldest first. */
async function recordSnapshots(restic: ResticSettings, vmId?: string) {
  const all = await resticSnapshots(restic, [CHECKPOINTS_TAG, ...(vmId ? [`vm:${vmId}`] : [])]);
  return all.filter((s) => posix.basename(s.paths[0] ?? '') === REMOVED_CHECKPOINTS_FILE).sort((a, b) => a.time.localeCompare(b.time) || a.id.localeCompare(b.id));
}

export function resticRecordStore(restic: ResticSettings): CheckpointRecordStore {
  const ofFolder = async (vmFolder: string) => {
    const file = fileInSnapshot(vmFolder, REMOVED_CHECKPOINTS_FILE);
    return { file, snapshots: (await recordSnapshots(restic)).filter((s) => s.paths[0] === file) };
  };
  return {
    repository: `restic\0${restic.repository}`,
    async folders(vmId) {
      const folders = new Set((await recordSnapshots(restic, vmId)).map((s) => posix.dirname(s.paths[0]!).replace(/^\/+/, '')));
      return [...folders].filter((f) => folderOfVm(posix.basename(f), vmId));
    },
    async read(vmFolder) {
      const { file, snapshots } = await ofFolder(vmFolder);
      const newest = snapshots.at(-1);
      if (!newest) return undefined;
      const text = await dumpText(restic, { snapshotId: newest.id, file });
      try {
        return parseRecord(text);
      } catch (err) {
        // Saved whole or not at all (restic stores a snapshot once its input ended): never guessed at.
        throw nonRetryable(`the record of removed chain points' checkpoints ${file} (snapshot ${newest.id}) is not valid JSON: ${(err as Error).message}`, ErrorTypes.invalidInput);
      }
    },
    async write(vmFolder, record) {
      let stale = (await ofFolder(vmFolder)).snapshots.map((s) => s.id);
      // Nothing left to remember: the record goes whole. Else the new snapshot is saved (durable)
      // before the older ones go; one a retried attempt adopts (the same content) stays.
      if (record.checkpoints.length) {
        const saved = await writeResticFile(restic, { dir: vmFolder, fileName: REMOVED_CHECKPOINTS_FILE, content: recordText(record), vmId: record.vmId, kind: 'checkpoints' });
        stale = stale.filter((id) => id !== saved.resticSnapshotId);
      }
      if (stale.length) await runRestic(restic, ['forget', ...stale]);
    },
  };
}
