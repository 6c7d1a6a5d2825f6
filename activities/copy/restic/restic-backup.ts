/**
 * Backs up into a restic repository: a disk is streamed from its device into `restic backup
 * --stdin` through the copy worker's one copy loop (copy-loop.ts: the next chunk read while the
 * current one is hashed, on the hash thread for a large disk, and written to restic's stdin with
 * backpressure: stdinSink); a small file (OVF, manifest) is handed to it in one piece. restic
 * writes its snapshot only when its input ends, and the input ends only after the whole device was
 * read with the expected size: a failed, cancelled or killed attempt leaves no snapshot. A retried
 * attempt first removes the stale locks a killed one left, then backs up again (restic's
 * deduplication stores only what the first attempt had not), unless the killed attempt's snapshot
 * was saved before the worker died: then the retry adopts it (read back and hashed) instead of
 * saving a second, identical snapshot that no manifest would name. */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { Context, CancelledFailure } from '@temporalio/activity';
import { ErrorTypes, nonRetryable } from '../../../lib/errors';
import type { CopyDiskInput, CopyDiskResult, CopySettings } from '../copy-disk';
import { deviceFolders, hashSource, openStreamHasher } from '../copy-disk';
import { streamLoop, type ChunkSink, type ReadAt } from '../copy-loop';
import { requireDevice } from '../device-locator';
import { resticFailure, resticHost, runRestic, startRestic, unlockStale, type ResticExit, type ResticSettings } from './restic-cli';
import { fileInSnapshot, resticPath } from './restic-locator';
import { openDumpSource, sizeInSnapshot } from './restic-store';

/** What a restic backup heartbeats: its progress (a retry starts over, so there is no offset to resume from). */
export interface ResticProgress {
  bytesRead: number;
  bytesPerSecond: number;
  /** restic's own count of bytes it has processed. */
  bytesDone?: number;
}

interface ResticSummary {
  message_type: 'summary';
  snapshot_id?: string;
  data_added?: number;
  total_bytes_processed?: number;
}

export interface ResticTags {
  vmId?: string;
  diskId?: string;
  kind: 'disk' | 'config' | 'manifest' | 'file' | 'checkpoints';
}

/** Tags of a backup's snapshots: the run (from the activity), the VM, the disk, what the file is. */
export function resticTags(ctx: Context | undefined, tags: ResticTags): string[] {
  const runId = ctx?.info.workflowExecution?.runId;
  const list = [`kind:${tags.kind}`, ...(runId ? [`run:${runId}`] : []), ...(tags.vmId ? [`vm:${tags.vmId}`] : []), ...(tags.diskId ? [`disk:${tags.diskId}`] : [])];
  return list.flatMap((t) => ['--tag', t]);
}

export function backupArgs(restic: ResticSettings, file: string, tags: string[]): string[] {
  return ['backup', '--stdin', '--stdin-filename', file.slice(1), '--host', resticHost(restic), '--json', ...tags];
}

/** Reads restic's --json lines as they come. */
export function onJsonLines(stream: NodeJS.ReadableStream, handle: (message: Record<string, unknown>) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (text: string) => {
    const lines = (rest + text).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        handle(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // A line restic cut short; the next status supersedes it.
      }
    }
  });
}

async function prepareAttempt(ctx: Context | undefined, restic: ResticSettings): Promise<void> {
  if ((ctx?.info.attempt ?? 1) > 1) await unlockStale(restic);
}

interface SavedSnapshot {
  id: string;
  time: string;
  paths: string[];
  summary?: { total_bytes_processed?: number };
}

/** Snapshots of `file` an earlier attempt of this run saved (with these tags), newest first; none on a first attempt. */
async function savedByEarlierAttempt(ctx: Context | undefined, restic: ResticSettings, file: string, tags: ResticTags): Promise<SavedSnapshot[]> {
  if ((ctx?.info.attempt ?? 1) <= 1) return [];
  const wanted = resticTags(ctx, tags).filter((t) => t !== '--tag');
  if (!wanted.some((t) => t.startsWith('run:'))) return [];
  const out = await runRestic(restic, ['snapshots', '--json', '--tag', wanted.join(',')]);
  const found = (JSON.parse(out || '[]') as SavedSnapshot[] | null) ?? [];
  return found.filter((s) => s.paths[0] === file).sort((a, b) => b.time.localeCompare(a.time));
}

