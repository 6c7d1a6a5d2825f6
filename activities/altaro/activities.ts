/**
 * Altaro activities. Each one opens its own session, uses it and ends it in a `finally`, so a run
 * never leaves a session open whatever happens to it (see docs/altaro.md). No token ever leaves
 * this module: inputs and results carry the endpoint name, the VM ref and the OperationGuid only.
 */
import { Context, heartbeat } from '@temporalio/activity';
import { pollUntil } from '../poll-until';
import type { AltaroInstructionKind } from '../../contracts/altaro/instruction-kinds';
import type { EndpointClients } from '../endpoint-clients';
import { AltaroClient } from './client';
import { ALTARO_INSTRUCTIONS } from './instructions';
import { parseAltaroTime, type AltaroOperationStatus, type AltaroReport } from './schemas';

export interface ReportBaseline {
  count: number;
  /** Epoch ms of the newest report before this run's operation, if there was one. */
  newestTime?: number;
  newestDateTime?: string;
}

export interface OperationSample {
  /** Worker time of the observation (ISO). */
  at: string;
  status: string;
  percent: number;
  subOperation?: string;
}

export interface PollSliceInput {
  endpoint: string;
  operationGuid: string;
  /** Interval before the next look; grows by half each poll up to maxIntervalMs. */
  intervalMs: number;
  maxIntervalMs: number;
  /** Return to the workflow at least this often (its progress query is refreshed then). */
  maxSliceMs: number;
  /** Return early once the percentage moved this much, or Status/SubOperation changed. */
  progressStepPercent: number;
  last?: { status: string; percent: number; subOperation?: string };
}

export interface PollSliceResult {
  gone: boolean;
  last?: { status: string; percent: number; subOperation?: string };
  samples: OperationSample[];
  intervalMs: number;
  polls: number;
}

export interface ReportResult {
  type: 'backup' | 'restore';
  report: AltaroReport;
  /** Lower-cased Result: success | warning | error | unknown | aborted. */
  result: string;
}

function sample(st: AltaroOperationStatus): { status: string; percent: number; subOperation?: string } {
  return { status: st.Status, percent: Math.max(0, Math.min(100, Math.round(st.Percentage ?? 0))), subOperation: st.SubOperation ?? undefined };
}

function sortNewestFirst(reports: AltaroReport[]): Array<AltaroReport & { t: number }> {
  return reports.map((r) => ({ ...r, t: parseAltaroTime(r.DateTime) })).sort((a, b) => (b.t || 0) - (a.t || 0));
}

/** Whether the newest report is one this run's operation wrote, not the previous run's. */
export function isNewerThan(reports: AltaroReport[], baseline: ReportBaseline): (AltaroReport & { t: number }) | undefined {
  const [newest] = sortNewestFirst(reports);
  if (!newest) return undefined;
  if (baseline.newestTime === undefined) return newest;
  if (newest.t > baseline.newestTime) return newest;
  if (reports.length > baseline.count && newest.t >= baseline.newestTime && newest.DateTime !== baseline.newestDateTime) return newest;
  return undefined;
}

