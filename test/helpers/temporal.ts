/**
 * A real Temporal dev server per test file (the CLI the project resolves itself), and the
 * workflow bundle built once per `npm test` run.
 */
import { readFile } from 'node:fs/promises';
import { dataConverterFromEnv } from '../../lib/codec/keys';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type LogEntry, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { resolveTemporalCli } from '../../lib/temporal/cli-path';
import { startTimeSkippingServer } from '../../bench/long-job-events';
import { allSearchAttributes } from '../../contracts/search-attributes';
import { bundleWorkflows } from '../../workers/workflow-bundle';

/**
 * Worker logs (workflow, activity and SDK) are kept in memory so harnesses can scan them for
 * secrets; only errors are printed, as the chatter (and the expected failures of fault tests)
 * would hide the test report.
 */
export const capturedLogs: LogEntry[] = [];
Runtime.install({
  logger: new DefaultLogger('INFO', (entry) => {
    capturedLogs.push(entry);
    if (entry.level === 'ERROR') console.error(`[worker] ${entry.message}`, entry.meta ?? '');
  }),
});

/**
 * Every test process encrypts payloads, with a key set in its environment, so the test client,
 * in-process workers and child processes (workers, the CLI) all use the same codec. The key is a
 * fixed, test-only one (never a production key): histories recorded as replay fixtures stay
 * decodable by later test runs.
 */
export const TEST_CODEC_KEYS = JSON.stringify({ activeKeyId: 'test-fixtures', keys: { 'test-fixtures': 'dGVzdC1vbmx5IGtleSwgbm90IGEgc2VjcmV0ISEhISE=' } });
if (!process.env.BACKUP_CODEC_KEYS) process.env.BACKUP_CODEC_KEYS = TEST_CODEC_KEYS;
export const testDataConverter = dataConverterFromEnv();

/** `extraArgs`: more `temporal server start-dev` flags (`--metrics-port N` for the server's `action` counter, `--dynamic-config-value K=V`). */
export async function startTemporal(extraArgs: string[] = []): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    client: { dataConverter: testDataConverter },
    server: {
      executable: { type: 'existing-path', path: resolveTemporalCli() },
      searchAttributes: allSearchAttributes,
      extraArgs: ['--log-level', 'error', ...extraArgs],
    },
  });
}

/**
 * Temporal's time-skipping test server: timers and workflow time jump ahead whenever no activity
 * or workflow task is pending, so a test can wait a day or a week of workflow time in seconds.
 * For workflow logic with stubbed activities; it has no visibility queries.
 */
export function startTimeSkippingTemporal(): Promise<TestWorkflowEnvironment> {
  return startTimeSkippingServer(testDataConverter);
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The bundle vitest's global setup built (test/setup/bundle-env.ts); without one, bundles here. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= (async () => {
    const path = process.env.WORKFLOW_BUNDLE_PATH;
    if (path) return { code: await readFile(path, 'utf8'), sourceMap: '' } as WorkflowBundleWithSourceMap;
    return bundleWorkflows();
  })();
  return bundle;
}
