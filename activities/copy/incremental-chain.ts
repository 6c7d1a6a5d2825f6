/**
 * The repository side of oVirt incremental backups (contracts/ovirt/incremental-results.ts says
 * what a chain is): the VM's chain head, the copy of one image transfer (only the data ranges the
 * engine's extents name: dirty ones for an incremental, non-zero ones for a full) into the
 * repository with SHA-256 and heartbeats of a durable offset, and the composition of a disk at any
 * point of the chain (full + deltas, in order).
 */
import { createHash, type Hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, posix } from 'node:path';
import { Context, CancelledFailure } from '@temporalio/activity';
import { ErrorTypes, nonRetryable } from '../../lib/errors';
import { ImageioClient } from '../ovirt/imageio-client';
import { INCREMENTAL_PROVIDER_DIR, type ChainHead, type IncrementalDiskRecord, type OvirtIncrementalManifest, type StoredRange } from '../../contracts/ovirt/incremental-results';
import type { CopySettings } from './copy-disk';
import { DEFAULT_CHECKPOINT_BYTES, DEFAULT_CHECKPOINT_MS, type CopyProgress } from './copy-loop';
import { repositoryPath, syncDirectory } from './repository';

const MANIFEST = 'manifest.json';

function refuseRestic(settings: CopySettings): void {
  if (settings.restic) {
    throw nonRetryable('incremental chains are kept in a directory repository only: this copy worker backs up into restic (BACKUP_REPOSITORY_KIND=restic)', ErrorTypes.repositoryUnavailable);
  }
}

/** A folder of the incremental chains (ovirt-incremental/…), not of the snapshot procedure's backups. */
export function isChainDir(dir: string): boolean {
  return dir.replace(/^\/+/, '').startsWith(`${INCREMENTAL_PROVIDER_DIR}/`);
}