export function createAltaroActivities(clients: EndpointClients) {
  const altaro = (endpoint: string) => clients.client(endpoint, 'altaro', (profile, env) => new AltaroClient(profile, env));

  return {
    /** Resolves the profile without calling the vendor: a wrong name fails before anything happens. */
    async altaroCheckEndpoint(input: { endpoint: string }): Promise<{ endpoint: string; baseUrl: string; productVersion: string }> {
      const profile = clients.profile(input.endpoint, 'altaro');
      return { endpoint: input.endpoint, baseUrl: altaro(input.endpoint).baseUrl, productVersion: profile.productVersion };
    },

    /**
     * Sends the instruction: one call. Success:false (an unknown VM ref, an operation already
     * running) fails non-retryably with the API's ErrorMessage.
     */
    async altaroSendInstruction(input: { endpoint: string; kind: AltaroInstructionKind; vmRef: string; options?: Record<string, unknown> }): Promise<{ operationGuid: string; adopted: boolean }> {
      const client = altaro(input.endpoint);
      const { info } = Context.current();
      const earlier = info.attempt > 1 ? (info.heartbeatDetails as { knownGuids?: string[] } | undefined) : undefined;
      return client.withSession(async (s) => {
        const listed = (await AltaroClient.allStatuses(s)).map((st) => st.OperationGuid).filter((g): g is string => typeof g === 'string');
        if (earlier?.knownGuids) {
          // An earlier attempt sent the instruction but lost the reply: the one operation that
          // appeared since then is ours (adopted rather than started twice).
          const appeared = listed.filter((g) => !earlier.knownGuids!.includes(g));
          if (appeared.length === 1) return { operationGuid: appeared[0]!, adopted: true };
        }
        // Remembered across attempts (heartbeat details), before anything is sent.
        heartbeat({ knownGuids: earlier?.knownGuids ?? listed });
        return { operationGuid: await client.sendInstruction(s, input.kind, input.vmRef, input.options), adopted: false };
      });
    },

    /** The newest report before this run's operation can have written one: the guard against reading it. */
    async altaroReportBaseline(input: { endpoint: string; kind: AltaroInstructionKind; vmRef: string }): Promise<ReportBaseline> {
      const type = ALTARO_INSTRUCTIONS[input.kind].report;
      const reports = await altaro(input.endpoint).withSession((s) => AltaroClient.reports(s, type, input.vmRef));
      const [newest] = sortNewestFirst(reports);
      return { count: reports.length, newestTime: newest?.t, newestDateTime: newest?.DateTime };
    },

    /**
     * Polls the operation inside the activity (frequent polls, one activity in the history) and
     * returns when the operation is gone, when it moved enough to be worth showing, or after
     * maxSliceMs.
     */
    async altaroPollOperation(input: PollSliceInput): Promise<PollSliceResult> {
      const client = altaro(input.endpoint);
      const started = Date.now();
      const samples: OperationSample[] = [];
      let intervalMs = input.intervalMs;
      let polls = 0;
      let last = input.last;
      // `live`: the operation as last polled, which `backupctl status` shows between slices.
      let live: string | undefined;
      return client.withSession((s) =>
        pollUntil<PollSliceResult>({ intervalMs: () => intervalMs, details: () => ({ polls, live }) }, async (poll) => {
          if (poll > 1) intervalMs = Math.min(input.maxIntervalMs, Math.round(intervalMs * 1.5));
          const st = await AltaroClient.operationStatus(s, input.operationGuid);
          polls = poll;
          if (!st) return { gone: true, last, samples, intervalMs, polls };
          const now = sample(st);
          live = `${now.status} ${now.percent}%${now.subOperation ? ` (${now.subOperation})` : ''}`;
          const moved = !last || now.status !== last.status || now.subOperation !== last.subOperation || now.percent - last.percent >= input.progressStepPercent;
          if (!last || now.percent !== last.percent || now.status !== last.status || now.subOperation !== last.subOperation) {
            samples.push({ at: new Date().toISOString(), ...now });
          }
          if (moved) last = now;
          if (moved && polls > 1) return { gone: false, last, samples, intervalMs, polls };
          if (Date.now() - started + intervalMs > input.maxSliceMs) return { gone: false, last: now, samples, intervalMs, polls };
          return undefined;
        }),
      );
    },

    /** Waits (bounded) for the report this run's operation wrote, newer than the baseline. */
    async altaroReadReport(input: { endpoint: string; kind: AltaroInstructionKind; vmRef: string; baseline: ReportBaseline; timeoutMs: number; pollMs: number }): Promise<ReportResult> {
      const type = ALTARO_INSTRUCTIONS[input.kind].report;
      const client = altaro(input.endpoint);
      const deadline = Date.now() + input.timeoutMs;
      return client.withSession((s) =>
        pollUntil<ReportResult>(
          {
            intervalMs: input.pollMs,
            deadline: {
              at: deadline,
              stillWaiting: () =>
                `the operation finished but no ${type} report newer than ${input.baseline.newestDateTime ?? '(none)'} appeared for VM ${input.vmRef} within ${Math.round(input.timeoutMs / 1000)} s`,
            },
          },
          async () => {
            const found = isNewerThan(await AltaroClient.reports(s, type, input.vmRef), input.baseline);
            if (!found) return undefined;
            const { t: _t, ...report } = found;
            return { type, report, result: report.Result.toLowerCase() };
          },
        ),
      );
    },

    /**
     * Sends abort-operation and waits until the API no longer lists the operation. An operation
     * that is already gone counts as aborted; returns what the API said. Still listed at the
     * deadline is worth another attempt (it sends the abort again).
     */
    async altaroAbortOperation(input: { endpoint: string; operationGuid: string; pollMs: number; timeoutMs: number }): Promise<{ apiSaid: string; accepted: boolean; gone: boolean }> {
      const client = altaro(input.endpoint);
      const deadline = Date.now() + input.timeoutMs;
      return client.withSession(async (s) => {
        const before = await AltaroClient.operationStatus(s, input.operationGuid);
        if (!before) return { apiSaid: 'the operation had already ended', accepted: false, gone: true };
        const answer = await AltaroClient.abort(s, input.operationGuid);
        let status = before.Status;
        return pollUntil(
          {
            intervalMs: input.pollMs,
            deadline: {
              at: deadline,
              stillWaiting: () => `Altaro operation ${input.operationGuid} still listed as "${status}" ${Math.round(input.timeoutMs / 1000)} s after the abort (${answer.message})`,
              retryable: true,
            },
          },
          async () => {
            const st = await AltaroClient.operationStatus(s, input.operationGuid);
            if (!st) return { apiSaid: answer.message, accepted: answer.success, gone: true };
            status = st.Status;
            return undefined;
          },
        );
      });
    },
  };
}

export type AltaroActivities = ReturnType<typeof createAltaroActivities>;
