/** altaroBackup against the Altaro simulator (REST 9.1 layout, short operations). */
import { ALTARO_DEMO, createAltaroSimulator } from '../../simulators/altaro';
import { ALTARO_STEPS } from '../../contracts/altaro/steps';
import type { ChaosTarget } from '../types';
import { CreationCounter } from './count';

const PASSWORD = 'chaos-altaro-Pa55word!';
const TIMEOUT_MS = 2_500;

export async function altaroTarget(): Promise<ChaosTarget> {
  const { simulator, state } = createAltaroSimulator({
    password: PASSWORD,
    operationMs: { 'take-backup': 1_200 },
    lingerMs: 300,
    abortMs: 200,
  });
  await simulator.start(0);
  const created = new CreationCounter();
  created.watch(state, 'instruct', (kind: string, vmRef: string) => `${kind} operation on VM ${vmRef}`);

  return {
    workflow: 'altaroBackup',
    simulator,
    clientTimeoutMs: TIMEOUT_MS,
    worker: {
      endpoints: {
        'altaro-chaos': { vendor: 'altaro', url: simulator.url, productVersion: '9.1', timeoutMs: TIMEOUT_MS, auth: { username: ALTARO_DEMO.username, password: { env: 'CHAOS_ALTARO_PASSWORD' } } },
      },
      secrets: { CHAOS_ALTARO_PASSWORD: PASSWORD },
    },
    input: () => ({ endpoint: 'altaro-chaos', vmRef: ALTARO_DEMO.vmRef, pollIntervalMs: 100, maxPollIntervalMs: 400 }),
    steps: ALTARO_STEPS,
    longSteps: { track: 400 },
    creates: [{ method: 'POST', path: '/rest/instructions/take-backup/:p1/:p2' }],
    expireSessions: () => void state.expireAllSessions(),
    // The one session no client can end: the login whose reply never arrived holds a token the
    // worker never saw, and ending all sessions would end other people's too.
    leftToVendor: [{ call: { method: 'POST', path: '/rest/sessions/start' }, kinds: ['timeout', 'malformed'], matches: /open session/, reason: 'login reply lost: only the idle expiry ends it' }],
    async leftovers() {
      const sessions = state.openSessionCount();
      const running = state.listedOperations().filter((op) => state.isRunning(op));
      return [...(sessions > 0 ? [`${sessions} open session(s)`] : []), ...running.map((op) => `unfinished ${op.kind} ${op.guid} on VM ${op.vmRef}`)];
    },
    duplicates: async () => created.duplicates(),
    async reset() {
      simulator.faults.clear();
      simulator.calls.clear();
      state.reset();
      created.reset();
    },
    stop: () => simulator.stop(),
  };
}
