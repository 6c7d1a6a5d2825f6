/**
 * The repository check on a copy worker with a real restic repository, end to end: `backupctl
 * verify --all` re-reads the backup and ends with restic's own check (`restic check`: clean); then
 * one byte range of the data pack that holds the disks is overwritten, and `backupctl verify --all
 * --subset 1/1` (which makes it `restic check --read-data-subset=1/1`, reading every pack) exits 1:
 * the backup's image reads back damaged, and restic's check fails on one line naming the damaged
 * pack. Skipped, saying why, without restic.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { chmod, open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { OvirtBackupManifest } from '../../contracts/ovirt/results';
import { runBackupctl } from '../helpers/backupctl';
import { startOvirtHarness, type OvirtHarness } from '../helpers/ovirt-harness';
import { resticForTests, tempResticRepository, RESTIC_TEST_PASSWORD } from '../helpers/restic';

const binary = resticForTests();
const MiB = 1024 * 1024;

describe.skipIf(!binary)('repository check of a restic repository', { timeout: 300_000 }, () => {
  let h: OvirtHarness;
  let repo: Awaited<ReturnType<typeof tempResticRepository>>;

  beforeAll(async () => {
    repo = await tempResticRepository(binary!);
    h = await startOvirtHarness({
      copy: { restic: repo.settings },
      sim: { diskSizes: { os: 4 * MiB + 12345, data: 4 * MiB } },
      secrets: { RESTIC_PASSWORD: RESTIC_TEST_PASSWORD },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await repo?.remove();
  });

  /** The largest data pack: the disks' chunks are in it. */
  async function largestPack(): Promise<string> {
    const packs: Array<{ path: string; bytes: number }> = [];
    for (const entry of await readdir(join(repo.path, 'data'), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) packs.push({ path: join(entry.parentPath, entry.name), bytes: (await stat(join(entry.parentPath, entry.name))).size });
    }
    return packs.sort((a, b) => b.bytes - a.bytes)[0]!.path;
  }

  test('verify --all ends with a clean restic check; after a damaged pack, verify --all --subset 1/1 fails naming the pack on one line', async () => {
    const backup = (await h.client.workflow.execute('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId: `backup-restic-check-${Date.now()}`, args: [h.input()] })) as OvirtBackupManifest;
    const verify = (...args: string[]) =>
      runBackupctl({ TEMPORAL_ADDRESS: h.env.address, TEMPORAL_TASK_QUEUE: h.taskQueue, BACKUP_LOCAL_STACK: 'off' }, 'verify', '--all', '--proxy', h.demo.proxyVmId, ...args);

    const clean = await verify();
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stdout, new RegExp(`^ok\\s+${backup.repository.dir}\\s+3 file\\(s\\) match$`, 'm'));
    assert.match(clean.stdout.trim().split('\n').at(-1)!, /^ok\s+restic check\s+no errors were found$/);

    // 16 bytes in the middle of the pack: its size stays, its hash and the blob's MAC do not.
    const pack = await largestPack();
    await chmod(pack, 0o600);
    const file = await open(pack, 'r+');
    await file.write(Buffer.from('damaged-by-test!'), 0, 16, Math.floor((await file.stat()).size / 2));
    await file.close();
    const packId = basename(pack);

    const damaged = await verify('--subset', '1/1');
    console.info(`backupctl verify --all --subset 1/1 after damaging pack ${packId.slice(0, 8)} (exit ${damaged.code}):\n${damaged.stdout}${damaged.stderr}`);
    assert.equal(damaged.code, 1, damaged.stderr);
    const lines = damaged.stdout.trim().split('\n');
    const checkLine = lines.at(-1)!;
    // restic 0.14 says "Pack ID does not match, want <id>, got …"; ≥ 0.16 "pack <id> contains N errors: …".
    assert.match(checkLine, new RegExp(`^FAILED\\s+restic check --read-data-subset=1/1\\s+.*${packId.slice(0, 8)}`));
    assert.doesNotMatch(checkLine, /restic repair|troubleshooting|Fatal:/, 'the findings, not restic’s advice');
    // The image's chunks are in that pack: reading it back says so, as the backup's verdict (no retries).
    assert.match(damaged.stdout, new RegExp(`^FAILED\\s+${backup.repository.dir}\\s+.*restic cannot read it back: .*(ciphertext verification failed|does not match)`, 'm'));
    const reason = damaged.stderr.trim();
    assert.equal(reason.split('\n').length, 1, 'one line on stderr');
    assert.match(reason, /^backupctl: backup check failed: .*restic check --read-data-subset=1\/1: .*\(1 of 1 backup\(s\) bad; restic check found errors in the repository\)$/);
  });
});
