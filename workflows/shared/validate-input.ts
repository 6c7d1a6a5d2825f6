/**
 * Workflow input validation: runs inside the workflow, before any activity, so a bad start from
 * the UI or a client fails at once, non-retryable, with every problem listed.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';
import { ErrorTypes } from '../../lib/errors';

export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`);
}

/** The failure of every refused input: "invalid input for <workflow type>: <problem>; <problem>". */
export function invalidInput(workflowType: string, problems: string[]): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorTypes.invalidInput,
    nonRetryable: true,
    message: `invalid input for ${workflowType}: ${problems.join('; ')}`,
    details: [{ problems }],
  });
}

/** Checks an input without failing the run: a fleet reports a bad VM and goes on with the rest. */
export function checkWorkflowInput<S extends z.ZodType>(schema: S, raw: unknown): { ok: true; input: z.output<S> } | { ok: false; problems: string[] } {
  const result = schema.safeParse(raw);
  return result.success ? { ok: true, input: result.data } : { ok: false, problems: formatIssues(result.error) };
}

export function parseWorkflowInput<S extends z.ZodType>(workflowType: string, schema: S, raw: unknown): z.output<S> {
  const checked = checkWorkflowInput(schema, raw);
  if (checked.ok) return checked.input;
  throw invalidInput(workflowType, checked.problems);
}
