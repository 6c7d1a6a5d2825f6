/** backupctl verify and backups ovirt: flags become inputs the workflows' schemas accept, and results read as lines and a table. */
import { test } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLocalStack } from '../../lib/config/local-stack';
import assert from 'node:assert/strict';
import { pruneInput, pruneLines, repositoryBackupsTable, verifyInput, verifyLines } from '../../client/cli/repository-command';
import { catalogEntry } from '../../contracts/catalog';
import type { VerifyBackupsResult } from '../../contracts/repository/results';

const PROXY = '6f2a0d3e-5b1c-4c8e-9a10-00000000b001';
const VM = '6f2a0d3e-5b1c-4c8e-9a10-00000000a001';
const schema = () => catalogEntry('verifyBackups')!.input;

test('verify <backup> | --vm | --all [--subset N/T] map onto valid verifyBackups inputs; a missing target, a bad slice and a missing proxy are named', () => {
  for (const [backup, values] of [
    ['ovirt/web-01-6f2a0d3e/20261206T120000-abcd1234', { json: false, proxy: PROXY }],
    ['latest', { json: false, proxy: PROXY, vm: VM }],
    [undefined, { json: false, proxy: PROXY, vm: VM, subset: '2/7' }],
    [undefined, { json: false, 'proxy-vm': PROXY, vm: VM }],
    [undefined, { json: false, 'copy-task-queue': 'backup-copy-x', all: true }],
  ] as const) {
    const parsed = schema().safeParse(verifyInput(backup, values));
    assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
  }
  assert.deepEqual((schema().parse(verifyInput(undefined, { json: false, proxy: PROXY, all: true, subset: '3/4' })) as { subset: unknown }).subset, { n: 3, t: 4 });
  const problems = (values: Parameters<typeof verifyInput>[1], backup?: string) =>
    schema()
      .safeParse(verifyInput(backup, values))
      .error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
  assert.match(problems({ json: false, proxy: PROXY }).join('\n'), /^backup: say what to check/);
  assert.match(problems({ json: false, proxy: PROXY, all: true, subset: '8/7' }).join('\n'), /subset: subset "N\/T" needs 1 ≤ N ≤ T/);
  assert.match(problems({ json: false, proxy: PROXY, all: true, vm: VM }).join('\n'), /all: all checks every backup/);
  assert.match(problems({ json: false, proxy: PROXY }, 'latest').join('\n'), /vmId: backup "latest" needs vmId/);
  assert.throws(() => verifyInput('latest', { json: false, vm: VM }, { BACKUP_LOCAL_STACK: 'off' }), /--proxy is required/);
});

test('without --proxy, the one copy worker of the stack `npm start` runs on this checkout is meant', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'stack-'));
  const env = { BACKUP_DATA_DIR: dataDir };
  assert.throws(() => verifyInput(undefined, { json: false, all: true }, env), /--proxy is required/, 'no stack running: the proxy must be named');
  writeLocalStack({ pid: process.pid, temporalAddress: '127.0.0.1:7233', uiUrl: '', codecUrl: '', endpointsFile: 'x.json', proxyVmIds: [PROXY] }, env);
  assert.deepEqual(verifyInput(undefined, { json: false, all: true }, env), { proxyVmId: PROXY, all: true });
  writeLocalStack({ pid: process.pid, temporalAddress: '127.0.0.1:7233', uiUrl: '', codecUrl: '', endpointsFile: 'x.json', proxyVmIds: [PROXY, VM] }, env);
  assert.throws(() => verifyInput(undefined, { json: false, all: true }, env), /--proxy is required/, 'two copy workers: which one is not guessed');
});

