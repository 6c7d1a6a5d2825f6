/**
 * The ManageIQ REST API simulator (/api): entry point, Basic auth and X-Auth-Token sessions,
 * VMs and instances with their snapshots subcollection (query with filter[], sort_by, sort_order,
 * offset/limit and links, expand=resources), create, revert, delete (DELETE and the POST action),
 * bulk delete with one result per resource, and tasks that finish over time. Every href is absolute.
 */
import { Router } from '../framework/router';
import { Simulator } from '../framework/simulator';
import type { SimRequest, SimResponse } from '../framework/types';
import { ManageiqFault, ManageiqState, type Collection, type Snapshot, type Task } from './state';

export { MANAGEIQ_DEMO, ManageiqState } from './state';

export interface ManageiqSimulatorOptions {
  username?: string;
  password?: string;
  /** How long a task runs; default 2000 ms. */
  taskMs?: number;
  tokenTtlSeconds?: number;
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

// ---- filter[] / sort_by -------------------------------------------------------------------------

type Row = Record<string, string | number | boolean | null>;

interface Filter {
  attr: string;
  op: '=' | '!=' | '>' | '<' | '>=' | '<=';
  value: string;
}

function parseFilter(expr: string): Filter {
  const m = /^\s*([a-z_][a-z0-9_]*)\s*(!=|>=|<=|=|>|<)\s*(.*?)\s*$/i.exec(expr);
  if (!m) throw new ManageiqFault(400, `Unsupported filter expression: ${expr}`, 'Api::BadRequestError');
  let value = m[3]!;
  if (/^'.*'$/.test(value) || /^".*"$/.test(value)) value = value.slice(1, -1);
  return { attr: m[1]!, op: m[2] as Filter['op'], value };
}

function matches(row: Row, f: Filter): boolean {
  if (!(f.attr in row)) throw new ManageiqFault(400, `Unknown attribute ${f.attr} specified in filter`, 'Api::BadRequestError');
  const raw = row[f.attr];
  const actual = raw === null ? '' : String(raw);
  if (f.op === '=' || f.op === '!=') {
    const pattern = new RegExp(`^${f.value.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
    const hit = f.value === 'NULL' ? raw === null : pattern.test(actual);
    return f.op === '=' ? hit : !hit;
  }
  const numeric = typeof raw === 'number' && /^-?\d+(\.\d+)?$/.test(f.value);
  const cmp = numeric ? (raw as number) - Number(f.value) : actual.localeCompare(f.value);
  return f.op === '>' ? cmp > 0 : f.op === '<' ? cmp < 0 : f.op === '>=' ? cmp >= 0 : cmp <= 0;
}

function sortRows(rows: Row[], sortBy: string | null, sortOrder: string | null): Row[] {
  if (!sortBy) return rows;
  const attrs = sortBy.split(',').map((a) => a.trim());
  const orders = (sortOrder ?? 'asc').split(',').map((o) => o.trim().toLowerCase());
  return [...rows].sort((a, b) => {
    for (const [i, attr] of attrs.entries()) {
      if (!(attr in a)) throw new ManageiqFault(400, `${attr} is not a valid attribute to sort by`, 'Api::BadRequestError');
      const desc = (orders[i] ?? orders[0]) === 'desc';
      const x = a[attr];
      const y = b[attr];
      let cmp = 0;
      if (typeof x === 'number' && typeof y === 'number') cmp = x - y;
      else if (attr === 'id') cmp = Number(x) - Number(y);
      else cmp = String(x ?? '').localeCompare(String(y ?? ''));
      if (cmp !== 0) return desc ? -cmp : cmp;
    }
    return 0;
  });
}

// ---- the simulator ------------------------------------------------------------------------------

export function createManageiqSimulator(options: ManageiqSimulatorOptions = {}): { simulator: Simulator; state: ManageiqState } {
  const state = new ManageiqState({ taskMs: options.taskMs ?? MANAGEIQ_DEFAULTS.taskMs, tokenTtlSeconds: options.tokenTtlSeconds ?? MANAGEIQ_DEFAULTS.tokenTtlSeconds });
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
  const coll = (req: SimRequest): Collection => (req.path.startsWith('/instances') ? 'instances' : 'vms');

  const snapshotRow = (req: SimRequest, c: Collection, s: Snapshot): Row => ({
    href: `${api(req)}/${c}/${s.resourceId}/snapshots/${s.id}`,
    id: s.id,
    uid: s.uid,
    parent_id: s.parentId,
    name: s.name,
    description: s.description,
    current: s.current ? 1 : 0,
    total_size: s.totalSize,
    create_time: new Date(s.createTime).toISOString(),
    vm_or_template_id: s.resourceId,
    created_on: new Date(s.createTime).toISOString(),
    updated_on: new Date(s.createTime).toISOString(),
  });
  const taskResult = (req: SimRequest, task: Task, message: string, href?: string) => ({
    success: true,
    message,
    task_id: task.id,
    task_href: `${api(req)}/tasks/${task.id}`,
    ...(href ? { href } : {}),
  });
  const snapshotActions = (req: SimRequest, c: Collection, resourceId: string, s?: Snapshot) => {
    const base = `${api(req)}/${c}/${resourceId}/snapshots`;
    if (!s) return [{ name: 'create', method: 'post', href: base }, { name: 'delete', method: 'post', href: base }];
    const href = `${base}/${s.id}`;
    return [...(c === 'vms' ? [{ name: 'revert', method: 'post', href }] : []), { name: 'delete', method: 'post', href }, { name: 'delete', method: 'delete', href }];
  };

  router.get('/', guard((req) =>
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
  ));

  router.get('/auth', guard(() => {
    const { token, ttl, expiresOn } = state.issueToken();
    return json(200, { auth_token: token, token_ttl: ttl, expires_on: expiresOn });
  }));
  router.delete('/auth', guard((req) => {
    const token = req.headers['x-auth-token'];
    if (token) state.tokens.delete(token);
    return { status: 204 };
  }));

  for (const c of ['vms', 'instances'] as const) {
    router.get(`/${c}/:id`, guard((req) => {
      const r = state.resource(c, req.params.id!);
      return json(200, { href: `${api(req)}/${c}/${r.id}`, id: r.id, name: r.name, type: r.type, vendor: r.vendor, power_state: 'on' });
    }));

    router.get(`/${c}/:id/snapshots`, guard((req) => {
      const r = state.resource(c, req.params.id!);
      const self = `${api(req)}/${c}/${r.id}/snapshots`;
      const filters = req.query.getAll('filter[]').map(parseFilter);
      const all = state.snapshotsOf(r.id).map((s) => snapshotRow(req, c, s));
      const matching = sortRows(all.filter((row) => filters.every((f) => matches(row, f))), req.query.get('sort_by'), req.query.get('sort_order'));
      const offset = Number(req.query.get('offset') ?? 0);
      const limitParam = req.query.get('limit');
      const limit = limitParam === null ? undefined : Math.min(1000, Math.max(1, Number(limitParam)));
      const page = limit === undefined ? matching.slice(offset) : matching.slice(offset, offset + limit);
      const expand = (req.query.get('expand') ?? '').split(',').includes('resources');
      const out: Record<string, unknown> = {
        name: 'snapshots',
        count: state.snapshots.size,
        subcount: page.length,
        ...(filters.length ? { subquery_count: matching.length } : {}),
        resources: page.map((row) => (expand ? row : { href: row.href })),
        actions: snapshotActions(req, c, r.id),
      };
      if (limit !== undefined) {
        const link = (o: number) => {
          const q = new URLSearchParams(req.query);
          q.set('offset', String(o));
          q.set('limit', String(limit));
          return `${self}?${q.toString()}`;
        };
        const lastOffset = Math.max(0, Math.floor((matching.length - 1) / limit) * limit);
        out.pages = Math.max(1, Math.ceil(matching.length / limit));
        out.links = {
          self: link(offset),
          ...(offset + limit < matching.length ? { next: link(offset + limit) } : {}),
          ...(offset > 0 ? { previous: link(Math.max(0, offset - limit)) } : {}),
          first: link(0),
          last: link(lastOffset),
        };
      }
      return json(200, out);
    }));

    router.post(`/${c}/:id/snapshots`, guard((req) => {
      const r = state.resource(c, req.params.id!);
      const b = body(req);
      const action = typeof b.action === 'string' ? b.action : 'create';
      if (action === 'delete') {
        const resources = Array.isArray(b.resources) ? (b.resources as Array<Record<string, unknown>>) : [];
        if (!resources.length) throw new ManageiqFault(400, 'No resources were specified for the delete action', 'Api::BadRequestError');
        return json(200, {
          results: resources.map((res) => {
            const href = typeof res.href === 'string' ? res.href : undefined;
            const sid = href ? /\/snapshots\/([^/?#]+)\/?$/.exec(href)?.[1] : typeof res.id === 'string' || typeof res.id === 'number' ? String(res.id) : undefined;
            if (!sid) return { success: false, message: 'Must specify an href or id for the snapshot to delete' };
            try {
              const s = state.snapshot(r.id, sid);
              const task = state.deleteSnapshot(c, r.id, sid);
              return taskResult(req, task, `Deleting snapshot ${s.name} for ${c === 'vms' ? 'Vm' : 'Instance'} id:${r.id} name:'${r.name}'`, `${api(req)}/${c}/${r.id}/snapshots/${sid}`);
            } catch (err) {
              if (err instanceof ManageiqFault) return { success: false, message: err.message, ...(href ? { href } : {}) };
              throw err;
            }
          }),
        });
      }
      if (action !== 'create') throw new ManageiqFault(400, `Unsupported action ${action} for the snapshots subcollection`, 'Api::BadRequestError');
      const specs = Array.isArray(b.resources) ? (b.resources as Array<Record<string, unknown>>) : [b.resource && typeof b.resource === 'object' ? (b.resource as Record<string, unknown>) : b];
      const results = specs.map((spec) => {
        const name = typeof spec.name === 'string' ? spec.name.trim() : '';
        if (!name) return { success: false, message: 'Must specify a name for the snapshot' };
        const description = typeof spec.description === 'string' ? spec.description : '';
        const task = state.createSnapshot(c, r.id, { name, description, memory: spec.memory === true || spec.memory === 'true' });
        return taskResult(req, task, `Creating snapshot ${name} for ${c === 'vms' ? 'Vm' : 'Instance'} id:${r.id} name:'${r.name}'`);
      });
      return json(results.every((x) => x.success) ? 200 : 400, { results });
    }));

    router.get(`/${c}/:id/snapshots/:sid`, guard((req) => {
      const r = state.resource(c, req.params.id!);
      const s = state.snapshot(r.id, req.params.sid!);
      return json(200, { ...snapshotRow(req, c, s), actions: snapshotActions(req, c, r.id, s) });
    }));

    router.post(`/${c}/:id/snapshots/:sid`, guard((req) => {
      const r = state.resource(c, req.params.id!);
      const action = body(req).action;
      const s = state.snapshot(r.id, req.params.sid!);
      const href = `${api(req)}/${c}/${r.id}/snapshots/${s.id}`;
      const label = `${c === 'vms' ? 'Vm' : 'Instance'} id:${r.id} name:'${r.name}'`;
      if (action === 'revert') return json(200, taskResult(req, state.revertSnapshot(c, r.id, s.id), `Reverting to snapshot ${s.name} for ${label}`, href));
      if (action === 'delete') return json(200, taskResult(req, state.deleteSnapshot(c, r.id, s.id), `Deleting snapshot ${s.name} for ${label}`, href));
      throw new ManageiqFault(400, `Unsupported action ${String(action)} for snapshots`, 'Api::BadRequestError');
    }));

    router.delete(`/${c}/:id/snapshots/:sid`, guard((req) => {
      const r = state.resource(c, req.params.id!);
      state.deleteSnapshot(c, r.id, req.params.sid!);
      return { status: 204 };
    }));
  }

  // The tasks collection, with filter[] (e.g. name='Creating snapshot x for *', state!=Finished) and expand=resources.
  router.get('/tasks', guard((req) => {
    const filters = req.query.getAll('filter[]').map(parseFilter);
    const rows = [...state.tasks.keys()].map((id) => ({ href: `${api(req)}/tasks/${id}`, ...state.taskView(id) }) as Row);
    const matching = rows.filter((row) => filters.every((f) => matches(row, f)));
    const expand = (req.query.get('expand') ?? '').split(',').includes('resources');
    return json(200, { name: 'tasks', count: rows.length, subcount: matching.length, ...(filters.length ? { subquery_count: matching.length } : {}), resources: matching.map((row) => (expand ? row : { href: row.href })) });
  }));
  router.get('/tasks/:id', guard((req) => json(200, { href: `${api(req)}/tasks/${req.params.id}`, ...state.taskView(req.params.id!) })));

  const authenticate = (req: SimRequest): SimResponse | undefined => {
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
    onReset: () => state.reset(),
  });
  return { simulator, state };
}