/**
 * A disk's image an earlier attempt saved whole (restic processed exactly the disk's size: it saves
 * only once its input ended, and the input ends only after the whole device was read), read back
 * with `restic dump` and hashed, so the manifest's SHA-256 is that of what is stored.
 */
async function adoptSavedImage(ctx: Context, settings: CopySettings, restic: ResticSettings, file: string, input: CopyDiskInput, device: string): Promise<CopyDiskResult | undefined> {
  if (input.expectedBytes === undefined) return undefined;
  const saved = await adoptSavedDisk(ctx, settings, restic, file, { kind: 'disk', vmId: input.vmId, diskId: input.diskId }, input.expectedBytes);
  if (!saved) return undefined;
  return {
    path: resticPath({ snapshotId: saved.snapshotId, file }),
    bytes: saved.bytes,
    sha256: saved.sha256,
    device,
    resumedFromOffset: saved.bytes,
    bytesReadFromDevice: 0,
    attempt: ctx.info.attempt,
    resticSnapshotId: saved.snapshotId,
    bytesAdded: 0,
  };
}

/**
 * The snapshot of `file` an earlier attempt of this run saved whole (`expectedBytes` processed),
 * read back with `restic dump` and hashed; undefined on a first attempt or when none was saved.
 */
export async function adoptSavedDisk(
  ctx: Context,
  settings: CopySettings,
  restic: ResticSettings,
  file: string,
  tags: ResticTags,
  expectedBytes: number,
): Promise<{ snapshotId: string; bytes: number; sha256: string } | undefined> {
  let saved: SavedSnapshot | undefined;
  for (const s of await savedByEarlierAttempt(ctx, restic, file, tags)) {
    // restic ≥ 0.17 records what it processed; an older one's snapshot is measured with `restic ls`.
    const size = s.summary?.total_bytes_processed ?? (await sizeInSnapshot(restic, { snapshotId: s.id, file }));
    if (size === expectedBytes) {
      saved = s;
      break;
    }
  }
  if (!saved) return undefined;
  // Read back through the copy loop with nothing to write (hashSource: the hash thread for a large disk).
  const dump = openDumpSource(restic, { snapshotId: saved.id, file });
  let read: { bytes: number; sha256: string };
  try {
    read = await hashSource(ctx, settings, dump, expectedBytes, () => ({ bytesRead: 0, bytesPerSecond: 0, bytesDone: dump.position }) satisfies ResticProgress);
  } finally {
    await dump.close();
  }
  if (read.bytes !== expectedBytes) return undefined;
  return { snapshotId: saved.id, ...read };
}

/**
 * The copy loop's sink for a restic stream: each chunk written to the child's stdin (`restic backup
 * --stdin`). A chunk's buffer is free again once the pipe has taken it (the write's callback), so
 * at most one chunk is in flight and restic's pace holds the loop back: backpressure without a
 * queue. A child that exits first (a write then fails with EPIPE) fails the write with `failure`
 * of its exit. Holes are written
 * too: restic stores every byte. For any stream into restic (a disk, a chain's ranges).
 */
export function stdinSink(stdin: Writable, exited: Promise<ResticExit>, failure: (exit: ResticExit) => Error): ChunkSink {
  const gone = exited.then((exit) => Promise.reject(failure(exit)));
  gone.catch(() => undefined);
  return {
    write(buffer, length) {
      // A write that fails (EPIPE) is the child having gone: its exit says why.
      const written = new Promise<void>((resolve) => stdin.write(buffer.subarray(0, length), (err) => (err ? undefined : resolve())));
      return Promise.race([written, gone]);
    },
  };
}