test('a check reads as one line per backup; the repository as a table with age, size and verification state', () => {
  const result: VerifyBackupsResult = {
    ok: false,
    checkedAt: '2026-12-06T12:00:00.000Z',
    backups: [
      { dir: 'ovirt/web-01-6f2a0d3e/a', vm: { id: VM, name: 'web-01' }, ok: true, filesRead: 3, bad: [], recorded: true },
      {
        dir: 'ovirt/web-01-6f2a0d3e/b',
        vm: { id: VM, name: 'web-01' },
        ok: false,
        filesRead: 3,
        bad: [{ file: 'd1.raw', expectedBytes: 10, bytes: 10, expectedSha256: 'aa', sha256: 'bb', ok: false }],
        recorded: true,
      },
    ],
  };
  assert.equal(verifyLines(result), 'ok      ovirt/web-01-6f2a0d3e/a  3 file(s) match\nFAILED  ovirt/web-01-6f2a0d3e/b  d1.raw has sha256 bb, the manifest says aa');
  // A restic repository's own check follows, on a line of its own: clean, or the errors restic reported.
  const clean = { command: 'restic check --read-data-subset=1/4', ok: true, summary: 'no errors were found' };
  assert.equal(verifyLines({ ...result, backups: [], repository: clean }), 'no backups to check\nok      restic check --read-data-subset=1/4  no errors were found');
  const damaged = { command: 'restic check', ok: false, summary: 'pack 3f2a1b0c: not referenced in any index' };
  assert.equal(
    verifyLines({ ...result, backups: result.backups.slice(0, 1), repository: damaged }),
    'ok      ovirt/web-01-6f2a0d3e/a  3 file(s) match\nFAILED  restic check  pack 3f2a1b0c: not referenced in any index',
  );
  const now = Date.parse('2026-12-06T12:00:00.000Z');
  const text = repositoryBackupsTable(
    [
      {
        dir: 'ovirt/web-01-6f2a0d3e/b',
        provider: 'ovirt',
        vm: { id: VM, name: 'web-01' },
        workflowId: 'w',
        runId: 'r',
        completedAt: '2026-12-06T09:00:00.000Z',
        bytes: 3 * 1024 * 1024,
        disks: 2,
        lastVerification: { at: '2026-12-06T11:30:00.000Z', by: 'check', ok: false, workflowId: 'v', summary: 's' },
      },
      { dir: 'ovirt/web-01-6f2a0d3e/a', provider: 'ovirt', vm: { id: VM, name: 'web-01' }, workflowId: 'w', runId: 'r', completedAt: '2026-12-02T12:00:00.000Z', bytes: 1024, disks: 1 },
    ],
    now,
  );
  const [header, first, second] = text.split('\n');
  assert.match(header!, /^FOLDER\s+VM\s+COMPLETED\s+AGE\s+SIZE\s+DISKS\s+VERIFIED$/);
  assert.match(first!, /ovirt\/web-01-6f2a0d3e\/b\s+web-01\s+2026-12-06T09:00:00.000Z\s+3h\s+3.0 MiB\s+2\s+FAILED by check, 30m ago$/);
  assert.match(second!, /\s4d\s+1.0 KiB\s+1\s+never verified$/);
  assert.equal(repositoryBackupsTable([]), 'no backups');

  // Incremental chains' points add MODE and PARENT.
  const base = { provider: 'ovirt' as const, vm: { id: VM, name: 'web-01' }, workflowId: 'w', runId: 'r', bytes: 1024, disks: 1 };
  const chains = repositoryBackupsTable(
    [
      { ...base, dir: 'ovirt-incremental/web-01-6f2a0d3e/b', completedAt: '2026-12-06T09:00:00.000Z', kind: 'incremental', mode: 'incremental', parent: 'ovirt-incremental/web-01-6f2a0d3e/a' },
      { ...base, dir: 'ovirt/web-01-6f2a0d3e/s', completedAt: '2026-12-06T08:00:00.000Z' },
      { ...base, dir: 'ovirt-incremental/web-01-6f2a0d3e/a', completedAt: '2026-12-06T07:00:00.000Z', kind: 'incremental', mode: 'full' },
    ],
    now,
  ).split('\n');
  assert.match(chains[0]!, /\sVERIFIED\s+MODE\s+PARENT$/);
  assert.match(chains[1]!, /never verified\s+incremental\s+ovirt-incremental\/web-01-6f2a0d3e\/a$/);
  assert.match(chains[2]!, /never verified\s+snapshot$/);
  assert.match(chains[3]!, /never verified\s+full$/);
});

