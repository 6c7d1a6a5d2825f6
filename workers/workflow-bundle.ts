/**
 * The one way the workflows are bundled (the worker bundling for itself, the build's prebuilt
 * bundle, tests, chaos and bench): the same entry point, and the same modules shared by every run.
 */
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type BundleOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** Loaded once per workflow V8 context and shared by every run: see workflows/shared/preloaded-modules.ts. */
export const workflowPreloadModules = [fileURLToPath(new URL('../workflows/shared/preloaded-modules.ts', import.meta.url))];

export function bundleWorkflows(logger?: BundleOptions['logger']): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath, preloadModules: workflowPreloadModules, logger });
}
