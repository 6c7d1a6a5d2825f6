/**
 * oVirt incremental chains in a restic repository. Every point of a chain is stored as a synthetic
 * full image of each disk: the engine still hands out only the dirty ranges (what is fetched from
 * imageio is what changed), and the copy streams the point's whole disk into `restic backup
 * --stdin` by reading the parent point's image in order with `restic dump` and laying the dirty
 * ranges fetched from the transfer URL over it (a dirty zero range as zeros). SHA-256 is computed on
 * the same bytes: it is the point's `imageSha256`. restic's deduplication stores only the chunks
 * that changed. A full streams the data ranges with zeros between them.
 *
 * What follows: a point restores, verifies and is listed like any restic backup (one `restic dump`,
 * hash checked, no composition), and retention can forget any point on its own: in the repository
 * no point depends on another. Only the engine's checkpoints are a chain. Crash and retry behave as
 * restic-backup.ts says: restic saves its snapshot only once its input ended whole, a retry removes
 * stale locks and backs up again, or adopts a snapshot an earlier attempt saved whole.
 */
import { readFileSync } from 'node:fs';
import { Context } from '@temporalio/activity';
import { ErrorTypes, nonRetryable } from '../../../lib/errors';
import type { ChainHead, IncrementalDiskRecord, OvirtIncrementalManifest, StoredRange } from '../../../contracts/ovirt/incremental-results';
import type { BackupRef, BackupSummary, FoundBackup } from '../restore-types';
import { writeInPlace, type CopySettings } from '../copy-disk';
import type { ReadAt } from '../copy-loop';
import type { CopyImageTransferInput, CopyImageTransferResult, RangeReader } from '../incremental-chain';
import { chainPointFound, summariseBackup, summariseChainPoint } from '../list-backups';
import { ImageioClient } from '../../ovirt/imageio-client';
import { unlockStale, type ResticSettings } from './restic-cli';
import { adoptSavedDisk, streamToRestic } from './restic-backup';
import { fileInSnapshot, parseResticPath, resticPath, type ResticLocation } from './restic-locator';
import { dumpText, listResticBackups, listResticChainPoints, readResticBackup, openDumpSource, sizeInSnapshot } from './restic-store';

const bad = (message: string) => nonRetryable(message, ErrorTypes.invalidInput);

/** The VM's newest chain point in the repository: the next incremental starts from its checkpoint. */
export async function resticChainHead(restic: ResticSettings, vmId: string): Promise<ChainHead | undefined> {
  const newest = (await listResticChainPoints(restic, vmId))[0];
  if (!newest) return undefined;
  const { dir, manifest } = newest;
  return { dir, toCheckpointId: manifest.backup.toCheckpointId, completedAt: manifest.completedAt, disks: manifest.disks.map((d) => ({ id: d.id, provisionedSize: d.provisionedSize })) };
}

/** A chain point's manifest, or a non-retryable InvalidInput naming what is wrong. */
export async function requireChainPoint(restic: ResticSettings, dir: string): Promise<OvirtIncrementalManifest> {
  const found = await readResticBackup(restic, dir);
  const manifest = found?.manifest as unknown as OvirtIncrementalManifest | undefined;
  if (!manifest) throw bad(`unknown backup ${dir}: no manifest of it in the restic repository`);
  if (manifest.kind !== 'ovirt-incremental') throw bad(`backup ${dir} is no point of an incremental chain`);
  return manifest;
}

/** Where a chain point's disk image is: its recorded snapshot, the file under the point's folder. */
export function chainImageLocation(dir: string, disk: Pick<IncrementalDiskRecord, 'fileName' | 'resticSnapshotId'>): ResticLocation {
  if (!disk.resticSnapshotId) throw bad(`backup ${dir}: ${disk.fileName} has no restic snapshot in its manifest (a directory repository's point?)`);
  return { snapshotId: disk.resticSnapshotId, file: fileInSnapshot(dir, disk.fileName) };
}

/** A stored file of a chain point: where it is, and its size and SHA-256 as recorded. */
export interface ChainPointFile {
  fileName: string;
  bytes: number;
  sha256: string;
  location: ResticLocation;
  diskId?: string;
}