export async function copyDiskToRestic(settings: CopySettings, restic: ResticSettings, input: CopyDiskInput): Promise<CopyDiskResult> {
  const ctx = Context.current();
  const device = await requireDevice(input.diskId, deviceFolders(settings), input.logicalName);
  const file = fileInSnapshot(input.dir, input.fileName);
  await prepareAttempt(ctx, restic);
  const adopted = await adoptSavedImage(ctx, settings, restic, file, input, device.path);
  if (adopted) return adopted;

  const source = await open(device.path, 'r');
  let stored: ResticStreamed;
  try {
    stored = await streamToRestic(
      ctx,
      settings,
      restic,
      file,
      { kind: 'disk', vmId: input.vmId, diskId: input.diskId },
      {
        source,
        size: input.expectedBytes,
        what: device.path,
        ended: (bytes) => {
          if (input.expectedBytes !== undefined && bytes !== input.expectedBytes) {
            throw nonRetryable(`device ${device.path} gave ${bytes} bytes but disk ${input.diskId} is ${input.expectedBytes} bytes`, ErrorTypes.vendorRejected);
          }
        },
      },
    );
  } finally {
    await source.close();
  }
  return {
    path: resticPath({ snapshotId: stored.snapshotId, file }),
    bytes: stored.bytes,
    sha256: stored.sha256,
    device: device.path,
    resumedFromOffset: 0,
    bytesReadFromDevice: stored.bytes,
    attempt: ctx.info.attempt,
    resticSnapshotId: stored.snapshotId,
    ...(stored.bytesAdded !== undefined ? { bytesAdded: stored.bytesAdded } : {}),
  };
}

/** What streamToRestic streams: a source read from 0 to its end. */
export interface ResticStreamSource {
  source: ReadAt;
  /** The bytes expected (sizes the buffers and decides the hash thread); undefined: unknown. */
  size: number | undefined;
  /** The source as an error message names it ("/dev/sdb", "the disk at this point"). */
  what: string;
  /**
   * Called once the source ended, before restic's input does: throws when what was read is not the
   * whole (a short device, a parent image of the wrong size), and restic is then killed, saving no snapshot.
   */
  ended?: (bytes: number) => Promise<void> | void;
  /** Called at once on a cancel, besides killing restic (ends what the source reads from). */
  onCancel?: () => void;
}

export interface ResticStreamed {
  bytes: number;
  sha256: string;
  snapshotId: string;
  bytesAdded?: number;
}

/**
 * The one restic stream: `source` from 0 to its end into `restic backup --stdin` as `file`, through
 * the copy worker's one copy loop (copy-loop.ts: the next chunk read while the current one is
 * hashed, on the hash thread for a large source, and written to restic's stdin with backpressure:
 * stdinSink). restic saves its snapshot only once its input ends, and the input ends only after the
 * source ended and `ended` accepted it: a failed, cancelled or killed attempt leaves no snapshot
 * (restic is killed). A cancel kills restic at once, so a loop waiting on a restic that does not
 * read ends. A disk's device (copyDiskToRestic), a chain point's whole disk (restic-incremental.ts).
 */
