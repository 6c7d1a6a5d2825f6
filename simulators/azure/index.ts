/**
 * The Azure Backup simulator: ARM (Microsoft.RecoveryServices) under /subscriptions over HTTPS with
 * a self-signed certificate, and a Microsoft-identity-style client-credentials token endpoint at
 * /{tenant}/oauth2/v2.0/token.
 */
import { randomBytes } from 'node:crypto';
import type { SimClock } from '../framework/clock';
import { Router } from '../framework/router';
import { Simulator } from '../framework/simulator';
import type { SimRequest, SimResponse } from '../framework/types';
import { tokenRequest, tokenResponse } from '../../activities/azure/schemas';
import { formatZodIssues } from '../../lib/schema';
import { armError, createArmRouter } from './routes';
import { AzureState, type AzureSimOptions } from './state';
import { ensureSelfSignedCert } from './tls';

export { AZURE_DEMO, AzureState, DEFAULT_OPTIONS as AZURE_SIM_DEFAULTS, containerName, itemName } from './state';
export type { AzureSimOptions } from './state';
export { ensureSelfSignedCert } from './tls';

export interface AzureSimulatorOptions extends Partial<AzureSimOptions> {
  /** Folder for the self-signed certificate; without it the simulator speaks plain HTTP. */
  tlsDir?: string;
  clock?: SimClock;
}

export function createAzureSimulator(options: AzureSimulatorOptions = {}): { simulator: Simulator; state: AzureState; certFile?: string } {
  const { tlsDir, ...simOptions } = options;
  const state = new AzureState(simOptions);
  const tls = tlsDir ? ensureSelfSignedCert(tlsDir) : undefined;

  const tokenError = (status: number, error: string, description: string): SimResponse => ({
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ error, error_description: description, error_codes: [status === 401 ? 7000215 : 900144] }),
  });

  const publicRouter = new Router().post('/:tenant/oauth2/v2.0/token', (req: SimRequest) => {
    const o = state.options;
    if (req.params.tenant !== o.tenantId) return tokenError(400, 'invalid_request', `AADSTS90002: Tenant '${req.params.tenant}' not found.`);
    const parsed = tokenRequest.safeParse(Object.fromEntries(new URLSearchParams(req.body)));
    if (!parsed.success) return tokenError(400, 'invalid_request', `AADSTS900144: The request body must contain the following parameter: ${formatZodIssues(parsed.error)}`);
    if (parsed.data.client_id !== o.clientId || parsed.data.client_secret !== o.clientSecret) {
      return tokenError(401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.');
    }
    const token = randomBytes(24).toString('base64url');
    state.tokens.set(token, state.now() + o.tokenTtlSeconds * 1000);
    const body = { token_type: 'Bearer', expires_in: o.tokenTtlSeconds, ext_expires_in: o.tokenTtlSeconds, access_token: token };
    tokenResponse.parse(body);
    return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) };
  });

  const authenticate = (req: SimRequest): SimResponse | undefined => {
    const m = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return armError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");
    const expires = state.tokens.get(m[1]!);
    if (expires === undefined) return armError(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
    if (state.now() >= expires) return armError(401, 'ExpiredAuthenticationToken', 'The access token expiry UTC time is earlier than current UTC time.');
    if (!req.query.get('api-version')) return armError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
    return undefined;
  };

  const simulator = new Simulator({
    name: 'azure',
    apiPrefix: '/subscriptions',
    router: createArmRouter(state),
    renderError: (status, message, detail) => armError(status, status === 429 ? 'TooManyRequests' : status >= 500 ? 'InternalServerError' : 'BadRequest', detail ? `${message}: ${detail}` : message),
    authenticate,
    publicRouter,
    tls: tls ? { key: tls.key, cert: tls.cert } : undefined,
    state,
  });
  return { simulator, state, certFile: tls?.certFile };
}

/** The token URL of a started simulator for its tenant. */
export function simulatorTokenUrl(simulator: Simulator, state: AzureState): string {
  return `${simulator.url}/${state.options.tenantId}/oauth2/v2.0/token`;
}

/** The endpoint profile that reaches a started simulator: its certificate trusted, the client secret by env var name. */
export function azureSimProfile(built: { simulator: Simulator; state: AzureState; certFile?: string }, options: { clientSecret: { env: string }; fileRecoveryDir: string }): Record<string, unknown> {
  const { simulator, state, certFile } = built;
  return {
    vendor: 'azure',
    url: simulator.url,
    apiVersion: '2023-06-01',
    tls: { caFile: certFile },
    subscriptionId: state.options.subscriptionId,
    resourceGroup: state.options.resourceGroup,
    vaultName: state.options.vaultName,
    auth: { tenantId: state.options.tenantId, clientId: state.options.clientId, clientSecret: options.clientSecret, tokenUrl: simulatorTokenUrl(simulator, state) },
    fileRecoveryDir: options.fileRecoveryDir,
  };
}
