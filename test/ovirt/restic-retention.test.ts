/**
 * Repository growth and retention with the copy worker on restic, end to end against the oVirt
 * simulator: a second backup of the unchanged VM adds at most 1 % of its disks' size to the
 * repository; with ten 4 MiB regions of the data disk rewritten (the simulator's guest write, at
 * seeded, non-overlapping places), the next adds at most 1.5 × the changed bytes plus 1 % of the
 * disks: the issue's bound, on a data disk of DATA_MIB where it holds by construction (below). Then
 * `backupctl prune --keep-last 1` forgets the two older backups and prunes once: what they alone
 * held is no longer referenced, what stays unused is within restic's 5 %, the newest backup
 * restores byte for byte, `restic check` is clean and a second prune
 * finds nothing to delete or repack. The figures measured are printed (docs/benchmarks.md, restic),
 * with the layout's seed (RESTIC_GROWTH_SEED=<seed> repeats it) and the repository's chunker
 * polynomial. Skipped, saying why, without restic.
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
import { mulberry32 } from '../../simulators/framework/faults';

const binary = resticForTests();
const MiB = 1024 * 1024;
const REGION = 4 * MiB;
const REGIONS = 10;
/**
 * restic cuts chunks of 512 KiB + on average 1 MiB (at most 8 MiB) at content-defined places and
 * stores the chunks a rewritten region touches again whole: a 4 MiB region costs 4 MiB plus the
 * parts of the chunks its two ends fall in (a point falls in a longer chunk more often), so ten of
 * them cost about 1.56 × the 40 MiB rewritten, give or take 0.12 × (one σ, 4.6 MiB) with the layout
 * and the chunker polynomial `restic init` draws at random. The issue's 1 % of the disk is what
 * absorbs that: over 30 random layouts in fresh repositories (docs/benchmarks.md, restic r2) the
 * worst cost 1.82 ×, 12.7 MiB above 1.5 ×; 1 % of a 1 GiB disk (10.2 MiB) would have failed it,
 * 1 % of 1.5 GiB (15.4 MiB, 2.8 σ above the mean) holds for all 30. Smaller disks fail often: at
 * 256 MiB 17 of the 30 layouts exceed the bound.
 */
const DATA_MIB = 1536;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(2)} MiB`;

const seeded = mulberry32;

/** Ten offsets of 4 MiB regions inside the disk, anywhere (not on chunk-friendly offsets), none overlapping another. */
function regionLayout(seed: number, diskBytes: number): number[] {
  const random = seeded(seed);
  const offsets: number[] = [];
  while (offsets.length < REGIONS) {
    const offset = Math.floor(random() * (diskBytes - REGION));
    if (offsets.every((o) => Math.abs(o - offset) >= REGION)) offsets.push(offset);
  }
  return offsets.sort((a, b) => a - b);
}

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
      sim: { diskSizes: { os: 16 * MiB + 12345, data: DATA_MIB * MiB } },
      secrets: { RESTIC_PASSWORD: RESTIC_TEST_PASSWORD },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await repo?.remove();
  });

  test('an unchanged VM adds ≤ 1 %, ten rewritten 4 MiB regions ≤ 1.5 × the change + 1 %; backupctl prune --keep-last 1 leaves ≤ 5 % unused and the newest still restores', async () => {
    const backup = () => h.client.workflow.execute('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId: id('backup'), args: [h.input()] }) as Promise<OvirtBackupManifest>;

    const first = await backup();
    const diskBytes = first.disks.reduce((sum, d) => sum + d.bytes, 0);
    const afterFirst = await repositoryBytes();

    const second = await backup();
    const afterSecond = await repositoryBytes();
    const unchangedGrowth = afterSecond - afterFirst;
    assert.ok(unchangedGrowth <= diskBytes / 100, `the unchanged VM's second backup added ${unchangedGrowth} bytes for ${diskBytes} bytes of disks`);

    // Ten 4 MiB regions of the data disk rewritten by the guest with seeded bytes (the disk's own are
    // random too), at a seeded layout: printed with the repository's chunker polynomial on failure.
    const dataDisk = h.demo.dataDiskId;
    const dataBytes = first.disks.find((d) => d.id === dataDisk)!.bytes;
    const seed = process.env.RESTIC_GROWTH_SEED ? Number(process.env.RESTIC_GROWTH_SEED) : Date.now() % 2 ** 31;
    const layout = regionLayout(seed, dataBytes);
    const before = await h.state.diskContentSha256(dataDisk);
    for (const [i, offset] of layout.entries()) await h.state.writeToDisk(dataDisk, { offset, bytes: REGION, seed: `region-${seed}-${i}` });
    assert.notEqual(await h.state.diskContentSha256(dataDisk), before);
    const changed = REGIONS * REGION;
    const polynomial = (JSON.parse(await runRestic(repo.settings, ['cat', 'config'])) as { chunker_polynomial: string }).chunker_polynomial;
    const where = `layout seed ${seed} (RESTIC_GROWTH_SEED=${seed} repeats it): regions at ${layout.map((o) => `${(o / MiB).toFixed(3)}`).join(', ')} MiB of ${mib(dataBytes)}; chunker polynomial ${polynomial}`;

    const third = await backup();
    const afterThird = await repositoryBytes();
    const changedGrowth = afterThird - afterSecond;
    const bound = 1.5 * changed + diskBytes / 100;
    console.info(`third backup, ten 4 MiB regions rewritten: +${mib(changedGrowth)} (${(changedGrowth / changed).toFixed(3)} × the change; bound ${mib(bound)}); ${where}`);
    assert.ok(changedGrowth <= bound, `the backup after rewriting ${changed} bytes added ${changedGrowth}, more than 1.5 × + 1 % of the disks (${bound}); ${where}`);
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
    const referencedAfter = await rawDataBytes();
    // What only the older backups held (the old content of the rewritten regions and the chunks
    // around them) is no longer referenced. prune deletes the packs nothing uses and repacks partly
    // used ones only above restic's --max-unused of 5 % (unused ≤ 5/95 of what is used): on a disk
    // this size the old regions' chunks are below that, so most of them stay until the next prunes.
    assert.ok(referencedBefore - referencedAfter >= changed, `the older backups alone referenced at least ${changed} bytes; forgetting them unreferenced ${referencedBefore - referencedAfter}`);
    assert.ok(freed >= 0, `prune grew the repository by ${-freed} bytes`);
    assert.ok(afterPrune - referencedAfter <= (referencedAfter * 5) / 95 + MiB, `after prune the repository holds ${afterPrune - referencedAfter} bytes beyond what is referenced, above restic's 5 %`);
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
        `third, ten 4 MiB regions rewritten (${mib(changed)}): +${mib(changedGrowth)} (${(changedGrowth / changed).toFixed(3)} × the change; bound 1.5 × + 1 %: ${mib(bound)}); restic's data_added ${mib(added(third))}, copy attempts ${third.disks.map((d) => d.attempts).join(', ')}`,
        `prune --keep-last 1: referenced ${mib(referencedBefore)} → ${mib(referencedAfter)}, repository ${mib(afterThird)} → ${mib(afterPrune)} (freed ${mib(freed)})`,
      ].join('\n'),
    );
  });
});
