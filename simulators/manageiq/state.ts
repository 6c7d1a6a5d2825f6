/**
 * The simulated ManageIQ appliance: VMs and cloud instances, their snapshots, tasks that finish
 * over time, and auth tokens. Task effects (a snapshot appears, disappears, becomes current) are
 * applied when the task's time has come, checked on every request; no timers run.
 */
import { randomBytes } from 'node:crypto';
import type { SimClock } from '../framework/clock';
import { SimState } from '../framework/state';

export const MANAGEIQ_DEMO = {
  /** A VMware VM with two snapshots that this tool did not make. */
  vmId: '10',
  vmName: 'web-01',
  /** A second VM with two old tool-made snapshots (the delete example removes them). */
  otherVmId: '11',
  otherVmName: 'db-01',
  otherSnapshotIds: ['1002', '1003'],
  /** An OpenStack instance: snapshots yes, revert no. */
  instanceId: '20',
  instanceName: 'cloud-app-01',
  foreignSnapshotNames: ['before-upgrade', 'manual-2024'],
} as const;

export class ManageiqFault extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly klass?: string,
  ) {
    super(message);
  }
}

export type Collection = 'vms' | 'instances';

export interface Resource {
  id: string;
  name: string;
  collection: Collection;
  type: string;
  vendor: string;
  powerState: 'on' | 'off' | 'suspended';
  createdOn: number;
}

/** The VM actions the simulator carries out (ManageIQ offers many more; these change the power state or nothing). */
export const POWER_ACTIONS = {
  start: { phrase: 'Starting', powerState: 'on' },
  stop: { phrase: 'Stopping', powerState: 'off' },
  suspend: { phrase: 'Suspending', powerState: 'suspended' },
  refresh: { phrase: 'Refreshing', powerState: undefined },
} as const;
export type PowerAction = keyof typeof POWER_ACTIONS;

export interface Snapshot {
  id: string;
  resourceId: string;
  name: string;
  description: string;
  createTime: number;
  uid: string;
  parentId: string | null;
  current: boolean;
  totalSize: number;
  memory: boolean;
}

export interface Task {
  id: string;
  name: string;
  createdAt: number;
  finishAt: number;
  /** What the finished task reports; Error tasks change nothing. */
  outcome: { status: 'Ok' | 'Error' | 'Warn'; message: string };
  effect?: () => void;
  applied: boolean;
}

/** What a test can script: the next task of a snapshot action finishes with this status and message (and changes nothing). */
export type ManageiqOutcomes = Record<'create' | 'delete' | 'revert', { status: 'Error' | 'Warn'; message: string }>;

export interface ManageiqStateOptions {
  clock?: SimClock;
  /** How long a task takes from Queued to Finished; default 2000 ms. */
  taskMs: number;
  tokenTtlSeconds: number;
  /**
   * Snapshot messages (and task names) as appliances before the collection-description wording
   * put them: the base model's class name ("… for Vm id:10 name:'web-01'", instances too) instead of
   * "… for Virtual Machine id:10 …" / "… for Instance id:20 …".
   */
  legacyMessages?: boolean;
}

export class ManageiqState extends SimState<ManageiqStateOptions, ManageiqOutcomes> {
  resources = new Map<string, Resource>();
  snapshots = new Map<string, Snapshot>();
  tasks = new Map<string, Task>();
  tokens = new Map<string, number>();
  /** Snapshots someone else deletes right after a client was shown them N more times. */
  private vanishing = new Map<string, number>();
  private nextSnapshotId = 1000;
  private nextTaskId = 5000;

