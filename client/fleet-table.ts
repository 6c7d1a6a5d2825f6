/**
 * A fleet's full per-VM table. fleetBackup records each VM's row as the input of a
 * fleetRecordOutcomes activity in the history of the run that handled it (workflows/fleet-outcomes.ts),
 * so the table is the rows of every run of its continue-as-new chain, oldest first.
 */
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import type { FleetOutcome, FleetOutcomeKind } from '../contracts/fleet/input';
import { decodePayload } from './decode-payload';
import { InvalidInputError } from './errors';
import { withArticle } from '../lib/text/article';

export interface FleetTable {
  workflowId: string;
  /** The latest run's status: RUNNING, COMPLETED, CANCELLED, … */
  status: string;
  /** Runs in the chain (continue-as-new), the latest included. */
  runs: number;
  /** Rows per outcome, counted from the rows. */
  counts: Record<FleetOutcomeKind, number>;
  /** Every VM handled so far, in the order they ended; while the fleet runs, VMs still running or queued are not in it yet. */
  rows: FleetOutcome[];
}

const RECORD_ACTIVITY = 'fleetRecordOutcomes';

export async function readFleetTable(client: Client, workflowId: string): Promise<FleetTable> {
  const latest = await client.workflow.getHandle(workflowId).describe();
  if (latest.type !== 'fleetBackup') throw new InvalidInputError([`${workflowId} is ${withArticle(latest.type)} run, not a fleetBackup`], 'fleet table');
  const perRun: FleetOutcome[][] = [];
  for (let runId: string | undefined = latest.runId; runId;) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const rows: FleetOutcome[] = [];
    let previous: string | undefined;
    for (const event of history.events ?? []) {
      const started = event.workflowExecutionStartedEventAttributes;
      if (started) previous = started.continuedExecutionRunId || undefined;
      const scheduled = event.activityTaskScheduledEventAttributes;
      const payload = scheduled?.input?.payloads?.[0];
      if (scheduled?.activityType?.name === RECORD_ACTIVITY && payload) rows.push(...(await decodePayload<{ rows: FleetOutcome[] }>(client, payload as Payload)).rows);
    }
    perRun.unshift(rows);
    runId = previous;
  }
  const rows = perRun.flat();
  if (latest.status.name === 'RUNNING') {
    // Rows the running run holds until a chunk is full; a fleet without a worker just shows less.
    rows.push(
      ...(await client.workflow
        .getHandle(workflowId, latest.runId)
        .query<FleetOutcome[]>('fleetUnrecordedOutcomes')
        .catch(() => [])),
    );
  }
  const counts: Record<FleetOutcomeKind, number> = { succeeded: 0, failed: 0, skipped: 0, cancelled: 0, 'not-started': 0 };
  for (const row of rows) counts[row.outcome]++;
  return { workflowId, status: latest.status.name, runs: perRun.length, counts, rows };
}
