/** Runs bin/backupctl.js as a user would, with the given environment on top of the test's. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const backupctlPath = fileURLToPath(new URL('../../bin/backupctl.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runBackupctl(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [backupctlPath, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