  protected restoreInventory(): void {
    this.resources.clear();
    this.snapshots.clear();
    this.tasks.clear();
    this.vanishing.clear();
    this.nextSnapshotId = 1000;
    this.nextTaskId = 5000;
    const d = MANAGEIQ_DEMO;
    const day = 86_400_000;
    const now = this.now();
    const createdOn = now - 400 * day;
    this.resources.set(d.vmId, { id: d.vmId, name: d.vmName, collection: 'vms', type: 'ManageIQ::Providers::Vmware::InfraManager::Vm', vendor: 'vmware', powerState: 'on', createdOn });
    this.resources.set(d.otherVmId, { id: d.otherVmId, name: d.otherVmName, collection: 'vms', type: 'ManageIQ::Providers::Redhat::InfraManager::Vm', vendor: 'redhat', powerState: 'on', createdOn });
    this.resources.set(d.instanceId, {
      id: d.instanceId,
      name: d.instanceName,
      collection: 'instances',
      type: 'ManageIQ::Providers::Openstack::CloudManager::Vm',
      vendor: 'openstack',
      powerState: 'on',
      createdOn,
    });
    this.seed(d.vmId, d.foreignSnapshotNames[0], now - 30 * day, 'taken by hand before the upgrade');
    this.seed(d.vmId, d.foreignSnapshotNames[1], now - 20 * day, 'kept for audit');
    this.seed(d.otherVmId, 'bo-20240101T000000-aaaaaaaa', now - 10 * day, 'backup-orchestrator');
    this.seed(d.otherVmId, 'bo-20240102T000000-bbbbbbbb', now - 9 * day, 'backup-orchestrator');
  }

  /** A snapshot that exists already (made outside the API, or long ago). */
  seed(resourceId: string, name: string, createTime: number, description = ''): Snapshot {
    this.resource(undefined, resourceId);
    const parent = [...this.snapshots.values()].filter((s) => s.resourceId === resourceId).sort((a, b) => b.createTime - a.createTime)[0];
    const snapshot: Snapshot = {
      id: String(this.nextSnapshotId++),
      resourceId,
      name,
      description,
      createTime,
      uid: randomBytes(16).toString('hex'),
      parentId: parent?.id ?? null,
      current: false,
      totalSize: 1_073_741_824,
      memory: false,
    };
    this.snapshots.set(snapshot.id, snapshot);
    return snapshot;
  }

  /**
   * Someone else (an admin, another tool) deletes this snapshot right after a list that shows it
   * has been served `listings` more times: a client that lists, then acts, finds it gone.
   */
  vanishAfterListing(snapshotId: string, listings = 1): void {
    this.vanishing.set(snapshotId, listings);
  }

  /** A list showing these snapshots was served. */
  listed(snapshotIds: string[]): void {
    for (const snapshotId of snapshotIds) {
      const left = this.vanishing.get(snapshotId);
      if (left === undefined) continue;
      if (left > 1) this.vanishing.set(snapshotId, left - 1);
      else {
        this.vanishing.delete(snapshotId);
        this.snapshots.delete(snapshotId);
      }
    }
  }

  /** How ManageIQ names the resource in snapshot messages (snapshot_ident). */
  ident(r: Resource): string {
    const model = this.options.legacyMessages ? 'Vm' : r.collection === 'vms' ? 'Virtual Machine' : 'Instance';
    return `${model} id:${r.id} name:'${r.name}'`;
  }

  /** Every issued token stops working (the TTL ran out, or the appliance restarted). */
  expireTokens(): void {
    for (const token of this.tokens.keys()) this.tokens.set(token, this.now() - 1);
  }

  issueToken(): { token: string; ttl: number; expiresOn: string } {
    const token = randomBytes(20).toString('hex');
    const expires = this.now() + this.options.tokenTtlSeconds * 1000;
    this.tokens.set(token, expires);
    return { token, ttl: this.options.tokenTtlSeconds, expiresOn: new Date(expires).toISOString() };
  }

  tokenValid(token: string): boolean {
    return (this.tokens.get(token) ?? 0) > this.now();
  }

  resource(collection: Collection | undefined, id: string): Resource {
    const r = this.resources.get(id);
    if (!r || (collection && r.collection !== collection)) {
      const klass = collection === 'instances' ? 'ManageIQ::Providers::CloudManager::Vm' : 'Vm';
      throw new ManageiqFault(404, `Couldn't find ${klass} with 'id'=${id}`, 'ActiveRecord::RecordNotFound');
    }
    return r;
  }

  snapshotsOf(resourceId: string): Snapshot[] {
    return [...this.snapshots.values()].filter((s) => s.resourceId === resourceId).sort((a, b) => Number(a.id) - Number(b.id));
  }

  snapshot(resourceId: string, snapshotId: string): Snapshot {
    const s = this.snapshots.get(snapshotId);
    if (!s || s.resourceId !== resourceId) throw new ManageiqFault(404, `Couldn't find Snapshot with 'id'=${snapshotId}`, 'ActiveRecord::RecordNotFound');
    return s;
  }

