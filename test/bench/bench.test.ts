/**
 * `npm run bench -- --quick` runs every section end to end at a tiny size and writes its JSON. It
 * checks that the harness works, not the numbers (the machine is shared and noisy).
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('bench --quick measures (a) to (i) and writes the JSON report', { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-test-'));
  try {
    const out = join(dir, 'bench.json');
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--out', out], { cwd: root, env: process.env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (c) => resolve({ code: c, stdout, stderr }));
    });
    assert.equal(code, 0, stderr.slice(-3000));
    const report = JSON.parse(await readFile(out, 'utf8'));
    const r = report.results;

    assert.equal(r.throughput.runs.length, 1);
    assert.equal(r.throughput.runs[0].failed, 0, 'every benchmarked backup completed');
    assert.ok(r.throughput.ratioMedian > 0 && r.throughput.activitiesPerBackup > 0);
    assert.ok(Number.isFinite(r.throughput.overhead.unloaded.medianMsPerStep));

    const ovirt = r.historyEvents.perWorkflow.find((w: { workflowType: string }) => w.workflowType === 'ovirtSnapshotBackup');
    assert.equal(ovirt.status, 'completed');
    assert.ok(ovirt.events > 0);
    assert.ok(Number.isFinite(r.historyEvents.longJob.eventsPerHourOfJob));

    assert.equal(r.copy.runs.length, 1);
    assert.ok(r.copy.ratioVsCatMedian > 0);
    // The shell's `times` counts in clock ticks: `cat` on the quick bench's 8 MiB may show 0.
    for (const contender of ['activity', 'activityBuffered', 'activityMainThread', 'loop', 'sha256']) assert.ok(r.copy.cpuSecondsPerGiB[contender] > 0, `CPU s/GiB of ${contender}`);
    for (const contender of ['cat', 'catSync']) assert.ok(r.copy.cpuSecondsPerGiB[contender] >= 0, `CPU s/GiB of ${contender}`);

    assert.equal(r.polling.pollers.length, 2);
    for (const p of r.polling.pollers) assert.ok(p.callsPerJob >= 1);

    assert.equal(r.rss.runsInFlight, 5);
    assert.ok(r.rss.peakRssMiB > 0);

    assert.equal(r.restore.write.runs.length, 1);
    assert.ok(r.restore.write.ratioMedian > 0);
    assert.equal(r.restore.drill.runs.length, 1);
    assert.ok(r.restore.drill.backupMsMedian > 0 && r.restore.drill.drillMsMedian > 0, 'a backup and a drill of it completed');

    // (h) needs restic (the pinned one, or any on PATH); without one it says it skipped.
    if (!r.restic.skipped) {
      assert.equal(r.restic.runs.length, 1);
      assert.ok(r.restic.ratioMedian > 0, 'restic vs directory measured');
      assert.ok(r.restic.oursVsAloneMedian > 0 && r.restic.runs[0].aloneMs > 0, 'restic alone measured beside ours');
      assert.ok(r.restic.growth.firstAddedPerDisk > 0.9, `the first backup stored the disk (${r.restic.growth.firstAddedPerDisk})`);
      assert.ok(r.restic.growth.unchangedAddedPerDisk < r.restic.growth.firstAddedPerDisk, 'the unchanged disk added less than the first backup');
      assert.ok(stdout.includes('h. restic throughput') && stdout.includes('h. ours vs restic alone') && stdout.includes('h. restic growth'));
    } else assert.ok(stdout.includes('h. restic'));

    // (i) a chain of four points of a 4 MiB disk: the incrementals read what was rewritten, the sampled points restore.
    assert.equal(r.incremental.incrementals.length, 3);
    assert.ok(r.incremental.readRatioMax <= 1.05, `incrementals read ×${r.incremental.readRatioMax} the rewritten bytes`);
    assert.ok(r.incremental.restores.length >= 2 && r.incremental.restores.every((x: { matches: boolean }) => x.matches), JSON.stringify(r.incremental.restores));

    for (const label of [
      'a. throughput',
      'b. overhead/step',
      'c. events/backup',
      'd. copy',
      'e. polling',
      'f. worker RSS',
      'g. restore write',
      'g. drill time',
      'i. incremental read',
      'i. chain restores',
    ])
      assert.ok(stdout.includes(label), label);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
