/**
 * Replay checks shared by every vendor: histories recorded in the repo (the CLI's JSON, as the UI
 * downloads it) plus fresh ones from the test's own runs must replay against today's workflow code.
 * RECORD_HISTORIES=1 records the fresh ones beside the recorded ones: a fixture is never
 * overwritten (the histories of older code are what the replay guards), a new recording of a name
 * already kept goes to `<name>--<build id>.json`, and one that exists already stops the recording.
 * The replay project replays every fixture of every folder (test/replay/all-fixtures.test.ts).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { computeBuildId } from '../../lib/temporal/worker-deployment';
import type { Client } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { resolveTemporalCli } from '../../lib/temporal/cli-path';
import { testDataConverter, workflowBundle } from './temporal';

type History = Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>;
export interface NamedHistory {
  workflowId: string;
  history: History;
  /** The fixture it was read from, for messages. */
  file?: string;
}

/**
 * The fixtures of `dir`, each replayed under the workflow id it ran with (a workflow that derives
 * ids from its own, scheduledBackup's child, replays only so); the file name when a history lacks it.
 */
export async function recordedHistories(dir: string): Promise<NamedHistory[]> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.json'));
  return Promise.all(
    files.map(async (f) => {
      const history = historyFromJSON(JSON.parse(await readFile(join(dir, f), 'utf8')));
      return { workflowId: history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowId || f, history, file: join(dir, f) };
    }),
  );
}

/**
 * Where a new recording of `file` goes: `<file>.json` the first time, then `<file>--<build id>.json`
 * (package version and commit, WORKER_BUILD_ID to name it otherwise). Never an existing file.
 */
export function newFixturePath(dir: string, file: string, buildId = computeBuildId()): string {
  const first = join(dir, `${file}.json`);
  if (!existsSync(first)) return first;
  const versioned = join(dir, `${file}--${buildId.replace(/[^A-Za-z0-9_.+-]/g, '_')}.json`);
  if (existsSync(versioned)) throw new Error(`refusing to overwrite the recorded history ${versioned}: commit first (a new build id), or set WORKER_BUILD_ID to name this recording`);
  return versioned;
}

/** With RECORD_HISTORIES=1, saves each run's history (from the server at `address`) as a new fixture (newFixturePath). */
export async function saveHistoriesIfAsked(dir: string, address: string, runs: Array<{ workflowId: string; file: string }>): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const targets = runs.map((run) => ({ ...run, path: newFixturePath(dir, run.file) }));
  for (const run of targets) {
    const json = execFileSync(resolveTemporalCli(), ['workflow', 'show', '--address', address, '--workflow-id', run.workflowId, '-o', 'json'], { encoding: 'utf8' });
    // 'wx': fails rather than overwrite, should the file have appeared since.
    await writeFile(run.path, json, { flag: 'wx' });
    console.log(`recorded ${run.path}`);
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
  const files = new Map(histories.map((h) => [h.workflowId, h.file]));
  for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle(), dataConverter: testDataConverter }, histories)) {
    assert.equal(result.error, undefined, `${files.get(result.workflowId) ?? result.workflowId}: ${result.error}`);
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
