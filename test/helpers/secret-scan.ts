/**
 * Looks for secrets where they must never be: workflow histories (what the Temporal server stores)
 * and worker logs. A secret counts as found in plaintext, base64, base64url or URL-encoded form.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
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

/**
 * Failures our code raised (application failures, with their causes) whose message or stack trace
 * the server stores as readable text: they must travel encoded (lib/codec/failure-converter.cjs),
 * as a vendor's error text or the worker's file paths would otherwise be in plain sight.
 */
export function plaintextFailures(histories: Array<{ where: string; text: string }>): SecretHit[] {
  const hits: SecretHit[] = [];
  const visit = (value: unknown, where: string): void => {
    if (Array.isArray(value)) return value.forEach((v) => visit(v, where));
    if (!value || typeof value !== 'object') return;
    const node = value as Record<string, unknown>;
    if ('applicationFailureInfo' in node || 'activityFailureInfo' in node) {
      if (typeof node.message === 'string' && node.message !== '' && node.message !== 'Encoded failure') hits.push({ where, form: `failure message "${node.message.slice(0, 80)}"` });
      if (typeof node.stackTrace === 'string' && node.stackTrace !== '') hits.push({ where, form: `failure stack trace "${node.stackTrace.slice(0, 80)}"` });
    }
    Object.values(node).forEach((v) => visit(v, where));
  };
  for (const { where, text } of histories) visit(JSON.parse(text.slice(0, historyJsonEnd(text))), where);
  return hits;
}

/** allHistories appends the payloads' bytes after the JSON: where the JSON ends. */
function historyJsonEnd(text: string): number {
  const marker = text.indexOf(PAYLOAD_TEXT_MARKER);
  return marker >= 0 ? marker : text.length;
}

const PAYLOAD_TEXT_MARKER = '\n--- payload bytes ---\n';

/** Every history of the namespace, as the server stores it (JSON of the raw events). */
export async function allHistories(client: Client): Promise<Array<{ where: string; text: string }>> {
  const out: Array<{ where: string; text: string }> = [];
  for await (const execution of client.workflow.list()) {
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    // Proto JSON: payload bytes as base64, the form the server and the UI hand out.
    const json = historyToJSON(history);
    // Also the bytes as text, so a plaintext payload is found without decoding base64.
    const payloadText = [...json.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('latin1')).join('\n');
    out.push({ where: `history of ${execution.workflowId}`, text: `${json}${PAYLOAD_TEXT_MARKER}${payloadText}` });
  }
  return out;
}

export const SCAN_DIR = join(projectRoot, '.artifacts', 'secret-scan');

interface ScanSummary {
  histories: number;
  logEntries: number;
  secrets: number;
  hits: SecretHit[];
}

/** Writes what one harness's scan saw, for the run-wide sum (test/setup/global-setup.ts). */
export async function recordScan(name: string, summary: ScanSummary): Promise<void> {
  await mkdir(SCAN_DIR, { recursive: true });
  await writeFile(join(SCAN_DIR, `${name.replace(/[^a-z0-9-]+/gi, '_')}-${process.pid}.json`), JSON.stringify(summary));
}

/** Every scan recorded since the run began, added up; each hit names the harness that saw it. */
export async function sumScans(): Promise<Omit<ScanSummary, 'hits'> & { harnesses: number; hits: Array<SecretHit & { file: string }> }> {
  const files = await readdir(SCAN_DIR).catch(() => [] as string[]);
  const total = { harnesses: files.length, histories: 0, logEntries: 0, secrets: 0, hits: [] as Array<SecretHit & { file: string }> };
  for (const file of files) {
    const scan = JSON.parse(await readFile(join(SCAN_DIR, file), 'utf8')) as ScanSummary;
    total.histories += scan.histories;
    total.logEntries += scan.logEntries;
    total.secrets += scan.secrets;
    total.hits.push(...scan.hits.map((h) => ({ ...h, file })));
  }
  return total;
}
