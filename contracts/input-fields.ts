/** Input pieces every workflow shares; used by the workflows, the client library and the CLI. */
import { z } from 'zod';

/** Names a profile from the worker's config; never a URL or a secret. */
export const endpointName = z
  .string({
    error: (issue) => (issue.input === undefined ? 'endpoint is required: the name of an endpoint profile (see `backupctl endpoints`)' : 'endpoint must be a string: the name of an endpoint profile'),
  })
  .regex(/^[a-z0-9][a-z0-9_.-]*$/i, 'endpoint must be the name of an endpoint profile (letters, digits, . _ -)');

export const vendorId = (what: string) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? `${what} is required` : `${what} must be a string, not ${typeof issue.input}`) })
    .trim()
    .min(1, `${what} must not be empty`)
    .max(200);