export async function streamToRestic(ctx: Context, settings: CopySettings, restic: ResticSettings, file: string, tags: ResticTags, stream: ResticStreamSource): Promise<ResticStreamed> {
  const { child, exited } = startRestic(restic, backupArgs(restic, file, resticTags(ctx, tags)));
  let summary: ResticSummary | undefined;
  let bytesDone: number | undefined;
  onJsonLines(child.stdout, (m) => {
    if (m.message_type === 'summary') summary = m as unknown as ResticSummary;
    else if (m.message_type === 'status' && typeof m.bytes_done === 'number') bytesDone = m.bytes_done;
  });

  const started = Date.now();
  const hasher = openStreamHasher(settings, stream.size);
  const details = (offset: number): ResticProgress => ({ bytesRead: offset, bytesPerSecond: Math.round((offset / Math.max(Date.now() - started, 1)) * 1000), bytesDone });
  let bytes: number;
  let sha256: string;
  // A cancel while restic is not reading: its end fails the pending write, and the loop with it.
  const killOnCancel = () => {
    child.kill('SIGKILL');
    stream.onCancel?.();
  };
  ctx.cancellationSignal.addEventListener('abort', killOnCancel);
  try {
    const sink = stdinSink(child.stdin, exited, (exit) => resticFailure(restic, 'backup', exit));
    bytes = (await streamLoop(ctx, { ...settings, details }, stream.source, 0, hasher, sink)).offset;
    await stream.ended?.(bytes);
    sha256 = await hasher.digest();
    if (ctx.cancellationSignal.aborted) throw new CancelledFailure('copy cancelled');
  } catch (err) {
    // Killed before its input ends: restic writes no snapshot of a part of the source.
    child.kill('SIGKILL');
    await exited;
    if (ctx.cancellationSignal.aborted && !(err instanceof CancelledFailure)) throw new CancelledFailure('copy cancelled');
    throw err;
  } finally {
    ctx.cancellationSignal.removeEventListener('abort', killOnCancel);
    await hasher.close();
  }
  child.stdin.end();
  const exit = await exited;
  if (exit.code !== 0) throw resticFailure(restic, 'backup', exit);
  const done = summary as ResticSummary | undefined;
  if (!done?.snapshot_id) throw nonRetryable(`restic backup of ${file} ended without naming its snapshot`, ErrorTypes.repositoryUnavailable);
  if (done.total_bytes_processed !== undefined && done.total_bytes_processed !== bytes) {
    throw nonRetryable(`restic stored ${done.total_bytes_processed} bytes of ${file}, ${bytes} were read from ${stream.what}`, ErrorTypes.repositoryUnavailable);
  }
  return { bytes, sha256, snapshotId: done.snapshot_id, ...(done.data_added !== undefined ? { bytesAdded: done.data_added } : {}) };
}

/** A small file (OVF, manifest) as a snapshot of its own, tagged like the backup's disks. */
export async function writeResticFile(
  restic: ResticSettings,
  input: { dir: string; fileName: string; content: string; vmId?: string; kind?: ResticTags['kind'] },
  ctx: Context | undefined = Context.current(),
): Promise<{ path: string; bytes: number; sha256: string; resticSnapshotId: string }> {
  const file = fileInSnapshot(input.dir, input.fileName);
  await prepareAttempt(ctx, restic);
  const kind = input.kind ?? (input.fileName === 'manifest.json' ? 'manifest' : input.fileName.endsWith('.ovf') ? 'config' : 'file');
  const vmId = input.vmId ?? (kind === 'manifest' ? manifestVmId(input.content) : undefined);
  const data = Buffer.from(input.content, 'utf8');
  const sha256 = createHash('sha256').update(data).digest('hex');
  // An earlier attempt that saved this very content before its worker died: that snapshot is the file.
  for (const saved of await savedByEarlierAttempt(ctx, restic, file, { kind, vmId })) {
    const stored = await runRestic(restic, ['dump', saved.id, file]).catch(() => undefined);
    if (stored === input.content) return { path: resticPath({ snapshotId: saved.id, file }), bytes: data.length, sha256, resticSnapshotId: saved.id };
  }
  const { child, exited } = startRestic(restic, backupArgs(restic, file, resticTags(ctx, { kind, vmId })));
  let snapshotId: string | undefined;
  onJsonLines(child.stdout, (m) => {
    if (m.message_type === 'summary' && typeof m.snapshot_id === 'string') snapshotId = m.snapshot_id;
  });
  child.stdin.end(data);
  const exit = await exited;
  if (exit.code !== 0) throw resticFailure(restic, 'backup', exit);
  if (!snapshotId) throw nonRetryable(`restic backup of ${file} ended without naming its snapshot`, ErrorTypes.repositoryUnavailable);
  return { path: resticPath({ snapshotId, file }), bytes: data.length, sha256, resticSnapshotId: snapshotId };
}

function manifestVmId(content: string): string | undefined {
  try {
    const id = (JSON.parse(content) as { vm?: { id?: unknown } }).vm?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
