/**
 * Workflow input validation: runs inside the workflow, before any activity, so a bad start from
 * the UI or a client fails at once, non-retryable, with every problem listed.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';

export const INVALID_INPUT = 'InvalidInput';

export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`);
}

export function parseWorkflowInput<S extends z.ZodType>(workflowType: string, schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const problems = formatIssues(result.error);
  throw ApplicationFailure.create({
    type: INVALID_INPUT,
    nonRetryable: true,
    message: `invalid input for ${workflowType}: ${problems.join('; ')}`,
    details: [{ problems }],
  });
}
