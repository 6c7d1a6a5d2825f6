/**
 * Restores, drills and checks from a restic repository: the same activities as the directory
 * repository's (restore-types.ts), reading images with `restic dump`, SHA-256 checked against the
 * manifest. A restore's write goes through the one write path (writeToDevice); a retried attempt
 * resumes at its heartbeated offset, reading and dropping the dump's bytes before it.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure, Context, CancelledFailure } from '@temporalio/activity';
import { ErrorTypes, nonRetryable } from '../../../lib/errors';
import type { CopySettings } from '../copy-disk';
import { writeToDevice } from '../write-image';
import { MANIFEST_FILE, recordedConfig, recordedImages } from '../backup-store';
import { foundBackup, resolveBackup, type BackupLookup } from '../find-backup';
import { serialised } from '../serialised';
import type { BackupRef, FileCheck, FoundBackup, RepositoryActivities, RepositoryCheck, Verification } from '../restore-types';
import { sliceOf } from '../verify-backup';
import { resticFailure, runResticHeartbeating, shownRepository, unlockStale, type ResticSettings } from './restic-cli';
import { writeResticFile } from './restic-backup';
import {
  dumpText,
  isResticChainDir,
  listResticBackups,
  listResticChainPoints,
  openDumpSource,
  readResticBackup,
  recordedLocation,
  sizeInSnapshot,
  startDump,
  type ResticStoredBackup,
} from './restic-store';
import type { ResticLocation } from './restic-locator';
import { chainPointFiles, findResticChainPoint, requireChainPoint, type ChainPointFile } from './restic-incremental';
import type { OvirtIncrementalManifest } from '../../../contracts/ovirt/incremental-results';

const bad = (message: string) => nonRetryable(message, ErrorTypes.invalidInput);

type ResticBackup = ResticStoredBackup | { dir: string; manifest: OvirtIncrementalManifest };

/**
 * Both procedures' backups (the snapshot procedure's, the incremental chains' points): `latest` and
 * a backup run's workflow id mean the newest complete one of either, as in a directory repository.
 */
function lookup(restic: ResticSettings): BackupLookup<ResticBackup> {
  return {
    list: async (vmId) =>
      [...(await listResticBackups(restic, vmId)), ...(await listResticChainPoints(restic, vmId))].sort(
        (a, b) => b.manifest.completedAt.localeCompare(a.manifest.completedAt) || b.dir.localeCompare(a.dir),
      ),
    read: (dir) => readResticBackup(restic, dir),
  };
}

/** The stored images and OVF of the backup in `dir`, of either procedure, with where each is and what the manifest says of it. */
async function storedFiles(restic: ResticSettings, dir: string): Promise<{ images: ChainPointFile[]; config?: ChainPointFile }> {
  if (isResticChainDir(dir)) return chainPointFiles(dir, await requireChainPoint(restic, dir));
  const { manifest } = await requireBackup(restic, dir);
  const config = recordedConfig(manifest);
  return {
    images: recordedImages(manifest).map((i) => ({ fileName: i.fileName, bytes: i.bytes, sha256: i.sha256, diskId: i.disk.id, location: recordedLocation(dir, i.disk.path, i.fileName) })),
    config: { ...config, location: recordedLocation(dir, manifest.config.path, config.fileName) },
  };
}

async function requireBackup(restic: ResticSettings, dir: string): Promise<ResticStoredBackup> {
  const found = await readResticBackup(restic, dir);
  if (!found) throw bad(`unknown backup ${dir}: no manifest of it in the restic repository`);
  return found;
}

export async function findResticBackup(restic: ResticSettings, ref: BackupRef): Promise<FoundBackup> {
  const found = await resolveBackup(lookup(restic), ref);
  if ('kind' in found.manifest && found.manifest.kind === 'ovirt-incremental') return findResticChainPoint(restic, found.dir, found.manifest, ref);
  const { dir, manifest } = found as ResticStoredBackup;
  for (const image of recordedImages(manifest)) {
    const bytes = await sizeInSnapshot(restic, recordedLocation(dir, image.disk.path, image.fileName));
    if (bytes === undefined) throw bad(`backup ${dir}: image ${image.fileName} is missing from the restic repository`);
    if (bytes !== image.bytes) throw bad(`backup ${dir}: image ${image.fileName} is ${bytes} bytes in the restic repository, the manifest says ${image.bytes}`);
  }
  let ovf: string;
  try {
    ovf = await dumpText(restic, recordedLocation(dir, manifest.config.path, recordedConfig(manifest).fileName));
  } catch (err) {
    if (err instanceof Error && err.name !== 'ApplicationFailure') throw err;
    throw bad(`backup ${dir}: the VM configuration cannot be read from the restic repository: ${(err as Error).message}`);
  }
  return foundBackup(dir, manifest, ovf);
}

