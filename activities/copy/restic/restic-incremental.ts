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
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Context, CancelledFailure } from '@temporalio/activity';
import { ErrorTypes, nonRetryable } from '../../../lib/errors';
import type { ChainHead, IncrementalDiskRecord, OvirtIncrementalManifest, StoredRange } from '../../../contracts/ovirt/incremental-results';
import type { BackupRef, BackupSummary, FoundBackup } from '../restore-types';
import type { CopySettings } from '../copy-disk';
import type { CopyImageTransferInput, CopyImageTransferResult } from '../incremental-chain';
import { summariseBackup, summariseChainPoint } from '../list-backups';
import { ImageioClient } from '../../ovirt/imageio-client';
import { resticFailure, startRestic, unlockStale, type ResticSettings } from './restic-cli';
import { adoptSavedDisk, backupArgs, onJsonLines, resticTags, type ResticProgress } from './restic-backup';
import { fileInSnapshot, parseResticPath, resticPath, type ResticLocation } from './restic-locator';
import { dumpText, listResticBackups, listResticChainPoints, readResticBackup, sizeInSnapshot, startDump } from './restic-store';

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
  return {
    dir,
    manifest: {
      workflowId: manifest.workflowId,
      runId: manifest.runId,
      vm: manifest.vm,
      completedAt: manifest.completedAt,
      disks: manifest.disks,
      ...(manifest.verifications ? { verifications: manifest.verifications } : {}),
    },
    chain: { mode: manifest.backup.mode, ...(manifest.parent !== undefined ? { parent: manifest.parent } : {}), links: [dir] },
    ovf,
    images: manifest.disks.map((d) => ({
      diskId: d.id,
      fileName: d.fileName,
      bytes: d.provisionedSize,
      sha256: d.imageSha256,
      provisionedSize: d.provisionedSize,
      ...(d.name !== undefined ? { name: d.name } : {}),
    })),
    verifications: manifest.verifications ?? [],
  };
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

interface ResticSummary {
  message_type: 'summary';
  snapshot_id?: string;
  data_added?: number;
  total_bytes_processed?: number;
}

/** A part of the disk taken from imageio (or, zero, as zeros) instead of the base (the parent's image, or zeros). */
interface Overlay {
  start: number;
  length: number;
  zero: boolean;
}

/** Reads a stream in pieces of at most `max` bytes, in order. */
class StreamPieces {
  private readonly it: AsyncIterator<Buffer>;
  private rest: Buffer = Buffer.alloc(0);
  constructor(stream: NodeJS.ReadableStream) {
    this.it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }
  async next(max: number): Promise<Buffer | undefined> {
    while (this.rest.length === 0) {
      const r = await this.it.next();
      if (r.done) return undefined;
      this.rest = r.value;
    }
    const piece = this.rest.subarray(0, max);
    this.rest = this.rest.subarray(piece.length);
    return piece;
  }
}