test('prune --vm|--all [--dry-run] [--keep-* N] [--time-zone Z] map onto valid pruneBackups inputs; no rule, no VM and a bad count are named', () => {
  const prune = () => catalogEntry('pruneBackups')!.input;
  const input = pruneInput({ json: false, proxy: PROXY, vm: VM, 'keep-last': '3', 'keep-daily': '7', 'keep-yearly': '2', 'dry-run': true, 'time-zone': 'Europe/Berlin' });
  assert.deepEqual(input, { proxyVmId: PROXY, vmId: VM, keepLast: 3, keepDaily: 7, keepYearly: 2, timeZone: 'Europe/Berlin', dryRun: true });
  assert.ok(prune().safeParse(input).success);
  assert.ok(prune().safeParse(pruneInput({ json: false, 'copy-task-queue': 'backup-copy-x', all: true, 'keep-weekly': '4' })).success);
  const problems = (values: Parameters<typeof pruneInput>[0]) =>
    prune()
      .safeParse(pruneInput(values))
      .error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
      .join('\n') ?? '';
  assert.match(problems({ json: false, proxy: PROXY, vm: VM }), /keepLast: give at least one keep rule above 0/);
  assert.match(problems({ json: false, proxy: PROXY, 'keep-daily': '7' }), /vmId: say whose backups to prune: vmId, or all: true/);
  assert.match(problems({ json: false, proxy: PROXY, vm: VM, 'keep-daily': '7', 'time-zone': 'Nowhere/Else' }), /timeZone must be an IANA time zone/);
  assert.throws(() => pruneInput({ json: false, proxy: PROXY, vm: VM, 'keep-daily': 'seven' }), /--keep-daily must be a whole number, not "seven"/);
  assert.throws(() => pruneInput({ json: false, vm: VM, 'keep-daily': '7' }, { BACKUP_LOCAL_STACK: 'off' }), /--proxy is required/);
});

test('a prune reads as one line per backup, newest first: kept and why, or removed (would be, in a dry run), then the rules and counts', () => {
  const result = {
    dryRun: true,
    rules: { keepDaily: 1 },
    timeZone: 'UTC',
    kept: [
      { id: 'ovirt/web-01-6f2a0d3e/c', vmId: VM, time: '2026-12-06T09:00:00.000Z', reasons: ['daily backup', 'newest good backup of the VM'] },
      { id: 'ovirt/web-01-6f2a0d3e/a', vmId: VM, time: '2026-12-01T09:00:00.000Z', reasons: ['newest verified backup of the VM'] },
    ],
    removed: [{ id: 'ovirt/web-01-6f2a0d3e/b', vmId: VM, time: '2026-12-05T09:00:00.000Z' }],
  };
  const lines = pruneLines(result).split('\n');
  assert.match(lines[0]!, /^\s+BACKUP\s+TIME\s+KEPT BECAUSE$/);
  assert.match(lines[1]!, /^keep\s+ovirt\/web-01-6f2a0d3e\/c\s+2026-12-06T09:00:00.000Z\s+daily backup, newest good backup of the VM$/);
  assert.match(lines[2]!, /^would remove\s+ovirt\/web-01-6f2a0d3e\/b\s+2026-12-05T09:00:00.000Z$/);
  assert.match(lines[3]!, /^keep\s+ovirt\/web-01-6f2a0d3e\/a\s+2026-12-01T09:00:00.000Z\s+newest verified backup of the VM$/);
  assert.equal(lines[4], 'keep 1 daily (UTC): 2 kept, 1 would be removed (dry run: nothing was)');
  assert.match(pruneLines({ ...result, dryRun: false }), /^removed\s+ovirt\/web-01-6f2a0d3e\/b/m);
  assert.equal(pruneLines({ ...result, kept: [], removed: [] }), 'no backups\nkeep 1 daily (UTC): 0 kept, 0 would be removed (dry run: nothing was)');
});
