/**
 * Replay checks shared by every vendor: histories recorded in the repo (the CLI's JSON, as the UI
 * downloads it) plus fresh ones from the test's own runs must replay against today's workflow code.
 * RECORD_HISTORIES=1 rewrites the recorded ones after a deliberate, patched change.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { resolveTemporalCli } from '../../lib/temporal/cli-path';
import { testDataConverter, workflowBundle } from './temporal';

type History = Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>;
export interface NamedHistory {
  workflowId: string;
  history: History;
}

export async function recordedHistories(dir: string): Promise<NamedHistory[]> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.json'));
  return Promise.all(files.map(async (f) => ({ workflowId: f, history: historyFromJSON(JSON.parse(await readFile(join(dir, f), 'utf8'))) })));
}

/** With RECORD_HISTORIES=1, saves each run's history (from the server at `address`) as `<file>.json`. */
export async function saveHistoriesIfAsked(dir: string, address: string, runs: Array<{ workflowId: string; file: string }>): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  for (const run of runs) {
    const json = execFileSync(resolveTemporalCli(), ['workflow', 'show', '--address', address, '--workflow-id', run.workflowId, '-o', 'json'], { encoding: 'utf8' });
    await writeFile(join(dir, `${run.file}.json`), json);
  }
}

/** Every history the namespace holds (fresh runs of a test file). */
export async function namespaceHistories(client: Client): Promise<NamedHistory[]> {
  const out: NamedHistory[] = [];
  for await (const execution of client.workflow.list()) {
    out.push({ workflowId: execution.workflowId, history: await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory() });
  }
  return out;
}

/** Replays them all with the test bundle and codec; fails naming the first that does not replay. */
export async function assertReplays(histories: NamedHistory[]): Promise<number> {
  let replayed = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle(), dataConverter: testDataConverter }, histories)) {
    assert.equal(result.error, undefined, `${result.workflowId}: ${result.error}`);
    replayed++;
  }
  assert.equal(replayed, histories.length);
  return replayed;
}

export interface FreshRun extends NamedHistory {
  name: string;
  workflowType: string;
}

/** Starts a run on the harness's queue, lets `act` play its part (cancel it, say), waits for it to end however it ends, and keeps its history. */
export async function recordRun(h: { client: Client; taskQueue: string }, name: string, workflowType: string, input: unknown, act?: (workflowId: string) => Promise<void>): Promise<FreshRun> {
  const workflowId = `replay-${name}-${Date.now()}`;
  const handle = await h.client.workflow.start(workflowType, { taskQueue: h.taskQueue, workflowId, args: [input] });
  await act?.(workflowId);
  await handle.result().catch(() => undefined);
  return { name, workflowType, workflowId, history: await handle.fetchHistory() };
}

/**
 * Saves the fresh runs as `<workflowType>-<name>.json` fixtures in `dir` when RECORD_HISTORIES=1,
 * then replays them and every recorded fixture; returns how many fixtures there were.
 */
export async function replayFreshAndRecorded(dir: string, address: string, fresh: FreshRun[]): Promise<number> {
  await saveHistoriesIfAsked(
    dir,
    address,
    fresh.map((run) => ({ workflowId: run.workflowId, file: `${run.workflowType}-${run.name}` })),
  );
  const recorded = await recordedHistories(dir);
  await assertReplays([...fresh, ...recorded]);
  console.log(`replayed ${fresh.length} fresh and ${recorded.length} recorded histories`);
  return recorded.length;
}
