/**
 * The oVirt simulator's backup API spoken to as the engine's own backup tools would: VM backups and
 * their phases, checkpoints (only the root removable), image transfers that lock their disk, and
 * the imageio server's OPTIONS, extents and range GETs, over HTTPS with its CA. The clock is frozen
 * and moved by hand, so no test waits on a phase.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, beforeEach, test } from 'vitest';
import { asArray, parseXml } from '../../lib/xml';
import { SimClock } from '../../simulators/framework/clock';
import type { Simulator } from '../../simulators/framework/simulator';
import { BITMAP_GRANULARITY, createOvirtSimulator, OVIRT_DEMO, type OvirtState } from '../../simulators/ovirt';

type Doc = Record<string, any>;
const PASSWORD = 'test-password';
const MiB = 1024 * 1024;
const VM = OVIRT_DEMO.vmId;
const OS = OVIRT_DEMO.osDiskId;

let tmp: string;
let simulator: Simulator;
let imageio: Simulator;
let state: OvirtState;
let clock: SimClock;
let agent: Agent;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'ovirt-backup-api-'));
  clock = new SimClock({ speedup: 0 });
  const built = await createOvirtSimulator({ dataDir: join(tmp, 'data'), deviceRoot: join(tmp, 'dev'), password: PASSWORD, diskSizes: { os: 2 * MiB, data: MiB }, clock });
  ({ simulator, state, imageio } = built);
  await simulator.start(0);
  agent = new Agent({ connect: { ca: readFileSync(built.imageioCaFile, 'utf8') } });
});

afterAll(async () => {
  await simulator?.stop();
  await agent?.close();
  await rm(tmp, { recursive: true, force: true });
});

beforeEach(async () => {
  simulator.reset();
  await state.init();
});

async function api(method: string, path: string, body?: string): Promise<{ status: number; doc: Doc; text: string }> {
  const res = await fetch(`${simulator.apiUrl}${path}`, {
    method,
    headers: { accept: 'application/xml', authorization: `Basic ${Buffer.from(`admin@internal:${PASSWORD}`).toString('base64')}`, ...(body ? { 'content-type': 'application/xml' } : {}) },
    body,
  });
  const text = await res.text();
  return { status: res.status, text, doc: text.startsWith('<') ? (parseXml(text) as Doc) : {} };
}

async function io(method: string, url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }> {
  const res = await request(url, { method: method as 'GET', headers, dispatcher: agent });
  return { status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer()), headers: res.headers };
}

const backupXml = (diskIds: string[], from?: string) =>
  `<backup>${from ? `<from_checkpoint_id>${from}</from_checkpoint_id>` : ''}<disks>${diskIds.map((id) => `<disk id="${id}"/>`).join('')}</disks></backup>`;

async function readyBackup(diskIds: string[], from?: string): Promise<Doc> {
  const created = await api('POST', `/vms/${VM}/backups`, backupXml(diskIds, from));
  assert.equal(created.status, 201, created.text);
  assert.equal(created.doc.backup.phase, 'initializing');
  clock.advance(1500);
  return (await api('GET', `/vms/${VM}/backups/${created.doc.backup['@_id']}`)).doc.backup;
}

async function openTransfer(backupId: string, diskId: string): Promise<Doc> {
  const res = await api('POST', '/imagetransfers', `<image_transfer><disk id="${diskId}"/><backup id="${backupId}"/><direction>download</direction><format>raw</format></image_transfer>`);
  assert.equal(res.status, 201, res.text);
  clock.advance(600);
  return (await api('GET', `/imagetransfers/${res.doc.image_transfer['@_id']}`)).doc.image_transfer;
}

async function finishBackup(backupId: string): Promise<string> {
  assert.equal((await api('POST', `/vms/${VM}/backups/${backupId}/finalize`, '<action/>')).status, 200);
  clock.advance(1500);
  return (await api('GET', `/vms/${VM}/backups/${backupId}`)).doc.backup.phase;
}

test('a full backup: ready with a checkpoint, a transfer that locks its disk, imageio serves the frozen bytes, finalize ends in succeeded', async () => {
  const disk = (await api('GET', `/disks/${OS}`)).doc.disk;
  assert.equal(disk.backup, 'incremental', 'the qcow2 OS disk supports incremental backup');
  assert.equal((await api('GET', `/disks/${OVIRT_DEMO.dataDiskId}`)).doc.disk.backup, 'none', 'the raw data disk does not');

  const backup = await readyBackup([OS]);
  assert.equal(backup.phase, 'ready');
  assert.ok(backup.to_checkpoint_id);
  const checkpoints = asArray((await api('GET', `/vms/${VM}/checkpoints`)).doc.checkpoints.checkpoint);
  assert.deepEqual(
    checkpoints.map((c: Doc) => c['@_id']),
    [backup.to_checkpoint_id],
  );
  const backupDisks = asArray((await api('GET', `/vms/${VM}/backups/${backup['@_id']}/disks`)).doc.disks.disk);
  assert.equal(backupDisks[0].backup_mode, 'full');

  const expected = createHash('sha256')
    .update(await readFile(await state.diskImagePath(OS)))
    .digest('hex');
  const transfer = await openTransfer(backup['@_id'], OS);
  assert.equal(transfer.phase, 'transferring');
  assert.match(transfer.transfer_url, /^https:\/\//);
  assert.equal((await api('GET', `/disks/${OS}`)).doc.disk.status, 'locked', 'the disk is locked while its transfer is open');
  // The guest goes on writing: the backup still serves the bytes of its start.
  await state.writeDiskRange(OS, 0, 4096);

  const options = await io('OPTIONS', transfer.transfer_url);
  assert.equal(options.status, 200);
  assert.ok((JSON.parse(options.body.toString()) as { features: string[] }).features.includes('extents'));
  const extents = JSON.parse((await io('GET', `${transfer.transfer_url}/extents?context=zero`)).body.toString()) as Array<{ start: number; length: number; zero: boolean }>;
  assert.deepEqual(extents, [{ start: 0, length: 2 * MiB, zero: false, hole: false }]);
  assert.equal((await io('GET', `${transfer.transfer_url}/extents?context=dirty`)).status, 404, 'dirty extents only in an incremental backup');
  const first = await io('GET', transfer.transfer_url, { range: `bytes=0-${MiB - 1}` });
  const second = await io('GET', transfer.transfer_url, { range: `bytes=${MiB}-${2 * MiB - 1}` });
  assert.equal(first.status, 206);
  assert.equal(createHash('sha256').update(first.body).update(second.body).digest('hex'), expected);
  assert.equal(state.backups.bytesServed, 2 * MiB);

  assert.equal((await api('POST', `/vms/${VM}/backups/${backup['@_id']}/finalize`, '<action/>')).status, 409, 'not while a transfer is open');
  assert.equal((await api('POST', `/imagetransfers/${transfer['@_id']}/finalize`, '<action/>')).status, 200);
  clock.advance(600);
  assert.equal((await api('GET', `/imagetransfers/${transfer['@_id']}`)).doc.image_transfer.phase, 'finished_success');
  assert.equal((await api('GET', `/disks/${OS}`)).doc.disk.status, 'ok');
  assert.equal((await io('GET', transfer.transfer_url, { range: 'bytes=0-0' })).status, 403, 'the ticket is gone');
  assert.equal(await finishBackup(backup['@_id']), 'succeeded');
});

test('an incremental backup serves as dirty exactly the blocks written since its checkpoint', async () => {
  const full = await readyBackup([OS]);
  assert.equal(await finishBackup(full['@_id']), 'succeeded');
  await state.writeDiskRange(OS, 3 * BITMAP_GRANULARITY, 2 * BITMAP_GRANULARITY);
  await state.writeDiskRange(OS, 20 * BITMAP_GRANULARITY + 100, 10);

  const inc = await readyBackup([OS], full.to_checkpoint_id);
  assert.equal(inc.from_checkpoint_id, full.to_checkpoint_id);
  assert.equal(asArray((await api('GET', `/vms/${VM}/backups/${inc['@_id']}/disks`)).doc.disks.disk)[0].backup_mode, 'incremental');
  const transfer = await openTransfer(inc['@_id'], OS);
  const dirty = (JSON.parse((await io('GET', `${transfer.transfer_url}/extents?context=dirty`)).body.toString()) as Array<{ start: number; length: number; dirty: boolean }>).filter((e) => e.dirty);
  assert.deepEqual(
    dirty.map(({ start, length }) => ({ start, length })),
    [
      { start: 3 * BITMAP_GRANULARITY, length: 2 * BITMAP_GRANULARITY },
      { start: 20 * BITMAP_GRANULARITY, length: BITMAP_GRANULARITY },
    ],
  );
  assert.equal((await api('POST', `/imagetransfers/${transfer['@_id']}/cancel`, '<action/>')).status, 200);
  assert.equal((await api('GET', `/imagetransfers/${transfer['@_id']}`)).doc.image_transfer.phase, 'cancelled_user');
  assert.equal((await api('GET', `/disks/${OS}`)).doc.disk.status, 'ok', 'a cancelled transfer unlocks its disk');
  assert.equal(await finishBackup(inc['@_id']), 'succeeded');
});

test('broken chains fail as the engine fails: a missing checkpoint refused, invalid bitmaps fail the backup, a scripted refusal, a backup stuck in finalizing', async () => {
  assert.equal((await api('POST', `/vms/${VM}/backups`, backupXml([OS], 'no-such-checkpoint'))).status, 409);
  const full = await readyBackup([OS]);
  assert.equal(await finishBackup(full['@_id']), 'succeeded');

  state.script.next('refuseCheckpoint', {});
  const refused = await api('POST', `/vms/${VM}/backups`, backupXml([OS], full.to_checkpoint_id));
  assert.equal(refused.status, 400);
  assert.match(refused.doc.fault.detail, /Checkpoint/);

  state.backups.invalidateBitmaps(VM);
  const failed = await readyBackup([OS], full.to_checkpoint_id);
  assert.equal(failed.phase, 'failed');
  assert.equal(failed.to_checkpoint_id, undefined, 'a failed backup makes no checkpoint');

  // A full makes new bitmaps; its checkpoint chains on.
  state.script.next('finalizeStuck', {});
  const again = await readyBackup([OS]);
  assert.equal(again.phase, 'ready');
  assert.equal(await finishBackup(again['@_id']), 'finalizing');
  clock.advance(3_600_000);
  assert.equal((await api('GET', `/vms/${VM}/backups/${again['@_id']}`)).doc.backup.phase, 'finalizing', 'stuck for good');
  assert.equal((await api('POST', `/vms/${VM}/backups`, backupXml([OS]))).status, 409, 'the VM is during a backup operation');
});

test('checkpoints: only the root can be removed', async () => {
  const a = await readyBackup([OS]);
  await finishBackup(a['@_id']);
  const b = await readyBackup([OS], a.to_checkpoint_id);
  await finishBackup(b['@_id']);
  const refused = await api('DELETE', `/vms/${VM}/checkpoints/${b.to_checkpoint_id}`);
  assert.equal(refused.status, 409);
  assert.match(refused.doc.fault.detail, /root checkpoint/);
  assert.equal((await api('DELETE', `/vms/${VM}/checkpoints/${a.to_checkpoint_id}`)).status, 200);
  const left = asArray((await api('GET', `/vms/${VM}/checkpoints`)).doc.checkpoints.checkpoint);
  assert.deepEqual(
    left.map((c: Doc) => [c['@_id'], c.parent_id]),
    [[b.to_checkpoint_id, undefined]],
  );
  // An incremental from the removed one is refused; from the new root it works.
  assert.equal((await api('POST', `/vms/${VM}/backups`, backupXml([OS], a.to_checkpoint_id))).status, 409);
  assert.equal((await readyBackup([OS], b.to_checkpoint_id)).phase, 'ready');
  assert.ok(imageio.calls.all().length === 0, 'no imageio call was made');
});
