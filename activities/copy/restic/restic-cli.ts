/**
 * Runs restic for the copy worker: the repository and its password go to the child's environment
 * only (never its arguments, never a log line), and restic's failures become one-line errors that
 * name the cause. The child is killed with the worker (setpriv --pdeathsig), so a SIGKILLed worker
 * cannot leave a restic that reads end-of-input and stores a truncated image as a snapshot.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { hostname } from 'node:os';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { ErrorTypes, nonRetryable } from '../../../lib/errors';
import { isExecutable } from '../../../lib/temporal/tool-path';
import { findRestic } from './restic-path';

export interface ResticSettings {
  /** A path or a restic repository URL (sftp:, s3:, rest:, …). */
  repository: string;
  /** From RESTIC_PASSWORD of the worker's environment, or passwordFile. */
  password?: string;
  passwordFile?: string;
  /** The restic binary; found like the Temporal CLI when absent. */
  binary?: string;
  /** Recorded in each snapshot; default this machine's host name. */
  host?: string;
  /** restic's `--compression` (RESTIC_COMPRESSION of the copy worker); unset: restic's own default (auto). */
  compression?: ResticCompression;
}

export const RESTIC_COMPRESSIONS = ['off', 'auto', 'max'] as const;
export type ResticCompression = (typeof RESTIC_COMPRESSIONS)[number];

export interface ResticExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

const SETPRIV = '/usr/bin/setpriv';

/** The repository as it may be shown: a URL's user:password@ is masked. */
export function shownRepository(repository: string): string {
  return repository.replace(/\/\/([^/@:]+):[^/@]*@/, '//$1:***@');
}

export function resticBinary(settings: ResticSettings): string {
  const binary = settings.binary ?? findRestic();
  if (!binary) throw nonRetryable(`restic is not installed on this proxy: install it (apt-get install restic) or set RESTIC_PATH`, ErrorTypes.repositoryUnavailable);
  if (!isExecutable(binary)) throw nonRetryable(`restic is not installed on this proxy: ${binary} is not an executable file (RESTIC_PATH)`, ErrorTypes.repositoryUnavailable);
  return binary;
}

function childEnv(settings: ResticSettings): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, RESTIC_REPOSITORY: settings.repository };
  delete env.RESTIC_PASSWORD;
  delete env.RESTIC_PASSWORD_FILE;
  delete env.RESTIC_PASSWORD_COMMAND;
  delete env.RESTIC_REPOSITORY_FILE;
  // The setting is passed as --compression; an inherited variable would count where it is not.
  delete env.RESTIC_COMPRESSION;
  if (settings.password !== undefined) env.RESTIC_PASSWORD = settings.password;
  else if (settings.passwordFile !== undefined) env.RESTIC_PASSWORD_FILE = settings.passwordFile;
  return env;
}

export function resticHost(settings: ResticSettings): string {
  return settings.host ?? hostname();
}