/** Each disk's image of a chain point (the whole disk at the point's time) and its OVF, if saved. */
export function chainPointFiles(dir: string, manifest: OvirtIncrementalManifest): { images: ChainPointFile[]; config?: ChainPointFile } {
  const images = manifest.disks.map((d) => ({ fileName: d.fileName, bytes: d.provisionedSize, sha256: d.imageSha256, location: chainImageLocation(dir, d), diskId: d.id }));
  const configLocation = parseResticPath(manifest.config?.path);
  const config =
    manifest.config && configLocation
      ? { fileName: configLocation.file.split('/').pop() || 'vm-config.ovf', bytes: manifest.config.bytes, sha256: manifest.config.sha256, location: configLocation }
      : undefined;
  return { images, ...(config ? { config } : {}) };
}

/**
 * A chain point to restore: each image is in the repository with the disk's size, and the OVF saved
 * with it reads. Its images need no other point: `links` is the point alone.
 */
export async function findResticChainPoint(restic: ResticSettings, dir: string, manifest: OvirtIncrementalManifest, ref: BackupRef): Promise<FoundBackup> {
  const { images, config } = chainPointFiles(dir, manifest);
  for (const image of images) {
    const bytes = await sizeInSnapshot(restic, image.location);
    if (bytes === undefined) throw bad(`backup ${dir}: image ${image.fileName} is missing from the restic repository`);
    if (bytes !== image.bytes) throw bad(`backup ${dir}: image ${image.fileName} is ${bytes} bytes in the restic repository, the manifest says ${image.bytes}`);
  }
  let ovf = '';
  if (config) {
    try {
      ovf = await dumpText(restic, config.location);
    } catch (err) {
      if (err instanceof Error && err.name !== 'ApplicationFailure') throw err;
      throw bad(`backup ${dir}: the VM configuration cannot be read from the restic repository: ${(err as Error).message}`);
    }
  } else if (!ref.disksOnly) {
    throw bad(`backup ${dir} holds no VM configuration (OVF): restore its disks with disksOnly: true`);
  }
  return chainPointFound(dir, manifest, ovf, [dir]);
}

/**
 * The repository's backups for a listing, with `chains` its chain points too. A point is listed
 * without `parent`: in restic it is a whole image that needs no other point, so retention may keep
 * or forget each one on its own (the engine's checkpoints still go root first).
 */
export async function listResticBackupSummaries(restic: ResticSettings, input: { vmId?: string; chains?: boolean }): Promise<BackupSummary[]> {
  const listed = (await listResticBackups(restic, input.vmId)).map(summariseBackup);
  if (!input.chains) return listed;
  const points = (await listResticChainPoints(restic, input.vmId)).map((p) => {
    const { parent: _parent, ...summary } = summariseChainPoint(p);
    return summary;
  });
  return [...listed, ...points].sort((a, b) => b.completedAt.localeCompare(a.completedAt) || b.dir.localeCompare(a.dir));
}

// ---- the copy of one image transfer -----------------------------------------------------------

/** A part of the disk taken from imageio (or, zero, as zeros) instead of the base (the parent's image, or zeros). */
export interface Overlay {
  start: number;
  length: number;
  zero: boolean;
}

/**
 * The disk at this point as the copy loop reads it, in order: `base` (the parent point's image, read
 * in order from `restic dump`; none for a full: zeros) with `overlays` laid over it, each fetched
 * from imageio (`reader`) at its disk offset, or zeros for a zero one; what an overlay replaces is
 * skipped in the base, never fetched. `fetched` counts the bytes imageio gave. `overlays` are in
 * order and do not overlap (checkOverlays). `ended` checks, after the last read, that the base is no
 * longer than the disk (and that its dump ended well).
 */
