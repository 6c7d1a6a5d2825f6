/**
 * Once per vitest run, in the main process: resolves (or installs) the Temporal CLI and the
 * time-skipping test server, and bundles the workflows into one file every test process loads.
 * Its teardown adds up the secret scans every harness recorded in this run and fails the run on
 * any secret found in a history or worker log.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { projectRoot } from '../../lib/temporal/cli-path';
import { SCAN_DIR, sumScans } from '../helpers/secret-scan';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Empty when no selected project runs workflow code (a test that does then bundles for itself). */
    workflowBundlePath: string;
  }
}

const NO_WORKFLOWS = ['unit', 'simulators', 'fuzz'];

function runTsx(script: string, ...args: string[]): void {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { stdio: 'inherit', cwd: projectRoot });
  if (r.status !== 0) throw new Error(`${script} exited with ${r.status ?? r.signal}`);
}

export default async function setup(project: TestProject) {
  runTsx('scripts/ensure-temporal.ts');
  // Scans of earlier runs must not count for this one.
  rmSync(SCAN_DIR, { recursive: true, force: true });
  const bundlePath = join(projectRoot, '.artifacts', 'workflow-bundle.js');
  const selected = project.vitest.projects.map((p) => p.name);
  // The fast loop loads no workflow code; every other project runs workers or replays.
  const needsBundle = selected.some((name) => !NO_WORKFLOWS.includes(name));
  if (needsBundle) runTsx('scripts/bundle-workflows.ts', bundlePath);
  project.provide('workflowBundlePath', needsBundle ? bundlePath : '');

  return async () => {
    // A full run: the harness project selected and every file of the selection ran.
    const everyFile = (await project.vitest.globTestSpecifications()).length;
    const ranFiles = project.vitest.state.getFiles().length;
    const problems = await secretScanProblems(selected.includes('e2e') && ranFiles >= everyFile);
    if (problems.length) {
      console.error(`\nsecret scan FAILED:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
      process.exitCode = 1;
    }
  };
}

/** What is wrong with this run's scans; a full run must also show that the scan saw the suite. */
async function secretScanProblems(fullRun: boolean): Promise<string[]> {
  const total = await sumScans();
  if (!total.harnesses) {
    console.log('secret scan: no harness recorded a scan in this run');
    return fullRun ? ['no harness recorded a scan in a full run: the scan did not run'] : [];
  }
  console.log(`secret scan: ${total.harnesses} harnesses, ${total.histories} histories, ${total.logEntries} log entries, ${total.secrets} secrets looked for, ${total.hits.length} hits`);
  const problems = total.hits.map((h) => `${h.form} in ${h.where} (${h.file})`);
  if (fullRun && total.histories <= 50) problems.push(`the scan saw only ${total.histories} histories of the suite`);
  if (fullRun && total.secrets <= total.harnesses) problems.push('it did not look for issued tokens as well as configured passwords');
  return problems;
}
