/**
 * (e) Polling efficiency of the long-job poller: vendor calls per job and how late the end of the
 * job is noticed, ours against fixed 10-second polling, both waiting for the same kind of job at
 * the same time. Measured on the oVirt snapshot-ready wait (ovirtWaitSnapshotReady, run through
 * MockActivityEnvironment against the simulator, whose snapshot takes `jobSeconds`): the one
 * long-job poller committed when this was written. Ours polls every `pollIntervalMs` of the input,
 * default 1000 ms. Time is scaled (1/2, or 1/20 with --quick: job, poll intervals) and
 * reported scaled back.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { EndpointRegistry } from '../lib/config/endpoints';
import { EndpointClients } from '../activities/endpoint-clients';
import { createOvirtActivities } from '../activities/ovirt/activities';
import { startBenchOvirt } from './lib/env';
import { round } from './lib/stats';

export const OUR_DEFAULT_POLL_MS = 1000;
export const BASELINE_POLL_MS = 10_000;

export interface PollingResult {
  jobSeconds: number;
  timeScale: number;
  pollers: Array<{ name: string; pollMs: number; callsPerJob: number; lateSeconds: number }>;
  callsRatio: number;
  latenessRatio: number;
}

export async function benchPolling(options: { jobSeconds: number; quick: boolean }, log: (line: string) => void): Promise<PollingResult> {
  const scale = options.quick ? 1 / 20 : 1 / 2;
  const jobMs = options.jobSeconds * 1000 * scale;
  const sim = await startBenchOvirt(2, { snapshotCreateMs: jobMs });
  const clients = new EndpointClients(EndpointRegistry.fromObject({ endpoints: sim.endpoints }), { ...process.env, ...sim.secrets });
  const activities = createOvirtActivities(clients);
  const pollers = [
    { name: 'ours (pollIntervalMs default)', pollMs: OUR_DEFAULT_POLL_MS },
    { name: 'fixed 10 s', pollMs: BASELINE_POLL_MS },
  ];
  try {
    const results = await Promise.all(
      pollers.map(async (poller, i) => {
        const vmId = sim.vmIds[i]!;
        const act = new MockActivityEnvironment();
        const t0 = Date.now();
        const { snapshotId } = (await act.run((x: Parameters<typeof activities.ovirtCreateSnapshot>[0]) => activities.ovirtCreateSnapshot(x), {
          endpoint: 'ovirt-bench',
          vmId,
          runId: `bench-poll-${i}`,
          description: 'poll bench',
          diskIds: [vmId.replace(/^c/, 'e')],
        })) as { snapshotId: string };
        const readyAt = t0 + jobMs;
        await act.run((x: Parameters<typeof activities.ovirtWaitSnapshotReady>[0]) => activities.ovirtWaitSnapshotReady(x), { endpoint: 'ovirt-bench', vmId, snapshotId, deadline: Date.now() + jobMs * 3 + 60_000, pollMs: poller.pollMs * scale });
        const noticedAt = Date.now();
        const calls = sim.simulator.calls.matching('GET', new RegExp(`/vms/${vmId}/snapshots/${snapshotId}$`)).length;
        return { name: poller.name, pollMs: poller.pollMs, callsPerJob: calls, lateSeconds: round(Math.max(0, noticedAt - readyAt) / scale / 1000, 2) };
      }),
    );
    for (const r of results) log(`  ${r.name}: ${r.callsPerJob} calls, end noticed ${r.lateSeconds} s late`);
    const [ours, fixed] = results as [PollingResult['pollers'][number], PollingResult['pollers'][number]];
    return {
      jobSeconds: options.jobSeconds,
      timeScale: scale,
      pollers: results,
      callsRatio: round(ours.callsPerJob / fixed.callsPerJob, 2),
      latenessRatio: round(ours.lateSeconds / Math.max(0.001, fixed.lateSeconds), 3),
    };
  } finally {
    await clients.close();
    await sim.stop();
  }
}