export function overlaySource(reader: RangeReader, overlays: readonly Overlay[], size: number, base: ReadAt | undefined, what: string): ReadAt & { fetched: number; ended(): Promise<void> } {
  const source = {
    fetched: 0,
    async read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
      const end = Math.min(size, position + length);
      if (position >= end) return { bytesRead: 0 };
      // The first overlay that ends after `position`.
      let i = 0;
      for (let hi = overlays.length; i < hi;) {
        const mid = (i + hi) >> 1;
        if (overlays[mid]!.start + overlays[mid]!.length <= position) i = mid + 1;
        else hi = mid;
      }
      for (let at = position; at < end;) {
        const o = overlays[i];
        const into = offset + (at - position);
        if (o && o.start <= at) {
          const n = Math.min(end, o.start + o.length) - at;
          if (o.zero) buffer.fill(0, into, into + n);
          else {
            const data = await reader.read(at, n);
            data.copy(buffer, into, 0, n);
            source.fetched += n;
          }
          at += n;
          i++;
        } else {
          const n = Math.min(end, o?.start ?? end) - at;
          if (!base) buffer.fill(0, into, into + n);
          else if ((await base.read(buffer, into, n, at)).bytesRead < n) throw bad(`${what} ended before ${size} bytes in the restic repository`);
          at += n;
        }
      }
      return { bytesRead: end - position };
    },
    async ended(): Promise<void> {
      if (base && (await base.read(Buffer.alloc(1), 0, 1, size)).bytesRead > 0) throw bad(`${what} is longer than ${size} bytes in the restic repository`);
    },
  };
  return source;
}

/** The overlays in order; overlapping ones, or ones past the disk's end, are a malformed answer of imageio. */
export function checkOverlays(overlays: Overlay[], size: number, diskId: string): Overlay[] {
  const sorted = [...overlays].sort((a, b) => a.start - b.start);
  let at = 0;
  for (const o of sorted) {
    if (o.start < at) throw nonRetryable(`imageio named overlapping extents at ${o.start} of disk ${diskId}`, ErrorTypes.malformedResponse);
    at = o.start + o.length;
  }
  if (at > size) throw nonRetryable(`imageio named extents past the end of disk ${diskId} (${at} > ${size})`, ErrorTypes.malformedResponse);
  return sorted;
}

/**
 * Streams the disk at this point into `restic backup --stdin` (streamToRestic: the one copy loop,
 * the snapshot procedure's restic stream): the parent point's image (an incremental) or zeros (a
 * full), with the ranges imageio names laid over it (overlaySource). Returns the record of a
 * synthetic full image (`<disk>.raw`) whose SHA-256 is the whole disk's at the backup's time.
 */