  /** Applies the effects of every task whose time has come. */
  tick(now = this.now()): void {
    for (const task of [...this.tasks.values()].sort((a, b) => a.finishAt - b.finishAt)) {
      if (task.applied || now < task.finishAt) continue;
      task.applied = true;
      if (task.outcome.status !== 'Error') task.effect?.();
    }
  }

  private queue(kind: 'create' | 'delete' | 'revert', name: string, okMessage: string, effect: () => void): Task {
    return this.queueTask(name, this.script.take(kind) ?? { status: 'Ok', message: okMessage }, effect);
  }

  private queueTask(name: string, outcome: Task['outcome'], effect: () => void): Task {
    const now = this.now();
    const task: Task = { id: String(this.nextTaskId++), name, createdAt: now, finishAt: now + this.options.taskMs, outcome, effect, applied: false };
    this.tasks.set(task.id, task);
    return task;
  }

  // A queued task is named after the action's message, as ManageIQ's are (queue_object_action).

  createSnapshot(collection: Collection, resourceId: string, init: { name: string; description: string; memory: boolean }): Task {
    const r = this.resource(collection, resourceId);
    return this.queue('create', `Creating snapshot ${init.name} for ${this.ident(r)}`, 'Snapshot created', () => {
      const s = this.seed(resourceId, init.name, this.now(), init.description);
      s.memory = init.memory;
      for (const other of this.snapshotsOf(resourceId)) other.current = other.id === s.id;
    });
  }

  deleteSnapshot(collection: Collection, resourceId: string, snapshotId: string): Task {
    const r = this.resource(collection, resourceId);
    const s = this.snapshot(resourceId, snapshotId);
    return this.queue('delete', `Deleting snapshot ${s.name} for ${this.ident(r)}`, 'Snapshot removed', () => {
      this.snapshots.delete(snapshotId);
    });
  }

  revertSnapshot(collection: Collection, resourceId: string, snapshotId: string): Task {
    const r = this.resource(collection, resourceId);
    if (collection !== 'vms') throw new ManageiqFault(400, `Revert to snapshot is not supported for ${r.type}`, 'Api::BadRequestError');
    const s = this.snapshot(resourceId, snapshotId);
    return this.queue('revert', `Reverting to snapshot ${s.name} for ${this.ident(r)}`, `Reverted to snapshot ${s.name}`, () => {
      for (const other of this.snapshotsOf(resourceId)) other.current = other.id === snapshotId;
    });
  }

  /** A power action (or a refresh) on a VM or instance; ManageIQ words these with the collection's model ("Starting Vm id: 10 name: 'web-01'"). */
  powerAction(collection: Collection, resourceId: string, action: PowerAction): Task {
    const r = this.resource(collection, resourceId);
    const { phrase, powerState } = POWER_ACTIONS[action];
    const model = collection === 'vms' ? 'Vm' : 'Instance';
    return this.queueTask(`${phrase} ${model} id: ${r.id} name: '${r.name}'`, { status: 'Ok', message: `${phrase} done` }, () => {
      if (powerState) r.powerState = powerState;
    });
  }

  taskView(id: string, now = this.now()): Record<string, unknown> {
    const t = this.tasks.get(id);
    if (!t) throw new ManageiqFault(404, `Couldn't find MiqTask with 'id'=${id}`, 'ActiveRecord::RecordNotFound');
    const span = Math.max(1, t.finishAt - t.createdAt);
    const finished = now >= t.finishAt;
    const state = finished ? 'Finished' : now < t.createdAt + span * 0.2 ? 'Queued' : 'Active';
    return {
      id: t.id,
      name: t.name,
      state,
      status: finished ? t.outcome.status : 'Ok',
      message: finished ? t.outcome.message : state === 'Queued' ? 'Task queued' : 'Task active',
      userid: 'admin',
      pct_complete: finished ? 100 : Math.floor((100 * (now - t.createdAt)) / span),
      created_on: new Date(t.createdAt).toISOString(),
      updated_on: new Date(Math.min(now, t.finishAt)).toISOString(),
    };
  }
}
