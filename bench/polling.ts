/**
 * (e) Polling efficiency of the long-job poller: vendor calls per job and how late the end of the
 * job is noticed, ours against fixed 10-second polling, both waiting for the same kind of job at
 * the same time. Measured on the oVirt snapshot-ready wait (ovirtWaitSnapshotReady, run through
 * MockActivityEnvironment against the simulator, whose snapshot takes `jobSeconds`). Ours polls
 * every `pollIntervalMs` of the input, default 1000 ms. Time is scaled (1/2, or 1/20 with --quick: job, poll intervals) and
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
  /** Jobs per poller, their lengths spread over one 10 s interval. */
  jobs: number;
  pollers: Array<{ name: string; pollMs: number; callsPerJob: number; lateSeconds: number }>;
  callsRatio: number;
  latenessRatio: number;
}

export async function benchPolling(options: { jobSeconds: number; quick: boolean }, log: (line: string) => void): Promise<PollingResult> {
  const scale = options.quick ? 1 / 20 : 1 / 2;
  const pollers = [
    { name: 'ours (pollIntervalMs default)', pollMs: OUR_DEFAULT_POLL_MS },
    { name: 'fixed 10 s', pollMs: BASELINE_POLL_MS },
  ];
  // Jobs of slightly different lengths (spread over one baseline interval), so that the end of the
  // job falls at every phase of the polling: lateness is a mean, not one lucky or unlucky phase.
  const jobs = options.quick ? 2 : 4;
  const jobLengthsMs = Array.from({ length: jobs }, (_, j) => (options.jobSeconds * 1000 + (j * BASELINE_POLL_MS) / jobs + 1234) * scale);
  const sims = await Promise.all(jobLengthsMs.map((ms) => startBenchOvirt(pollers.length, { snapshotCreateMs: ms })));
  const clients = sims.map((sim) => new EndpointClients(EndpointRegistry.fromObject({ endpoints: sim.endpoints }), { ...process.env, ...sim.secrets }));
  try {
    const samples = await Promise.all(
      sims.flatMap((sim, j) =>
        pollers.map(async (poller, i) => {
          const activities = createOvirtActivities(clients[j]!);
          const vmId = sim.vmIds[i]!;
          const act = new MockActivityEnvironment();
          const { snapshotId } = (await act.run((x: Parameters<typeof activities.ovirtCreateSnapshot>[0]) => activities.ovirtCreateSnapshot(x), {
            endpoint: 'ovirt-bench',
            vmId,
            runId: `bench-poll-${j}-${i}`,
            description: 'poll bench',
            diskIds: [vmId.replace(/^c/, 'e')],
          })) as { snapshotId: string };
          // When the engine's job ends: the simulator's own record of when it started it.
          const readyAt = sim.state.getSnapshot(vmId, snapshotId).date + jobLengthsMs[j]!;
          await act.run((x: Parameters<typeof activities.ovirtWaitSnapshotReady>[0]) => activities.ovirtWaitSnapshotReady(x), {
            endpoint: 'ovirt-bench',
            vmId,
            snapshotId,
            deadline: Date.now() + jobLengthsMs[j]! * 3 + 60_000,
            pollMs: poller.pollMs * scale,
          });
          const noticedAt = Date.now();
          const calls = sim.simulator.calls.matching('GET', new RegExp(`/vms/${vmId}/snapshots/${snapshotId}$`)).length;
          return { poller: i, calls, lateMs: Math.max(0, noticedAt - readyAt) / scale };
        }),
      ),
    );
    const results = pollers.map((poller, i) => {
      const mine = samples.filter((s) => s.poller === i);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      return { name: poller.name, pollMs: poller.pollMs, callsPerJob: round(mean(mine.map((s) => s.calls)), 1), lateSeconds: round(mean(mine.map((s) => s.lateMs)) / 1000, 2) };
    });
    for (const r of results) log(`  ${r.name}: ${r.callsPerJob} calls per job, end noticed ${r.lateSeconds} s late on average (${jobs} jobs of ~${options.jobSeconds} s)`);
    const [ours, fixed] = results as [PollingResult['pollers'][number], PollingResult['pollers'][number]];
    return {
      jobSeconds: options.jobSeconds,
      timeScale: scale,
      jobs,
      pollers: results,
      callsRatio: round(ours.callsPerJob / fixed.callsPerJob, 2),
      latenessRatio: round(ours.lateSeconds / Math.max(0.001, fixed.lateSeconds), 3),
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(sims.map((s) => s.stop()));
  }
}