export async function copyImageTransferToRestic(settings: CopySettings, restic: ResticSettings, input: CopyImageTransferInput): Promise<CopyImageTransferResult> {
  const ctx = Context.current();
  const size = input.provisionedSize;
  let parent: ResticLocation | undefined;
  if (input.mode === 'incremental') {
    if (input.parentDir === undefined) throw bad(`an incremental copy of disk ${input.diskId} needs the chain's previous backup (parentDir)`);
    const manifest = await requireChainPoint(restic, input.parentDir);
    const disk = manifest.disks.find((d) => d.id === input.diskId);
    if (!disk) throw bad(`the chain's previous backup ${input.parentDir} does not hold disk ${input.diskId}`);
    if (disk.provisionedSize !== size)
      throw bad(`disk ${input.diskId} was ${disk.provisionedSize} bytes at ${input.parentDir} and is ${size} now: an incremental cannot lay its ranges over that image`);
    parent = chainImageLocation(input.parentDir, disk);
  }
  // Every point is a whole image of the disk, whatever the engine handed out for it.
  const fileName = input.fileName.replace(/\.delta$/, '.raw');
  const file = fileInSnapshot(input.dir, fileName);
  const tags = { kind: 'disk' as const, vmId: input.vmId, diskId: input.diskId };
  if (ctx.info.attempt > 1) await unlockStale(restic);

  const ca = settings.imageioCaFile ? readFileSync(settings.imageioCaFile, 'utf8') : undefined;
  const imageio = new ImageioClient(input.transferUrl, { ca });
  try {
    const features = await imageio.features();
    let overlays: Overlay[];
    let ranges: StoredRange[] | undefined;
    if (input.mode === 'incremental') {
      if (!features.includes('extents'))
        throw nonRetryable(`imageio at ${new URL(input.transferUrl).host} gives no extents: an incremental backup cannot tell what changed`, ErrorTypes.vendorRejected);
      overlays = (await imageio.extents('dirty')).filter((e) => e.dirty && e.length > 0).map((e) => ({ start: e.start, length: e.length, zero: e.zero === true }));
      ranges = overlays.map((o) => ({ start: o.start, length: o.length, ...(o.zero ? { zero: true } : {}) }));
    } else {
      // Without extents the whole disk is data.
      const extents = features.includes('extents') ? await imageio.extents('zero') : [{ start: 0, length: size, zero: false }];
      overlays = extents.filter((e) => !e.zero && e.length > 0).map((e) => ({ start: e.start, length: e.length, zero: false }));
    }
    overlays = checkOverlays(overlays, size, input.diskId);
    const record = (snapshotId: string, sha256: string, bytesFetched: number, bytesAdded?: number): CopyImageTransferResult => ({
      fileName,
      path: resticPath({ snapshotId, file }),
      bytes: size,
      sha256,
      ...(ranges ? { ranges } : {}),
      imageSha256: sha256,
      bytesFetched,
      resumedFromOffset: 0,
      resticSnapshotId: snapshotId,
      ...(bytesAdded !== undefined ? { bytesAdded } : {}),
      attempt: ctx.info.attempt,
    });

    // An earlier attempt whose snapshot was saved whole before its worker died: that is the point.
    const adopted = await adoptSavedDisk(ctx, settings, restic, file, tags, size);
    if (adopted) return record(adopted.snapshotId, adopted.sha256, 0, 0);

    const dump = parent ? openDumpSource(restic, parent) : undefined;
    const what = `the image of disk ${input.diskId} at ${input.parentDir}`;
    const source = overlaySource(imageio, overlays, size, dump, what);
    try {
      // Unpaced, as before the one loop: the cap would count the parent's bytes from restic, which no storage domain serves.
      const stored = await streamToRestic(ctx, { ...settings, maxBytesPerSecond: 0 }, restic, file, tags, {
        source,
        size,
        what: `the disk at chain point ${input.dir}`,
        ended: async (bytes) => {
          await source.ended();
          if (bytes !== size) throw bad(`${what} ended at ${bytes} of ${size} bytes`);
        },
        onCancel: () => void dump?.close(),
      });
      await dump?.close();
      return record(stored.snapshotId, stored.sha256, source.fetched, stored.bytesAdded);
    } catch (err) {
      await dump?.close();
      // The locks of the restic processes killed are stale now: removed, so a failed or cancelled copy
      // leaves none behind (a check or prune would wait on them). Best effort: a retry removes them too.
      await unlockStale(restic).catch(() => undefined);
      throw err;
    }
  } finally {
    await imageio.close();
  }
}

/**
 * The disk at chain point `dir` written to `targetPath` (a file, or a device written in place)
 * through the one write path (writeInPlace: the copy loop, SHA-256 on the hash thread for a large
 * disk, durable at the end, a rerun of a killed attempt resumes), read in order from `restic dump`.
 */
export async function composeResticChainImage(
  settings: CopySettings,
  restic: ResticSettings,
  input: { dir: string; diskId: string; targetPath: string },
): Promise<{ bytes: number; sha256: string; layers: number }> {
  const ctx = Context.current();
  // A rerun after the copy worker died: the killed `restic dump`'s lock is stale; remove it (never a live one).
  if (ctx.info.attempt > 1) await unlockStale(restic);
  const manifest = await requireChainPoint(restic, input.dir);
  const disk = manifest.disks.find((d) => d.id === input.diskId);
  if (!disk) throw bad(`backup ${input.dir} does not hold disk ${input.diskId}`);
  const dump = openDumpSource(restic, chainImageLocation(input.dir, disk));
  let written: { bytes: number; sha256: string };
  try {
    written = await writeInPlace(ctx, settings, dump, disk.provisionedSize, input.targetPath, { exactFile: true });
  } finally {
    await dump.close();
  }
  if (written.bytes !== disk.provisionedSize) throw bad(`backup ${input.dir}: disk ${input.diskId} gave ${written.bytes} bytes from restic, the manifest says ${disk.provisionedSize}`);
  return { bytes: written.bytes, sha256: written.sha256, layers: 1 };
}
