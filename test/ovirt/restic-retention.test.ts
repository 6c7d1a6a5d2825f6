/**
 * Repository growth and retention with the copy worker on restic, end to end against the oVirt
 * simulator: a second backup of the unchanged VM adds at most 1 % of its disks' size to the
 * repository; with ten 4 MiB regions of the data disk rewritten (the simulator's guest write), the
 * next adds the changed bytes and the restic chunks around each region: the issue's goal of 1.5 ×
 * the changed bytes plus 1 % is restic's mean here, not a bound (below), so the test holds it to
 * 2 × and prints how the run compares with 1.5 ×. Then `backupctl prune --keep-last 1` forgets
 * the two older backups and prunes once: the repository shrinks, the newest backup restores byte
 * for byte, `restic check` is clean and a second prune finds nothing to delete or repack. The
 * figures measured are printed (docs/benchmarks.md, restic). Skipped, saying why, without restic.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { OvirtBackupManifest, OvirtRestoreResult } from '../../contracts/ovirt/results';
import { runRestic } from '../../activities/copy/restic/restic-cli';
import { resticSnapshots } from '../../activities/copy/restic/restic-store';
import { runBackupctl } from '../helpers/backupctl';
import { startOvirtHarness, type OvirtHarness } from '../helpers/ovirt-harness';
import { resticForTests, tempResticRepository, RESTIC_TEST_PASSWORD } from '../helpers/restic';

const binary = resticForTests();
const MiB = 1024 * 1024;
const REGION = 4 * MiB;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(2)} MiB`;

describe.skipIf(!binary)('restic repository: growth and retention', { timeout: 600_000 }, () => {
  let h: OvirtHarness;
  let repo: Awaited<ReturnType<typeof tempResticRepository>>;
  let n = 0;
  const id = (what: string) => `${what}-restic-retention-${Date.now()}-${++n}`;

  /** The repository as stored: every file under its folder (data packs, index, snapshots, keys). */
  async function repositoryBytes(): Promise<number> {
    let total = 0;
    for (const entry of await readdir(repo.path, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
    }
    return total;
  }
  const added = (m: OvirtBackupManifest) => m.disks.reduce((sum, d) => sum + (d.bytesAdded ?? 0), 0);
  const rawDataBytes = async () => (JSON.parse(await runRestic(repo.settings, ['stats', '--json', '--mode', 'raw-data'])) as { total_size: number }).total_size;

  beforeAll(async () => {
    repo = await tempResticRepository(binary!);
    h = await startOvirtHarness({
      copy: { restic: repo.settings, chunkBytes: 4 * MiB },
      sim: { diskSizes: { os: 16 * MiB + 12345, data: 96 * MiB } },
      secrets: { RESTIC_PASSWORD: RESTIC_TEST_PASSWORD },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await repo?.remove();
  });

  test('an unchanged VM adds ≤ 1 %, ten rewritten 4 MiB regions about 1.5 × the change (≤ 2 × + 1 %); backupctl prune --keep-last 1 shrinks it and the newest still restores', async () => {
    const backup = () => h.client.workflow.execute('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId: id('backup'), args: [h.input()] }) as Promise<OvirtBackupManifest>;

    const first = await backup();
    const diskBytes = first.disks.reduce((sum, d) => sum + d.bytes, 0);
    const afterFirst = await repositoryBytes();

    const second = await backup();
    const afterSecond = await repositoryBytes();
    const unchangedGrowth = afterSecond - afterFirst;
    assert.ok(unchangedGrowth <= diskBytes / 100, `the unchanged VM's second backup added ${unchangedGrowth} bytes for ${diskBytes} bytes of disks`);

    // Ten 4 MiB regions of the data disk rewritten by the guest, spread over it, not on chunk-friendly
    // offsets (seeded bytes, as the disk's own are; the chunk boundaries still differ per repository,
    // whose chunker polynomial restic init draws at random).
    const dataDisk = h.demo.dataDiskId;
    const dataBytes = first.disks.find((d) => d.id === dataDisk)!.bytes;
    const before = await h.state.diskContentSha256(dataDisk);
    for (let i = 0; i < 10; i++) await h.state.writeToDisk(dataDisk, { offset: Math.floor((i * dataBytes) / 10) + 12345, bytes: REGION, seed: `region-${i}` });
    assert.notEqual(await h.state.diskContentSha256(dataDisk), before);
    const changed = 10 * REGION;

    const third = await backup();
    const afterThird = await repositoryBytes();
    const changedGrowth = afterThird - afterSecond;
    // restic cuts chunks of 512 KiB to 8 MiB, about 1.5 MiB on average, at content-defined places: the
    // chunks a region's ends fall in are stored again whole, about 1 MiB beyond each end on average,
    // so a 4 MiB region costs about 6 MiB. Measured over 20 fresh repositories: 1.38–1.73 ×, median
    // 1.48, mean 1.52 (docs/benchmarks.md): the 1.5 × + 1 % held in 12 of them.
    const goal = 1.5 * changed + diskBytes / 100;
    const bound = 2 * changed + diskBytes / 100;
    assert.ok(changedGrowth <= bound, `the backup after rewriting ${changed} bytes added ${changedGrowth}, more than ${bound}`);
    assert.ok(changedGrowth >= changed, `the rewritten bytes (${changed}) are random: they cannot take less (${changedGrowth})`);

    // backupctl prune --keep-last 1: the newest stays, the two before it go (neither verified, no run open).
    const referencedBefore = await rawDataBytes();
    const cli = await runBackupctl(
      { TEMPORAL_ADDRESS: h.env.address, TEMPORAL_TASK_QUEUE: h.taskQueue, BACKUP_LOCAL_STACK: 'off' },
      ...['prune', '--vm', h.demo.vmId, '--proxy', h.demo.proxyVmId, '--keep-last', '1'],
    );
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(`^keep\\s+${third.repository.dir}\\s`, 'm'));
    for (const gone of [first, second]) assert.match(cli.stdout, new RegExp(`^removed\\s+${gone.repository.dir}\\s`, 'm'));
    assert.match(cli.stdout, /^restic prune: total prune: \d+ blobs \/ [\d.]+ \S+; remaining: /m);
    const afterPrune = await repositoryBytes();
    const freed = afterThird - afterPrune;
    // What only the older backups held: the old content of the rewritten regions (and the chunks around them).
    assert.ok(freed >= changed, `prune freed ${freed} bytes; the older backups alone held at least ${changed}`);
    for (const gone of [first, second]) {
      assert.deepEqual(
        (await resticSnapshots(repo.settings, [])).filter((s) => s.paths[0]!.startsWith(`/${gone.repository.dir}/`)),
        [],
        `no snapshot of ${gone.repository.dir} is left`,
      );
    }
    assert.match(await runRestic(repo.settings, ['check']), /no errors were found/);
    const again = await runRestic(repo.settings, ['prune', '--dry-run']);
    assert.match(again, /to delete:\s+0 blobs \/ 0 B/, 'no unreferenced pack is left');
    assert.match(again, /to repack:\s+0 blobs \/ 0 B/);

    const restored = (await h.client.workflow.execute('ovirtRestore', {
      taskQueue: h.taskQueue,
      workflowId: id('restore'),
      args: [h.input({ backup: 'latest', cluster: h.demo.clusterName, vmName: 'web-01-after-prune' })],
    })) as OvirtRestoreResult;
    assert.equal(restored.backup.dir, third.repository.dir);
    for (const disk of third.disks) {
      const back = restored.disks.find((d) => d.sourceDiskId === disk.id);
      assert.ok(back, `disk ${disk.id} restored`);
      assert.equal(await h.state.diskContentSha256(back.diskId), disk.sha256, 'the restored disk holds the backed-up bytes');
    }

    console.info(
      [
        `restic ${binary}: disks ${mib(diskBytes)}`,
        `first backup: repository ${mib(afterFirst)}`,
        `second, unchanged: +${mib(unchangedGrowth)} (${((unchangedGrowth / diskBytes) * 100).toFixed(3)} % of the disks; bound 1 %)`,
        `third, ten 4 MiB regions rewritten (${mib(changed)}): +${mib(changedGrowth)} (${(changedGrowth / changed).toFixed(3)} × the change; the issue's goal ${mib(goal)} ${changedGrowth <= goal ? 'met' : 'NOT met'}, bound ${mib(bound)}); restic's data_added ${mib(added(third))}, copy attempts ${third.disks.map((d) => d.attempts).join(', ')}`,
        `prune --keep-last 1: referenced ${mib(referencedBefore)} → ${mib(await rawDataBytes())}, repository ${mib(afterThird)} → ${mib(afterPrune)} (freed ${mib(freed)})`,
      ].join('\n'),
    );
  });
});
