/**
 * Every test process loads the workflow bundle global setup built, through WORKFLOW_BUNDLE_PATH:
 * the variable the workers, the chaos cluster and the bench already read.
 */
import { inject } from 'vitest';

const bundlePath = inject('workflowBundlePath');
if (bundlePath) process.env.WORKFLOW_BUNDLE_PATH ??= bundlePath;
