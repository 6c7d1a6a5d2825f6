/**
 * State of the Altaro VM Backup simulator: sessions (idle expiry, a cap on open sessions), VMs,
 * operations that progress on an injectable clock to success, warning or error, the short
 * lingering of a finished operation in the status list, backup and restore reports, and aborts.
 */
import { randomUUID } from 'node:crypto';
import { ALTARO_INSTRUCTION_KINDS, type AltaroInstructionKind } from '../../contracts/altaro/instruction-kinds';
import type { SimClock } from '../framework/clock';
import { SimState } from '../framework/state';

export type Outcome = 'Success' | 'Warning' | 'Error';

export interface SimVm {
  ref: string;
  name: string;
  host: string;
  uuid: string;
  hypervisorRef: string;
  configured: boolean;
  /** What the VM's operations end with, unless the script says otherwise for the next one. */
  outcome: Outcome;
  /** Warning/error text of its reports. */
  message?: string;
}

export interface SimOperation {
  guid: string;
  kind: AltaroInstructionKind;
  vmRef: string;
  jobId: number;
  startedAt: number;
  durationMs: number;
  outcome: Outcome;
  message?: string;
  body?: unknown;
  abortedAt?: number;
  /** When it stopped running (completion, or abort + abortMs). */
  endsAt: number;
  reported: boolean;
}

export interface SimReport {
  DateTime: string;
  Duration: number;
  Result: string;
  Location: string;
  Error: string;
  OperationType: string;
  TransferSizeCompressed?: number;
  TransferSizeUncompressed?: number;
  RestoreAsName?: string;
}

export interface AltaroStateOptions {
  username: string;
  password: string;
  clock?: SimClock;
  /** Idle time after which a token answers "Invalid Token"; default 20 min. */
  sessionIdleMs?: number;
  /** Open sessions the API accepts; default 10. */
  maxSessions?: number;
  /** Duration of an operation per kind (default 4 s each). */
  operationMs?: Partial<Record<AltaroInstructionKind, number>>;
  /** How long a finished operation stays in the status list; default 3 s. */
  lingerMs?: number;
  /** Time an aborted operation takes to stop; default 500 ms. */
  abortMs?: number;
  vms?: SimVm[];
}

/** The demo inventory: one VM per outcome. */
export const ALTARO_DEMO = {
  vmRef: 'a1b2c3d4-0001-4000-8000-000000000001',
  warningVmRef: 'a1b2c3d4-0002-4000-8000-000000000002',
  errorVmRef: 'a1b2c3d4-0003-4000-8000-000000000003',
  username: 'backupadmin',
} as const;

export function demoVms(): SimVm[] {
  return [
    { ref: ALTARO_DEMO.vmRef, name: 'web-01', host: 'HV01', uuid: '5c0e6a3e-1111-4b8e-9a10-00000000a001', hypervisorRef: 'h-0001', configured: true, outcome: 'Success' },
    {
      ref: ALTARO_DEMO.warningVmRef,
      name: 'db-02',
      host: 'HV01',
      uuid: '5c0e6a3e-2222-4b8e-9a10-00000000a002',
      hypervisorRef: 'h-0001',
      configured: true,
      outcome: 'Warning',
      message: 'Application-consistent snapshot failed; a crash-consistent backup was taken instead',
    },
    {
      ref: ALTARO_DEMO.errorVmRef,
      name: 'legacy-03',
      host: 'HV02',
      uuid: '5c0e6a3e-3333-4b8e-9a10-00000000a003',
      hypervisorRef: 'h-0002',
      configured: true,
      outcome: 'Error',
      message: 'Backup location "Backup Drive E:" is not accessible: The device is not ready',
    },
  ];
}

const SUB_OPERATIONS: Record<string, string[]> = {
  backup: ['Preparing', 'Taking VSS snapshot', 'Transferring data', 'Finalizing'],
  restore: ['Preparing', 'Reading backup version', 'Restoring data', 'Finalizing'],
};

export const REPORT_OF: Record<AltaroInstructionKind, 'backup' | 'restore'> = {
  'take-backup': 'backup',
  'take-offsitecopy': 'backup',
  restore: 'restore',
  'seed-to-disk': 'backup',
  'sandbox-restore': 'restore',
  verification: 'restore',
};