/** Streams a stored file through `onChunk`, heartbeating; returns its size. */
async function readStored(ctx: Context, restic: ResticSettings, location: ResticLocation, onChunk: (chunk: Buffer) => Promise<void> | void): Promise<number> {
  const { child, exited } = startDump(restic, location);
  let bytes = 0;
  let lastHeartbeat = Date.now();
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      if (ctx.cancellationSignal.aborted) throw new CancelledFailure('read cancelled');
      await onChunk(chunk);
      bytes += chunk.length;
      if (Date.now() - lastHeartbeat >= 1000) {
        lastHeartbeat = Date.now();
        ctx.heartbeat({ file: location.file, bytes });
      }
    }
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
  const exit = await exited;
  if (exit.code !== 0) throw resticFailure(restic, 'dump', exit);
  return bytes;
}

/**
 * A restore's write from a restic repository: the image read in order from `restic dump` onto the
 * device through the one write path (write-image.ts's writeToDevice: the copy loop, SHA-256 on the
 * hash thread for a large disk, durable offsets heartbeated, checked against the manifest). A retried
 * attempt resumes at the heartbeated offset: the dump's bytes before it are read and dropped (it has
 * no offset), the prefix kept on the device re-hashed.
 */
export async function writeResticImageToDevice(
  settings: CopySettings,
  restic: ResticSettings,
  input: Parameters<RepositoryActivities['writeImageToDevice']>[0],
): ReturnType<RepositoryActivities['writeImageToDevice']> {
  const ctx = Context.current();
  // A retry after the copy worker died: the killed `restic dump`'s lock is stale; remove it (never a live one).
  if (ctx.info.attempt > 1) await unlockStale(restic);
  const image = (await storedFiles(restic, input.dir)).images.find((i) => i.fileName === input.fileName);
  if (!image) throw bad(`backup ${input.dir}: the manifest names no image ${input.fileName}`);
  const dump = openDumpSource(restic, image.location);
  try {
    return await writeToDevice(settings, input, `backup ${input.dir}: image ${input.fileName} (from restic)`, dump, input.expectedBytes);
  } finally {
    await dump.close();
  }
}

/** What `restic dump` says when the stored data is damaged (a pack changed, a blob gone): the same on every attempt. */
const DAMAGED = /ciphertext verification failed|Pack ID does not match|hash mismatch|blob [0-9a-f]+ not found|does not contain blob/i;

/** The damage restic reported, without "restic dump on <repo> failed (exit 1): ". */
function damage(message: string): string {
  return message.replace(/^restic dump on .* failed \([^)]*\): /, '').replace(/^(Fatal: )?cannot dump file: /, '');
}

export async function verifyResticBackup(restic: ResticSettings, input: Parameters<RepositoryActivities['verifyBackup']>[0]): ReturnType<RepositoryActivities['verifyBackup']> {
  const ctx = Context.current();
  if (ctx.info.attempt > 1) await unlockStale(restic);
  const stored = await storedFiles(restic, input.dir);
  const subset = input.subset;
  if (subset && !(Number.isInteger(subset.n) && Number.isInteger(subset.t) && subset.n >= 1 && subset.n <= subset.t)) {
    throw bad(`subset ${subset.n}/${subset.t} is not a slice: it needs 1 ≤ n ≤ t`);
  }
  const all = [...stored.images, ...(stored.config ? [stored.config] : [])];
  const chosen = subset ? all.filter((f) => sliceOf(input.dir, f.fileName, subset.t) === subset.n) : all;
  const files: FileCheck[] = [];
  for (const file of chosen) {
    const expected = { file: file.fileName, expectedBytes: file.bytes, expectedSha256: file.sha256 };
    const location = file.location;
    if ((await sizeInSnapshot(restic, location)) === undefined) {
      files.push({ ...expected, bytes: 0, sha256: '', ok: false, missing: true });
      continue;
    }
    const hash = createHash('sha256');
    let bytes: number;
    try {
      bytes = await readStored(ctx, restic, location, (chunk) => void hash.update(chunk));
    } catch (err) {
      // Damaged data is this file's verdict, not a failure a retry could fix.
      if (!(err instanceof ApplicationFailure) || !DAMAGED.test(err.message)) throw err;
      files.push({ ...expected, bytes: 0, sha256: '', ok: false, problem: `restic cannot read it back: ${damage(err.message)}` });
      continue;
    }
    const sha256 = hash.digest('hex');
    files.push({ ...expected, bytes, sha256, ok: bytes === file.bytes && sha256 === file.sha256 });
  }
  return { dir: input.dir, files, ok: files.every((f) => f.ok) };
}

