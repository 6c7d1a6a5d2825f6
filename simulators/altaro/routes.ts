/**
 * Altaro REST routes. Every route answers under both layouts the product has used: below /api
 * (8.x on :35113, 9.0.x on :36015) and below /api/rest (9.1.x on :36013). Answers are the
 * documented envelope; failures are HTTP 200 with Success:false, as the API does.
 */
import { Router } from '../framework/router';
import type { SimRequest, SimResponse } from '../framework/types';
import { ALTARO_INSTRUCTION_KINDS, type AltaroInstructionKind } from '../../contracts/altaro/instruction-kinds';
import { AltaroFailure, altaroTime, type AltaroState } from './state';

/** Path prefixes below the simulator's /api prefix: "" for 8.x and 9.0.x, "/rest" for 9.1.x. */
export const LAYOUT_PREFIXES = ['', '/rest'] as const;

export function envelope(status: number, success: boolean, payload: Record<string, unknown>, error?: { code: number; message: string; detail?: string }): SimResponse {
  const body = {
    Success: success,
    ErrorCode: error?.code ?? 0,
    ErrorMessage: error?.message ?? null,
    ErrorAdditionalDetails: error?.detail ?? null,
    ...payload,
  };
  return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) };
}

const ok = (payload: Record<string, unknown> = {}) => envelope(200, true, payload);

function jsonBody(req: SimRequest): Record<string, unknown> | undefined {
  if (!req.body.trim()) return undefined;
  try {
    const value = JSON.parse(req.body);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AltaroFailure(400, 'The request body is not a valid JSON object');
}

type Handler = (req: SimRequest) => SimResponse;

/** Runs a handler, turning AltaroFailure into the Success:false envelope. */
function guard(handler: Handler): Handler {
  return (req) => {
    try {
      return handler(req);
    } catch (err) {
      if (err instanceof AltaroFailure) return envelope(200, false, {}, { code: err.errorCode, message: err.message });
      throw err;
    }
  };
}

export interface AltaroRouteOptions {
  /** Path segment per instruction kind (a real install may name them differently). */
  instructionSegments?: Partial<Record<AltaroInstructionKind, string>>;
}

export function createAltaroRouter(state: AltaroState, options: AltaroRouteOptions = {}): Router {
  const router = new Router();
  const segmentToKind = new Map<string, AltaroInstructionKind>(ALTARO_INSTRUCTION_KINDS.map((k) => [options.instructionSegments?.[k] ?? k, k]));

  const reportLists = new Map([
    ['backup', { payloadKey: 'BackupReports', reports: state.backupReports }],
    ['restore', { payloadKey: 'RestoreReports', reports: state.restoreReports }],
  ]);

  const vmView = (vmRef: string) => {
    const vm = state.vm(vmRef);
    const last = (state.backupReports.get(vm.ref) ?? []).at(-1);
    return {
      AltaroVirtualMachineRef: vm.ref,
      VirtualMachineName: vm.name,
      HostName: vm.host,
      HypervisorVirtualMachineUuid: vm.uuid,
      AltaroHypervisorRef: vm.hypervisorRef,
      Configured: vm.configured,
      NextBackupTime: altaroTime(state.now() + 24 * 3_600_000),
      LastBackupTime: last?.DateTime ?? null,
      LastBackupDuration: last?.Duration ?? null,
      LastBackupTransferSizeCompressed: last?.TransferSizeCompressed ?? null,
      LastBackupTransferSizeUncompressed: last?.TransferSizeUncompressed ?? null,
      LastBackupResult: last ? last.Result.toLowerCase() : 'unknown',
      LastOffsiteCopyTime: null,
      LastOffsiteCopyResult: 'unknown',
    };
  };

  const routes: Array<[method: 'GET' | 'POST', pattern: string, handler: Handler]> = [
    ['POST', '/sessions/start', (req) => ok({ Data: state.startSession(jsonBody(req) ?? {}) })],
    ['POST', '/sessions/end', () => ok({ ClosedSessions: state.endAllSessions().map((t) => ({ SessionToken: t })) })],
    [
      'POST',
      '/sessions/end/:token',
      (req) => {
        state.endSession(req.params.token!);
        return ok({ Data: 'Session ended' });
      },
    ],
    [
      'GET',
      '/vms/list/:token',
      (req) => {
        state.touch(req.params.token!);
        return ok({ VirtualMachines: state.vms.map((v) => vmView(v.ref)) });
      },
    ],
    [
      'GET',
      '/vms/list/:token/:configuredOnly',
      (req) => {
        state.touch(req.params.token!);
        const only = req.params.configuredOnly === '1';
        return ok({ VirtualMachines: state.vms.filter((v) => !only || v.configured).map((v) => vmView(v.ref)) });
      },
    ],
    [
      'POST',
      '/instructions/abort-operation/:token/:guid',
      (req) => {
        state.touch(req.params.token!);
        state.abort(req.params.guid!);
        return ok({ Data: req.params.guid });
      },
    ],
    [
      'POST',
      '/instructions/:kind/:token/:vmRef',
      (req) => {
        const kind = segmentToKind.get(req.params.kind!);
        if (!kind) throw new AltaroFailure(404, `Unknown instruction "${req.params.kind}"`);
        state.touch(req.params.token!);
        const op = state.instruct(kind, req.params.vmRef!, jsonBody(req));
        return ok({ Data: op.guid });
      },
    ],
    [
      'GET',
      '/activity/operation-status/:token',
      (req) => {
        state.touch(req.params.token!);
        return ok({ Statuses: state.listedOperations().map((o) => state.status(o)) });
      },
    ],
    [
      'GET',
      '/activity/operation-status/:token/:guid',
      (req) => {
        state.touch(req.params.token!);
        return ok({
          Statuses: state
            .listedOperations()
            .filter((o) => o.guid === req.params.guid)
            .map((o) => state.status(o)),
        });
      },
    ],
    [
      'GET',
      '/reports/:type/:token/:vmRef',
      (req) => {
        const list = reportLists.get(req.params.type!);
        if (!list) throw new AltaroFailure(404, `Unknown report type "${req.params.type}"`);
        state.touch(req.params.token!);
        state.tick();
        const vm = state.vm(req.params.vmRef!);
        return ok({ [list.payloadKey]: [...(list.reports.get(vm.ref) ?? [])].reverse() });
      },
    ],
  ];

  for (const prefix of LAYOUT_PREFIXES) {
    for (const [method, pattern, handler] of routes) router.add(method, prefix + pattern, guard(handler));
  }
  return router;
}
