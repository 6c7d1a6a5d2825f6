/**
 * The repository side of oVirt incremental backups (contracts/ovirt/incremental-results.ts says
 * what a chain is): the VM's chain head, the copy of one image transfer (only the data ranges the
 * engine's extents name: dirty ones for an incremental, non-zero ones for a full) into the
 * repository through the one copy loop (copy-loop.ts: SHA-256, direct writes, heartbeats of a
 * durable offset, resume), and the composition of a disk at any point of the chain (full + deltas,
 * in order). A restic repository keeps each point as a whole image instead
 * (restic/restic-incremental.ts): the three entry points below hand it over there.
 */
import { readFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, stat, type FileHandle } from 'node:fs/promises';
import { dirname, posix } from 'node:path';
import { Context } from '@temporalio/activity';
import { ErrorTypes, nonRetryable } from '../../lib/errors';
import { ImageioClient } from '../ovirt/imageio-client';
import { INCREMENTAL_PROVIDER_DIR, type ChainHead, type IncrementalDiskRecord, type OvirtIncrementalManifest, type StoredRange } from '../../contracts/ovirt/incremental-results';
import { commitPartFile, copyToPartFile, hashSource, writeInPlace, type CopySettings } from './copy-disk';
import type { CopyProgress, ReadAt } from './copy-loop';
import { repositoryPath } from './repository';
import { composeResticChainImage, copyImageTransferToRestic, resticChainHead } from './restic/restic-incremental';

const MANIFEST = 'manifest.json';

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
  // A restic repository keeps every point as a whole image (restic/restic-incremental.ts).
  if (settings.restic) return resticChainHead(settings.restic, input.vmId);
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
  return { ...readSegments(compose(layers, size), size), layers: layers.length };
}

/** Composed segments read at any offset (what openComposedImage and composedSha256 read). */
function readSegments(segments: Segment[], size: number): Omit<ComposedImage, 'layers'> {
  const handles = new Map<string, FileHandle>();
  const handleOf = async (path: string) => {
    let handle = handles.get(path);
    if (!handle) handles.set(path, (handle = await open(path, 'r')));
    return handle;
  };
  return {
    size,
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

/**
 * SHA-256 of the disk at backup `dir`, composed from its chain (and, for a copy not recorded yet,
 * `extra`, its newest layer): read through the copy loop with nothing to write, hashed on the hash
 * thread for a large disk, heartbeating `details`.
 */
async function composedSha256(ctx: Context, settings: CopySettings, input: { dir?: string; diskId: string; size: number; extra?: Layer }, details: () => unknown): Promise<string> {
  const chain = input.dir !== undefined ? await layersOf(settings.repositoryRoot, input.dir, input.diskId) : { layers: [], size: input.size };
  const source = readSegments(compose([...chain.layers, ...(input.extra ? [input.extra] : [])], input.size), input.size);
  try {
    return (await hashSource(ctx, settings, source, input.size, details)).sha256;
  } finally {
    await source.close();
  }
}

/**
 * Restores the disk as it was at backup `dir` into `targetPath` (a file, or a device that is
 * written in place), composing its full and the deltas after it while it is read, through the one
 * write path (writeInPlace: the copy loop, SHA-256 on the hash thread for a large disk, durable at
 * the end, a rerun of a killed attempt resumes); returns the SHA-256 of what it wrote.
 */
export async function composeChainImage(settings: CopySettings, input: { dir: string; diskId: string; targetPath: string }): Promise<{ bytes: number; sha256: string; layers: number }> {
  if (settings.restic) return composeResticChainImage(settings, settings.restic, input);
  const source = await openComposedImage(settings.repositoryRoot, input.dir, input.diskId);
  try {
    const { bytes, sha256 } = await writeInPlace(Context.current(), settings, source, source.size, input.targetPath, { exactFile: true });
    if (bytes !== source.size) throw new Error(`the composed disk ${input.diskId} at ${input.dir} ended at ${bytes} of ${source.size} bytes`);
    return { bytes, sha256, layers: source.layers };
  } finally {
    await source.close();
  }
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

export type CopyImageTransferResult = Pick<
  IncrementalDiskRecord,
  'fileName' | 'bytes' | 'sha256' | 'ranges' | 'imageSha256' | 'bytesFetched' | 'resumedFromOffset' | 'resticSnapshotId' | 'bytesAdded'
> & {
  path: string;
  attempt: number;
};

/** A range to fetch, and where it lands in the stored file. */
export interface Piece {
  start: number;
  length: number;
  out: number;
}

/** What transferSource fetches ranges from: imageio (ImageioClient.read). */
export interface RangeReader {
  read(start: number, length: number): Promise<Buffer>;
}

/**
 * The stored file of an image transfer (`fileSize` bytes) as the copy loop reads it: file offset
 * `piece.out + i` is disk offset `piece.start + i`, fetched from imageio; what no piece covers (a
 * full's zero extents, sparse in its file) reads as zeros, fetched from nowhere and reported as a
 * hole (the part file already reads as zeros there). A read stops where a hole starts or ends, so a
 * hole is never written; consecutive pieces (an incremental's file) fill a whole chunk. `fetched`
 * counts the bytes imageio gave.
 */
export function transferSource(reader: RangeReader, pieces: readonly Piece[], fileSize: number): ReadAt & { fetched: number } {
  const source = {
    fetched: 0,
    async read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number; hole?: boolean }> {
      const end = Math.min(fileSize, position + length);
      if (position >= end) return { bytesRead: 0 };
      // The first piece that ends after `position` (pieces are in file order and do not overlap).
      let lo = 0;
      for (let hi = pieces.length; lo < hi;) {
        const mid = (lo + hi) >> 1;
        if (pieces[mid]!.out + pieces[mid]!.length <= position) lo = mid + 1;
        else hi = mid;
      }
      const first = pieces[lo];
      if (!first || first.out > position) {
        const n = Math.min(end, first?.out ?? end) - position;
        buffer.fill(0, offset, offset + n);
        return { bytesRead: n, hole: true };
      }
      let at = position;
      for (let i = lo; i < pieces.length && at < end && pieces[i]!.out <= at; i++) {
        const piece = pieces[i]!;
        const n = Math.min(end, piece.out + piece.length) - at;
        const data = await reader.read(piece.start + (at - piece.out), n);
        data.copy(buffer, offset + (at - position), 0, n);
        source.fetched += n;
        at += n;
      }
      return { bytesRead: at - position };
    },
  };
  return source;
}

/**
 * One image transfer into the repository: its data ranges (dirty ones for an incremental, one after
 * the other in its file; non-zero ones for a full, at their offsets in a sparse file of the disk's
 * size) read through the copy loop (transferSource): hashed on the hash thread for a large file,
 * written with O_DIRECT where it can, durable offsets heartbeated; a retry resumes from the
 * heartbeated offset and re-hashes what it keeps (copyToPartFile). Then the whole disk's SHA-256 at
 * this backup (an incremental's composed with its chain, through the loop as well).
 */
export async function copyImageTransfer(settings: CopySettings, input: CopyImageTransferInput): Promise<CopyImageTransferResult> {
  if (settings.restic) return copyImageTransferToRestic(settings, settings.restic, input);
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
    await mkdir(dirname(finalPath), { recursive: true });
    const source = transferSource(imageio, pieces, fileSize);
    const copied = await copyToPartFile(ctx, settings, source, finalPath, fileSize, { sparse: true });
    if (copied.offset !== fileSize) throw new Error(`the copy of disk ${input.diskId} ended at ${copied.offset} of ${fileSize} bytes`);
    await commitPartFile(finalPath);
    const { sha256, resumedFromOffset } = copied;
    const imageSha256 =
      input.mode === 'full'
        ? sha256
        : await composedSha256(
            ctx,
            settings,
            { dir: input.parentDir, diskId: input.diskId, size: input.provisionedSize, extra: layerOf(finalPath, { mode: 'incremental', ranges }) },
            // The copy is done: a retry finds no part file and copies again.
            () => ({ offset: fileSize }) satisfies CopyProgress,
          );
    return {
      fileName: input.fileName,
      path: finalPath,
      bytes: fileSize,
      sha256,
      ...(ranges ? { ranges } : {}),
      imageSha256,
      bytesFetched: source.fetched,
      resumedFromOffset,
      attempt: ctx.info.attempt,
    };
  } finally {
    await imageio.close();
  }
}
