/**
 * The whole suite on vitest. Projects by what a file needs, so `--project unit` is the fast loop:
 * - unit: plain code, no server, no simulator.
 * - simulators: vendor clients and simulators over local HTTP, no Temporal.
 * - fuzz: vendor clients against generated bodies.
 * - replay, history, workflows: recorded histories, the time-skipping server, stubbed activities.
 * - e2e: a Temporal dev server per file with real workers (the default for any file not listed).
 * - stack, ui, chaos: `npm start`, the browser, the chaos slice, the bench: whole processes.
 * - engine: the production engine (Temporal server on PostgreSQL, mTLS), a server per file; not in
 *   `npm test` (`--project '!engine'`) but `npm run test:engine`, which CI runs after it.
 * Forks, not threads: the Temporal native runtime is installed once per process, and every file
 * gets a process of its own.
 */
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

const UNIT = [
  'test/unit/**/*.test.ts',
  'test/azure/unit.test.ts',
  'test/bench/go-symbols.test.ts',
  'test/bench/perf-breakdown.test.ts',
  'test/client/backup-command.test.ts',
  'test/client/progress-view.test.ts',
  'test/client/repository-command.test.ts',
  'test/fleet/fleet-table-format.test.ts',
  'test/onapp/schemas.test.ts',
  'test/production/compose.test.ts',
  'test/production/worker-settings.test.ts',
  'test/schedules/policy.test.ts',
  'test/secrets/codec.test.ts',
];
const SIMULATORS = [
  'test/simulators/**/*.test.ts',
  'test/alerts/send-alert.test.ts',
  'test/altaro/simulator.test.ts',
  'test/altaro/session-ledger.test.ts',
  'test/azure/client-simulator.test.ts',
  'test/manageiq/client.test.ts',
  'test/manageiq/reaper.test.ts',
  'test/manageiq/simulator.test.ts',
  'test/onapp/client.test.ts',
  'test/onapp/simulator.test.ts',
  'test/ovirt/client-auth.test.ts',
  'test/ovirt/v3-disk-delete.test.ts',
  'test/ovirt/restore-activities.test.ts',
];
const FUZZ = ['test/fuzz/**/*.test.ts'];
const REPLAY = ['test/replay/**/*.test.ts', 'test/**/replay.test.ts'];
const HISTORY = ['test/history/**/*.test.ts', 'test/fleet/fleet-logic.test.ts'];
const WORKFLOWS = ['test/workflows/**/*.test.ts'];
const STACK = ['test/e2e/**/*.test.ts', 'test/**/npm-start.test.ts', 'test/bench/bench.test.ts', 'test/production/metrics.test.ts'];
const UI = ['test/ui/**/*.test.ts'];
const CHAOS = ['test/chaos/**/*.test.ts'];
const ENGINE = ['test/engine/**/*.test.ts'];
const NAMED = [UNIT, SIMULATORS, FUZZ, REPLAY, HISTORY, WORKFLOWS, STACK, UI, CHAOS, ENGINE].flat();

const project = (name: string, include: string[], timeouts: { test: number; hook: number }, exclude: string[] = []): TestProjectInlineConfiguration => ({
  test: {
    name,
    include,
    exclude: ['**/node_modules/**', ...exclude],
    pool: 'forks',
    setupFiles: ['test/setup/bundle-env.ts'],
    // Nothing waits forever: a test has a few minutes unless it says otherwise; starting a
    // harness (a dev server and workers) has as long, as a loaded machine makes it slow.
    testTimeout: timeouts.test,
    hookTimeout: timeouts.hook,
  },
});

export default defineConfig({
  test: {
    // Once per run: the Temporal CLI resolved or installed, the workflows bundled; the secret scan at the end.
    globalSetup: ['test/setup/global-setup.ts'],
    // Two cores: files wait mostly on servers and timers, so a third process keeps them busy.
    maxWorkers: 3,
    teardownTimeout: 60_000,
    projects: [
      project('unit', UNIT, { test: 30_000, hook: 30_000 }),
      project('simulators', SIMULATORS, { test: 60_000, hook: 60_000 }),
      project('fuzz', FUZZ, { test: 300_000, hook: 60_000 }),
      project('replay', REPLAY, { test: 180_000, hook: 180_000 }),
      project('history', HISTORY, { test: 300_000, hook: 180_000 }),
      project('workflows', WORKFLOWS, { test: 120_000, hook: 180_000 }),
      project('e2e', ['test/**/*.test.ts'], { test: 180_000, hook: 180_000 }, NAMED),
      project('stack', STACK, { test: 300_000, hook: 300_000 }),
      project('ui', UI, { test: 300_000, hook: 300_000 }),
      project('chaos', CHAOS, { test: 600_000, hook: 300_000 }),
      project('engine', ENGINE, { test: 600_000, hook: 360_000 }),
    ],
  },
});
