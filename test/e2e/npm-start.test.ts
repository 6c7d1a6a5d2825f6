/**
 * The README's promise, as a new user runs it: `npm start`, then `backupctl start … --wait` in
 * another shell. The manifest's SHA-256 equals the simulator's disk content, and the simulated
 * engine is left with no snapshot and nothing attached to the proxy VM.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { asArray, parseXml } from '../../lib/xml';
import { ovirtDemo } from '../../simulators/ovirt/demo';
import { OVIRT_DEMO } from '../../simulators/ovirt';
import { startNpmStack, type NpmStartStack } from '../helpers/npm-start-stack';

let stack: NpmStartStack;

beforeAll(async () => {
  stack = await startNpmStack({ name: 'npm-start' });
});

afterAll(async () => stack?.stop());

async function engineGet(path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${stack.simulatorPort('ovirt')}/ovirt-engine/api${path}`, {
    headers: { authorization: `Basic ${Buffer.from(`admin@internal:${ovirtDemo.secrets.OVIRT_SIM_PASSWORD!}`).toString('base64')}` },
  });
  return parseXml(await res.text());
}

/** The simulator keeps each disk as a plain image file named after the disk id. */
async function simulatorDiskSha256(diskId: string): Promise<string> {
  const { readdir } = await import('node:fs/promises');
  const dir = join(stack.dataDir, 'simulators', 'ovirt-disks');
  const file = (await readdir(dir, { recursive: true })).find((f) => String(f).includes(diskId) && !String(f).includes('snap'));
  assert.ok(file, `no image for ${diskId} in ${dir}`);
  return createHash('sha256')
    .update(await readFile(join(dir, String(file))))
    .digest('hex');
}

test('npm start, then backupctl start … --wait backs up the demo VM and leaves the engine clean', async () => {
  const endpoints = await stack.cli(['endpoints', '--json']);
  assert.equal(endpoints.code, 0, endpoints.stderr);
  assert.ok(JSON.parse(endpoints.stdout).some((e: { name: string }) => e.name === 'ovirt-sim'));
  assert.ok(!endpoints.stdout.includes(ovirtDemo.secrets.OVIRT_SIM_PASSWORD!));

  const started = await stack.cli(['start', 'ovirtSnapshotBackup', '--input', '@examples/ovirtSnapshotBackup.json', '--wait']);
  assert.equal(started.code, 0, `${started.stderr}\n${stack.output()}`);
  const manifest = JSON.parse(started.stdout);
  assert.equal(manifest.vm.id, OVIRT_DEMO.vmId);
  assert.equal(manifest.disks.length, 2);
  for (const disk of manifest.disks) {
    assert.ok(disk.path.startsWith(join(stack.dataDir, 'repository')), disk.path);
    assert.equal(
      createHash('sha256')
        .update(await readFile(disk.path))
        .digest('hex'),
      disk.sha256,
    );
    assert.equal(disk.sha256, await simulatorDiskSha256(disk.id), 'the backup holds the disk as the engine has it');
  }

  const snapshots = (await engineGet(`/vms/${OVIRT_DEMO.vmId}/snapshots`)) as { snapshots: { snapshot?: unknown } };
  assert.deepEqual(
    asArray(snapshots.snapshots.snapshot as Array<{ snapshot_type: string }>).map((s) => s.snapshot_type),
    ['active'],
  );
  const attachments = (await engineGet(`/vms/${OVIRT_DEMO.proxyVmId}/diskattachments`)) as { disk_attachments: { disk_attachment?: unknown } };
  assert.deepEqual(
    asArray(attachments.disk_attachments.disk_attachment as Array<{ disk: { '@_id': string } }>).map((a) => a.disk['@_id']),
    [OVIRT_DEMO.proxyBootDiskId],
  );

  const status = await stack.cli(['status', manifest.workflowId, '--json']);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(JSON.parse(status.stdout).status, 'COMPLETED');
  const missing = await stack.cli(['result', 'no-such-run']);
  assert.equal(missing.code, 3, 'a run that does not exist exits 3');
  const bad = await stack.cli(['start', 'ovirtSnapshotBackup', '--input', '{"endpoint":"ovirt-sim"}']);
  assert.equal(bad.code, 2, 'bad input exits 2');
  assert.match(bad.stderr, /vmId: vmId is required/);
});
