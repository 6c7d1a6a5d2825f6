/**
 * The alert settings a main worker runs with, resolved from its worker settings: the webhook URL
 * (a secret, read here from the environment or a file and kept on the worker), the format, the Web
 * UI the alerts link to, and the ledger of delivered events under the worker's data dir.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir } from '../../lib/config/data-dir';
import { WorkerSettingsError, type WorkerSettings } from '../../lib/config/worker-settings';

export interface AlertConfig {
  /** Unset: sendAlert says so and sends nothing. */
  webhookUrl?: string;
  format: 'json' | 'slack';
  uiBaseUrl: string;
  /** The namespace the run links point into. */
  namespace: string;
  /** Event ids already delivered, one per line (appended with fsync). */
  ledgerPath: string;
}

export function alertConfig(settings: Pick<WorkerSettings, 'alerts'>, namespace: string, env: NodeJS.ProcessEnv = process.env): AlertConfig {
  const { webhookUrl, webhookUrlFile, format, uiBaseUrl } = settings.alerts;
  return { webhookUrl: webhookUrl ?? (webhookUrlFile ? readUrlFile(webhookUrlFile) : undefined), format, uiBaseUrl, namespace, ledgerPath: join(dataDir(env), 'alerts-delivered.log') };
}

/** Never says what the file holds: it is a secret. */
function readUrlFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new WorkerSettingsError(`ALERT_WEBHOOK_URL_FILE ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  if (!URL.canParse(text) || !/^https?:$/.test(new URL(text).protocol)) throw new WorkerSettingsError(`ALERT_WEBHOOK_URL_FILE ${path} does not hold an http(s) URL`);
  return text;
}
