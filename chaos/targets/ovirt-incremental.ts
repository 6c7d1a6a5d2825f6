/**
 * ovirtIncrementalBackup against the oVirt simulator's backup API and its imageio server (a
 * companion: its calls are faulted too), with the copy worker in a process of its own (as on a
 * proxy VM), so a case can SIGKILL the main worker, the copy worker, or both, mid-transfer.
 *
 * The chain runs on across cases: `prepare` makes the full, every case's reset writes a few blocks
 * of the guest's disk (so the case's run is an incremental with something to read) and keeps the
 * engine's checkpoints and the repository. After each case `afterCase` checks that the chain is
 * still usable: a completed case's point restores byte for byte, and the next incremental (no
 * faults) completes from the chain head, reads only what changed and restores byte for byte too.
 * With `restic: true` (`ovirt-incremental-restic`) the copy worker's repository is a restic one
 * (every point a synthetic full streamed from the parent's dump with the dirty ranges over it),
 * with kills at its restic backup and the parent's dump (restic-repo.ts, resticChainChecks).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeChainImageHere } from '../../test/helpers/compose-chain';
import type { CopySettings } from '../../activities/copy/copy-disk';
import type { OvirtIncrementalManifest } from '../../contracts/ovirt/incremental-results';
import { OVIRT_INCREMENTAL_STEPS } from '../../contracts/ovirt/steps';
import { copyTaskQueueFor } from '../../lib/temporal/task-queues';
import { BITMAP_GRANULARITY, createOvirtSimulator, OVIRT_DEMO } from '../../simulators/ovirt';
import { SIM_PASSWORD } from '../../test/helpers/ovirt-harness';
import type { ChaosCluster } from '../cluster';
import type { ChaosTarget, KillPoint } from '../types';
import { CreationCounter } from './count';
import { chaosResticRepository, resticChainChecks } from './restic-repo';

const TIMEOUT_MS = 2_500;
const ENDPOINT = 'ovirt-chaos-incremental';
const MiB = 1024 * 1024;
const DISK_BYTES = 2 * MiB;
/** Blocks (64 KiB) the guest rewrites before each run: 512 KiB, eight range reads. */
const BLOCKS_PER_CASE = 8;
/** imageio serves a range this much later (a busy host): a copy of eight ranges lasts ≈ 0.5 s. */
const READ_DELAY_MS = 60;
/**
 * The kill point of a SIGKILL mid-transfer. Not a time into the copy step (on a loaded machine the
 * copy may not have started 250 ms in, and the kill then cuts nothing short): once armed, imageio
 * answers the copy's first range read and holds every later one until the kill is done, so the kill
 * lands while the copy is running and has more to read, however slow the machine.
 */
export const MID_TRANSFER = 'copy mid-transfer (a range read answered, the next held until the kill)';
/** A run that checks the chain after a case gets this long. */
const NEXT_RUN_TIMEOUT_MS = 120_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The target, and what a test reads besides: the chain head and the disk's content at the last case's start. */
export type OvirtIncrementalChaosTarget = ChaosTarget & {
  chain(): { headDir?: string; caseSha256?: string; checked: number };
};

