/**
 * The README's promise, as a new user runs it: `npm start`, then `backupctl start … --wait` in
 * another shell. The manifest's SHA-256 equals the simulator's disk content, and the simulated
 * engine is left with no snapshot and nothing attached to the proxy VM.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asArray, parseXml } from '../../lib/xml';
import { ovirtDemo } from '../../simulators/ovirt/demo';
import { simulatorDemos } from '../../simulators/serve';
import { OVIRT_DEMO } from '../../simulators/ovirt';
import { freePort } from '../helpers/ports';

const root = fileURLToPath(new URL('../..', import.meta.url));
let stack: ChildProcess;
let dataDir: string;
let ports: { temporal: number; ui: number; ovirt: number };
let output = '';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'npm-start-'));
  ports = { temporal: await freePort(), ui: await freePort(), ovirt: await freePort() };
  // Every simulator gets a free port, so this stack never collides with a developer's `npm start`.
  const simulatorPorts: Record<string, string> = {};
  for (const demo of simulatorDemos) simulatorPorts[demo.portEnv] = String(demo.name === 'ovirt' ? ports.ovirt : await freePort());
  stack = spawn('npm', ['start'], {
    cwd: root,
    detached: true,
    env: {
      ...process.env,
      BACKUP_DATA_DIR: dataDir,
      CODEC_SERVER_PORT: String(await freePort()),
      TEMPORAL_PORT: String(ports.temporal),
      TEMPORAL_UI_PORT: String(ports.ui),
      ...simulatorPorts,
    },
  });
  stack.stdout!.on('data', (d) => (output += d));
  stack.stderr!.on('data', (d) => (output += d));
  const deadline = Date.now() + 90_000;
  while (!/copy worker polling/.test(output) || !/main worker polling/.test(output)) {
    if (Date.now() > deadline || stack.exitCode !== null) assert.fail(`the stack did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
});

after(async () => {
  if (stack && stack.exitCode === null) {
    process.kill(-stack.pid!, 'SIGINT');
    await new Promise((r) => stack.once('exit', r));
  }
  await rm(dataDir, { recursive: true, force: true });
});

async function engineGet(path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${ports.ovirt}/ovirt-engine/api${path}`, {
    headers: { authorization: `Basic ${Buffer.from(`admin@internal:${ovirtDemo.secrets.OVIRT_SIM_PASSWORD!}`).toString('base64')}` },
  });
  return parseXml(await res.text());
}

/** The simulator keeps each disk as a plain image file named after the disk id. */
async function simulatorDiskSha256(diskId: string): Promise<string> {
  const { readdir } = await import('node:fs/promises');
  const dir = join(dataDir, 'simulators', 'ovirt-disks');
  const file = (await readdir(dir, { recursive: true })).find((f) => String(f).includes(diskId) && !String(f).includes('snap'));
  assert.ok(file, `no image for ${diskId} in ${dir}`);
  return createHash('sha256').update(await readFile(join(dir, String(file)))).digest('hex');
}

test('npm start, then backupctl start … --wait backs up the demo VM and leaves the engine clean', async () => {
  // BACKUP_DATA_DIR lets the CLI find the stack's codec key, as it does in a plain checkout.
  const env = { TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`, BACKUP_ENDPOINTS_FILE: join(dataDir, 'endpoints.simulators.json'), BACKUP_DATA_DIR: dataDir };
  const endpoints = await run('npx', ['backupctl', 'endpoints', '--json'], env);
  assert.equal(endpoints.code, 0, endpoints.stderr);
  assert.ok(JSON.parse(endpoints.stdout).some((e: { name: string }) => e.name === 'ovirt-sim'));
  assert.ok(!endpoints.stdout.includes(ovirtDemo.secrets.OVIRT_SIM_PASSWORD!));

  const started = await run('npx', ['backupctl', 'start', 'ovirtSnapshotBackup', '--input', '@examples/ovirtSnapshotBackup.json', '--wait'], env);
  assert.equal(started.code, 0, `${started.stderr}\n${output}`);
  const manifest = JSON.parse(started.stdout);
  assert.equal(manifest.vm.id, OVIRT_DEMO.vmId);
  assert.equal(manifest.disks.length, 2);
  for (const disk of manifest.disks) {
    assert.ok(disk.path.startsWith(join(dataDir, 'repository')), disk.path);
    assert.equal(createHash('sha256').update(await readFile(disk.path)).digest('hex'), disk.sha256);
    assert.equal(disk.sha256, await simulatorDiskSha256(disk.id), 'the backup holds the disk as the engine has it');
  }

  const snapshots = (await engineGet(`/vms/${OVIRT_DEMO.vmId}/snapshots`)) as { snapshots: { snapshot?: unknown } };
  assert.deepEqual(asArray(snapshots.snapshots.snapshot as Array<{ snapshot_type: string }>).map((s) => s.snapshot_type), ['active']);
  const attachments = (await engineGet(`/vms/${OVIRT_DEMO.proxyVmId}/diskattachments`)) as { disk_attachments: { disk_attachment?: unknown } };
  assert.deepEqual(
    asArray(attachments.disk_attachments.disk_attachment as Array<{ disk: { '@_id': string } }>).map((a) => a.disk['@_id']),
    [OVIRT_DEMO.proxyBootDiskId],
  );

  const status = await run('npx', ['backupctl', 'status', manifest.workflowId, '--json'], env);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(JSON.parse(status.stdout).status, 'COMPLETED');
  const missing = await run('npx', ['backupctl', 'result', 'no-such-run'], env);
  assert.equal(missing.code, 3, 'a run that does not exist exits 3');
  const bad = await run('npx', ['backupctl', 'start', 'ovirtSnapshotBackup', '--input', '{"endpoint":"ovirt-sim"}'], env);
  assert.equal(bad.code, 2, 'bad input exits 2');
  assert.match(bad.stderr, /vmId: vmId is required/);
});