/** Starts restic; `exited` resolves when it is gone, with what it wrote to stderr. */
export function startRestic(settings: ResticSettings, args: string[]): { child: ChildProcessWithoutNullStreams; exited: Promise<ResticExit> } {
  const binary = resticBinary(settings);
  // A global flag: it counts where restic writes packs (backup, prune's repacking); restic < 0.14 has no compression and refuses it.
  const all = settings.compression ? ['--compression', settings.compression, ...args] : args;
  const [command, argv] = isExecutable(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', '--', binary, ...all]] : [binary, all];
  const child = spawn(command, argv, { env: childEnv(settings), stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    if (stderr.length < 64 * 1024) stderr += text;
  });
  const exited = new Promise<ResticExit>((resolve) => {
    child.on('error', (err) => resolve({ code: -1, signal: null, stderr: `${stderr}${err.message}` }));
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
  // An EPIPE on stdin is restic having exited: its exit status says why.
  child.stdin.on('error', () => undefined);
  return { child, exited };
}

/** Runs restic to its end and returns its stdout; a non-zero exit throws resticFailure. */
export async function runRestic(settings: ResticSettings, args: string[], options: { stdin?: Buffer; lockIsFatal?: boolean } = {}): Promise<string> {
  const { child, exited } = startRestic(settings, args);
  const chunks: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => chunks.push(b));
  child.stdin.end(options.stdin);
  const exit = await exited;
  if (exit.code !== 0) throw resticFailure(settings, args[0] ?? 'restic', exit, options);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Runs a long restic command (prune, check) to its end in an activity: heartbeats every 5 s while
 * it runs, and a cancel kills it. Returns its stdout and how it exited: the caller reads its verdict.
 */
export async function runResticHeartbeating(settings: ResticSettings, args: string[]): Promise<{ stdout: string; exit: ResticExit }> {
  const ctx = Context.current();
  const started = Date.now();
  const { child, exited } = startRestic(settings, args);
  const chunks: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => chunks.push(b));
  child.stdin.end();
  const beat = setInterval(() => ctx.heartbeat({ command: args[0], runningForSeconds: Math.round((Date.now() - started) / 1000) }), 5_000);
  const cancelled = new Promise<'cancelled'>((resolve) => ctx.cancellationSignal.addEventListener('abort', () => resolve('cancelled'), { once: true }));
  try {
    if ((await Promise.race([exited.then(() => 'exited' as const), cancelled])) === 'cancelled') {
      child.kill('SIGKILL');
      await exited;
      throw new CancelledFailure(`restic ${args[0]} cancelled`);
    }
  } finally {
    clearInterval(beat);
  }
  return { stdout: Buffer.concat(chunks).toString('utf8'), exit: await exited };
}

/** restic's message lines, without its hints ("the `unlock` command can be used…"). */
function firstLines(stderr: string): string {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(Is there a repository|the `unlock` command|lock was created|storage ID)/.test(l))
    .slice(0, 2)
    .join('; ');
}

/**
 * What went wrong, as one line. Exit codes 10–12 are restic ≥ 0.17's; older ones say the same in
 * their message. A missing repository, a wrong password or a missing restic is non-retryable; a
 * lock held by a live process is non-retryable only where the caller says so (a preflight): a
 * running copy waits it out through its retries.
 */
export function resticFailure(settings: ResticSettings, command: string, exit: ResticExit, options: { lockIsFatal?: boolean } = {}): ApplicationFailure {
  const repo = shownRepository(settings.repository);
  const text = exit.stderr.replaceAll(settings.repository, repo);
  if (exit.code === 12 || /wrong password|no key found/i.test(text)) {
    return nonRetryable(`restic repository ${repo}: wrong password (the copy worker's RESTIC_PASSWORD or RESTIC_PASSWORD_FILE)`, ErrorTypes.repositoryUnavailable);
  }
  if (exit.code === 10 || /repository does not exist|Is there a repository at the following location|unable to open config file/i.test(text)) {
    return nonRetryable(`restic repository ${repo} does not exist (create it with \`restic init\`)`, ErrorTypes.repositoryUnavailable);
  }
  if (exit.code === 11 || /already locked/i.test(text)) {
    const holder = /locked (exclusively )?by (PID \d+ on \S+)/.exec(text);
    const message = `restic repository ${repo} is locked by a live process${holder ? ` (${holder[2]})` : ''}: wait for it (a prune or check) to finish`;
    return options.lockIsFatal ? nonRetryable(message, ErrorTypes.repositoryUnavailable) : ApplicationFailure.retryable(message, ErrorTypes.repositoryUnavailable);
  }
  if (exit.code === -1) return nonRetryable(`restic could not be started: ${firstLines(text)}`, ErrorTypes.repositoryUnavailable);
  const how = exit.signal ? `killed by ${exit.signal}` : `exit ${exit.code}`;
  return ApplicationFailure.retryable(`restic ${command} on ${repo} failed (${how}): ${firstLines(text) || 'no message'}`, ErrorTypes.repositoryUnavailable);
}

/** Removes the locks of restic processes that are gone (a crashed attempt's); a live process's lock is never touched. */
export async function unlockStale(settings: ResticSettings): Promise<void> {
  await runRestic(settings, ['unlock']);
}
