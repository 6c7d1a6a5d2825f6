/**
 * One vitest fixture per harness kind, shared by the tests of a file: `const test = ovirtTest(options)`
 * at the top of a test file, then `test('…', async ({ h }) => …)`. The harness starts before the
 * file's first test (under the hook timeout, not a test's) and stops after its last, with the stop
 * doing the harness's secret scan. Call these at the top level of a file: a file-scoped fixture
 * cannot be defined inside a describe block.
 */
import { test as base } from 'vitest';
import { startAltaroHarness, type AltaroHarnessOptions } from './altaro-harness';
import { startAzureHarness } from './azure-harness';
import { ArmInspector } from './azure-inspect';
import { startManageiqHarness, startManageiqSimulator } from './manageiq-harness';
import { startOnappHarness, startOnappSimulator } from './onapp-harness';
import { startOvirtHarness, type OvirtHarnessOptions } from './ovirt-harness';
import type { AzureSimulatorOptions } from '../../simulators/azure';
import type { ManageiqSimulatorOptions } from '../../simulators/manageiq';
import type { OnappSimulatorOptions } from '../../simulators/onapp';

/** A test API whose `h` is one harness for the whole file, started before its first test. */
function fileFixture<T>(start: () => Promise<T>, stop: (h: T) => Promise<unknown>) {
  const test = base.extend('h', { scope: 'file' }, async ({}, { onCleanup }) => {
    const h = await start();
    onCleanup(async () => void (await stop(h)));
    return h;
  });
  test.beforeAll(async ({ h }) => void h);
  return test;
}

/** The same for a simulator alone: `sim` for the whole file, started before its first test. */
function simulatorFixture<T>(start: () => Promise<T>, stop: (sim: T) => Promise<unknown>) {
  const test = base.extend('sim', { scope: 'file' }, async ({}, { onCleanup }) => {
    const sim = await start();
    onCleanup(async () => void (await stop(sim)));
    return sim;
  });
  test.beforeAll(async ({ sim }) => void sim);
  return test;
}

const stopHarness = (h: { stop(): Promise<void> }) => h.stop();

export const ovirtTest = (options: OvirtHarnessOptions = {}) => fileFixture(() => startOvirtHarness(options), stopHarness);
export const altaroTest = (options: AltaroHarnessOptions = {}) => fileFixture(() => startAltaroHarness(options), stopHarness);
/** Azure's also gives `arm`: the vault and resource groups as an admin reads them, for the file. */
export const azureTest = (sim: Partial<AzureSimulatorOptions> = {}) =>
  fileFixture(() => startAzureHarness(sim), stopHarness).extend('arm', { scope: 'file' }, async ({ h }, { onCleanup }) => {
    const arm = new ArmInspector(h);
    onCleanup(() => arm.close());
    return arm;
  });
export const manageiqTest = (sim: ManageiqSimulatorOptions = {}) => fileFixture(() => startManageiqHarness(sim), stopHarness);
export const onappTest = (options: OnappSimulatorOptions & { format?: 'json' | 'xml' } = {}) => fileFixture(() => startOnappHarness(options), stopHarness);

/** Simulators alone (no Temporal), for client and simulator tests. */
export const manageiqSimTest = (options: ManageiqSimulatorOptions = {}) =>
  simulatorFixture(
    () => startManageiqSimulator(options),
    (s) => s.simulator.stop(),
  );
export const onappSimTest = (options: OnappSimulatorOptions = {}) =>
  simulatorFixture(
    () => startOnappSimulator(options),
    (s) => s.simulator.stop(),
  );
