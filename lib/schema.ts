/** Checks vendor bodies against zod schemas, naming the offending field when they do not match. */
import type { z } from 'zod';
import { MalformedResponseError } from './errors';

export function formatZodIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`).join('; ');
}

export function parseVendorBody<S extends z.ZodType>(schema: S, body: unknown, ctx: { vendor: string; operation: string; status?: number }): z.output<S> {
  const result = schema.safeParse(body);
  if (!result.success) throw new MalformedResponseError(ctx.vendor, ctx.operation, formatZodIssues(result.error), ctx.status);
  return result.data;
}
