/**
 * Looks for secrets where they must never be: workflow histories (what the Temporal server stores)
 * and worker logs. A secret counts as found in plaintext, base64, base64url or URL-encoded form.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { projectRoot } from '../../lib/temporal/cli-path';

export interface SecretHit {
  where: string;
  form: string;
}

/**
 * Inside a longer base64 text a secret can start at any of three byte alignments; for each, the
 * characters that depend on the secret alone are what to look for.
 */
function base64Forms(secret: string, encoding: 'base64' | 'base64url'): string[] {
  const bytes = Buffer.from(secret);
  return [0, 1, 2].map((k) => {
    const encoded = Buffer.concat([Buffer.alloc(k), bytes]).toString(encoding);
    return encoded.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + bytes.length)) / 6));
  });
}

function forms(secret: string): Array<[string, string]> {
  return [
    ['plaintext', secret],
    ...base64Forms(secret, 'base64').map((f) => ['base64', f] as [string, string]),
    ...base64Forms(secret, 'base64url').map((f) => ['base64url', f] as [string, string]),
    ['url-encoded', encodeURIComponent(secret)],
  ];
}

export function findSecrets(texts: Array<{ where: string; text: string }>, secrets: string[]): SecretHit[] {
  const hits: SecretHit[] = [];
  // Very short values would match by chance; every real secret here is longer.
  for (const secret of new Set(secrets.filter((s) => s.length >= 8))) {
    for (const [form, needle] of forms(secret)) {
      for (const { where, text } of texts) if (text.includes(needle)) hits.push({ where, form });
    }
  }
  return hits;
}

/** Every history of the namespace, as the server stores it (JSON of the raw events). */
export async function allHistories(client: Client): Promise<Array<{ where: string; text: string }>> {
  const out: Array<{ where: string; text: string }> = [];
  for await (const execution of client.workflow.list()) {
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    // Proto JSON: payload bytes as base64, the form the server and the UI hand out.
    const json = historyToJSON(history);
    // Also the bytes as text, so a plaintext payload is found without decoding base64.
    const payloadText = [...json.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('latin1')).join('\n');
    out.push({ where: `history of ${execution.workflowId}`, text: `${json}\n${payloadText}` });
  }
  return out;
}

/** Writes what one test file's scan saw, for the suite-wide report (test/zz-secret-scan.test.ts). */
export async function recordScan(name: string, summary: { histories: number; logEntries: number; secrets: number; hits: SecretHit[] }): Promise<void> {
  const dir = join(projectRoot, '.artifacts', 'secret-scan');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${name.replace(/[^a-z0-9-]+/gi, '_')}-${process.pid}.json`), JSON.stringify(summary));
}
