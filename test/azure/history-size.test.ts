/**
 * A running Azure job is followed inside one heartbeating activity: the run's history grows with
 * the job's few visible changes (status, 25 % steps, an hour passing), not with every poll. The
 * old loop cost one activity and one timer (~11 events) per poll and a 24-hour job outgrew
 * Temporal's history limit.
 */
import { azureTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import type { AzureVmBackupResult } from '../../contracts/azure/results';
import type { Progress } from '../../contracts/progress';
import { BackupClient } from '../../client/backup-client';
import type { AzureHarness } from '../helpers/azure-harness';
import { eventually } from '../helpers/eventually';

const test = azureTest();

test('a backup job that runs for many polls leaves a history whose size does not depend on them', async ({ h, onTestFinished }) => {
  h.state.options.backupTaskMs = [2000, 10_000];
  try {
    h.simulator.calls.clear();
    const handle = await h.start('azureVmBackup', { endpoint: 'azure-sim', vmName: 'db-01', pollIntervalMs: 50 });
    // Between the slices' progress updates, status shows the job as the activity last polled it.
    const status = await eventually(
      () => new BackupClient(h.client, h.taskQueue).status(handle.workflowId),
      (s) => /^Backup job \S+ InProgress/.test(s.live ?? ''),
    );
    console.log(`live while running: ${status.live}`);
    const result = (await handle.result()) as AzureVmBackupResult;
    assert.equal(result.job.status, 'Completed');

    const polls = h.simulator.calls.matching('GET', new RegExp(`/backupJobs/${result.job.jobId}$`)).length;
    const events = (await handle.fetchHistory()).events?.length ?? 0;
    console.log(`${events} history events, ${polls} polls of the job`);
    // A poll as activity + timer cost ~11 events: 100 leaves room for a few of them on top of the run's own ~35 events.
    assert.ok(events < 100, `${events} history events for ${polls} polls of the job`);
    // …and the job was looked at many more times than that.
    assert.ok(polls >= 20, `the job was polled ${polls} times`);

    const progress = await handle.query<Progress>('progress');
    assert.match(progress.message ?? '', /Backup job .* Completed 100% — Take Snapshot: Completed; Transfer data to vault: Completed/);
  } finally {
    h.state.options.backupTaskMs = [600, 900];
  }
});
