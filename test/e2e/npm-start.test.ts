/**
 * The README's promise, as a new user runs it: `npm start`, then `backupctl start … --wait` in
 * another shell. The manifest's SHA-256 equals the simulator's disk content, and the simulated
 * engine is left with no snapshot and nothing attached to the proxy VM.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { resolveTemporalCli } from '../../lib/temporal/cli-path';
import { join } from 'node:path';
import { asArray, parseXml } from '../../lib/xml';
import { ovirtDemo } from '../../simulators/ovirt/demo';
import { OVIRT_DEMO } from '../../simulators/ovirt';
import { runCommand, startNpmStack, type NpmStartStack } from '../helpers/npm-start-stack';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';

let stack: NpmStartStack;
let demoWorkflowId: string | undefined;

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
  // Every port moved: the CLI talks to this stack, and lists its simulators where they listen.
  const help = await stack.cli(['--help']);
  assert.match(help.stdout, new RegExp(`Temporal server: 127\\.0\\.0\\.1:${stack.ports.temporal} \\(the local stack's, from \\S+stack\\.json \\(npm start\\)`));
  const endpoints = await stack.cli(['endpoints', '--json']);
  assert.equal(endpoints.code, 0, endpoints.stderr);
  const ovirtSim = (JSON.parse(endpoints.stdout) as Array<{ name: string; url: string }>).find((e) => e.name === 'ovirt-sim');
  assert.equal(ovirtSim?.url, `http://127.0.0.1:${stack.simulatorPort('ovirt')}/ovirt-engine/api`);
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
  demoWorkflowId = manifest.workflowId;
});

test("the demo's codec server: the Temporal CLI decodes with the token npm start made, nobody without it", async () => {
  assert.ok(demoWorkflowId, 'the example backup ran');
  const tokenFile = join(stack.dataDir, 'codec-server.token');
  assert.equal((await stat(tokenFile)).mode & 0o777, 0o600);
  const token = (await readFile(tokenFile, 'utf8')).trim();
  assert.match(stack.output(), new RegExp(`the token is in ${tokenFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const codecUrl = `http://127.0.0.1:${stack.ports.codec}`;
  const show = (extra: string[]) =>
    runCommand(resolveTemporalCli(), ['workflow', 'show', '-w', demoWorkflowId!, '--address', `127.0.0.1:${stack.ports.temporal}`, '--output', 'json', '--codec-endpoint', codecUrl, ...extra]);
  const decoded = await show(['--codec-auth', `Bearer ${token}`]);
  assert.equal(decoded.code, 0, decoded.stderr);
  assert.ok(decoded.stdout.includes(OVIRT_DEMO.vmId), 'the CLI shows the input decoded through the codec server');
  const refused = await show([]);
  assert.ok(refused.code !== 0 || !refused.stdout.includes(OVIRT_DEMO.vmId), `without the token nothing is decoded: ${refused.stdout.slice(0, 300)}${refused.stderr}`);
  const anonymous = await fetch(`${codecUrl}/decode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"payloads":[]}' });
  assert.equal(anonymous.status, 401);
});

test('right after the example backup: the restore and drill examples, backupctl verify --all, and the OnApp restore example work as they are', async () => {
  // The backup of the test above is the newest one of the demo VM: the examples restore `latest`.
  const restored = await stack.cli(['start', 'ovirtRestore', '--input', '@examples/ovirtRestore.json', '--wait']);
  assert.equal(restored.code, 0, `${restored.stderr}\n${stack.output()}`);
  const restore = JSON.parse(restored.stdout) as { vm: { id: string; name: string }; disks: Array<{ diskId: string; sha256: string; manifestSha256: string }> };
  assert.match(restore.vm.name, /^web-01-restored-/);
  for (const disk of restore.disks) {
    assert.equal(disk.sha256, disk.manifestSha256);
    assert.equal(await simulatorDiskSha256(disk.diskId), disk.sha256, 'the new VM’s disk holds the backed-up bytes');
  }
  const attached = (await engineGet(`/vms/${restore.vm.id}/diskattachments`)) as { disk_attachments: { disk_attachment?: unknown } };
  assert.equal(asArray(attached.disk_attachments.disk_attachment).length, restore.disks.length);

  const drill = await stack.cli(['start', 'ovirtRestoreDrill', '--input', '@examples/ovirtRestoreDrill.json', '--wait']);
  assert.equal(drill.code, 0, `${drill.stderr}\n${stack.output()}`);
  const drilled = JSON.parse(drill.stdout) as { verification: { ok: boolean }; sandbox: { vmName: string; booted: boolean; leftBehind: string[] } };
  assert.equal(drilled.verification.ok, true);
  assert.equal(drilled.sandbox.booted, true);
  assert.deepEqual(drilled.sandbox.leftBehind, []);
  const vms = (await engineGet(`/vms?search=name%3D${encodeURIComponent(drilled.sandbox.vmName)}`)) as { vms: '' | { vm?: unknown } };
  assert.equal(vms.vms === '' ? 0 : asArray(vms.vms.vm).length, 0, 'the sandbox VM is gone');

  const verify = await stack.cli(['verify', '--all']);
  assert.equal(verify.code, 0, `${verify.stdout}\n${verify.stderr}`);
  assert.match(verify.stdout, /^ok\s+ovirt\/web-01-/m);

  const backups = await stack.cli(['backups', 'ovirt', '--vm', OVIRT_DEMO.vmId]);
  assert.equal(backups.code, 0, backups.stderr);
  assert.match(backups.stdout, /ok by (check|drill)/);

  const onappBackup = await stack.cli(['start', 'onappBackup', '--input', '@examples/onappBackup.json', '--wait']);
  assert.equal(onappBackup.code, 0, `${onappBackup.stderr}\n${stack.output()}`);
  const onappRestore = await stack.cli(['start', 'onappRestore', '--input', '@examples/onappRestore.json', '--wait']);
  assert.equal(onappRestore.code, 0, `${onappRestore.stderr}\n${stack.output()}`);
});

test('a port of the stack that is taken stops npm start before anything starts, naming the port and the variable that moves it', async () => {
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  const port = (holder.address() as AddressInfo).port;
  const dataDir = await mkdtemp(join(tmpdir(), 'npm-start-clash-'));
  try {
    const r = await runCommand('npm', ['start'], { BACKUP_DATA_DIR: dataDir, CODEC_SERVER_PORT: String(port), TEMPORAL_PORT: String(stack.ports.temporal) });
    assert.equal(r.code, 1);
    const output = r.stdout + r.stderr;
    assert.match(output, new RegExp(`port ${port} \\(the codec server\\) is already in use: stop what listens there, or move it with CODEC_SERVER_PORT=<port>`));
    assert.match(output, new RegExp(`port ${stack.ports.temporal} \\(the Temporal server\\) is already in use: .* TEMPORAL_PORT=<port>`));
    assert.doesNotMatch(output, /\n\s+at .*\(node:/, 'no raw Node stack');
  } finally {
    holder.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