export async function ovirtIncrementalTarget(options: { restic?: boolean } = {}): Promise<OvirtIncrementalChaosTarget> {
  const tmp = await mkdtemp(join(tmpdir(), options.restic ? 'chaos-ovirt-incremental-restic-' : 'chaos-ovirt-incremental-'));
  const restic = options.restic ? await chaosResticRepository(join(tmp, 'restic')) : undefined;
  const { simulator, state, imageio, imageioCaFile } = await createOvirtSimulator({
    dataDir: join(tmp, 'sim-data'),
    deviceRoot: join(tmp, 'devices'),
    password: SIM_PASSWORD,
    diskSizes: { os: DISK_BYTES, data: 256 * 1024 },
    backupTimings: { backupStartMs: 200, backupFinalizeMs: 200, transferStartMs: 100, transferFinalizeMs: 100 },
  });
  await simulator.start(0);
  const os = OVIRT_DEMO.osDiskId;
  const vmId = OVIRT_DEMO.vmId;

  // A busy imageio: every range read answers READ_DELAY_MS late. With MID_TRANSFER armed, the first
  // read is answered and every later one waits at the gate until the kill is done (or the case ends).
  const gate = { armed: false, answered: 0, waiting: 0, open: Promise.resolve(), release: () => {} };
  const armGate = () => {
    gate.release();
    gate.open = new Promise<void>((resolve) => (gate.release = resolve));
    Object.assign(gate, { armed: true, answered: 0, waiting: 0 });
  };
  const releaseGate = () => {
    gate.armed = false;
    gate.release();
  };
  const midTransfer: KillPoint = { name: MID_TRANSFER, step: 'copy', arm: armGate, reached: () => gate.waiting > 0, killed: releaseGate };
  const read = state.backups.read.bind(state.backups);
  state.backups.read = async (...args: Parameters<typeof read>) => {
    await sleep(READ_DELAY_MS);
    if (gate.armed && gate.answered > 0) {
      gate.waiting++;
      await gate.open;
    } else if (gate.armed) gate.answered++;
    return read(...args);
  };

  // Per run and start point: one VM backup; per backup and disk: one image transfer.
  const created = new CreationCounter();
  created.watch(state.backups, 'createBackup', (vm: string, input: { description?: string; fromCheckpointId?: string }) => {
    return `backup of VM ${vm} "${input.description ?? ''}" from ${input.fromCheckpointId ? `checkpoint ${input.fromCheckpointId}` : 'nothing (full)'}`;
  });
  created.watch(state.backups, 'createTransfer', (input: { diskId: string; backupId?: string }) => `image transfer of disk ${input.diskId} in backup ${input.backupId}`);

  const copySettings: CopySettings = {
    repositoryRoot: join(tmp, 'repository'),
    deviceByIdDir: join(tmp, 'devices', 'by-id'),
    chunkBytes: 64 * 1024,
    maxBytesPerSecond: 0,
    checkpointBytes: 128 * 1024,
    imageioCaFile,
    ...(restic ? { restic: restic.settings } : {}),
  };
  let cluster: ChaosCluster | undefined;
  /** The chain's newest good backup (the next run's parent), the disk's SHA-256 the case's run must record, cases checked. */
  const chain: { headDir?: string; caseSha256?: string; checked: number } = { checked: 0 };
  let writes = 0;
  let nextRuns = 0;

  const input = () => ({ endpoint: ENDPOINT, vmId, proxyVmId: OVIRT_DEMO.proxyVmId, pollIntervalMs: 100, description: 'chaos', finalizeTimeoutSeconds: 60 });

  /** The guest rewrites BLOCKS_PER_CASE blocks (different ones each time); returns the disk's SHA-256 after. */
  async function guestWrites(): Promise<string> {
    const blocks = DISK_BYTES / BITMAP_GRANULARITY;
    for (let i = 0; i < BLOCKS_PER_CASE; i++) await state.writeDiskRange(os, ((writes++ * 7) % blocks) * BITMAP_GRANULARITY, BITMAP_GRANULARITY);
    return state.diskContentSha256(os);
  }

  /** The disk composed from the chain at `dir`, hashed as written. */
  async function restoredSha(dir: string): Promise<string> {
    const targetPath = join(tmp, `restore-${++nextRuns}.img`);
    try {
      const { sha256 } = await composeChainImageHere(copySettings, { dir, diskId: os, targetPath });
      const written = createHash('sha256')
        .update(await readFile(targetPath))
        .digest('hex');
      return written === sha256 ? sha256 : `${sha256} (but the file written hashes ${written})`;
    } finally {
      await rm(targetPath, { force: true });
    }
  }

  /** What the engine still holds of the VM's backups: open transfers, locked disks, backups not ended. */
  function engineLeftovers(): string[] {
    const transfers = state.backups.openTransfers().map((t) => `image transfer ${t.id} of disk ${t.diskId} (${state.backups.transferPhase(t)})`);
    const locked = [os, OVIRT_DEMO.dataDiskId].filter((id) => state.diskStatus(state.getDisk(id)) === 'locked').map((id) => `disk ${id} locked`);
    // A run that asks an operator about a backup stuck in finalizing is still running (a hung case): every backup not ended counts.
    const backups = state.backups
      .listBackups(vmId)
      .filter((b) => !['succeeded', 'failed'].includes(state.backups.phase(b)))
      .map((b) => `backup ${b.id} (${state.backups.phase(b)}) "${b.description}"`);
    return [...transfers, ...locked, ...backups];
  }

  async function nextIncremental(after: string): Promise<{ problems: string[]; manifest?: OvirtIncrementalManifest }> {
    const c = cluster!;
    const sha = await guestWrites();
    const served = state.backups.bytesServed;
    const workflowId = `${after}-next`;
    const handle = await c.client.workflow.start('ovirtIncrementalBackup', { taskQueue: c.taskQueue, workflowId, args: [input()] });
    const outcome = await Promise.race([
      handle.result().then(
        (m) => m as OvirtIncrementalManifest,
        (err: Error) => err,
      ),
      sleep(NEXT_RUN_TIMEOUT_MS).then(() => 'hung' as const),
    ]);
    if (outcome === 'hung') {
      await handle.cancel().catch(() => undefined);
      return { problems: [`chain: the next incremental ${workflowId} did not end in ${NEXT_RUN_TIMEOUT_MS / 1000} s`] };
    }
    if (outcome instanceof Error) return { problems: [`chain: the next incremental ${workflowId} failed: ${(outcome.cause as Error | undefined)?.message ?? outcome.message}`] };
    const m = outcome;
    const problems: string[] = [];
    if (m.backup.mode !== 'incremental') problems.push(`chain: the next run was a ${m.backup.mode} (${m.fallbacks.map((f) => f.reason).join('; ')})`);
    else if (m.parent !== chain.headDir) problems.push(`chain: the next run continued ${m.parent}, not the chain head ${chain.headDir}`);
    const fetched = state.backups.bytesServed - served;
    if (m.backup.mode === 'incremental' && fetched > 1.05 * BLOCKS_PER_CASE * BITMAP_GRANULARITY * 2)
      problems.push(`chain: the next incremental read ${fetched} bytes from imageio for at most ${2 * BLOCKS_PER_CASE * BITMAP_GRANULARITY} changed`);
    if (m.disks[0]?.imageSha256 !== sha) problems.push(`chain: the next run recorded ${m.disks[0]?.imageSha256}, the disk held ${sha}`);
    const restored = await restoredSha(m.repository.dir);
    if (restored !== sha) problems.push(`chain: the next run's point ${m.repository.dir} restores to ${restored}, not ${sha}`);
    return { problems, manifest: m };
  }

  const chainChecks = restic ? resticChainChecks(restic) : undefined;
  return {
    workflow: 'ovirtIncrementalBackup',
    simulator,
    companions: { imageio },
    clientTimeoutMs: TIMEOUT_MS,
    worker: {
      endpoints: {
        [ENDPOINT]: {
          vendor: 'ovirt',
          url: simulator.apiUrl,
          apiVersion: 'v4',
          timeoutMs: TIMEOUT_MS,
          auth: { type: 'sso', username: 'admin@internal', password: { env: 'CHAOS_OVIRT_PASSWORD' } },
        },
      },
      secrets: { CHAOS_OVIRT_PASSWORD: SIM_PASSWORD },
      copy: { taskQueue: copyTaskQueueFor(OVIRT_DEMO.proxyVmId), settings: copySettings, ownProcess: true },
    },

    /** The chain's full, made by the workflow itself on the cluster's workers. */
    async prepare(c: ChaosCluster) {
      cluster = c;
      const sha = await state.diskContentSha256(os);
      const full = (await c.client.workflow.execute('ovirtIncrementalBackup', {
        taskQueue: c.taskQueue,
        workflowId: `chaos-incremental-full-${Date.now()}`,
        args: [input()],
      })) as OvirtIncrementalManifest;
      if (full.backup.mode !== 'full' || full.disks[0]?.imageSha256 !== sha)
        throw new Error(`chaos ovirt-incremental: the chain's first backup is not a full of the disk as it was: ${JSON.stringify(full.backup)}`);
      chain.headDir = full.repository.dir;
    },

    input,
    steps: OVIRT_INCREMENTAL_STEPS,
    // Kills of both processes (generated from the kill point), and of each alone, while the copy waits for its next range.
    killPoints: [midTransfer],
    extraCases: [
      { kind: 'worker-sigkill', step: 'copy', point: MID_TRANSFER, worker: 'copy' },
      { kind: 'worker-sigkill', step: 'copy', point: MID_TRANSFER, worker: 'main' },
    ],
    creates: [
      { method: 'POST', path: '/vms/:p1/backups' },
      { method: 'POST', path: '/imagetransfers' },
    ],
    // In restic (`ovirt-incremental-restic`): kills at the chain point's restic backup and the parent's dump too (the
    // mid-transfer kill stays: the extra cases above name it), and the repository looked at after every case.
    ...(chainChecks ? { ...chainChecks, killPoints: [midTransfer, ...(chainChecks.killPoints ?? [])] } : {}),
    expireSessions: () => state.expireAllTokens(),

    // From the state, not the REST API: a fault rule the run left unspent must not fault the check.
    leftovers: async () => engineLeftovers(),
    duplicates: async () => created.duplicates(),

    async afterCase(run) {
      const problems: string[] = [];
      // What the case armed and did not spend must not fault (or hold up) the run that checks the chain.
      simulator.faults.clear();
      imageio.faults.clear();
      releaseGate();
      if (run.completed && cluster) {
        const m = (await cluster.client.workflow.getHandle(run.workflowId).result()) as OvirtIncrementalManifest;
        if (m.backup.mode !== 'incremental') problems.push(`chain: the case's run made a ${m.backup.mode} (${m.fallbacks.map((f) => f.reason).join('; ')})`);
        else if (m.parent !== chain.headDir) problems.push(`chain: the case's run continued ${m.parent}, not the chain head ${chain.headDir}`);
        if (m.disks[0]?.imageSha256 !== chain.caseSha256) problems.push(`chain: the case's run recorded ${m.disks[0]?.imageSha256}, the disk held ${chain.caseSha256}`);
        const restored = await restoredSha(m.repository.dir);
        if (restored !== chain.caseSha256) problems.push(`chain: the case's point ${m.repository.dir} restores to ${restored}, not ${chain.caseSha256}`);
        chain.headDir = m.repository.dir;
      }
      const next = await nextIncremental(run.workflowId);
      problems.push(...next.problems);
      if (next.manifest) chain.headDir = next.manifest.repository.dir;
      // The checking run must leave the engine as clean as the case had to.
      await sleep(500);
      problems.push(...engineLeftovers().map((l) => `after the next incremental: ${l}`));
      chain.checked++;
      return problems;
    },

    async reset() {
      releaseGate();
      simulator.faults.clear();
      simulator.calls.clear();
      imageio.faults.clear();
      imageio.calls.clear();
      // Not state.reset(): the engine's checkpoints and the repository are the chain the case continues.
      // What an earlier case leaked (counted there) is ended here, so that it does not hold the VM for every case after it.
      for (const t of state.backups.openTransfers()) state.backups.cancelTransfer(t.id);
      for (let waited = 0; waited < 5_000 && engineLeftovers().length > 0; waited += 100) {
        for (const b of state.backups.listBackups(vmId)) if (state.backups.phase(b) === 'ready') state.backups.finalizeBackup(vmId, b.id);
        await sleep(100);
      }
      state.expireAllTokens();
      created.reset();
      await restic?.arm(undefined);
      await restic?.mark();
      chain.caseSha256 = await guestWrites();
    },
    chain: () => ({ ...chain }),
    async stop() {
      await simulator.stop();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}
