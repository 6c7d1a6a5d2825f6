/**
 * Runs one case alone and prints the result, the pending activities and the history (debugging aid):
 *   npx tsx chaos/probe.ts altaro '{"kind":"drop","call":{"method":"GET","path":"/rest/activity/operation-status/:p1"}}'
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChaosCluster } from './cluster';
import { runCase } from './engine';
import { TARGETS } from './targets';
import type { FaultCase } from './types';

const [name, json] = process.argv.slice(2);
const dir = await mkdtemp(join(tmpdir(), 'chaos-probe-'));
const cluster = await ChaosCluster.start(dir);
const target = await TARGETS[name!]!();
await cluster.startWorker(target.worker);
await target.prepare?.(cluster);
if (!process.env.PROBE_NO_BASELINE) await runCase(cluster, target, { kind: 'none' });
const fault = JSON.parse(json!) as FaultCase;
const r = await runCase(cluster, target, fault, { caseTimeoutMs: 30_000, settleMs: 1_000 });
console.log(JSON.stringify(r, null, 2));
const h = cluster.client.workflow.getHandle(r.workflowId);
const d = await h.describe();
console.log(JSON.stringify(d.raw.pendingActivities, null, 1).slice(0, 3000));
for (const e of (await h.fetchHistory()).events ?? [])
  console.log(
    e.eventType,
    JSON.stringify(
      e.activityTaskScheduledEventAttributes?.activityType ?? e.activityTaskFailedEventAttributes?.failure?.message ?? e.activityTaskTimedOutEventAttributes?.failure?.message ?? '',
    ).slice(0, 200),
  );
await target.stop();
await cluster.stop();
await rm(dir, { recursive: true, force: true });
process.exit(0);
