/**
 * The ManageIQ REST API simulator (/api): entry point, Basic auth and X-Auth-Token sessions, the
 * vms and instances collections (query with filter[], sort_by, sort_order, attributes,
 * offset/limit and links, expand=resources; a resource with its actions and ?expand=snapshots;
 * power actions) with their snapshots subcollection: create, revert, delete (DELETE and the POST
 * action), bulk delete that stops with a 404 at the first snapshot that is gone, OPTIONS, and tasks
 * that finish over time. Every href is absolute.
 */
import type { SimClock } from '../framework/clock';
import { Router } from '../framework/router';
import { Simulator } from '../framework/simulator';
import type { SimRequest, SimResponse } from '../framework/types';
import { expands, renderCollection, selectAttributes, type Row } from './query';
import { ManageiqFault, ManageiqState, POWER_ACTIONS, type Collection, type PowerAction, type Task } from './state';
import { collectionOptions, resourceActions, resourceRow, snapshotActions, snapshotFormOptions, snapshotRow } from './views';

export { MANAGEIQ_DEMO, ManageiqState } from './state';

export interface ManageiqSimulatorOptions {
  username?: string;
  password?: string;
  /** How long a task runs; default 2000 ms. */
  taskMs?: number;
  tokenTtlSeconds?: number;
  /** Word snapshot messages and task names as older appliances did ("… for Vm id:…"). */
  legacyMessages?: boolean;
  clock?: SimClock;
}

export const MANAGEIQ_DEFAULTS = { username: 'admin', password: 'manageiq-sim-password', taskMs: 2000, tokenTtlSeconds: 600 } as const;

const KINDS: Record<number, { kind: string; klass: string }> = {
  400: { kind: 'bad_request', klass: 'Api::BadRequestError' },
  401: { kind: 'unauthorized', klass: 'Api::AuthenticationError' },
  403: { kind: 'forbidden', klass: 'Api::ForbiddenError' },
  404: { kind: 'not_found', klass: 'ActiveRecord::RecordNotFound' },
  405: { kind: 'method_not_allowed', klass: 'ActionController::MethodNotAllowed' },
  409: { kind: 'conflict', klass: 'Api::ConflictError' },
  429: { kind: 'too_many_requests', klass: 'Api::TooManyRequestsError' },
  500: { kind: 'internal_server_error', klass: 'StandardError' },
  503: { kind: 'service_unavailable', klass: 'StandardError' },
};

function json(status: number, value: unknown): SimResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(value) };
}

export function errorResponse(status: number, message: string, klass?: string): SimResponse {
  const known = KINDS[status] ?? { kind: status >= 500 ? 'internal_server_error' : 'bad_request', klass: 'StandardError' };
  return json(status, { error: { kind: known.kind, message, klass: klass ?? known.klass } });
}

// ---- the simulator ------------------------------------------------------------------------------

