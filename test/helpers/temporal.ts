/**
 * A real Temporal dev server per test file (the CLI the project resolves itself), and the
 * workflow bundle built once per `npm test` run.
 */
import { readFile } from 'node:fs/promises';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { resolveTemporalCli } from '../../lib/temporal/cli-path';
import { allSearchAttributes } from '../../lib/temporal/search-attributes';
import { workflowsPath } from '../../workers/worker-factory';

// Worker chatter (and the expected activity failures of fault tests) hides the test report.
Runtime.install({ logger: new DefaultLogger('ERROR') });

export async function startTemporal(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: resolveTemporalCli() },
      searchAttributes: allSearchAttributes,
      extraArgs: ['--log-level', 'error'],
    },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** scripts/run-tests.mjs bundles once and passes the file; a test run alone bundles for itself. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= (async () => {
    const path = process.env.WORKFLOW_BUNDLE_PATH;
    if (path) return { code: await readFile(path, 'utf8'), sourceMap: '' } as WorkflowBundleWithSourceMap;
    return bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  })();
  return bundle;
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };
