/**
 * The one way the workflows are bundled (the worker bundling for itself, the build's prebuilt
 * bundle, tests, chaos and bench): the same entry point, and the same modules shared by every run.
 */
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type BundleOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { failureConverterPath } from '../lib/codec/keys';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** Loaded once per workflow V8 context and shared by every run: see workflows/shared/preloaded-modules.ts. */
export const workflowPreloadModules = [fileURLToPath(new URL('../workflows/shared/preloaded-modules.ts', import.meta.url))];

const silent = () => undefined;
/** What every caller wants from the bundler: its warnings and errors, not its progress. */
export const bundlerLogger: NonNullable<BundleOptions['logger']> = { trace: silent, debug: silent, info: silent, log: silent, warn: console.warn, error: console.error };

export function bundleWorkflows(logger: BundleOptions['logger'] = bundlerLogger): Promise<WorkflowBundleWithSourceMap> {
  // The workflows encode failures the way the worker and clients do (lib/codec/failure-converter.cjs).
  return bundleWorkflowCode({ workflowsPath, preloadModules: workflowPreloadModules, failureConverterPath, logger });
}