export async function readChainManifest(root: string, dir: string): Promise<OvirtIncrementalManifest | undefined> {
  try {
    const manifest = JSON.parse(await readFile(repositoryPath(root, dir, MANIFEST), 'utf8')) as OvirtIncrementalManifest;
    return manifest.kind === 'ovirt-incremental' ? manifest : undefined;
  } catch (err) {
    if (['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** The VM's incremental backups, newest first (a folder without a manifest is a run that did not complete). */
export async function listChainBackups(root: string, vmId?: string): Promise<Array<{ dir: string; manifest: OvirtIncrementalManifest }>> {
  const vmDirs = await readdir(repositoryPath(root, INCREMENTAL_PROVIDER_DIR, '.'), { withFileTypes: true }).catch(() => []);
  const found: Array<{ dir: string; manifest: OvirtIncrementalManifest }> = [];
  for (const vmDir of vmDirs.filter((e) => e.isDirectory() && (vmId === undefined || e.name.endsWith(`-${vmId.slice(0, 8)}`)))) {
    const base = posix.join(INCREMENTAL_PROVIDER_DIR, vmDir.name);
    for (const run of await readdir(repositoryPath(root, base, '.'), { withFileTypes: true })) {
      if (!run.isDirectory()) continue;
      const dir = posix.join(base, run.name);
      const manifest = await readChainManifest(root, dir);
      if (manifest && (vmId === undefined || manifest.vm.id === vmId)) found.push({ dir, manifest });
    }
  }
  return found.sort((a, b) => b.manifest.completedAt.localeCompare(a.manifest.completedAt) || b.dir.localeCompare(a.dir));
}

/** The VM's last good backup in the repository: where the next incremental starts from (none: a full). */
export async function chainHead(settings: CopySettings, input: { vmId: string }): Promise<ChainHead | undefined> {
  refuseRestic(settings);
  const newest = (await listChainBackups(settings.repositoryRoot, input.vmId))[0];
  if (!newest) return undefined;
  const { dir, manifest } = newest;
  return { dir, toCheckpointId: manifest.backup.toCheckpointId, completedAt: manifest.completedAt, disks: manifest.disks.map((d) => ({ id: d.id, provisionedSize: d.provisionedSize })) };
}

// ---- composition ------------------------------------------------------------------------------

/** One layer of a disk's chain: a full image, or an incremental's ranges in its file. */
interface Layer {
  path: string;
  full: boolean;
  ranges?: StoredRange[];
  /** The backup folder it belongs to, and its file's size as recorded (absent for a copy not recorded yet). */
  dir?: string;
  bytes?: number;
}

/** A piece of the composed disk: bytes of a file at an offset, or zeros. */
interface Segment {
  start: number;
  length: number;
  path?: string;
  fileOffset: number;
}

/** The disk's layers from its last full up to `dir` (oldest first), following the manifests' parents. */
async function layersOf(root: string, dir: string, diskId: string): Promise<{ layers: Layer[]; size: number }> {
  const layers: Layer[] = [];
  let size: number | undefined;
  for (let at: string | undefined = dir; at !== undefined;) {
    const manifest = await readChainManifest(root, at);
    if (!manifest) {
      const child = layers[0]?.dir;
      throw nonRetryable(
        child !== undefined ? `the chain of backup ${dir} is broken: its link ${at} (the parent of ${child}) is missing (no manifest.json there)` : `${dir} holds no incremental backup manifest`,
        ErrorTypes.invalidInput,
      );
    }
    const disk = manifest.disks.find((d) => d.id === diskId);
    if (!disk) throw nonRetryable(`the chain of backup ${dir} is broken: its link ${at} does not hold disk ${diskId}`, ErrorTypes.invalidInput);
    size ??= disk.provisionedSize;
    layers.unshift({ ...layerOf(repositoryPath(root, at, disk.fileName), disk), dir: at, bytes: disk.bytes });
    if (disk.mode === 'full') return { layers, size };
    at = manifest.parent;
  }
  throw nonRetryable(`the chain of backup ${dir} is broken: disk ${diskId} has no full backup before it`, ErrorTypes.invalidInput);
}

/**
 * Every link of a chain point, checked before a restore or a check reads it: each backup's manifest
 * up to the disk's full, and each of their files there with its recorded size. The first missing or
 * damaged link is a non-retryable InvalidInput naming it. Returns the links, oldest first.
 */
export async function checkChainLinks(root: string, dir: string, diskId: string): Promise<{ size: number; links: string[] }> {
  const { layers, size } = await layersOf(root, dir, diskId);
  for (const layer of layers) {
    const bytes = await stat(layer.path).then(
      (s) => s.size,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      },
    );
    const name = `${layer.dir}/${posix.basename(layer.path)}`;
    const of = layer.dir === dir ? '' : ` (a link of the chain of ${dir})`;
    if (bytes === undefined) throw nonRetryable(`backup ${name} is missing${of}`, ErrorTypes.invalidInput);
    if (bytes !== layer.bytes) throw nonRetryable(`backup ${name} is ${bytes} bytes, its manifest says ${layer.bytes}${of}`, ErrorTypes.invalidInput);
  }
  return { size, links: layers.map((l) => l.dir!) };
}

/** A disk at a chain point, readable at any offset as if it were one image file (what the copy loop and the hasher read). */
export interface ComposedImage {
  size: number;
  layers: number;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

/**
 * Opens the disk as it was at backup `dir`, composed while it is read: each byte comes from the
 * newest layer (full, then deltas in order) that holds it. Nothing is staged: a restore needs no
 * scratch space as large as the disk, and any offset reads the same bytes every time (so a resumed
 * write picks up where it stopped).
 */
export async function openComposedImage(root: string, dir: string, diskId: string): Promise<ComposedImage> {
  const { layers, size } = await layersOf(root, dir, diskId);
  const segments = compose(layers, size);
  const handles = new Map<string, FileHandle>();
  const handleOf = async (path: string) => {
    let handle = handles.get(path);
    if (!handle) handles.set(path, (handle = await open(path, 'r')));
    return handle;
  };
  return {
    size,
    layers: layers.length,
    async read(buffer, offset, length, position) {
      const end = Math.min(size, position + length);
      if (position >= end) return { bytesRead: 0 };
      // The last segment that starts at or before `position` (segments cover [0, size) in order).
      let lo = 0;
      for (let hi = segments.length - 1; lo < hi;) {
        const mid = (lo + hi + 1) >> 1;
        if (segments[mid]!.start <= position) lo = mid;
        else hi = mid - 1;
      }
      for (let i = lo, at = position; at < end; i++) {
        const s = segments[i]!;
        const n = Math.min(end, s.start + s.length) - at;
        const into = offset + (at - position);
        if (s.path === undefined) buffer.fill(0, into, into + n);
        else {
          const handle = await handleOf(s.path);
          const from = s.fileOffset + (at - s.start);
          let got = 0;
          while (got < n) {
            const { bytesRead } = await handle.read(buffer, into + got, n - got, from + got);
            if (bytesRead === 0) break;
            got += bytesRead;
          }
          // A full image is sparse to its end: past the file's end it reads as zeros.
          if (got < n) buffer.fill(0, into + got, into + n);
        }
        at += n;
      }
      return { bytesRead: end - position };
    },
    async close() {
      await Promise.all([...handles.values()].map((h) => h.close()));
      handles.clear();
    },
  };
}

function layerOf(path: string, disk: Pick<IncrementalDiskRecord, 'mode' | 'ranges'>): Layer {
  return { path, full: disk.mode === 'full', ...(disk.ranges ? { ranges: disk.ranges } : {}) };
}

/** The composed disk as non-overlapping segments in order: each byte from the newest layer that holds it. */
function compose(layers: Layer[], size: number): Segment[] {
  let segments: Segment[] = [{ start: 0, length: size, fileOffset: 0 }];
  for (const layer of layers) {
    if (layer.full) {
      segments = [{ start: 0, length: size, path: layer.path, fileOffset: 0 }];
      continue;
    }
    let fileOffset = 0;
    for (const range of layer.ranges ?? []) {
      const piece: Segment = { start: range.start, length: range.length, fileOffset, ...(range.zero ? {} : { path: layer.path }) };
      if (!range.zero) fileOffset += range.length;
      segments = overlay(segments, piece);
    }
  }
  return segments;
}

function overlay(segments: Segment[], piece: Segment): Segment[] {
  const end = piece.start + piece.length;
  const out: Segment[] = [];
  for (const s of segments) {
    const sEnd = s.start + s.length;
    if (sEnd <= piece.start || s.start >= end) {
      out.push(s);
      continue;
    }
    if (s.start < piece.start) out.push({ ...s, length: piece.start - s.start });
    if (sEnd > end) out.push({ ...s, start: end, length: sEnd - end, fileOffset: s.fileOffset + (end - s.start) });
  }
  out.push(piece);
  return out.sort((a, b) => a.start - b.start);
}

/** Streams the composed disk in order to `sink` (in pieces of at most `chunk` bytes). */
async function streamComposed(segments: Segment[], chunk: number, sink: (data: Buffer, offset: number) => Promise<void> | void): Promise<void> {
  const zeros = Buffer.alloc(chunk);
  const handles = new Map<string, FileHandle>();
  try {
    for (const s of segments) {
      let handle: FileHandle | undefined;
      if (s.path !== undefined) {
        handle = handles.get(s.path);
        if (!handle) handles.set(s.path, (handle = await open(s.path, 'r')));
      }
      for (let done = 0; done < s.length;) {
        const n = Math.min(chunk, s.length - done);
        if (!handle) await sink(zeros.subarray(0, n), s.start + done);
        else {
          const buffer = Buffer.alloc(n);
          const { bytesRead } = await handle.read(buffer, 0, n, s.fileOffset + done);
          // A full image is sparse to its end: past the file's end it reads as zeros.
          if (bytesRead < n) buffer.fill(0, bytesRead);
          await sink(buffer, s.start + done);
        }
        done += n;
      }
    }
  } finally {
    await Promise.all([...handles.values()].map((h) => h.close()));
  }
}

/** SHA-256 of the disk at backup `dir`, composed from its chain (and, for a copy not recorded yet, `extra`, its newest layer). */
async function composedSha256(root: string, chunk: number, input: { dir?: string; diskId: string; size: number; extra?: Layer }): Promise<string> {
  const chain = input.dir !== undefined ? await layersOf(root, input.dir, input.diskId) : { layers: [], size: input.size };
  const hash = createHash('sha256');
  await streamComposed(compose([...chain.layers, ...(input.extra ? [input.extra] : [])], input.size), chunk, (data) => void hash.update(data));
  return hash.digest('hex');
}

/**
 * Restores the disk as it was at backup `dir` into `targetPath` (a file, or a device that is
 * written in place), composing its full and the deltas after it; returns the SHA-256 of what it wrote.
 */
export async function composeChainImage(settings: CopySettings, input: { dir: string; diskId: string; targetPath: string }): Promise<{ bytes: number; sha256: string; layers: number }> {
  refuseRestic(settings);
  const { layers, size } = await layersOf(settings.repositoryRoot, input.dir, input.diskId);
  const out = await open(input.targetPath, 'a+').then(async (h) => (await h.close(), open(input.targetPath, 'r+')));
  const hash = createHash('sha256');
  try {
    // Every byte of [0, size) is written again (a rerun after a kill starts over); a file target
    // holds nothing past the disk either (a device keeps its size).
    if ((await out.stat()).isFile()) await out.truncate(size);
    await streamComposed(compose(layers, size), settings.chunkBytes, async (data, offset) => {
      hash.update(data);
      await out.write(data, 0, data.length, offset);
    });
    await out.sync();
  } finally {
    await out.close();
  }
  return { bytes: size, sha256: hash.digest('hex'), layers: layers.length };
}

// ---- the copy of one image transfer -----------------------------------------------------------

export interface CopyImageTransferInput {
  vmId: string;
  diskId: string;
  transferUrl: string;
  mode: 'full' | 'incremental';
  provisionedSize: number;
  dir: string;
  fileName: string;
  /** The chain's previous backup (an incremental's parent), to compose the disk's SHA-256. */
  parentDir?: string;
}

export type CopyImageTransferResult = Pick<IncrementalDiskRecord, 'fileName' | 'bytes' | 'sha256' | 'ranges' | 'imageSha256' | 'bytesFetched' | 'resumedFromOffset'> & {
  path: string;
  attempt: number;
};

/** A range to fetch, and where it lands in the stored file. */
interface Piece {
  start: number;
  length: number;
  out: number;
}

export async function copyImageTransfer(settings: CopySettings, input: CopyImageTransferInput): Promise<CopyImageTransferResult> {
  refuseRestic(settings);
  if (input.mode === 'incremental' && input.parentDir === undefined)
    throw nonRetryable(`an incremental copy of disk ${input.diskId} needs the chain's previous backup (parentDir)`, ErrorTypes.invalidInput);
  const ctx = Context.current();
  const ca = settings.imageioCaFile ? readFileSync(settings.imageioCaFile, 'utf8') : undefined;
  const imageio = new ImageioClient(input.transferUrl, { ca });
  try {
    const features = await imageio.features();
    let pieces: Piece[];
    let ranges: StoredRange[] | undefined;
    let fileSize: number;
    if (input.mode === 'incremental') {
      if (!features.includes('extents'))
        throw nonRetryable(`imageio at ${new URL(input.transferUrl).host} gives no extents: an incremental backup cannot tell what changed`, ErrorTypes.vendorRejected);
      ranges = [];
      pieces = [];
      let out = 0;
      for (const e of await imageio.extents('dirty')) {
        if (!e.dirty || e.length === 0) continue;
        ranges.push({ start: e.start, length: e.length, ...(e.zero ? { zero: true } : {}) });
        if (e.zero) continue;
        pieces.push({ start: e.start, length: e.length, out });
        out += e.length;
      }
      fileSize = out;
    } else {
      // Without extents the whole disk is data.
      const extents = features.includes('extents') ? await imageio.extents('zero') : [{ start: 0, length: input.provisionedSize, zero: false }];
      pieces = extents.filter((e) => !e.zero && e.length > 0).map((e) => ({ start: e.start, length: e.length, out: e.start }));
      fileSize = input.provisionedSize;
    }

    const finalPath = repositoryPath(settings.repositoryRoot, input.dir, input.fileName);
    const partPath = `${finalPath}.part`;
    await mkdir(dirname(finalPath), { recursive: true });
    const previous = ctx.info.heartbeatDetails as CopyProgress | undefined;
    const partSize = previous?.offset
      ? await stat(partPath).then(
          (s) => s.size,
          () => 0,
        )
      : 0;
    const resumedFromOffset = previous?.offset ? Math.min(previous.offset, partSize) : 0;
    const out = await open(partPath, resumedFromOffset > 0 ? 'r+' : 'w');
    const hash = createHash('sha256');
    let bytesFetched = 0;
    // Alive (and open to a cancel) while a range is on its way; only the durable offset is ever sent.
    let durable = resumedFromOffset;
    const ticker = setInterval(() => ctx.heartbeat({ offset: durable } satisfies CopyProgress), 1000);
    try {
      // Sparse to its size: what is not written reads as zeros (a full's zero extents).
      await out.truncate(fileSize);
      if (resumedFromOffset > 0) await hashFile(out, resumedFromOffset, settings.chunkBytes, hash, () => ctx.heartbeat({ offset: resumedFromOffset } satisfies CopyProgress));
      const checkpointMs = settings.checkpointMs ?? DEFAULT_CHECKPOINT_MS;
      const checkpointBytes = settings.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES;
      let hashed = resumedFromOffset;
      let lastSync = Date.now();
      let sinceSync = 0;
      const zeros = Buffer.alloc(settings.chunkBytes);
      const hashZerosTo = (end: number) => {
        while (hashed < end) {
          const n = Math.min(zeros.length, end - hashed);
          hash.update(zeros.subarray(0, n));
          hashed += n;
        }
      };
      for (const piece of pieces) {
        const pieceEnd = piece.out + piece.length;
        if (pieceEnd <= hashed) continue;
        hashZerosTo(piece.out);
        for (let at = hashed; at < pieceEnd;) {
          if (ctx.cancellationSignal.aborted) throw new CancelledFailure('copy cancelled');
          const n = Math.min(settings.chunkBytes, pieceEnd - at);
          const data = await imageio.read(piece.start + (at - piece.out), n);
          bytesFetched += n;
          await writeFully(out, data, at);
          hash.update(data);
          at += n;
          hashed = at;
          sinceSync += n;
          if (sinceSync >= checkpointBytes || Date.now() - lastSync >= checkpointMs) {
            await out.datasync();
            durable = hashed;
            ctx.heartbeat({ offset: durable } satisfies CopyProgress);
            lastSync = Date.now();
            sinceSync = 0;
          }
        }
      }
      hashZerosTo(fileSize);
      await out.sync();
    } catch (err) {
      clearInterval(ticker);
      await out.close();
      if (ctx.cancellationSignal.aborted) {
        await rm(partPath, { force: true });
        throw err instanceof CancelledFailure ? err : new CancelledFailure('copy cancelled');
      }
      throw err;
    }
    clearInterval(ticker);
    await out.close();
    await rename(partPath, finalPath);
    await syncDirectory(dirname(finalPath));
    const sha256 = hash.digest('hex');
    const imageSha256 =
      input.mode === 'full'
        ? sha256
        : await composedSha256(settings.repositoryRoot, settings.chunkBytes, {
            dir: input.parentDir,
            diskId: input.diskId,
            size: input.provisionedSize,
            extra: layerOf(finalPath, { mode: 'incremental', ranges }),
          });
    return { fileName: input.fileName, path: finalPath, bytes: fileSize, sha256, ...(ranges ? { ranges } : {}), imageSha256, bytesFetched, resumedFromOffset, attempt: ctx.info.attempt };
  } finally {
    await imageio.close();
  }
}

async function writeFully(out: FileHandle, data: Buffer, position: number): Promise<void> {
  for (let done = 0; done < data.length;) {
    const { bytesWritten } = await out.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

async function hashFile(handle: FileHandle, length: number, chunk: number, hash: Hash, beat: () => void): Promise<void> {
  const buffer = Buffer.alloc(chunk);
  let last = Date.now();
  for (let at = 0; at < length;) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(chunk, length - at), at);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    at += bytesRead;
    if (Date.now() - last >= 1000) {
      beat();
      last = Date.now();
    }
  }
}