/** "2024-08-13-01-53-14", as the API writes times (UTC here). */
export function altaroTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}-${p(d.getUTCHours())}-${p(d.getUTCMinutes())}-${p(d.getUTCSeconds())}`;
}

/** What a test can script: the next operation of a kind on a VM ends with this result. */
export type AltaroOutcomes = Record<AltaroInstructionKind, { vmRef: string; outcome: Outcome; message?: string }>;

export class AltaroFailure extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

export class AltaroState extends SimState<AltaroStateOptions, AltaroOutcomes> {
  readonly sessions = new Map<string, { lastUsed: number; openedAt: number }>();
  /** Every token ever handed out (tests scan histories for them). */
  readonly issuedTokens: string[] = [];
  vms: SimVm[];
  readonly operations = new Map<string, SimOperation>();
  readonly backupReports = new Map<string, SimReport[]>();
  readonly restoreReports = new Map<string, SimReport[]>();
  readonly aborts: Array<{ guid: string; at: number; accepted: boolean }> = [];
  /** Calls answered "Invalid Token". */
  invalidTokenAnswers = 0;
  private jobSeq = 1000;
  sessionIdleMs: number;
  maxSessions: number;
  operationMs: Record<AltaroInstructionKind, number>;
  lingerMs: number;
  abortMs: number;

  constructor(options: AltaroStateOptions) {
    super(options);
    this.sessionIdleMs = options.sessionIdleMs ?? 20 * 60_000;
    this.maxSessions = options.maxSessions ?? 10;
    this.operationMs = Object.fromEntries(ALTARO_INSTRUCTION_KINDS.map((k) => [k, options.operationMs?.[k] ?? 4_000])) as Record<AltaroInstructionKind, number>;
    this.lingerMs = options.lingerMs ?? 3_000;
    this.abortMs = options.abortMs ?? 500;
    this.vms = options.vms ?? demoVms();
  }

  protected restoreInventory(): void {
    this.sessions.clear();
    this.operations.clear();
    this.backupReports.clear();
    this.restoreReports.clear();
    this.aborts.length = 0;
    this.vms = this.options.vms ?? demoVms();
  }

  // ---- sessions ---------------------------------------------------------------------------------

  private sweepSessions(): void {
    const now = this.now();
    for (const [token, s] of this.sessions) if (now - s.lastUsed > this.sessionIdleMs) this.sessions.delete(token);
  }

  startSession(body: Record<string, unknown>): string {
    this.sweepSessions();
    if (body.Username !== this.options.username || body.Password !== this.options.password) {
      throw new AltaroFailure(4, 'Login failed: the user name or password is incorrect');
    }
    if (this.sessions.size >= this.maxSessions) {
      throw new AltaroFailure(7, `Too many open sessions: the maximum of ${this.maxSessions} sessions is reached`);
    }
    const token = randomUUID();
    const now = this.now();
    this.sessions.set(token, { lastUsed: now, openedAt: now });
    this.issuedTokens.push(token);
    return token;
  }

  /** Throws "Invalid Token" unless the token is open; refreshes its idle timer. */
  touch(token: string): void {
    this.sweepSessions();
    const s = this.sessions.get(token);
    if (!s) {
      this.invalidTokenAnswers++;
      throw new AltaroFailure(1, 'Invalid Token');
    }
    s.lastUsed = this.now();
  }

  endSession(token: string): void {
    this.touch(token);
    this.sessions.delete(token);
  }

  endAllSessions(): string[] {
    this.sweepSessions();
    const tokens = [...this.sessions.keys()];
    this.sessions.clear();
    return tokens;
  }

  /** Test hook: every open token becomes invalid at once, as when the service restarts. */
  expireAllSessions(): number {
    const n = this.sessions.size;
    this.sessions.clear();
    return n;
  }

  openSessionCount(): number {
    this.sweepSessions();
    return this.sessions.size;
  }

  // ---- VMs and operations ---------------------------------------------------------------------

  vm(ref: string): SimVm {
    const vm = this.vms.find((v) => v.ref.toLowerCase() === ref.toLowerCase());
    if (!vm) throw new AltaroFailure(404, `The virtual machine with reference "${ref}" was not found`);
    return vm;
  }

  instruct(kind: AltaroInstructionKind, vmRef: string, body?: unknown): SimOperation {
    this.tick();
    const vm = this.vm(vmRef);
    const busy = [...this.operations.values()].find((o) => o.vmRef === vm.ref && this.isRunning(o));
    if (busy) throw new AltaroFailure(9, `An operation is already in progress for virtual machine "${vm.name}"`);
    const scripted = this.script.take(kind, (o) => o.vmRef.toLowerCase() === vm.ref.toLowerCase());
    const now = this.now();
    const durationMs = this.operationMs[kind];
    const op: SimOperation = {
      guid: randomUUID(),
      kind,
      vmRef: vm.ref,
      jobId: ++this.jobSeq,
      startedAt: now,
      durationMs,
      outcome: scripted?.outcome ?? vm.outcome,
      message: scripted ? scripted.message : vm.message,
      body,
      endsAt: now + durationMs,
      reported: false,
    };
    this.operations.set(op.guid, op);
    return op;
  }

  isRunning(op: SimOperation): boolean {
    return this.now() < op.endsAt;
  }

  abort(guid: string): SimOperation {
    this.tick();
    const op = this.operations.get(guid);
    if (!op || !this.isRunning(op) || op.abortedAt !== undefined) {
      this.aborts.push({ guid, at: this.now(), accepted: false });
      throw new AltaroFailure(10, `No running operation with guid ${guid}`);
    }
    op.abortedAt = this.now();
    op.endsAt = Math.min(op.endsAt, op.abortedAt + this.abortMs);
    this.aborts.push({ guid, at: op.abortedAt, accepted: true });
    return op;
  }

  /** Writes the reports of operations that have ended and forgets those past their lingering. */
  tick(): void {
    const now = this.now();
    for (const op of this.operations.values()) {
      if (!op.reported && now >= op.endsAt) {
        op.reported = true;
        this.writeReport(op);
      }
      if (now >= op.endsAt + this.lingerMs) this.operations.delete(op.guid);
    }
  }

  private writeReport(op: SimOperation): void {
    const type = REPORT_OF[op.kind];
    const aborted = op.abortedAt !== undefined;
    const result = aborted ? (type === 'restore' ? 'Aborted' : 'Error') : op.outcome;
    const report: SimReport = {
      DateTime: altaroTime(op.endsAt),
      Duration: Math.round((op.endsAt - op.startedAt) / 1000),
      Result: result,
      Location: 'Backup Drive E:',
      Error: aborted ? 'The operation was aborted by the user' : op.outcome === 'Success' ? '' : (op.message ?? ''),
      OperationType: op.kind,
    };
    if (type === 'backup') {
      report.TransferSizeUncompressed = aborted ? 0 : 8 * 1024 ** 3;
      report.TransferSizeCompressed = aborted ? 0 : 3 * 1024 ** 3;
    } else {
      report.RestoreAsName = typeof (op.body as { RestoreAsName?: unknown })?.RestoreAsName === 'string' ? (op.body as { RestoreAsName: string }).RestoreAsName : this.vm(op.vmRef).name;
    }
    const map = type === 'backup' ? this.backupReports : this.restoreReports;
    map.set(op.vmRef, [...(map.get(op.vmRef) ?? []), report]);
  }

  /** The status entry of a listed operation. */
  status(op: SimOperation): Record<string, unknown> {
    const now = this.now();
    const running = now < op.endsAt;
    const fraction = Math.min(1, Math.max(0, (now - op.startedAt) / Math.max(1, op.durationMs)));
    const subs = SUB_OPERATIONS[REPORT_OF[op.kind]]!;
    let status: string;
    if (op.abortedAt !== undefined) status = running ? 'Aborting' : 'Aborted';
    else if (running) status = 'Processing';
    else status = op.outcome === 'Success' ? 'Completed' : op.outcome === 'Warning' ? 'CompletedWithWarnings' : 'Failed';
    const percentage = op.abortedAt !== undefined ? Math.floor(100 * Math.min(1, (op.abortedAt - op.startedAt) / op.durationMs)) : running ? Math.floor(100 * fraction) : 100;
    return {
      OperationGuid: op.guid,
      Status: status,
      Percentage: percentage,
      SubOperation: running ? subs[Math.min(subs.length - 1, Math.floor(fraction * subs.length))] : '',
      JobId: op.jobId,
      Operation: op.kind,
    };
  }

  listedOperations(): SimOperation[] {
    this.tick();
    return [...this.operations.values()];
  }
}
