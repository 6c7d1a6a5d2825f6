/**
 * Item-level (file) recovery credentials, kept on the worker's side: the ILR script and its
 * password are written to files under a worker-side folder (0700/0600), and only an opaque reference
 * and the file paths travel through Temporal. The requester reads them on the worker host (or a
 * shared folder) with `readFileRecoveryCredentials`; revoking the connection deletes them.
 */
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AzureProfile } from '../../lib/config/endpoints';

/**
 * The password hidden in `scriptNameSuffix`, as the seed reads it: the 15 characters starting 33
 * characters after the last "_"; the script's file name is the suffix with those characters removed.
 */
export function extractIlrPassword(scriptNameSuffix: string): { password: string; suffixWithoutPassword: string } {
  const underscore = scriptNameSuffix.lastIndexOf('_');
  const start = underscore + 33;
  if (underscore < 0 || scriptNameSuffix.length < start + 15) {
    throw new Error(`scriptNameSuffix has no password where the service puts it (length ${scriptNameSuffix.length}, last "_" at ${underscore})`);
  }
  return {
    password: scriptNameSuffix.slice(start, start + 15),
    suffixWithoutPassword: scriptNameSuffix.slice(0, start) + scriptNameSuffix.slice(start + 15),
  };
}

export function fileRecoveryRoot(profile: Pick<AzureProfile, 'fileRecoveryDir'>, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(profile.fileRecoveryDir ?? env.AZURE_FILE_RECOVERY_DIR ?? '.data/azure-file-recovery');
}

/** A reference that is safe as a folder name and the same for every attempt of one run. */
export function fileRecoveryRef(workflowId: string, runId: string): string {
  return `${workflowId}-${runId}`.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 180);
}

export interface StoredFileRecovery {
  ref: string;
  directory: string;
  scriptPath: string;
  passwordPath: string;
  scriptFileName: string;
}

export async function storeFileRecovery(
  root: string,
  ref: string,
  script: { scriptContent?: string; scriptExtension?: string; suffixWithoutPassword: string; password: string },
): Promise<StoredFileRecovery> {
  const directory = join(root, ref);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const scriptFileName = `${script.suffixWithoutPassword}${script.scriptExtension ?? ''}`.replace(/[/\\]/g, '_');
  const scriptPath = join(directory, scriptFileName);
  const passwordPath = join(directory, 'password.txt');
  await writeFile(scriptPath, Buffer.from(script.scriptContent ?? '', 'base64'), { mode: 0o600 });
  await writeFile(passwordPath, `${script.password}\n`, { mode: 0o600 });
  return { ref, directory, scriptPath, passwordPath, scriptFileName };
}

/** For the requester: the script and the password of an open file-recovery session. */
export async function readFileRecoveryCredentials(root: string, ref: string): Promise<{ scriptPath: string; script: Buffer; password: string }> {
  const directory = join(root, ref);
  const password = (await readFile(join(directory, 'password.txt'), 'utf8')).trim();
  const scriptName = (await readdir(directory)).find((f) => f !== 'password.txt' && f !== SESSION_RECORD);
  if (!scriptName) throw new Error(`no file-recovery script under ${directory}`);
  const scriptPath = join(directory, scriptName);
  return { scriptPath, script: await readFile(scriptPath), password };
}

/** Which run opened which ILR connection: written before provisioning, removed with the folder on revoke. No secret. */
export interface FileRecoveryRecord {
  endpoint: string;
  containerName: string;
  protectedItemName: string;
  recoveryPoint: string;
  workflowId: string;
  runId: string;
  createdAt: string;
}

const SESSION_RECORD = '.session.json';

export async function writeFileRecoveryRecord(root: string, ref: string, record: FileRecoveryRecord): Promise<void> {
  const directory = join(root, ref);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await writeFile(join(directory, SESSION_RECORD), JSON.stringify(record), { mode: 0o600 });
}

/** Every recorded connection under the root (for the reaper), with its folder's ref. */
export async function listFileRecoveryRecords(root: string): Promise<Array<FileRecoveryRecord & { ref: string }>> {
  const records: Array<FileRecoveryRecord & { ref: string }> = [];
  for (const ref of await readdir(root).catch(() => [] as string[])) {
    const text = await readFile(join(root, ref, SESSION_RECORD), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    try {
      records.push({ ...(JSON.parse(text) as FileRecoveryRecord), ref });
    } catch {
      // a record cut short by a crash: nothing to go on
    }
  }
  return records;
}

export async function removeFileRecovery(root: string, ref: string): Promise<void> {
  await rm(join(root, ref), { recursive: true, force: true });
}
