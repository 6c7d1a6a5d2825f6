/**
 * The Altaro / Hornetsecurity VM Backup REST simulator: sessions, VMs, instructions that start
 * operations, operation status, reports and abort, under /api and /api/rest, on an injectable
 * clock (tests run hours of operation time in seconds).
 */
import { Simulator } from '../framework/simulator';
import { createAltaroRouter, envelope, type AltaroRouteOptions } from './routes';
import { ALTARO_DEMO, AltaroState, type AltaroStateOptions } from './state';

export { ALTARO_DEMO, AltaroState, demoVms } from './state';
export type { SimOperation, SimReport, SimVm, Outcome } from './state';
export { LAYOUT_PREFIXES } from './routes';

export const ALTARO_API_PREFIX = '/api';

export interface AltaroSimulatorOptions extends Partial<AltaroStateOptions>, AltaroRouteOptions {}

export const ALTARO_DEFAULTS = { username: ALTARO_DEMO.username, password: 'altaro-sim-password' } as const;

export function createAltaroSimulator(options: AltaroSimulatorOptions = {}): { simulator: Simulator; state: AltaroState } {
  const state = new AltaroState({ username: ALTARO_DEFAULTS.username, password: ALTARO_DEFAULTS.password, ...options });
  const simulator = new Simulator({
    name: 'altaro',
    apiPrefix: ALTARO_API_PREFIX,
    router: createAltaroRouter(state, options),
    renderError: (status, message, detail) => envelope(status, false, {}, { code: status, message, detail }),
    state,
  });
  return { simulator, state };
}