/** A verification is recorded by storing the manifest again with it (the newest manifest snapshot counts). */
export async function recordResticVerification(restic: ResticSettings, input: { dir: string; verification: Verification }): Promise<Verification[]> {
  return serialised(`restic\0${restic.repository}\0${input.dir}`, async () => {
    const { manifest } = await requireBackup(restic, input.dir);
    const previous = manifest.verifications ?? [];
    const already = previous.some((v) => v.workflowId === input.verification.workflowId && v.at === input.verification.at && v.by === input.verification.by);
    const verifications = already ? previous : [...previous, input.verification];
    if (!already) await writeResticFile(restic, { dir: input.dir, fileName: MANIFEST_FILE, content: JSON.stringify({ ...manifest, verifications }, null, 2) });
    return verifications;
  });
}

/**
 * `restic check`, reading the n-th of t slices of the data packs when a subset is given. Damage
 * restic finds (exit 1, "repository contains errors") is the verdict: ok false with restic's error
 * lines; anything else (no repository, wrong password, a live lock, a killed restic) is a failure.
 */
export async function resticCheck(restic: ResticSettings, input: { subset?: { n: number; t: number } }): Promise<RepositoryCheck> {
  const subset = input.subset;
  if (subset && !(Number.isInteger(subset.n) && Number.isInteger(subset.t) && subset.n >= 1 && subset.n <= subset.t)) throw bad(`subset ${subset.n}/${subset.t} is not a slice: it needs 1 ≤ n ≤ t`);
  const args = ['check', ...(subset ? [`--read-data-subset=${subset.n}/${subset.t}`] : [])];
  const command = `restic ${args.join(' ')}`;
  // A killed attempt's (or a dead worker's) lock would hold this one off; a live process's stays.
  await unlockStale(restic);
  const { stdout, exit } = await runResticHeartbeating(restic, args);
  if (exit.code === 0) return { kind: 'restic', ok: true, command, summary: lastLine(stdout) };
  if (exit.code === 1 && /repository contains errors/i.test(exit.stderr)) return { kind: 'restic', ok: false, command, summary: checkErrors(restic, `${stdout}\n${exit.stderr}`) };
  throw resticFailure(restic, 'check', exit);
}

function lastLine(text: string): string {
  return text.trim().split('\n').slice(-1).join('').trim();
}

/** restic check's progress lines ("load indexes", "check all packs", …) and ≥ 0.16's repair advice: not findings. */
const CHECK_PROGRESS =
  /^(using temporary cache|create exclusive lock|created new cache|load indexes|loading indexes|check all packs|check snapshots, trees and blobs|read (all|\d+(\.\d+)?%|group #\d+) |\[\d+:\d+\]|no errors were found|Fatal: repository contains errors|The repository|\d+ additional files were found|repository [0-9a-f]+ opened|The repository contains damaged pack files|restic repair |Damaged pack files can be caused)/i;

/** The errors restic check reported, in one line (the first few, and how many more). */
function checkErrors(restic: ResticSettings, text: string): string {
  const lines = text
    .replaceAll(restic.repository, shownRepository(restic.repository))
    .split('\n')
    .map((l) => l.trim().replace(/\s{2,}/g, ' '))
    .filter((l) => l && !CHECK_PROGRESS.test(l));
  const unique = [...new Set(lines)];
  if (!unique.length) return 'restic check: repository contains errors';
  const shown = unique.slice(0, 3).join('; ');
  return unique.length > 3 ? `${shown}; and ${unique.length - 3} more` : shown;
}