/**
 * Streams the disk at this point into `restic backup --stdin`: the parent point's image (an
 * incremental) or zeros (a full), with the ranges imageio names laid over it. Returns the record
 * of a synthetic full image (`<disk>.raw`) whose SHA-256 is the whole disk's at the backup's time.
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
    overlays.sort((a, b) => a.start - b.start);
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
    const adopted = await adoptSavedDisk(ctx, restic, file, tags, size);
    if (adopted) return record(adopted.snapshotId, adopted.sha256, 0, 0);

    const backup = startRestic(restic, backupArgs(restic, file, resticTags(ctx, tags)));
    let summary: ResticSummary | undefined;
    let bytesDone: number | undefined;
    onJsonLines(backup.child.stdout, (m) => {
      if (m.message_type === 'summary') summary = m as unknown as ResticSummary;
      else if (m.message_type === 'status' && typeof m.bytes_done === 'number') bytesDone = m.bytes_done;
    });
    const gone = backup.exited.then(() => 'exited' as const);
    const dump = parent ? startDump(restic, parent) : undefined;
    const base = dump ? new StreamPieces(dump.child.stdout) : undefined;

    const chunk = settings.chunkBytes;
    const zeros = Buffer.alloc(chunk);
    const hash = createHash('sha256');
    const started = Date.now();
    let bytes = 0;
    let bytesFetched = 0;
    const progress = (): ResticProgress => ({ bytesRead: bytes, bytesPerSecond: Math.round((bytes / Math.max(Date.now() - started, 1)) * 1000), ...(bytesDone !== undefined ? { bytesDone } : {}) });
    // Alive (and open to a cancel) while a range is on its way from imageio or the parent's dump.
    const ticker = setInterval(() => ctx.heartbeat(progress()), 1000);
    const emit = async (data: Buffer) => {
      if (ctx.cancellationSignal.aborted) throw new CancelledFailure('copy cancelled');
      hash.update(data);
      bytes += data.length;
      if (!backup.child.stdin.write(data) && (await Promise.race([once(backup.child.stdin, 'drain').then(() => 'drained' as const), gone])) === 'exited') {
        throw resticFailure(restic, 'backup', await backup.exited);
      }
    };
    /** `length` bytes of the base: emitted (the disk's unchanged part) or skipped (under an overlay). */
    const fromBase = async (length: number, keep: boolean) => {
      for (let left = length; left > 0;) {
        if (!base) {
          const n = Math.min(chunk, left);
          if (keep) await emit(zeros.subarray(0, n));
          left -= n;
          continue;
        }
        const piece = await base.next(Math.min(chunk, left));
        if (!piece) throw bad(`the image of disk ${input.diskId} at ${input.parentDir} ended before ${size} bytes in the restic repository`);
        if (keep) await emit(piece);
        left -= piece.length;
      }
    };
    try {
      let at = 0;
      for (const o of overlays) {
        if (o.start < at) throw nonRetryable(`imageio named overlapping extents at ${o.start} of disk ${input.diskId}`, ErrorTypes.malformedResponse);
        await fromBase(o.start - at, true);
        await fromBase(o.length, false);
        for (let done = 0; done < o.length;) {
          const n = Math.min(chunk, o.length - done);
          if (o.zero) await emit(zeros.subarray(0, n));
          else {
            const data = await imageio.read(o.start + done, n);
            bytesFetched += n;
            await emit(data);
          }
          done += n;
        }
        at = o.start + o.length;
      }
      if (at > size) throw nonRetryable(`imageio named extents past the end of disk ${input.diskId} (${at} > ${size})`, ErrorTypes.malformedResponse);
      await fromBase(size - at, true);
      if (base && dump) {
        if (await base.next(1)) throw bad(`the image of disk ${input.diskId} at ${input.parentDir} is longer than ${size} bytes in the restic repository`);
        const exit = await dump.exited;
        if (exit.code !== 0) throw resticFailure(restic, 'dump', exit);
      }
    } catch (err) {
      // Killed before its input ends: restic writes no snapshot of a part of the disk.
      clearInterval(ticker);
      backup.child.kill('SIGKILL');
      dump?.child.kill('SIGKILL');
      // The dump's output is read by hand: unread, its stream would never close (nor the child with it).
      dump?.child.stdout.destroy();
      await Promise.all([backup.exited, dump?.exited]);
      // Their locks are stale now: removed, so a failed or cancelled copy leaves none behind (a check
      // or prune would wait on them). Best effort: a retry removes them too.
      await unlockStale(restic).catch(() => undefined);
      if (ctx.cancellationSignal.aborted && !(err instanceof CancelledFailure)) throw new CancelledFailure('copy cancelled');
      throw err;
    }
    backup.child.stdin.end();
    const exit = await backup.exited;
    clearInterval(ticker);
    if (exit.code !== 0) throw resticFailure(restic, 'backup', exit);
    const done = summary as ResticSummary | undefined;
    if (!done?.snapshot_id) throw nonRetryable(`restic backup of ${file} ended without naming its snapshot`, ErrorTypes.repositoryUnavailable);
    if (done.total_bytes_processed !== undefined && done.total_bytes_processed !== bytes) {
      throw nonRetryable(`restic stored ${done.total_bytes_processed} bytes of ${file}, ${bytes} were streamed`, ErrorTypes.repositoryUnavailable);
    }
    return record(done.snapshot_id, hash.digest('hex'), bytesFetched, done.data_added);
  } finally {
    await imageio.close();
  }
}

/** The disk at chain point `dir` written to `targetPath` (a file, or a device written in place) with `restic dump`; its SHA-256. */
export async function composeResticChainImage(restic: ResticSettings, input: { dir: string; diskId: string; targetPath: string }): Promise<{ bytes: number; sha256: string; layers: number }> {
  const manifest = await requireChainPoint(restic, input.dir);
  const disk = manifest.disks.find((d) => d.id === input.diskId);
  if (!disk) throw bad(`backup ${input.dir} does not hold disk ${input.diskId}`);
  const out = await open(input.targetPath, 'a+').then(async (h) => (await h.close(), open(input.targetPath, 'r+')));
  const { child, exited } = startDump(restic, chainImageLocation(input.dir, disk));
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const piece of child.stdout as AsyncIterable<Buffer>) {
      hash.update(piece);
      for (let done = 0; done < piece.length;) done += (await out.write(piece, done, piece.length - done, bytes + done)).bytesWritten;
      bytes += piece.length;
    }
    await out.sync();
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    await out.close();
  }
  const exit = await exited;
  if (exit.code !== 0) throw resticFailure(restic, 'dump', exit);
  if (bytes !== disk.provisionedSize) throw bad(`backup ${input.dir}: disk ${input.diskId} gave ${bytes} bytes from restic, the manifest says ${disk.provisionedSize}`);
  return { bytes, sha256: hash.digest('hex'), layers: 1 };
}