export function createManageiqSimulator(options: ManageiqSimulatorOptions = {}): { simulator: Simulator; state: ManageiqState } {
  const state = new ManageiqState({
    taskMs: options.taskMs ?? MANAGEIQ_DEFAULTS.taskMs,
    tokenTtlSeconds: options.tokenTtlSeconds ?? MANAGEIQ_DEFAULTS.tokenTtlSeconds,
    legacyMessages: options.legacyMessages ?? false,
    clock: options.clock,
  });
  const username = options.username ?? MANAGEIQ_DEFAULTS.username;
  const password = options.password ?? MANAGEIQ_DEFAULTS.password;
  const api = (req: SimRequest) => `${req.origin}/api`;
  const router = new Router();

  const guard = (handler: (req: SimRequest) => SimResponse) => (req: SimRequest) => {
    state.tick();
    try {
      return handler(req);
    } catch (err) {
      if (err instanceof ManageiqFault) return errorResponse(err.status, err.message, err.klass);
      throw err;
    }
  };
  const body = (req: SimRequest): Record<string, unknown> => {
    if (!req.body.trim()) return {};
    try {
      const value = JSON.parse(req.body) as unknown;
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('expected an object');
      return value as Record<string, unknown>;
    } catch (err) {
      throw new ManageiqFault(400, `Failed to parse request body: ${(err as Error).message}`, 'Api::BadRequestError');
    }
  };

  const snapshotsHref = (req: SimRequest, c: Collection, resourceId: string) => `${api(req)}/${c}/${resourceId}/snapshots`;
  const snapshotRows = (req: SimRequest, c: Collection, resourceId: string): Row[] => state.snapshotsOf(resourceId).map((s) => snapshotRow(`${snapshotsHref(req, c, resourceId)}/${s.id}`, s));
  // Exactly what ManageIQ's snapshot actions answer (action_result): no href.
  const taskResult = (req: SimRequest, task: Task) => ({ success: true, message: task.name, task_id: task.id, task_href: `${api(req)}/tasks/${task.id}` });
  const snapshotIdOf = (res: Record<string, unknown>): string | undefined => {
    if (typeof res.href === 'string') return /\/snapshots\/([^/?#]+)\/?$/.exec(res.href)?.[1];
    return typeof res.id === 'string' || typeof res.id === 'number' ? String(res.id) : undefined;
  };
  const powerAction = (req: SimRequest, c: Collection, id: string, action: unknown) => {
    if (typeof action !== 'string' || !(action in POWER_ACTIONS)) throw new ManageiqFault(400, `Unsupported Action ${String(action)} for the ${c} resource specified`, 'Api::BadRequestError');
    // Resource actions (api_action) add the resource's href, unlike the snapshot actions.
    return { ...taskResult(req, state.powerAction(c, id, action as PowerAction)), href: `${api(req)}/${c}/${id}` };
  };

  router.get(
    '/',
    guard((req) =>
      json(200, {
        name: 'API',
        description: 'REST API',
        version: '4.2.0',
        versions: [{ name: '4.2.0', href: `${api(req)}/v4.2.0` }],
        identity: { userid: username, name: 'Administrator', user_href: `${api(req)}/users/1`, group: 'EvmGroup-super_administrator', role: 'EvmRole-super_administrator' },
        collections: [
          { name: 'instances', href: `${api(req)}/instances`, description: 'Instances' },
          { name: 'tasks', href: `${api(req)}/tasks`, description: 'Tasks' },
          { name: 'vms', href: `${api(req)}/vms`, description: 'Virtual Machines' },
        ],
      }),
    ),
  );

  router.get(
    '/auth',
    guard(() => {
      const { token, ttl, expiresOn } = state.issueToken();
      return json(200, { auth_token: token, token_ttl: ttl, expires_on: expiresOn });
    }),
  );
  router.delete(
    '/auth',
    guard((req) => {
      const token = req.headers['x-auth-token'];
      if (token) state.tokens.delete(token);
      return { status: 204 };
    }),
  );

  // OPTIONS needs no credentials (ManageIQ: optional_api_user_or_token); /api answers an empty 200.
  router.add(
    'OPTIONS',
    '/',
    guard(() => ({ status: 200 })),
  );

  for (const c of ['vms', 'instances'] as const) {
    const members = () => [...state.resources.values()].filter((r) => r.collection === c);

    router.get(
      `/${c}`,
      guard((req) => {
        const href = `${api(req)}/${c}`;
        const rows = members().map((r) => resourceRow(`${href}/${r.id}`, r));
        return json(200, renderCollection(req, { name: c, href, rows, count: rows.length, actions: resourceActions(href, false) }).body);
      }),
    );

    router.post(
      `/${c}`,
      guard((req) => {
        const b = body(req);
        const resources = Array.isArray(b.resources) ? (b.resources as Array<Record<string, unknown>>) : [];
        if (!resources.length) throw new ManageiqFault(400, `No ${c} resources were specified for the ${String(b.action)} action`, 'Api::BadRequestError');
        const results = resources.map((res) => {
          const id = typeof res.href === 'string' ? /\/([^/?#]+)\/?$/.exec(res.href)?.[1] : res.id !== undefined ? String(res.id) : undefined;
          try {
            if (!id) throw new ManageiqFault(400, `Must specify an id for the ${String(b.action)} action`, 'Api::BadRequestError');
            if (b.action === 'query') return resourceRow(`${api(req)}/${c}/${id}`, state.resource(c, id));
            return powerAction(req, c, id, b.action);
          } catch (err) {
            // Several resources: each failure is its own result (enqueue_action), the request answers 200.
            if (err instanceof ManageiqFault) return { success: false, message: err.message, ...(id ? { href: `${api(req)}/${c}/${id}` } : {}) };
            throw err;
          }
        });
        return json(200, { results });
      }),
    );

    router.get(
      `/${c}/:id`,
      guard((req) => {
        const r = state.resource(c, req.params.id!);
        const href = `${api(req)}/${c}/${r.id}`;
        const out: Record<string, unknown> = { ...selectAttributes(req, resourceRow(href, r)), actions: resourceActions(href, true) };
        if (expands(req, 'snapshots')) {
          const snapshots = snapshotRows(req, c, r.id);
          state.listed(snapshots.map((s) => String(s.id)));
          out.snapshots = snapshots;
        }
        return json(200, out);
      }),
    );

    router.post(
      `/${c}/:id`,
      guard((req) => {
        const r = state.resource(c, req.params.id!);
        return json(200, powerAction(req, c, r.id, body(req).action));
      }),
    );

    // ManageIQ routes OPTIONS on a resource to its collection's options.
    router.add(
      'OPTIONS',
      `/${c}`,
      guard(() => json(200, collectionOptions(c))),
    );
    router.add(
      'OPTIONS',
      `/${c}/:id`,
      guard(() => json(200, collectionOptions(c))),
    );
    router.add(
      'OPTIONS',
      `/${c}/:id/snapshots`,
      guard((req) => {
        state.resource(c, req.params.id!);
        return json(200, snapshotFormOptions(c));
      }),
    );

    router.get(
      `/${c}/:id/snapshots`,
      guard((req) => {
        const r = state.resource(c, req.params.id!);
        const href = snapshotsHref(req, c, r.id);
        const { body, page } = renderCollection(req, { name: 'snapshots', href, rows: snapshotRows(req, c, r.id), count: state.snapshots.size, actions: snapshotActions(href, c) });
        state.listed(page.map((s) => String(s.id)));
        return json(200, body);
      }),
    );

    router.post(
      `/${c}/:id/snapshots`,
      guard((req) => {
        const r = state.resource(c, req.params.id!);
        const b = body(req);
        const action = typeof b.action === 'string' ? b.action : 'create';
        if (action === 'delete') {
          const resources = Array.isArray(b.resources) ? (b.resources as Array<Record<string, unknown>>) : [];
          if (!resources.length) throw new ManageiqFault(400, 'No resources were specified for the delete action', 'Api::BadRequestError');
          // ManageIQ looks each snapshot up outside its rescue (delete_resource_snapshots): the first
          // one that is gone ends the whole request with a 404, after the deletes of those before it
          // were queued already.
          const results = resources.map((res) => {
            const sid = snapshotIdOf(res);
            if (!sid) return { success: false, message: 'Must specify an href or id for the snapshot to delete' };
            state.snapshot(r.id, sid);
            return taskResult(req, state.deleteSnapshot(c, r.id, sid));
          });
          return json(200, { results });
        }
        if (action !== 'create') throw new ManageiqFault(400, `Unsupported action ${action} for the snapshots subcollection`, 'Api::BadRequestError');
        const specs = Array.isArray(b.resources) ? (b.resources as Array<Record<string, unknown>>) : [b.resource && typeof b.resource === 'object' ? (b.resource as Record<string, unknown>) : b];
        const results = specs.map((spec) => {
          const name = typeof spec.name === 'string' ? spec.name.trim() : '';
          if (!name) return { success: false, message: 'Must specify a name for the snapshot' };
          const description = typeof spec.description === 'string' ? spec.description : '';
          return taskResult(req, state.createSnapshot(c, r.id, { name, description, memory: spec.memory === true || spec.memory === 'true' }));
        });
        return json(results.every((x) => x.success) ? 200 : 400, { results });
      }),
    );

    router.get(
      `/${c}/:id/snapshots/:sid`,
      guard((req) => {
        const r = state.resource(c, req.params.id!);
        const s = state.snapshot(r.id, req.params.sid!);
        const base = snapshotsHref(req, c, r.id);
        return json(200, { ...selectAttributes(req, snapshotRow(`${base}/${s.id}`, s)), actions: snapshotActions(base, c, s.id) });
      }),
    );

    router.post(
      `/${c}/:id/snapshots/:sid`,
      guard((req) => {
        const r = state.resource(c, req.params.id!);
        const action = body(req).action;
        const s = state.snapshot(r.id, req.params.sid!);
        if (action === 'revert') return json(200, taskResult(req, state.revertSnapshot(c, r.id, s.id)));
        if (action === 'delete') return json(200, taskResult(req, state.deleteSnapshot(c, r.id, s.id)));
        throw new ManageiqFault(400, `Unsupported action ${String(action)} for snapshots`, 'Api::BadRequestError');
      }),
    );

    router.delete(
      `/${c}/:id/snapshots/:sid`,
      guard((req) => {
        const r = state.resource(c, req.params.id!);
        state.deleteSnapshot(c, r.id, req.params.sid!);
        return { status: 204 };
      }),
    );
  }

  // The tasks collection, with filter[] (e.g. name='Creating snapshot x for *', state!=Finished) and expand=resources.
  router.get(
    '/tasks',
    guard((req) => {
      const rows = [...state.tasks.keys()].map((id) => ({ href: `${api(req)}/tasks/${id}`, ...state.taskView(id) }) as Row);
      return json(200, renderCollection(req, { name: 'tasks', href: `${api(req)}/tasks`, rows, count: rows.length, actions: [] }).body);
    }),
  );
  router.get(
    '/tasks/:id',
    guard((req) => json(200, { href: `${api(req)}/tasks/${req.params.id}`, ...state.taskView(req.params.id!) })),
  );

  const authenticate = (req: SimRequest): SimResponse | undefined => {
    if (req.method === 'OPTIONS') return undefined;
    const token = req.headers['x-auth-token'];
    if (token !== undefined && !(req.path === '/auth' && req.method === 'GET')) {
      return state.tokenValid(token) ? undefined : errorResponse(401, 'Invalid Authentication Token provided', 'Api::AuthenticationError');
    }
    const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return errorResponse(401, 'Authentication is required', 'Api::AuthenticationError');
    if (Buffer.from(m[1]!, 'base64').toString('utf8') !== `${username}:${password}`) return errorResponse(401, 'Failed to Authenticate', 'Api::AuthenticationError');
    return undefined;
  };

  const simulator = new Simulator({
    name: 'manageiq',
    apiPrefix: '/api',
    router,
    renderError: (status, message) => errorResponse(status, message),
    authenticate,
    state,
  });
  return { simulator, state };
}
